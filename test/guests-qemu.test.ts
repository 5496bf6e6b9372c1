import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CaseDirs, QEMU, ROOT, checkRun, describeRun, qemuPath, runGuest } from "./process-harness.js";
import { PROCESS_CASES, caseElf } from "./process-cases.js";

// The process-mode guests (guests/bin/process/*.elf, built by
// guests/process/build.sh) checked on qemu-riscv32, the oracle for `roam run`:
// every case of test/process-cases.ts must give the output written down there.
// If this fails, the guest or the SDK is wrong, not Roam. Also checks the
// shape of the ELFs (what Roam's loader will rely on), which needs no QEMU.
// The runs go through test/process-harness.ts, as in the roam-vs-qemu
// differential test (test/differential-run.test.ts).

const TIMEOUT_MS = 60_000;

const skipReason = qemuPath ? "" : ` (skipped: ${QEMU} is not on PATH)`;
if (!qemuPath) console.warn(`guests-qemu: ${QEMU} is not on PATH; skipping the process-mode guest runs`);

const dirs = new CaseDirs("roam-guests-qemu-");

// ---- the ELF files themselves -------------------------------------------------

// crash is run by test/differential-run.test.ts (its runs are no ProcessCase of the list)
const GUESTS = [...new Set([...PROCESS_CASES.map((c) => c.guest), "crash"])];

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
  beforeAll(() => dirs.open());
  afterAll(() => dirs.close());

  const cases = PROCESS_CASES.filter((c) => !c.roamOnly);
  test.each(cases.map((c) => ({ ...c, title: c.slow ? `${c.id} (slow)` : c.id })))(
    "$title",
    async (c) => {
      const cwd = dirs.fresh(c);
      const result = await runGuest("qemu", c, cwd, { timeoutMs: TIMEOUT_MS - 5_000 });
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
      const cwd = dirs.fresh(sandbox);
      const result = await runGuest("qemu", sandbox, cwd, { timeoutMs: TIMEOUT_MS - 5_000 });
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
        const deadline = Date.now() + 30_000; // qemu starting on a loaded machine
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
