import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { qemuPath, ROOT, runProgram, runRoam, type Run } from "../process-harness.js";

// `roam run prog < file`: a guest's stdin that is a regular file or /dev/null is read with read(2) of descriptor 0
// when the guest reads it (src/cli/process-console.ts), as Linux reads it for a native program: all of it, in
// whatever sizes the guest asks for, and the file's offset (shared with the shell that opened it) moves by what the
// guest read and no more, so the next program in `(prog; cat) < file` goes on from there. QEMU, the oracle, does the
// same; Node's stdin stream, which Roam used before, read the file ahead and left nothing for `cat`.

const TIMEOUT_MS = 30_000;
const BUSYBOX = join(ROOT, "guests", "bin", "real", "busybox.elf");
const CAT = join(ROOT, "guests", "bin", "process", "cat.elf");
let work = "";
beforeAll(() => { work = mkdtempSync(join(tmpdir(), "roam-stdin-file-")); });
afterAll(() => rmSync(work, { recursive: true, force: true }));

const roamRun = (elf: string, args: string[], stdinFd: number) => runRoam(["run", "--root", work, elf, ...args], { cwd: work, stdinFd, timeoutMs: TIMEOUT_MS });

/** What is left of the file after the offset the descriptor is at now. */
function rest(fd: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(chunk.subarray(0, n));
  }
}

/** A file of `bytes` bytes none of which repeats in a short window, so a piece of it shows where it came from. */
function numbered(bytes: number): Buffer {
  let text = "";
  for (let i = 0; text.length < bytes; i++) text += `line ${i}\n`;
  return Buffer.from(text.slice(0, bytes), "latin1");
}

describe("roam run with stdin from a file", () => {
  test("cat.elf < a 600 KiB file: every byte, in order (more than one read's worth)", async () => {
    const data = numbered(600 * 1024);
    const path = join(work, "big.txt");
    writeFileSync(path, data);
    const fd = openSync(path, "r");
    try {
      const run = await roamRun(CAT, [], fd);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.length).toBe(data.length);
      expect(run.stdout.equals(data)).toBe(true);
    } finally {
      closeSync(fd);
    }
  }, TIMEOUT_MS);

  test("cat.elf < /dev/null: end of input at once, exit 0", async () => {
    const fd = openSync("/dev/null", "r");
    try {
      const run = await roamRun(CAT, [], fd);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.length).toBe(0);
    } finally {
      closeSync(fd);
    }
  }, TIMEOUT_MS);

  const runners: Array<{ name: string; run: (args: string[], fd: number) => Promise<Run> }> = [
    { name: "roam run", run: (args, fd) => roamRun(BUSYBOX, args, fd) },
  ];
  if (qemuPath || process.env.ROAM_REQUIRE_QEMU === "1") runners.push({ name: "qemu-riscv32", run: (args, fd) => runProgram("qemu", qemuPath ?? "qemu-riscv32", [BUSYBOX, ...args], { cwd: work, stdinFd: fd, timeoutMs: TIMEOUT_MS }) });

  test.each(runners)("$name: dd bs=5 count=1 < file reads 5 bytes and leaves the file's offset after them", async ({ name, run }) => {
    const data = numbered(200 * 1024);
    const path = join(work, `dd-${name.split(" ")[0]}.txt`);
    writeFileSync(path, data);
    const fd = openSync(path, "r");
    try {
      const ran = await run(["dd", "bs=5", "count=1"], fd);
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout.toString("latin1")).toBe(data.subarray(0, 5).toString("latin1"));
      // The shell's next command reads from the same open file: it must find the rest, all of it.
      expect(rest(fd).equals(data.subarray(5))).toBe(true);
    } finally {
      closeSync(fd);
    }
  }, TIMEOUT_MS);
});
