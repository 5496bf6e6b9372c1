// `roam run`: a static RV32 Linux program in process mode, with this host as its kernel.

import { statSync } from "node:fs";
import { ElfError, type ElfImage } from "../elf/index.js";
import { Core } from "../machine/core.js";
import { FIRST_PID, Kernel } from "../kernel/kernel.js";
import { SIGCONT } from "../kernel/signals.js";
import { stopWithJob } from "./stop-with-job.js";
import { ECHO } from "../kernel/terminal.js";
import type { CommandSpec, Parsed } from "./args.js";
import { CliError } from "./failure.js";
import { parseCount, parseSize } from "./parse-numbers.js";
import { StdioProcessConsole } from "./process-console.js";
import { privateTmp } from "./private-tmp.js";
import { readElf } from "./read-input.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";
import { ON_HOST_OPTIONS } from "./client-options.js";
import { warmStart } from "../jit/warm-start.js";

export const RUN_SPEC: CommandSpec = {
  name: "run",
  usage: "[options] prog.elf [args...]",
  summary: "run a static RV32 Linux program in process mode; with --on, on a host",
  about: `Runs a static RV32 Linux program (ET_EXEC, the kind qemu-riscv32 runs) in
process mode: the program runs in U-mode on Sv32 page tables, and Roam is its
kernel (files, terminal, clocks, memory). Its files live in a sandbox: its
root directory is "/", over a read-only base layer that gives /bin/sh and
BusyBox's programs (system() and popen() work), /etc/passwd, /etc/group and
/etc/hosts where the root has none; what the guest changes there is copied
into its root first. On a terminal, the program has one of its own, as
on Linux: lines edited as typed, raw keys when it asks for them, Ctrl-C
and Ctrl-Z for its foreground job; when the program itself is stopped
(Ctrl-Z), roam stops with it until your shell's \`fg\`. Everything after
prog.elf is the program's own: \`roam run ls.elf --help\` gives --help to ls.`,
  positionals: ["prog.elf", "[args...]"],
  passThrough: true,
  options: [
    { name: "root", value: "DIR", help: "the guest's root directory (default: the current one);\nno path, \"..\", or symlink reaches outside it. With --on:\na directory within the host's root, made if missing and\nshared with every guest naming it (\".\": the host's root);\nwithout it the guest gets its own, guests/GID" },
    { name: "ram", value: "SIZE", help: "guest RAM, e.g. 64M (default 64M, at most 1G)" },
    { name: "max-instructions", value: "N", help: "stop after about N instructions (exit code 124)" },
    { name: "stats", help: "print instructions, MIPS, page faults and system calls" },
    { name: "no-jit", help: "interpret only: do not translate hot code" },
    { name: "strace", help: "print each system call with its arguments and result on\nstderr, as strace does ([pid N] once there are several\nprocesses)" },
    ...ON_HOST_OPTIONS,
    { name: "tty", help: "with --on: give the guest a terminal even with --detach (as docker\nrun -t; without it, it has one when run from a terminal and\nattached); a client attached later passes its keys as typed" },
    { name: "publish", value: "[ADDR:]HP:GP", help: "with --on: the host listens on TCP port HP (on ADDR, default\n127.0.0.1) and carries each connection to the guest's\nport GP, wherever it migrates (repeatable; as docker run -p)" },
    { name: "replicate", value: "URL", help: "with --on: keep a backup of the guest on this host, which runs it\non if the guest's host dies (see roam replicate; the guest\nstarts once the backup has its first epoch)" },
    { name: "epoch", value: "TIME", help: "with --replicate: how often its changes go to the backup\n(default 25ms)" },
    { name: "forwarding", value: "HOW", help: "with --on: how messages from other guests reach it after it moves\n(docs/MESSAGES.md; default update):\nresend: refused where it is not; the sender's host finds it\norigin: always through the host it started on\ntraversal: old hosts pass them on and tell the sender\nupdate: its peers' hosts are told where it went" },
  ],
  footer: `Exit code: the program's; 128 + signal when it faults (139 segmentation fault,
132 illegal instruction, 135 bus error, 141 broken pipe), 124 at the instruction
limit, 130 on Ctrl-C, 2 for a bad command line or an ELF Roam refuses.
The program's stderr is its own: a system call Roam lacks returns ENOSYS
silently (--strace shows it; ROAM_WARN=1 prints one warning per number).`,
};

export async function runCommand(args: Parsed): Promise<number> {
  // The client (ws, msgpackr, TLS) loads only with --on: a local run starts without it. --root: within the host's root.
  if (args.has("on")) {
    const { remoteRun } = await import("./cluster-commands.js");
    return remoteRun(args, "process", ["max-instructions", "stats", "no-jit", "strace"]);
  }
  for (const remoteOnly of ["detach", "tty", "token", "forwarding", "publish", "require", "prefer", "via", "replicate", "epoch"]) if (args.has(remoteOnly)) throw new UsageError(`--${remoteOnly} goes with --on`);
  const [program] = args.positionals;
  const ram = args.string("ram");
  const ramBytes = ram === undefined ? 64 << 20 : parseSize("--ram", ram);
  if (ramBytes % 4096 || ramBytes < 1 << 20 || ramBytes > 1 << 30) throw new UsageError(`--ram ${ram}: want 1M..1G in whole pages`);
  const root = args.string("root") ?? process.cwd();
  try { if (!statSync(root).isDirectory()) throw new Error(); } catch { throw new UsageError(`--root ${root}: not a directory`); }
  const limit = args.string("max-instructions");
  const maxInstructions = limit === undefined ? undefined : parseCount("--max-instructions", limit);
  const { image, bytes } = readElf(program, { symbols: false });

  const tmp = privateTmp(root);
  try {
    return await runLocally(args, { image, bytes, ramBytes, root, tmp: tmp?.dir, maxInstructions });
  } finally {
    tmp?.remove();
  }
}

interface LocalRun { image: ElfImage; bytes: Uint8Array; ramBytes: number; root: string; tmp: (() => string) | undefined; maxInstructions: number | undefined }

/** Runs the guest in this process until it ends; its exit code. */
async function runLocally(args: Parsed, { image, bytes, ramBytes, root, tmp, maxInstructions }: LocalRun): Promise<number> {
  const [program] = args.positionals;
  const guestArgs = args.positionals;
  const core = await Core.load();
  // strace's formatting (and its errno names) loads only with --strace: a plain run starts without it.
  const formatSyscall = args.flag("strace") ? (await import("../kernel/strace.js")).formatSyscall : undefined;
  const console = new StdioProcessConsole(() => process.stdin, () => process.stdout, () => process.stderr, 0);
  let guest: Kernel;
  try {
    guest = new Kernel({
      core, image, program: bytes, ramBytes, root, tmp, argv: guestArgs, envp: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
      console, inputReady: () => console.inputReady(), maxInstructions, translate: !args.flag("no-jit"),
      // A program's stderr stays its own: Roam's warnings about it only when asked for.
      warn: process.env.ROAM_WARN ? (message) => process.stderr.write(`roam: warning: ${message}\n`) : undefined,
      trace: formatSyscall ? (task, number, callArgs, outcome) =>
        process.stderr.write(formatSyscall(task, number, callArgs, outcome, task.kernel.nextPid > FIRST_PID + 1) + "\n") : undefined,
    });
  } catch (error) {
    if (error instanceof ElfError) throw new CliError(program, error.message, EXIT_USAGE);
    throw error;
  }
  // What the program's last run translated, translated before its first instruction (a record kept for the next run
  // when there is none).
  const warm = warmStart(core.translator, bytes, guestArgs, ramBytes, (pageVA) => guest.codeFrame(pageVA));
  // SIGINT on the host (`kill -INT`; a terminal's Ctrl-C when the guest's line discipline does not have it) is SIGINT
  // for the guest's foreground processes (a shell may catch it); a second one ends the guest.
  let interrupts = 0;
  const onInterrupt = () => (interrupts++ === 0 ? guest.interrupt() : guest.stop("interrupted", 130));
  process.on("SIGINT", onInterrupt);
  const endJobControl = followJobControl(guest, console);
  try {
    const result = await guest.run();
    warm?.finish(guest.processesStarted);
    // After the ^C the guest's terminal echoed, the report starts a line of its own (a shell prints that newline).
    const afterEcho = guest.consoleInterrupted && guest.terminal && guest.terminal.termios.lflag & ECHO ? "\n" : "";
    if (result.report) process.stderr.write(`${afterEcho}roam: ${program}: ${result.report}\n`);
    if (args.flag("stats")) process.stderr.write(guest.formatStats() + "\n");
    return result.exitCode;
  } finally {
    process.off("SIGINT", onInterrupt);
    endJobControl();
    console.close();
  }
}

/**
 * The guest's first process is the user's job: when it stops (Ctrl-Z in its terminal, a SIGSTOP), Roam stops with the
 * same signal, so the user's shell reports the job stopped and has its terminal back; when the shell continues Roam
 * (`fg`, `bg`), the guest's process continues too. And the host terminal's new size is the guest's (SIGWINCH).
 */
function followJobControl(guest: Kernel, console: StdioProcessConsole): () => void {
  guest.onStopReport = (code, sig) => {
    if (code !== 5 /* CLD_STOPPED */) return;
    // After the kernel's delivery of the stop has returned: the guest is at rest between slices.
    stopWithJob(sig, { release: () => console.releaseTerminal(), resume: () => console.resumeTerminal() }, () => {
      const first = guest.tasks.get(guest.firstPid);
      if (first) guest.signalGroup(first.pgid, SIGCONT);
    });
  };
  const onResize = () => setImmediate(() => {
    const size = console.windowSize();
    if (size) guest.resizeTerminal(size.rows, size.columns);
  });
  if (guest.terminal) process.on("SIGWINCH", onResize);
  return () => {
    guest.onStopReport = undefined;
    process.off("SIGWINCH", onResize);
  };
}
