// Runs a process-mode case (test/process-cases.ts) on qemu-riscv32 or on
// `roam run`, the same way on both, following the rules at the top of
// process-cases.ts:
//   - cwd: a fresh directory the caller made (newCaseDir) with the case's
//     dirs, files and symlinks (prepareCaseDir)
//   - argv[0]: the absolute path of the ELF, on both (the guests print at most
//     its last component, but this way even the full string agrees)
//   - environment: exactly the case's `env`, nothing inherited. For roam that is
//     the environment of the node process, which `roam run` hands to the guest
//   - stdin: a pipe carrying the case's `stdin`, then EOF
//   - stdout, stderr: pipes, captured
// `status` is what a shell would show: the exit code, or 128 + S when the
// process died of signal S. qemu-riscv32 kills itself with the guest's fatal
// signal; roam exits with 128 + S itself. Both read the same.
//
// roam is run as `node bin/roam.js run [extra options] --root <cwd> <elf> args`
// with the node that runs the tests (process.execPath); ROAM_JS points it at
// another build.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { caseElf, prepareCaseDir, type ProcessCase } from "./process-cases.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ROAM_JS = process.env.ROAM_JS ?? join(ROOT, "bin", "roam.js");
export const QEMU = "qemu-riscv32";

export type RunnerKind = "qemu" | "roam";

export interface Run {
  kind: RunnerKind;
  stdout: Buffer;
  stderr: string;
  /** as a shell shows it: the exit code, or 128 + signal number */
  status: number;
  /** the signal the process died of (qemu-riscv32 on a guest fault), else null */
  signal: NodeJS.Signals | null;
  /** killed by the harness's timeout */
  timedOut: boolean;
  ms: number;
}

export interface RunOptions extends Pick<ProgramOptions, "closeStdoutAfter"> {
  /** options for `roam run`, before --root (ignored for qemu) */
  roamOptions?: string[];
  /** roam's --root (default: cwd) */
  root?: string;
  /** the run is killed (SIGKILL) after this long; default 50 s */
  timeoutMs?: number;
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export const qemuPath = findOnPath(QEMU);

/** absolute path of a case's ELF */
export function elfPath(c: ProcessCase): string {
  return join(ROOT, caseElf(c));
}

/** the command line that runs `c` (program, arguments) */
export function commandLine(kind: RunnerKind, c: ProcessCase, cwd: string, options: RunOptions = {}): [string, string[]] {
  const elf = elfPath(c);
  if (kind === "qemu") {
    if (!qemuPath) throw new Error(`${QEMU} is not on PATH`);
    return [qemuPath, [elf, ...c.args]];
  }
  return [process.execPath, [ROAM_JS, "run", ...(options.roamOptions ?? []), "--root", options.root ?? cwd, elf, ...c.args]];
}

/** runs case `c` in `cwd` (prepared by the caller) on qemu-riscv32 or roam */
export function runGuest(kind: RunnerKind, c: ProcessCase, cwd: string, options: RunOptions = {}): Promise<Run> {
  const [program, args] = commandLine(kind, c, cwd, options);
  return runProgram(kind, program, args, {
    cwd, env: c.env ?? {}, stdin: c.stdin, timeoutMs: options.timeoutMs, closeStdoutAfter: options.closeStdoutAfter,
  });
}

/** `node bin/roam.js ARGS` in cwd, with exactly env (default: empty), stdin through a pipe */
export function runRoam(args: string[], options: ProgramOptions): Promise<Run> {
  return runProgram("roam", process.execPath, [ROAM_JS, ...args], options);
}

export interface ProgramOptions {
  cwd: string;
  env?: Record<string, string>;
  stdin?: string | Buffer;
  /** an open descriptor (a file, say) to give as stdin instead of `stdin` through a pipe: the child shares its offset */
  stdinFd?: number;
  timeoutMs?: number;
  /** close the read end of stdout once this many bytes came (like `| head -c N`) */
  closeStdoutAfter?: number;
}

/** runs a program with exactly `env`, `stdin` through a pipe then EOF (or descriptor `stdinFd`), stdout and stderr captured */
export function runProgram(kind: RunnerKind, program: string, args: string[], options: ProgramOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(program, args, { cwd: options.cwd, env: { ...(options.env ?? {}) }, stdio: [options.stdinFd ?? "pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 50_000);
    let received = 0;
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      received += chunk.length;
      if (options.closeStdoutAfter !== undefined && received >= options.closeStdoutAfter) child.stdout!.destroy();
    });
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        kind,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
        status: signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? -1),
        signal,
        timedOut,
        ms: performance.now() - start,
      });
    });
    if (options.stdinFd !== undefined) return;
    child.stdin!.on("error", () => {}); // the guest may exit before reading it all
    child.stdin!.end(options.stdin ?? "");
  });
}

// ---- working directories ------------------------------------------------------

/** A temporary directory holding one fresh directory per run. */
export class CaseDirs {
  private root = "";
  private count = 0;

  constructor(private readonly prefix: string) {}

  /** call from beforeAll */
  open(): void {
    this.root = mkdtempSync(join(tmpdir(), this.prefix));
  }

  /** call from afterAll */
  close(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }

  /** a fresh directory, prepared for case `c` */
  fresh(c: ProcessCase, label = "case"): string {
    if (!this.root) throw new Error("CaseDirs: open() first");
    const cwd = join(this.root, `${label}-${this.count++}`);
    mkdirSync(cwd);
    prepareCaseDir(c, cwd);
    return cwd;
  }
}

// ---- bounded concurrency -------------------------------------------------------

/** At most `slots` of the functions given to it run at once. */
export function limiter(slots: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= slots) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

// ---- checks --------------------------------------------------------------------

export function describeRun(result: Run): string {
  const how = result.timedOut
    ? `timed out (killed) after ${result.ms.toFixed(0)} ms`
    : result.signal
      ? `killed by ${result.signal} (status ${result.status})`
      : `status ${result.status}`;
  const out = result.stdout.toString("utf8");
  return `${result.kind}: ${how}\n--- stdout:\n${out.length > 4000 ? out.slice(0, 4000) + "..." : out}--- stderr:\n${result.stderr}`;
}

/** checks a run against everything the case says */
export function checkRun(c: ProcessCase, result: Run, cwd: string): void {
  const details = describeRun(result);
  expect(result.timedOut, details).toBe(false);
  expect(result.status, details).toBe(c.status);
  if (c.stdout !== undefined) {
    const want = Buffer.isBuffer(c.stdout) ? c.stdout : Buffer.from(c.stdout);
    if (Buffer.isBuffer(c.stdout)) expect(result.stdout.equals(want), `${result.kind}: stdout differs (${result.stdout.length} bytes vs ${want.length})`).toBe(true);
    else expect(result.stdout.toString("utf8"), `${result.kind}: stdout`).toBe(c.stdout);
  }
  if (c.stderr !== undefined) expect(result.stderr, details).toBe(c.stderr);
  const text = result.stdout.toString("utf8");
  for (const re of c.stdoutMatches ?? []) expect(text, details).toMatch(re);
  for (const re of c.stdoutRejects ?? []) expect(text, details).not.toMatch(re);
  for (const d of c.emptyAfter ?? []) expect(readdirSync(join(cwd, d)), `${result.kind}: ${d} after the run`).toEqual([]);
  if (c.minDurationMs !== undefined) expect(result.ms, `${result.kind}: run time`).toBeGreaterThanOrEqual(c.minDurationMs);
}

/** a JavaScript stack trace line ("    at f (file.js:1:2)") or an uncaught error's name */
export const JS_STACK = /^\s+at .*(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$|^(Error|TypeError|RangeError|ReferenceError|RuntimeError|WebAssembly\.\w+Error)\b.*:/m;
