// The process tree: fork (clone), execve, exit, and what a parent learns of its
// children (wait). Semantics follow the man pages: fork(2) "creates a new
// process by duplicating the calling process"; execve(2) "executes the program
// referred to by pathname ... the calling process's stack, heap and data are
// replaced"; _exit(2) "any children of the process are inherited by init ...
// the process's parent is sent a SIGCHLD signal".

import * as fs from "node:fs";
import { ElfError, parseElf } from "../elf/index.js";
import { CSR_SATP } from "../../assembly/layout.js";
import { OutOfMemory } from "./address-space.js";
import { Errno } from "./errno.js";
import { AT_FDCWD, SandboxError } from "./files.js";
import { baseName, MAX_PROCESSES, type Kernel } from "./kernel.js";
import {
  clearChildTid, cloneRegisters, CLONE_CHILD_SETTID, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK,
  CLONE_VM, createThread, endOtherThreads, execingThreadBecomesLeader, leaderOf, liveTasks, liveThreads, processAlive, stopRunning,
} from "./threads.js";
import { loadProcess } from "./loader.js";
import { sendSignal } from "./deliver.js";
import { SA_NOCLDSTOP, SA_NOCLDWAIT, SIGCHLD, SIG_IGN, SIGPIPE, SIGINT } from "./signals.js";
import { Task } from "./task.js";

/** clone: a new process (or, CLONE_THREAD, a thread: threads.ts); returns its id to the caller (the child sees 0), or -errno. */
export function forkTask(k: Kernel, parent: Task, flags: number, stack: number, ptid: number, tls: number, ctid: number): number {
  if (flags & CLONE_THREAD) return createThread(k, parent, flags, stack, ptid, tls, ctid);
  if (flags & CLONE_SIGHAND) return -Errno.EINVAL; // "CLONE_SIGHAND was specified in the flags mask, but CLONE_VM was not" (or a process sharing handlers)
  if (flags & CLONE_PARENT) return -Errno.EINVAL; // a sibling of the caller: not offered
  const vfork = (flags & CLONE_VFORK) !== 0;
  if ((flags & CLONE_VM) && !vfork) return -Errno.EINVAL; // memory shared for good, with handlers of its own: not offered
  if (liveTasks(k) >= MAX_PROCESSES) return -Errno.EAGAIN; // "The caller is operating under the RLIMIT_NPROC resource limit"
  let space;
  try {
    space = flags & CLONE_VM ? parent.space : parent.space.fork();
  } catch (error) {
    if (error instanceof OutOfMemory) return -Errno.ENOMEM;
    throw error;
  }
  // The child's parent is the caller's process (getppid: "the process ID of the parent"), whichever thread forked.
  const child = new Task(k, k.nextPid++, parent.tgid, parent.pgid, parent.sid, space, parent.files.fork());
  child.signals = parent.signals.fork();
  child.exitSignal = flags & 0xff;
  child.limits = new Map(parent.limits); // "A child process created via fork(2) inherits its parent's resource limits"
  child.runsProgramOf(parent);
  // "On success, the PID of the child process is returned in the parent, and 0 is returned in the child"
  child.registers.set(cloneRegisters(k, parent, flags, stack, tls));
  if (flags & CLONE_PARENT_SETTID) parent.space.writeU32(ptid, child.pid);
  if (flags & CLONE_CHILD_SETTID) child.space.writeU32(ctid, child.pid);
  if (vfork) {
    // "the calling thread is suspended until the child terminates ... or it makes a call to execve"
    child.sharesSpaceOf = parent.pid;
    parent.vforkChild = child.pid;
  }
  k.tasks.set(child.pid, child);
  return child.pid;
}

/** The bytes of the program at guest path `path` for `task`, or -errno. */
function programAt(k: Kernel, task: Task, path: string): { bytes: Uint8Array; guestPath: string } | number {
  if (path === "/proc/self/exe") {
    if (task.exe === "") return k.program.length ? { bytes: k.program, guestPath: "" } : -Errno.ENOENT;
    path = task.exe;
  }
  try {
    const r = task.files.resolve(AT_FDCWD, path, "follow");
    if (r.stat === null) return -Errno.ENOENT;
    if (r.stat.isDirectory()) return -Errno.EACCES; // "the file or a script interpreter is not a regular file"
    if (!r.stat.isFile()) return -Errno.EACCES;
    if ((r.stat.mode & 0o111) === 0) return -Errno.EACCES; // "Execute permission is denied for the file"
    if (!looksRunnable(r.host)) return -Errno.ENOEXEC; // decided on the header: a huge foreign file is not read whole
    return { bytes: fs.readFileSync(r.host), guestPath: r.guest };
  } catch (error) {
    if (error instanceof SandboxError) return -error.errno;
    throw error;
  }
}

/** Whether the file at host path `host` starts as a script ("#!") or a 32-bit little-endian RISC-V ELF. */
function looksRunnable(host: string): boolean {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const n = fs.readSync(fd, header, 0, 20, 0);
    if (n >= 2 && header[0] === 0x23 && header[1] === 0x21) return true;
    // ELF magic, ELFCLASS32, ELFDATA2LSB, e_machine EM_RISCV (243)
    return n === 20 && header.readUInt32BE(0) === 0x7f454c46 && header[4] === 1 && header[5] === 1 && header.readUInt16LE(18) === 243;
  } finally {
    fs.closeSync(fd);
  }
}

/** A "#!interpreter [arg]" line: the interpreter and its optional argument, or null when the file is not a script. */
function shebang(bytes: Uint8Array): { interpreter: string; arg?: string } | null {
  if (bytes[0] !== 0x23 || bytes[1] !== 0x21) return null;
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = Math.min(bytes.length, 256);
  const line = Buffer.from(bytes.subarray(2, end)).toString("utf8").trim();
  const space = line.search(/[ \t]/);
  if (line === "") return null;
  return space < 0 ? { interpreter: line } : { interpreter: line.slice(0, space), arg: line.slice(space).trim() || undefined };
}

/** execve: on success the process runs the new program ("jumped"); otherwise -errno and nothing changed. */
export function execTask(k: Kernel, task: Task, path: string, argv: string[], envp: string[], depth = 0): number | "jumped" {
  const found = programAt(k, task, path);
  if (typeof found === "number") return found;
  const script = shebang(found.bytes);
  if (script) {
    // "the interpreter ... is invoked with: interpreter [optional-arg] pathname arg..."
    if (depth >= 4) return -Errno.ELOOP;
    const args = [script.interpreter, ...(script.arg ? [script.arg] : []), path, ...argv.slice(1)];
    const r = execTask(k, task, script.interpreter, args, envp, depth + 1);
    if (r === "jumped") k.current.name = baseName(path); // (the process's task: a thread that execs becomes its leader) Linux names it after the script it was asked to run, not the interpreter
    return r;
  }
  let loaded;
  try {
    loaded = loadProcess(k.frames, parseElf(found.bytes, { symbols: false }), argv, envp);
  } catch (error) {
    if (error instanceof ElfError) return -Errno.ENOEXEC; // "An executable is not in a recognized format, is for the wrong architecture"
    if (error instanceof OutOfMemory) return -Errno.ENOMEM;
    throw error;
  }
  // The point of no return: the old program is gone, and with it every other thread of the process.
  task = execingThreadBecomesLeader(k, task);
  if (task.sharesSpaceOf) releaseVforkParent(k, task);
  else task.space.release();
  task.space = loaded.space;
  task.files.execed();
  task.signals.execed();
  task.exe = found.guestPath;
  task.argv = argv;
  // comm: "the basename of the filename" execve was given, 15 bytes (argv[0] is the program's to choose, and may differ).
  task.name = baseName(path);
  const core = k.core;
  for (let r = 1; r < 32; r++) core.setX(r, 0);
  core.setX(2, loaded.sp);
  core.pc = loaded.entry;
  core.setState32(CSR_SATP, loaded.space.satp);
  core.exports.flushTranslations();
  return "jumped";
}

/** A vfork child execs or ends: its parent, suspended since the clone, goes on with its own space. */
function releaseVforkParent(k: Kernel, child: Task): void {
  const parent = k.tasks.get(child.sharesSpaceOf);
  child.sharesSpaceOf = 0;
  if (parent && parent.vforkChild === child.pid) parent.vforkChild = 0;
  k.notify();
}

/**
 * `task`'s process ends with wait status `status` (exit code << 8, or a signal
 * number, | 0x80 for a core dump): every thread goes, its children go to init,
 * its parent is told. A process that is already over is left as it is.
 */
export function endTask(k: Kernel, task: Task, status: number): void {
  const leader = leaderOf(k, task);
  if (!processAlive(leader)) return;
  const live = task.status !== "zombie" ? task : liveThreads(k, leader)[0] ?? leader;
  const { space, files } = live; // the process's, shared by its threads
  clearChildTid(k, live);
  endOtherThreads(k, leader);
  stopRunning(leader);
  leader.exitedAsThread = false;
  leader.waitStatus = status;
  files.closeAll();
  if (live.sharesSpaceOf) releaseVforkParent(k, live);
  else if (!leader.away) {
    // A vfork child still borrowing this space keeps it as its own (it releases it at exec or exit): a zombie holds no
    // space in a snapshot, and a borrower must not name a process that its parent may reap.
    const borrower = [...k.tasks.values()].find((t) => t.sharesSpaceOf && t.space === space && t.tgid !== leader.tgid && t.status !== "zombie");
    if (borrower) {
      const lender = k.tasks.get(borrower.sharesSpaceOf);
      if (lender) lender.vforkChild = 0;
      borrower.sharesSpaceOf = 0;
    } else space.release();
  }
  for (const child of k.tasks.values()) {
    if (child.ppid !== leader.pid) continue;
    child.ppid = 1; // "inherited by init": init reaps them
    if (child.tgid === child.pid && !processAlive(child)) k.tasks.delete(child.pid);
  }
  if (task !== leader && task.faultReport) leader.faultReport = task.faultReport; // a thread's fault ended the process
  if (leader.pid === k.firstPid) { k.result = resultOf(k, leader); k.firstStatus = status; }
  const parent = k.tasks.get(leader.ppid);
  if (!parent || !processAlive(parent)) {
    k.tasks.delete(leader.pid); // an orphan: init reaps it at once
  } else {
    const sigchld = parent.signals.action(SIGCHLD);
    // "If the disposition of SIGCHLD is set to SIG_IGN or the SA_NOCLDWAIT flag is set ... children ... do not become zombies"
    const noZombie = sigchld.handler === SIG_IGN || (sigchld.flags & SA_NOCLDWAIT) !== 0;
    if (noZombie && leader.pid !== k.firstPid) k.tasks.delete(leader.pid);
    if (leader.exitSignal) {
      const exited = (status & 0x7f) === 0;
      sendSignal(k, parent, leader.exitSignal, {
        signo: leader.exitSignal, code: exited ? 1 : status & 0x80 ? 3 : 2, pid: leader.pid, status: exited ? status >> 8 : status & 0x7f,
      });
    }
  }
  k.notify();
}

/** A child stopped or continued: its parent gets SIGCHLD (unless SA_NOCLDSTOP) and a waiting parent wakes. */
export function notifyParent(k: Kernel, task: Task, code: number, sig: number): void {
  const parent = k.tasks.get(task.ppid);
  if (!parent && task.pid === k.firstPid) k.onStopReport?.(code, sig); // it moved here alone: its parent is at home
  if (parent && parent.status !== "zombie" && !(parent.signals.action(SIGCHLD).flags & SA_NOCLDSTOP)) {
    sendSignal(k, parent, SIGCHLD, { signo: SIGCHLD, code, pid: task.pid, status: sig });
  }
  k.notify();
}

/** What the guest's run reports when its first process ends. */
function resultOf(k: Kernel, task: Task): { exitCode: number; report?: string; silent?: boolean; instret: bigint } {
  const status = task.waitStatus;
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >> 8) & 0xff, instret: k.instret };
  if (sig === SIGPIPE) return { exitCode: 128 + sig, silent: true, instret: k.instret };
  const report = task.faultReport ?? (sig === SIGINT ? (k.consoleInterrupted ? "interrupted (Ctrl-C)" : "interrupted") : `killed by signal ${sig} (${signalName(sig)})`);
  return { exitCode: 128 + sig, report, instret: k.instret };
}

export function signalName(sig: number): string {
  const names = ["", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
    "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"];
  return names[sig] ?? `SIGRT${sig - 32}`;
}

// ---- wait ------------------------------------------------------------------------------------

export const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000;
export const P_ALL = 0, P_PID = 1, P_PGID = 2;

export interface WaitFound {
  child: Task;
  what: "exited" | "stopped" | "continued";
}

/**
 * A child of `task` matching (idtype, id) with something to report for `options`;
 * "none" when it has no such child at all (ECHILD), "later" when it must wait.
 */
export function findWaitable(k: Kernel, task: Task, idtype: number, id: number, options: number): WaitFound | "none" | "later" {
  let any = false;
  for (const child of k.tasks.values()) {
    // Children of any of the caller's threads (they are its process's), each a process: its leader stands for it.
    if (child.ppid !== task.tgid || child.tgid !== child.pid) continue;
    if (idtype === P_PID && child.pid !== id) continue;
    if (idtype === P_PGID && child.pgid !== id) continue;
    any = true;
    if (child.status === "zombie" && !child.exitedAsThread && (options & WEXITED)) return { child, what: "exited" };
    // A stopped process's leader reports it, even a leader that ended alone while its other threads were stopped.
    if (child.stopReport === "stopped" && (child.status === "stopped" || child.exitedAsThread) && (options & WUNTRACED)) return { child, what: "stopped" };
    if (child.stopReport === "continued" && (options & WCONTINUED)) return { child, what: "continued" };
  }
  return any ? "later" : "none";
}

/** Takes what `found` reports (a zombie is reaped unless WNOWAIT); returns the wait status. */
export function reap(k: Kernel, found: WaitFound, options: number): number {
  const { child, what } = found;
  if (options & WNOWAIT) return statusOf(found);
  if (what === "exited") {
    k.tasks.delete(child.pid);
    // Linux adds a child's times to its parent's "children" times when the parent waits for it (wait_task_zombie), and
    // only then: an unreaped zombie, or a child of a parent ignoring SIGCHLD, counts for nothing.
    const parent = k.tasks.get(child.ppid);
    if (parent) parent.childrenCpuNs += reapedCpuNs(child);
    return child.waitStatus;
  }
  child.stopReport = undefined;
  return statusOf(found);
}

/** What wait4's and waitid's rusage say of a reaped child (Linux's RUSAGE_BOTH): its own CPU time and its reaped children's. */
export function reapedCpuNs(child: Task): bigint {
  return child.cpuInstructions + child.threadsCpu + child.childrenCpuNs;
}

function statusOf({ child, what }: WaitFound): number {
  if (what === "exited") return child.waitStatus;
  if (what === "continued") return 0xffff;
  return 0x7f | (SIGSTOP_OF(child) << 8);
}

const SIGSTOP_OF = (child: Task) => (child.lastStopSignal || 19);
