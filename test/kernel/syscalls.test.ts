import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROCESS_CASES, type ProcessCase } from "../process-cases.js";
import { CaseDirs, JS_STACK, checkRun, describeRun, elfPath, runGuest } from "../process-harness.js";
import { EFAULT_STDIN, EFAULT_STDOUT } from "./crash-cases.js";
import { runInProcess } from "./kernel-harness.js";

// Roam's kernel, seen by guests: the system calls guest passes every check,
// path escapes fail, unknown system calls give -ENOSYS (with one warning per
// number when ROAM_WARN asks for them), and wild pointers give -EFAULT while the host carries on. Through
// the CLI (`roam run`, as a user runs it) and in this process (src/kernel's
// Process with a Core), where the warnings and the result can be seen directly.

const TIMEOUT_MS = 30_000;
const dirs = new CaseDirs("roam-kernel-syscalls-");
beforeAll(() => dirs.open());
afterAll(() => dirs.close());

const byId = (id: string) => PROCESS_CASES.find((c) => c.id === id)!;
const SYSCALLS = byId("syscalls");
const SANDBOX = byId("sandbox");
const ENOSYS_WARNINGS = [999, 500].map((n) => `unsupported system call ${n}; it returns ENOSYS`);

/** the TAP plan and the summary agree: every check ran, none failed */
function expectAllChecksPassed(stdout: string): void {
  const plan = /^1\.\.(\d+)$/m.exec(stdout);
  expect(plan, "the TAP plan line").not.toBeNull();
  const n = Number(plan![1]);
  expect(n).toBeGreaterThan(100);
  expect(stdout).toMatch(new RegExp(`^# ${n} checks, 0 failed$`, "m"));
  expect(stdout.match(/^ok \d+ - /gm)?.length, "one ok line per check").toBe(n);
  expect(stdout, "no failed check").not.toMatch(/^not ok/m);
}

describe.concurrent("the syscalls guest on roam", () => {
  test.each([
    { title: "roam run: all checks pass", options: [] as string[] },
    { title: "roam run --no-jit: all checks pass", options: ["--no-jit"] },
  ])("$title", async ({ options }) => {
    const cwd = dirs.fresh(SYSCALLS);
    const run = await runGuest("roam", SYSCALLS, cwd, { roamOptions: options });
    const details = describeRun(run);
    expect(run.status, details).toBe(0);
    expectAllChecksPassed(run.stdout.toString("utf8"));
    // stderr is the program's: no warning for its two unknown-system-call checks without ROAM_WARN
    expect(run.stderr, details).toBe("");
    checkRun({ ...SYSCALLS, stderr: undefined }, run, cwd);
  }, TIMEOUT_MS);

  test("in-process: all checks pass, two warnings, the scratch directory is left empty", async () => {
    const c: ProcessCase = SYSCALLS;
    const cwd = dirs.fresh(c);
    const { result, console, warnings } = await runInProcess(c.guest, { root: cwd, args: c.args, stdin: "" });
    expect(result.exitCode, console.stdout + console.stderr).toBe(0);
    expect(result.report).toBeUndefined();
    expectAllChecksPassed(console.stdout);
    expect(console.stderr).toBe("");
    expect(warnings).toEqual(ENOSYS_WARNINGS);
  }, TIMEOUT_MS);
});

describe.concurrent("unknown system calls: -ENOSYS and one warning per number", () => {
  const c: ProcessCase = { id: "crash enosys", guest: "crash", args: ["enosys"], status: 0 };
  const STDOUT =
    "crash: enosys: syscall 999: -38 ok\ncrash: enosys: syscall 999 again: -38 ok\n" +
    "crash: enosys: syscall 500: -38 ok\ncrash: enosys: syscall 999 a third time: -38 ok\n";

  test("roam run: 999 three times and 500 once give two warning lines with ROAM_WARN, none without", async () => {
    const run = await runGuest("roam", { ...c, env: { ROAM_WARN: "1" } }, dirs.fresh(c));
    expect(run.status, describeRun(run)).toBe(0);
    expect(run.stdout.toString("utf8")).toBe(STDOUT);
    expect(run.stderr).toBe(ENOSYS_WARNINGS.map((w) => `roam: warning: ${w}\n`).join(""));
    const quiet = await runGuest("roam", c, dirs.fresh(c));
    expect(quiet.stdout.toString("utf8")).toBe(STDOUT);
    expect(quiet.stderr).toBe("");
  }, TIMEOUT_MS);

  test("in-process: warn() is called once per number", async () => {
    const { result, console, warnings } = await runInProcess(c.guest, { root: dirs.fresh(c), args: c.args, stdin: "" });
    expect(result.exitCode).toBe(0);
    expect(console.stdout).toBe(STDOUT);
    expect(warnings).toEqual(ENOSYS_WARNINGS);
  }, TIMEOUT_MS);
});

describe.concurrent("wild pointers: -EFAULT, and the host keeps running", () => {
  // what crash efault must print: the same as on qemu-riscv32 (test/kernel/crash-cases.ts)
  const c: ProcessCase = { id: "crash efault", guest: "crash", args: ["efault"], status: 0, stdin: EFAULT_STDIN };
  const expectEfaults = (stdout: string) => {
    expect(stdout).not.toMatch(/got -?\d+, want/);
    expect(stdout).toBe(EFAULT_STDOUT);
  };

  test("roam run", async () => {
    const run = await runGuest("roam", c, dirs.fresh(c));
    expect(run.status, describeRun(run)).toBe(0);
    expectEfaults(run.stdout.toString("utf8"));
    expect(run.stderr).toBe("");
  }, TIMEOUT_MS);

  test("in-process: run() resolves normally, and the same core runs the next process", async () => {
    const first = await runInProcess(c.guest, { root: dirs.fresh(c), args: c.args, stdin: EFAULT_STDIN });
    expect(first.result.exitCode, first.console.stdout).toBe(0);
    expectEfaults(first.console.stdout);
    expect(first.console.stderr).toBe("");
    expect(first.warnings).toEqual([]);
    // the host is fine afterwards: another guest runs in this process
    const hello = await runInProcess("hello", { root: dirs.fresh(c), stdin: "" });
    expect(hello.result.exitCode).toBe(0);
    expect(hello.console.stdout).toMatch(/^Hello from Roam!/);
  }, TIMEOUT_MS);

  test("in-process: a fault ends the guest with a report, not a host exception", async () => {
    const { result, console } = await runInProcess("crash", { root: dirs.fresh(c), args: ["segv"], stdin: "" });
    expect(result.exitCode).toBe(139);
    expect(result.report).toMatch(/^segmentation fault: write at address 0x0+ \(pc 0x[0-9a-f]+\), \d+ instructions retired$/);
    expect(console.stdout).toMatch(/^crash: segv: store to 0x00000000 at pc 0x[0-9a-f]{8}\n$/);
  }, TIMEOUT_MS);
});

describe.concurrent("path escapes fail", () => {
  test("the sandbox guest: no escape succeeds", async () => {
    const cwd = dirs.fresh(SANDBOX);
    const run = await runGuest("roam", SANDBOX, cwd);
    expect(run.stderr, describeRun(run)).not.toMatch(JS_STACK);
    checkRun(SANDBOX, run, cwd);
    expect(run.stdout.toString("utf8").match(/^ok \d+ - .*: denied$/gm)?.length).toBe(11);
  }, TIMEOUT_MS);

  // cat with --root below the working directory: a secret next to the root
  // must stay out of reach whichever way the path is spelled.
  const escapes: Array<{ how: string; path: string }> = [
    { how: "../", path: "../secret.txt" },
    { how: "../ from a subdirectory", path: "sub/../../secret.txt" },
    { how: "/.. at the root", path: "/../secret.txt" },
    { how: "a symlink to the file outside", path: "link-to-secret" },
    { how: "a symlink to the directory outside", path: "link-to-outside/secret.txt" },
    { how: "its absolute host path", path: "<absolute>" },
  ];
  test.each(escapes)("cat through $how", async ({ path }) => {
    const c: ProcessCase = { id: "cat escape", guest: "cat", args: [], status: 1 };
    const cwd = dirs.fresh(c);
    const root = join(cwd, "root");
    mkdirSync(join(root, "sub"), { recursive: true });
    writeFileSync(join(cwd, "secret.txt"), "the secret\n");
    writeFileSync(join(root, "inside.txt"), "inside\n");
    symlinkSync(join(cwd, "secret.txt"), join(root, "link-to-secret"));
    symlinkSync(cwd, join(root, "link-to-outside"));
    const target = path === "<absolute>" ? join(cwd, "secret.txt") : path;
    const run = await runGuest("roam", { ...c, args: ["inside.txt", target] }, cwd, { root });
    const details = describeRun(run);
    expect(run.status, details).toBe(1);
    expect(run.stdout.toString("utf8"), details).toBe("inside\n"); // the file inside: yes; the secret: no
    expect(run.stderr, details).toMatch(new RegExp(`^cat: ${target.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: (No such file or directory|Permission denied|Operation not permitted)\n$`));
  }, TIMEOUT_MS);

  // The adversary's escape: a dangling link whose target is outside, and
  // O_CREAT follows it. Run through `roam run --root`, with links to the
  // outside both absolute and relative, as last components and directories.
  test("the sandbox guest --links: nothing is made, moved or read through links that lead out", async () => {
    const c: ProcessCase = { id: "sandbox links", guest: "sandbox", args: ["--links", "scratch"], status: 0 };
    const cwd = dirs.fresh(c);
    const root = join(cwd, "root"), outside = join(cwd, "outside"), scratch = join(root, "scratch");
    mkdirSync(scratch, { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, "secret.txt"), "the secret\n");
    writeFileSync(join(root, "inside.txt"), "inside\n");
    const links: Record<string, string> = {
      "dangling-abs": join(outside, "new-abs.txt"), "dangling-rel": "../../outside/new-rel.txt",
      "out-abs": outside, "out-rel": "../../outside", loop: "loop", "in-link": "../inside.txt",
    };
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(scratch, name));
    const secret = statSync(join(outside, "secret.txt"));
    const run = await runGuest("roam", c, cwd, { root });
    const details = describeRun(run);
    const stdout = run.stdout.toString("utf8");
    expect(run.stderr, details).toBe("");
    expect(stdout, details).not.toMatch(/^not ok/m);
    expect(stdout, details).toMatch(/^# 22 checks, 0 escapes$/m);
    expect(run.status, details).toBe(0);
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("the secret\n");
    const after = statSync(join(outside, "secret.txt"));
    expect([after.mode, after.mtimeMs, after.nlink]).toEqual([secret.mode, secret.mtimeMs, secret.nlink]);
    expect(readdirSync(cwd).sort()).toEqual(["outside", "root"]);
    expect(readdirSync(scratch).sort()).toEqual(Object.keys(links).sort()); // mine.txt made and removed, nothing else
  }, TIMEOUT_MS);

  test("the ELF itself may live outside the root", async () => {
    // (argv[0] is the host path given on the command line; the guest only prints its last part)
    const c = byId("hello");
    const cwd = dirs.fresh(c);
    const root = join(cwd, "root");
    mkdirSync(root);
    const run = await runGuest("roam", c, cwd, { root });
    expect(elfPath(c).startsWith(root)).toBe(false);
    checkRun(c, run, cwd);
  }, TIMEOUT_MS);
});
