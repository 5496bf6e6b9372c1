import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROCESS_CASES, caseElf, prepareCaseDir, type ProcessCase } from "./process-cases.js";

// The process-mode guests (guests/bin/process/*.elf, built by
// guests/process/build.sh) checked on qemu-riscv32, the oracle for `roam run`:
// every case of test/process-cases.ts must give the output written down there.
// If this fails, the guest or the SDK is wrong, not Roam. Also checks the
// shape of the ELFs (what Roam's loader will rely on), which needs no QEMU.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const QEMU = "qemu-riscv32";
const TIMEOUT_MS = 60_000;

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
const qemuPath = findOnPath(QEMU);
const skipReason = qemuPath ? "" : ` (skipped: ${QEMU} is not on PATH)`;
if (!qemuPath) console.warn(`guests-qemu: ${QEMU} is not on PATH; skipping the process-mode guest runs`);

interface Run {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

let workRoot = "";
let workCount = 0;

/** a fresh working directory with the case's dirs, files and symlinks */
function prepare(c: ProcessCase): string {
  const cwd = join(workRoot, `case-${workCount++}`);
  mkdirSync(cwd);
  prepareCaseDir(c, cwd);
  return cwd;
}

/** runs `qemu-riscv32 ELF args` in cwd with exactly env, stdin through a pipe */
function runQemu(c: ProcessCase, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(qemuPath!, [join(ROOT, caseElf(c)), ...c.args], {
      cwd,
      env: c.env ?? {},
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS - 5_000);
    child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
        status,
        signal,
        ms: performance.now() - start,
      });
    });
    child.stdin!.on("error", () => {}); // the guest may exit before reading it all
    child.stdin!.end(c.stdin ?? "");
  });
}

function describeRun(result: Run): string {
  const how = result.signal ? `killed by ${result.signal}` : `status ${result.status}`;
  const out = result.stdout.toString("utf8");
  return `${how}\n--- stdout:\n${out.length > 4000 ? out.slice(0, 4000) + "..." : out}--- stderr:\n${result.stderr}`;
}

/** checks a run against everything the case says */
function checkRun(c: ProcessCase, result: Run, cwd: string): void {
  const details = describeRun(result);
  expect(result.signal, details).toBeNull();
  expect(result.status, details).toBe(c.status);
  if (c.stdout !== undefined) {
    const want = Buffer.isBuffer(c.stdout) ? c.stdout : Buffer.from(c.stdout);
    if (Buffer.isBuffer(c.stdout)) expect(result.stdout.equals(want), `stdout differs (${result.stdout.length} bytes vs ${want.length})`).toBe(true);
    else expect(result.stdout.toString("utf8")).toBe(c.stdout);
  }
  if (c.stderr !== undefined) expect(result.stderr, details).toBe(c.stderr);
  const text = result.stdout.toString("utf8");
  for (const re of c.stdoutMatches ?? []) expect(text, details).toMatch(re);
  for (const re of c.stdoutRejects ?? []) expect(text, details).not.toMatch(re);
  for (const d of c.emptyAfter ?? []) expect(readdirSync(join(cwd, d)), `${d} after the run`).toEqual([]);
  if (c.minDurationMs !== undefined) expect(result.ms).toBeGreaterThanOrEqual(c.minDurationMs);
}

// ---- the ELF files themselves -------------------------------------------------

const GUESTS = [...new Set(PROCESS_CASES.map((c) => c.guest))];

describe("process-mode guest ELFs", () => {
  test.each(GUESTS)("%s.elf is a static RV32 ET_EXEC with R+X text at 0x10000 and a separate RW segment", (guest) => {
    const path = join(ROOT, "guests", "bin", "process", `${guest}.elf`);
    expect(existsSync(path), `${path} missing: run \`bash guests/process/build.sh\``).toBe(true);
    const elf = readFileSync(path);
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(elf[4], "EI_CLASS: ELFCLASS32").toBe(1);
    expect(elf[5], "EI_DATA: ELFDATA2LSB").toBe(1);
    expect(elf.readUInt16LE(16), "e_type: ET_EXEC").toBe(2);
    expect(elf.readUInt16LE(18), "e_machine: EM_RISCV").toBe(243);
    expect(elf.readUInt32LE(36) & 0x1, "e_flags: RVC").toBe(1);
    expect(elf.readUInt32LE(36) & 0x6, "e_flags: soft-float ABI").toBe(0);
    const entry = elf.readUInt32LE(24);
    const phoff = elf.readUInt32LE(28);
    const phentsize = elf.readUInt16LE(42);
    const phnum = elf.readUInt16LE(44);
    expect(phentsize).toBe(32);
    const phdrs = Array.from({ length: phnum }, (_, i) => {
      const o = phoff + i * phentsize;
      return {
        type: elf.readUInt32LE(o),
        offset: elf.readUInt32LE(o + 4),
        vaddr: elf.readUInt32LE(o + 8),
        filesz: elf.readUInt32LE(o + 16),
        memsz: elf.readUInt32LE(o + 20),
        flags: elf.readUInt32LE(o + 24),
        align: elf.readUInt32LE(o + 28),
      };
    });
    expect(phdrs.some((p) => p.type === 3 || p.type === 2), "no PT_INTERP, no PT_DYNAMIC").toBe(false);
    const loads = phdrs.filter((p) => p.type === 1);
    expect(loads.length).toBe(2);
    const [text, data] = loads;
    expect(text.vaddr, "text at 0x10000, with the headers").toBe(0x10000);
    expect(text.offset).toBe(0);
    expect(text.flags, "text R+X").toBe(5);
    expect(entry >= text.vaddr && entry < text.vaddr + text.filesz, "entry in the text segment").toBe(true);
    expect(data.flags, "data R+W").toBe(6);
    expect(data.vaddr % 4096, "data starts on a page").toBe(0);
    expect(data.offset % 4096).toBe(0);
    expect(data.vaddr >= text.vaddr + text.memsz, "data above text").toBe(true);
    expect(data.memsz >= data.filesz, "bss = memsz - filesz").toBe(true);
    for (const p of loads) expect(p.offset + p.filesz).toBeLessThanOrEqual(elf.length);
  });
});

// ---- running them on qemu-riscv32 -----------------------------------------------

describe.skipIf(!qemuPath)(`process-mode guests on ${QEMU}${skipReason}`, () => {
  beforeAll(() => {
    workRoot = mkdtempSync(join(tmpdir(), "roam-guests-qemu-"));
  });
  afterAll(() => rmSync(workRoot, { recursive: true, force: true }));

  const cases = PROCESS_CASES.filter((c) => !c.roamOnly);
  test.each(cases.map((c) => ({ ...c, title: c.slow ? `${c.id} (slow)` : c.id })))(
    "$title",
    async (c) => {
      const cwd = prepare(c);
      const result = await runQemu(c, cwd);
      checkRun(c, result, cwd);
    },
    TIMEOUT_MS,
  );

  // sandbox is Roam-only: on QEMU nothing stops the guest, and every check
  // must say so - which shows the checks really reach outside the directory.
  const sandbox = PROCESS_CASES.find((c) => c.id === "sandbox")!;
  test.skipIf(!existsSync("/etc/passwd"))(
    "sandbox: on qemu every escape succeeds (there is no sandbox)",
    async () => {
      const cwd = prepare(sandbox);
      const result = await runQemu(sandbox, cwd);
      const text = result.stdout.toString("utf8");
      expect(result.status, describeRun(result)).toBe(11);
      expect(text.match(/^not ok \d+ - /gm)?.length).toBe(11);
      expect(text).toMatch(/^# 11 checks, 11 escapes$/m);
    },
    TIMEOUT_MS,
  );

  // echo-lines is interactive: each line must come back before the next one
  // is sent (stdout is a pipe, so this needs the guest's flushes).
  test(
    "echo-lines answers each line before the next arrives",
    async () => {
      const c = PROCESS_CASES.find((x) => x.guest === "echo-lines")!;
      const child = spawn(qemuPath!, [join(ROOT, caseElf(c))], { cwd: ROOT, env: {}, stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      let err = "";
      const waiters: Array<() => void> = [];
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        waiters.splice(0).forEach((w) => w());
      });
      child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
      const closed = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 10_000;
        while (!out.includes(text)) {
          if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(out)}`);
          await new Promise<void>((resolve) => {
            waiters.push(resolve);
            setTimeout(resolve, 100);
          });
        }
      };
      try {
        for (const [i, line] of ["first", "second line", "", "fourth"].entries()) {
          child.stdin!.write(line + "\n");
          await waitFor(`${String(i + 1).padStart(6)}\t${line}\n`);
        }
        child.stdin!.end();
        expect(await closed).toBe(0);
        expect(out).toBe("     1\tfirst\n     2\tsecond line\n     3\t\n     4\tfourth\n");
        expect(err).toBe("echo-lines: 4 lines\n");
      } finally {
        child.kill();
      }
    },
    TIMEOUT_MS,
  );
});
