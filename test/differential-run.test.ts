import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { STACK_SIZE, STACK_TOP } from "../src/kernel/loader.js";
import {
  CaseDirs, JS_STACK, QEMU, checkRun, describeRun, elfPath, limiter, qemuPath, runGuest, type Run, type RunOptions,
} from "./process-harness.js";
import { PROCESS_CASES, type ProcessCase } from "./process-cases.js";
import { ANNOUNCE, CRASH_CASES, hexRe, type Announced, type CrashCase } from "./kernel/crash-cases.js";

// Differential test of process mode: every quick case of test/process-cases.ts
// runs on qemu-riscv32 (the oracle) and on `roam run`, the same way
// (test/process-harness.ts). Both must give byte-identical stdout, the same
// stderr, the same exit status, and each must meet the case's own
// expectations. Roam-only cases (the sandbox) run on roam alone.
//
// Then the `crash` guest (guests/process/crash.c, its runs in
// test/kernel/crash-cases.ts): faults must end the process with the status a
// shell shows for the signal (139 SIGSEGV, 132 SIGILL, 133 SIGTRAP, 135
// SIGBUS) on both, and roam must say on stderr, in one line, what the fault
// was, at which pc and which address - never with a JavaScript stack trace.
// The same guest checks what must not trap (division by zero, misaligned
// loads and stores, the time CSR) and bad system call arguments (-EFAULT,
// -ENOSYS). Last, a guest whose reader closes stdout dies of SIGPIPE.
//
// Accepted difference, on stderr only (a program's stderr is its own: roam
// warns of unknown system calls only with ROAM_WARN set, and these runs do
// not set it, so no warning line may appear):
//   - on a fatal fault roam prints one line ("roam: ELF: segmentation fault:
//     ..."); qemu-riscv32 7.2 prints nothing (the shell would say
//     "Segmentation fault").
//
// Without qemu-riscv32 on PATH the comparisons are skipped (with the reason
// in the suite's name) and only roam's own checks run; with ROAM_REQUIRE_QEMU
// set (CI) a missing qemu-riscv32 is a failure.

const TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 45_000;
const requireQemu = !!process.env.ROAM_REQUIRE_QEMU;
const compareNote = qemuPath ? `vs ${QEMU}` : `alone (${QEMU} not on PATH: comparisons skipped)`;
if (!qemuPath) console.warn(`differential-run: ${QEMU} is not on PATH; running roam alone, without the comparisons`);

const dirs = new CaseDirs("roam-differential-run-");
const slot = limiter(2); // two cores: at most two guests run at once
beforeAll(() => dirs.open());
afterAll(() => dirs.close());

const WARNING_LINE = /^roam: warning: unsupported system call \d+; it returns ENOSYS\n/gm;

/** roam's unknown-system-call warnings, by guest and first argument: one per number, in order */
const ROAM_WARNINGS: Record<string, string[]> = {}; // none without ROAM_WARN, even for the guests that call 999 and 500

function warningsFor(c: ProcessCase): string[] {
  return ROAM_WARNINGS[[c.guest, ...c.args.slice(0, 1)].join(" ")] ?? ROAM_WARNINGS[c.guest] ?? [];
}

/** roam's stderr split into its warning lines and the rest */
function splitWarnings(stderr: string): { warnings: string[]; rest: string } {
  const warnings = (stderr.match(WARNING_LINE) ?? []).map((line) => line.trimEnd());
  return { warnings, rest: stderr.replace(WARNING_LINE, "") };
}

function run(kind: "qemu" | "roam", c: ProcessCase, options: RunOptions = {}): Promise<{ run: Run; cwd: string }> {
  return slot(async () => {
    const cwd = dirs.fresh(c, `${kind}-${c.guest}`);
    return { run: await runGuest(kind, c, cwd, { timeoutMs: RUN_TIMEOUT_MS, ...options }), cwd };
  });
}

function expectNoJsStack(result: Run): void {
  expect(result.stderr, `${describeRun(result)}\n(a JavaScript stack trace on roam's stderr)`).not.toMatch(JS_STACK);
}

/** stdout, stderr and status of the two runs must be the same */
function expectSame(roam: Run, qemu: Run, roamStderr: string): void {
  const both = `${describeRun(roam)}\n\n${describeRun(qemu)}`;
  expect(roam.status, `exit status: roam vs ${QEMU}\n${both}`).toBe(qemu.status);
  if (!roam.stdout.equals(qemu.stdout)) {
    const at = [...roam.stdout].findIndex((b, i) => b !== qemu.stdout[i]);
    const first = at < 0 ? Math.min(roam.stdout.length, qemu.stdout.length) : at;
    expect.fail(
      `stdout differs: roam ${roam.stdout.length} bytes, ${QEMU} ${qemu.stdout.length} bytes, first difference at byte ${first}\n` +
        `roam:   ${JSON.stringify(roam.stdout.subarray(first, first + 80).toString("latin1"))}\n` +
        `${QEMU}: ${JSON.stringify(qemu.stdout.subarray(first, first + 80).toString("latin1"))}`,
    );
  }
  expect(roamStderr, `stderr: roam (without its warnings) vs ${QEMU}\n${both}`).toBe(qemu.stderr);
}

// ---- the cases of test/process-cases.ts ----------------------------------------------

describe.concurrent(`process-mode cases: roam run ${compareNote}`, () => {
  if (!qemuPath && requireQemu) {
    test(`${QEMU} is required (ROAM_REQUIRE_QEMU is set)`, () => {
      expect.fail(`${QEMU} is not on PATH, and ROAM_REQUIRE_QEMU says the comparison with it must run`);
    });
  } else if (!qemuPath) {
    test.skip(`the comparisons with ${QEMU} (not on PATH; set ROAM_REQUIRE_QEMU to make this a failure)`, () => {});
  }

  const quick = PROCESS_CASES.filter((c) => !c.slow && !c.roamOnly);
  test.each(quick.map((c) => ({ ...c, title: c.id })))(
    "$title",
    async (c) => {
      const [roam, qemu] = await Promise.all([run("roam", c), qemuPath ? run("qemu", c) : undefined]);
      const { warnings, rest } = splitWarnings(roam.run.stderr);
      expectNoJsStack(roam.run);
      expect(warnings, `roam's unknown-system-call warnings\n${describeRun(roam.run)}`).toEqual(warningsFor(c));
      checkRun(c, { ...roam.run, stderr: rest }, roam.cwd);
      if (qemu) {
        checkRun(c, qemu.run, qemu.cwd);
        expectSame(roam.run, qemu.run, rest);
      }
    },
    TIMEOUT_MS,
  );

  const roamOnly = PROCESS_CASES.filter((c) => !c.slow && c.roamOnly);
  test.each(roamOnly.map((c) => ({ ...c, title: `${c.id} (roam only)` })))(
    "$title",
    async (c) => {
      const roam = await run("roam", c);
      expectNoJsStack(roam.run);
      checkRun(c, roam.run, roam.cwd);
    },
    TIMEOUT_MS,
  );
});

// ---- crash: faults and bad system call arguments ---------------------------------------------

/** checks roam's one-line report of a fatal fault; returns the line's text after "roam: ELF: " */
function checkReport(c: CrashCase, roam: Run): string {
  const details = describeRun(roam);
  expectNoJsStack(roam);
  const lines = roam.stderr.split("\n");
  expect(lines.length, `roam's stderr: exactly one line\n${details}`).toBe(2);
  expect(lines[1], `roam's stderr ends with a newline\n${details}`).toBe("");
  const prefix = `roam: ${elfPath(c)}: `;
  expect(lines[0].startsWith(prefix), `the report starts with ${JSON.stringify(prefix)}\n${details}`).toBe(true);
  const text = lines[0].slice(prefix.length);
  const m = ANNOUNCE.exec(roam.stdout.toString("utf8"));
  const announced: Announced = m ? { address: Number(m[1]), pc: Number(m[2]), line: m[0] } : { address: NaN, pc: NaN, line: "" };
  if (c.id.startsWith("crash stack")) expect(m).toBeNull();
  else expect(m, `the guest's announcement\n${details}`).not.toBeNull();
  expect(text, `roam's report, against the guest's ${JSON.stringify(announced.line)}`).toMatch(c.report!(announced));
  return text;
}

describe.concurrent(`crash guest: roam run ${compareNote}`, () => {
  test.each(CRASH_CASES.map((c) => ({ ...c, title: c.id })))(
    "$title",
    async (c) => {
      const [roam, qemu] = await Promise.all([run("roam", c), qemuPath ? run("qemu", c) : undefined]);
      const { warnings, rest } = splitWarnings(roam.run.stderr);
      expect(roam.run.status, `${c.note ? c.note + "\n" : ""}${describeRun(roam.run)}`).toBe(c.status);
      if (c.report) {
        checkRun(c, roam.run, roam.cwd); // the case says nothing of stderr: the report is checked next
        checkReport(c, roam.run);
      } else {
        expectNoJsStack(roam.run);
        expect(warnings, `roam's unknown-system-call warnings\n${describeRun(roam.run)}`).toEqual(warningsFor(c));
        checkRun(c, { ...roam.run, stderr: rest }, roam.cwd);
      }
      if (qemu) {
        // on a fault qemu-riscv32 dies of the signal itself (status 128 + S) and prints nothing
        checkRun(c, qemu.run, qemu.cwd);
        expectSame(roam.run, qemu.run, c.report ? "" : rest);
      }
    },
    TIMEOUT_MS,
  );

  test("crash stack: the fault is just under the stack, in recurse()", async () => {
    const c = CRASH_CASES.find((x) => x.args[0] === "stack")!;
    const { run: roam } = await run("roam", c);
    const text = checkReport(c, roam);
    const start = Number(/recursing from (0x[0-9a-f]{8})/.exec(roam.stdout.toString("utf8"))![1]);
    const m = /at address (0x[0-9a-f]+) \(pc (0x[0-9a-f]+)\)/.exec(text)!;
    const [address, pc] = [Number(m[1]), Number(m[2])];
    const bottom = STACK_TOP - STACK_SIZE;
    expect(address, `fault address ${m[1]}: in the page under the stack (${hexRe(bottom)})`).toBeLessThan(bottom);
    expect(address).toBeGreaterThanOrEqual(bottom - 4096);
    expect(pc - start, `fault pc ${m[2]}: in recurse() at ${hexRe(start)}`).toBeGreaterThanOrEqual(0);
    expect(pc - start).toBeLessThan(0x40);
  }, TIMEOUT_MS);

  // The translator must not change where a fault is reported.
  const faults = CRASH_CASES.filter((c) => c.report);
  test.each(faults.map((c) => ({ ...c, title: `${c.args[0]}: --no-jit reports the same fault` })))(
    "$title",
    async (c) => {
      const [jit, interp] = await Promise.all([run("roam", c), run("roam", c, { roamOptions: ["--no-jit"] })]);
      const strip = (s: string) => s.replace(/, \d+ instructions retired/, "");
      expect(interp.run.status, describeRun(interp.run)).toBe(c.status);
      expect(interp.run.stdout.equals(jit.run.stdout), "stdout with and without the translator").toBe(true);
      expect(strip(interp.run.stderr)).toBe(strip(jit.run.stderr));
      expectNoJsStack(interp.run);
    },
    TIMEOUT_MS,
  );
});

// ---- a reader that goes away ---------------------------------------------------------------

describe.concurrent(`stdout closed by its reader: roam run ${compareNote}`, () => {
  // `counter 100000000` writes a line per step, flushed: once the reader has
  // closed the pipe (like `| head -c 100`), the next write raises SIGPIPE,
  // which kills the process: status 141, nothing said (a shell stays quiet
  // about SIGPIPE).
  const c: ProcessCase = { id: "counter into a closed pipe", guest: "counter", args: ["100000000", "1"], status: 141 };
  test("the guest dies of SIGPIPE (141), with no JavaScript stack trace", async () => {
    const [roam, qemu] = await Promise.all([
      run("roam", c, { closeStdoutAfter: 100, timeoutMs: 20_000 }),
      qemuPath ? run("qemu", c, { closeStdoutAfter: 100, timeoutMs: 20_000 }) : undefined,
    ]);
    const details = describeRun(roam.run);
    expect(roam.run.stderr, `roam writing to a closed pipe\n${details}`).not.toMatch(JS_STACK);
    expect(roam.run.stderr, `at most one line of report\n${details}`).toMatch(/^(roam: [^\n]*\n)?$/);
    expect(roam.run.status, `roam writing to a closed pipe: status 141 (SIGPIPE) expected\n${details}`).toBe(141);
    if (qemu) {
      expect(qemu.run.status, describeRun(qemu.run)).toBe(141);
      expect(qemu.run.stderr).toBe("");
    }
  }, TIMEOUT_MS);
});
