import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parseElf } from "../src/elf/index.js";
import { Core } from "../src/machine/core.js";
import { MemoryConsoleOutput } from "../src/machine/console-output.js";
import { Machine } from "../src/machine/machine.js";
import { limiter } from "./process-harness.js";

// The official RISC-V ISA tests (riscv-software-src/riscv-tests, vendored under
// test/riscv-tests/, see its README.md), prebuilt as ELFs in
// test/riscv-tests/bin/ by test/riscv-tests/build.sh. Each one is booted on
// Roam:  node bin/roam.js boot <elf> --max-instructions 20000000
// and must exit 0. The CLI's HTIF contract: tohost 1 -> exit 0 (pass); an odd
// tohost v -> exit v>>1, which for these tests is the number of the failing
// TEST_CASE (riscv_test.h's RVTEST_FAIL writes TESTNUM<<1|1).
// Every ELF in bin/ except the QEMU_FAILS below passes on QEMU
// (`qemu-system-riscv32 -M spike -bios none -kernel <elf>`;
// test/riscv-tests/qemu-check.sh), so a failure here is Roam's.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN_DIR = join(ROOT, "test", "riscv-tests", "bin");
const CLI = join(ROOT, "bin", "roam.js");
const MAX_INSTRUCTIONS = "20000000";
const RUN_TIMEOUT_MS = 30_000;

// Built ELFs that QEMU 7.2 (Debian bookworm, `-M spike`) itself does not pass:
// 135 of the 137 pass there; these two do not. They are skipped (not dropped)
// so they stay visible. (Both did pass on Roam when this list was written:
// `node bin/roam.js boot test/riscv-tests/bin/<name> --max-instructions 20000000`.)
// (Tests that could not be vendored or built at all are listed in
// test/riscv-tests/README.md.)
const QEMU_FAILS: Readonly<Record<string, string>> = {
  // TEST_CASE 2: `csrwi minstret, 0; csrr a0, minstret` must read 0 (a CSR
  // write to minstret suppresses that instruction's own increment). QEMU 7.2
  // reads a non-zero count there (it exits with TESTNUM 2).
  "rv32mi-p-instret_overflow": "QEMU does not suppress the minstret increment after a CSR write",
  // Sets sip.SSIP with sstatus.SIE clear and sie.SSIE clear, then `wfi`; the
  // test expects wfi to return (Spike treats it as a nop). The privileged spec
  // only requires wfi to resume for *locally enabled* pending interrupts, and
  // QEMU sleeps forever (killed by the 20 s timeout).
  "rv32si-p-wfi": "QEMU's wfi waits, since the pending SSIP is not enabled in sie (spec-legal)",
};

// Bounded pool: at most this many Roam processes at once, whatever vitest's
// own concurrency is (the machine has 2 cores).
const POOL = Math.max(1, Math.min(4, availableParallelism()));
const withSlot = limiter(POOL);

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

// Each test runs three ways: as shipped, through the CLI (hot code translated);
// then in this process, on a core of its own, with every jump target translated
// at its first arrival (jitThreshold 1: the translator runs nearly all of it),
// and interpreted only. In-process runs skip a Node start-up each (137 programs
// a mode: about a minute of CI beside a CPU hog).
const MODES = [
  { name: "translated when hot", cli: true, translate: true, jitThreshold: undefined as number | undefined },
  { name: "translated from the first arrival", cli: false, translate: true, jitThreshold: 1 },
  { name: "interpreted only", cli: false, translate: false, jitThreshold: undefined },
];
type Mode = (typeof MODES)[number];

function boot(elf: string, mode: Mode): Promise<Run> {
  return mode.cli ? bootCli(elf) : bootHere(elf, mode);
}

function bootCli(elf: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "boot", elf, "--max-instructions", MAX_INSTRUCTIONS], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: RUN_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => chunks.push(b));
    child.stderr.on("data", (b: Buffer) => chunks.push(b));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, output: Buffer.concat(chunks).toString("utf8") }));
  });
}

/** What `roam boot ELF --max-instructions N` does, on a core of this process: the guest's exit code. */
async function bootHere(elf: string, mode: Mode): Promise<Run> {
  const output = new MemoryConsoleOutput();
  const machine = new Machine({
    core: await Core.load(), ramBytes: 128 << 20, console: output, maxInstructions: Number(MAX_INSTRUCTIONS),
    translate: mode.translate, jitThreshold: mode.jitThreshold,
  });
  machine.load(parseElf(readFileSync(elf)));
  const result = await machine.run();
  return { status: result.exitCode, signal: null, output: `${output.text()}\n${result.reason} (pc 0x${result.pc.toString(16)})` };
}

const elfs = existsSync(BIN_DIR) ? readdirSync(BIN_DIR).filter((f) => /^rv32[a-z]+-[pv]-/.test(f)).sort() : [];

describe("riscv-tests (official ISA tests)", () => {
  test("the prebuilt ELFs are present", () => {
    expect(elfs.length, `no ELFs in ${BIN_DIR}: run test/riscv-tests/build.sh`).toBeGreaterThan(0);
    for (const name of Object.keys(QEMU_FAILS)) expect(elfs, `QEMU_FAILS names a missing ELF`).toContain(name);
  });

  for (const mode of MODES) for (const name of elfs) {
    const reason = QEMU_FAILS[name];
    if (reason !== undefined) {
      test.skip(`${name} (${mode.name}; QEMU fails it too: ${reason})`, () => {});
      continue;
    }
    test.concurrent(
      `${name} (${mode.name})`,
      async () => {
        const run = mode.cli ? await withSlot(() => boot(join(BIN_DIR, name), mode)) : await boot(join(BIN_DIR, name), mode);
        const why =
          run.signal !== null
            ? `killed by ${run.signal} (over ${RUN_TIMEOUT_MS} ms?)`
            : run.status === 0
              ? ""
              : `exit ${run.status}: failing TESTNUM ${run.status} (or a CLI error)`;
        expect(run.status, `${name}: ${why}\n${run.output.slice(-2000)}`).toBe(0);
      },
      RUN_TIMEOUT_MS * 4,
    );
  }
});
