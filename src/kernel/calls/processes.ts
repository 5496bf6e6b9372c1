// Processes: clone (fork, vfork), execve, exit, wait4/waitid, ids, process
// groups and sessions, kill. The man pages' words for each error.

import { Errno } from "../errno.js";
import { sendSignal, sendToThread } from "../deliver.js";
import { hasChildrenAtHome, HOME_WAIT_NS, killAtHome, tookFromHome, waitAtHome, type HomeReport } from "../lone-satellite.js";
import {
  execTask, findWaitable, forkTask, P_ALL, P_PGID, P_PID, reap, reapedCpuNs, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED,
} from "../process-tree.js";
import { NSIG, SIGCHLD } from "../signals.js";
import type { Task } from "../task.js";
import { leaderOf, processAlive } from "../threads.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import { rusage as rusageOf, RUSAGE_BYTES } from "./time.js";
import { callerOf, type Handler } from "./call-args.js";


const MAX_ARG_STRINGS = 0x7fffffff;
const ARG_MAX = 128 * 1024; // bytes of argv and envp together (as Linux's default stack gives at least)

/** A NULL-terminated array of string pointers (argv, envp); a number is -errno. */
function stringArray(c: SyscallContext, address: number): string[] | number {
  const out: string[] = [];
  if (address === 0) return out; // Linux treats a NULL argv or envp as empty
  let bytes = 0;
  for (let i = 0; i < MAX_ARG_STRINGS; i++) {
    const raw = c.space.read(address + i * 4, 4);
    if (!raw) return -Errno.EFAULT; // "pathname or one of the pointers in the vectors argv or envp points outside your accessible address space"
    const pointer = new DataView(raw.buffer).getUint32(0, true);
    if (pointer === 0) return out;
    const s = c.space.readString(pointer, ARG_MAX);
    if (s === null) return -Errno.EFAULT;
    bytes += Buffer.byteLength(s) + 1;
    if (bytes > ARG_MAX) return -Errno.E2BIG; // "The total number of bytes in the environment (envp) and argument list (argv) is too large"
    out.push(s);
  }
  return -Errno.E2BIG;
}

function execve(c: SyscallContext, pathPtr: number, argvPtr: number, envpPtr: number): SyscallOutcome | number {
  const path = c.space.readString(pathPtr);
  if (path === null) return -Errno.EFAULT;
  if (path === "") return -Errno.ENOENT;
  const argv = stringArray(c, argvPtr);
  if (typeof argv === "number") return argv;
  const envp = stringArray(c, envpPtr);
  if (typeof envp === "number") return envp;
  const r = execTask(c.kernel, c as Task, path, argv, envp);
  return r === "jumped" ? { kind: "jumped" } : r;
}

/** Encodes a wait status into siginfo for waitid: si_code and si_status. */
function waitInfo(pid: number, status: number, what: string): Uint8Array {
  const out = new Uint8Array(128);
  const v = new DataView(out.buffer);
  v.setInt32(0, SIGCHLD, true);
  let code: number, value: number;
  if (what === "stopped") { code = 5; value = (status >> 8) & 0xff; } // CLD_STOPPED
  else if (what === "continued") { code = 6; value = 18; } // CLD_CONTINUED, SIGCONT
  else if ((status & 0x7f) === 0) { code = 1; value = (status >> 8) & 0xff; } // CLD_EXITED
  else { code = status & 0x80 ? 3 : 2; value = status & 0x7f; } // CLD_DUMPED, CLD_KILLED
  v.setInt32(8, code, true);
  v.setInt32(12, pid, true);
  v.setInt32(16, 0, true);
  v.setInt32(20, value, true);
  return out;
}

/** What a wait found: the child, its status, and (if it exited) its CPU time, which its reaping adds to the parent's children's times. */
type Found = HomeReport;

/**
 * The child of `self` that (idtype, id) names with something to report for
 * `options`, taken (a zombie reaped unless WNOWAIT): its pid, wait status and
 * what happened; "none" (ECHILD), "later", or -errno. A process that moved
 * alone also has children at home: the home is asked first (so an answer it
 * sent is always taken), then the children here.
 */
function takeChild(c: SyscallContext, parent: Task, idtype: number, id: number, options: number): Found | "none" | "later" | number {
  const k = c.kernel;
  let home: HomeReport | "none" | "later" | number = "none";
  if (hasChildrenAtHome(k, parent) && !(idtype === P_PID && k.tasks.has(id))) home = waitAtHome(k, parent, idtype, id, options);
  if (typeof home === "number") return home; // EIO: the home cannot be reached
  if (typeof home === "object") {
    if (!(options & WNOWAIT)) tookFromHome(k, home);
    return home;
  }
  const found = findWaitable(k, parent, idtype, id, options);
  if (typeof found === "object") return { pid: found.child.pid, what: found.what, status: reap(k, found, options), cpuNs: reapedCpuNs(found.child) };
  return found === "none" && home === "none" ? "none" : "later";
}

/** A wait blocks until a child changes state; one for children at home also wakes after a while to ask there again. */
function blockForChild(c: SyscallContext, parent: Task): SyscallOutcome {
  if (!hasChildrenAtHome(c.kernel, parent)) return { kind: "block-event" };
  return { kind: "block-event", deadlineNs: c.clock.monotonicNs() + HOME_WAIT_NS };
}

/** waitid(idtype, id, infop, options, rusage) */
function waitid(c: SyscallContext, idtype: number, id: number, infop: number, options: number, rusage: number): SyscallOutcome | number {
  if (options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT)) return -Errno.EINVAL;
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) return -Errno.EINVAL; // "options was invalid"
  if (idtype !== P_ALL && idtype !== P_PID && idtype !== P_PGID) return -Errno.EINVAL;
  const me = self(c);
  // Linux looks for children first, then writes: a bad infop with nothing to report is not noticed.
  const badInfo = (infop && !c.space.ensure(infop, 128, 2)) || (rusage && !c.space.ensure(rusage, RUSAGE_BYTES, 2));
  const found = takeChild(c, me, idtype, idtype === P_PGID && id === 0 ? me.pgid : id | 0, badInfo ? options | WNOWAIT : options);
  if (found === "none") return -Errno.ECHILD; // "The calling process does not have any unwaited-for children"
  if (typeof found === "number") return found;
  if (badInfo) return -Errno.EFAULT;
  if (found === "later") {
    if (options & WNOHANG) {
      // "If WNOHANG was specified in options and there were no children in a waitable state, then waitid() returns 0 immediately and the state of the siginfo_t structure pointed to by infop depends on the implementation" (Linux zeroes it)
      if (infop) c.space.write(infop, new Uint8Array(128));
      return 0;
    }
    return blockForChild(c, me);
  }
  if (infop) c.space.write(infop, waitInfo(found.pid, found.status, found.what));
  if (rusage) c.space.write(rusage, rusageOf(found.cpuNs ?? 0n));
  return 0;
}

/** wait4(pid, wstatus, options, rusage): pid > 0 that child, 0 the caller's group, -1 any, < -1 group -pid. */
function wait4(c: SyscallContext, pidArg: number, statusPtr: number, options: number, rusage: number): SyscallOutcome | number {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | 0x40000000 | 0x80000000)) return -Errno.EINVAL;
  const pid = pidArg | 0;
  if (statusPtr && !c.space.ensure(statusPtr, 4, 2)) return -Errno.EFAULT;
  const me = self(c);
  const [idtype, id] = pid > 0 ? [P_PID, pid] : pid === 0 ? [P_PGID, me.pgid] : pid === -1 ? [P_ALL, 0] : [P_PGID, -pid];
  const found = takeChild(c, me, idtype, id, (options & (WNOHANG | WUNTRACED | WCONTINUED)) | WEXITED);
  if (found === "none") return -Errno.ECHILD;
  if (typeof found === "number") return found;
  if (found === "later") return options & WNOHANG ? 0 : blockForChild(c, me);
  if (statusPtr) c.space.write(statusPtr, new Uint8Array(Uint32Array.of(found.status).buffer));
  if (rusage) c.space.write(rusage, rusageOf(found.cpuNs ?? 0n));
  return found.pid;
}

/**
 * The processes `pid` names for kill(2), each by its leader: > 0 one (a thread's ID names its process too), 0 the
 * caller's group, -1 all it may signal but itself, < -1 group -pid.
 */
function killTargets(c: SyscallContext, pid: number): Task[] {
  const k = c.kernel;
  if (pid > 0) {
    const named = k.tasks.get(pid);
    const leader = named && leaderOf(k, named);
    return leader && processAlive(leader) ? [leader] : [];
  }
  const processes = [...k.tasks.values()].filter((t) => t.tgid === t.pid && processAlive(t));
  const self = leaderOf(k, k.tasks.get(c.pid)!);
  if (pid === 0) return processes.filter((t) => t.pgid === self.pgid);
  if (pid === -1) return processes.filter((t) => t !== self);
  return processes.filter((t) => t.pgid === -pid);
}

/** tkill, tgkill: the signal goes to thread `tid` alone (of process `tgid`, unless it is -1: tkill). */
function killThread(c: SyscallContext, tgid: number, tid: number, sig: number): number {
  if (sig < 0 || sig > NSIG) return -Errno.EINVAL; // "An invalid signal was specified"
  if ((tid | 0) <= 0 || (tgid | 0) === 0 || (tgid | 0) < -1) return -Errno.EINVAL; // "An invalid thread ID ... was specified"
  const thread = c.kernel.tasks.get(tid | 0);
  if (!thread || thread.status === "zombie" || ((tgid | 0) !== -1 && thread.tgid !== (tgid | 0))) {
    // A process that moved alone sends to another pid through its home (its own threads are all here).
    if (c.kernel.home && (tgid | 0) === -1) return killAtHome(c, tid | 0, sig);
    return -Errno.ESRCH; // "No thread with the ID tid (in the thread group tgid) exists"
  }
  sendToThread(c.kernel, thread, sig, { signo: sig, code: -6 /* SI_TKILL */, pid: self(c).tgid, uid: 0 });
  return 0;
}

function kill(c: SyscallContext, pidArg: number, sig: number): number {
  if (sig < 0 || sig > NSIG) return -Errno.EINVAL; // "An invalid signal was specified"
  const pid = pidArg | 0;
  const targets = killTargets(c, pid);
  const home = c.kernel.home;
  if (home && (targets.length === 0 || pid <= 0)) {
    // A process that moved alone: its family is at home, and so is the rest of its group.
    const r = killAtHome(c, pid, sig);
    if (typeof r !== "number" || targets.length === 0) return r;
  }
  if (targets.length === 0) return -Errno.ESRCH; // "The target process or process group does not exist"
  const group = pid > 0 ? {} : { group: pid === 0 ? c.kernel.tasks.get(c.pid)!.pgid : pid === -1 ? -1 : -pid };
  const from = self(c).tgid; // si_pid: "the process ID of the sender", not its thread's
  for (const t of targets) sendSignal(c.kernel, t, sig, { signo: sig, code: 0, pid: from, uid: 0, ...group });
  return 0;
}

function setpgid(c: SyscallContext, pidArg: number, pgidArg: number): number {
  const pid = (pidArg | 0) || c.pid;
  const pgid = (pgidArg | 0) || pid;
  if (pgid < 0) return -Errno.EINVAL; // "pgid is less than 0"
  const named = c.kernel.tasks.get(pid);
  const target = named && leaderOf(c.kernel, named);
  const caller = self(c);
  if (!target || (target.tgid !== caller.tgid && target.ppid !== caller.tgid)) return -Errno.ESRCH; // "pid is not the calling process and not a child of the calling process"
  if (target.sid === target.pid) return -Errno.EPERM; // "the process is a session leader"
  if (pgid !== pid && ![...c.kernel.tasks.values()].some((t) => t.pgid === pgid && t.sid === target.sid)) return -Errno.EPERM;
  for (const t of c.kernel.tasks.values()) if (t.tgid === target.tgid) t.pgid = pgid; // the process's, so each thread's
  return 0;
}

const self = callerOf;

export const PROCESS_CALLS = new Map<number, [string, Handler]>([
  // clone(flags, stack, parent_tid, tls, child_tid) — the order of riscv's (CONFIG_CLONE_BACKWARDS)
  [220, ["clone", (c, flags, stack, ptid, tls, ctid) => forkTask(c.kernel, self(c), flags, stack, ptid, tls, ctid)]],
  [221, ["execve", execve]],
  // exit: "terminates the calling thread" (the process, when it is the last one); exit_group: "all threads in the calling process".
  [93, ["exit", (_c, code) => ({ kind: "exit", code: code & 0xff, thread: true })]],
  [94, ["exit_group", (_c, code) => ({ kind: "exit", code: code & 0xff })]],
  [95, ["waitid", waitid]],
  [260, ["wait4", wait4]],
  [172, ["getpid", (c) => self(c).tgid]], // "the process ID (PID) of the calling process": its thread group's
  [173, ["getppid", (c) => self(c).ppid]],
  [154, ["setpgid", setpgid]],
  [155, ["getpgid", (c, pid) => {
    const t = (pid | 0) === 0 ? self(c) : c.kernel.tasks.get(pid | 0);
    return t && t.status !== "zombie" ? t.pgid : -Errno.ESRCH;
  }]],
  [156, ["getsid", (c, pid) => {
    const t = (pid | 0) === 0 ? self(c) : c.kernel.tasks.get(pid | 0);
    return t && t.status !== "zombie" ? t.sid : -Errno.ESRCH;
  }]],
  [157, ["setsid", (c) => {
    const t = self(c);
    // "The process group ID of any process equals the PID of the calling process."
    if ([...c.kernel.tasks.values()].some((o) => o.pgid === t.tgid && o.status !== "zombie")) return -Errno.EPERM;
    for (const o of c.kernel.tasks.values()) if (o.tgid === t.tgid) { o.sid = t.tgid; o.pgid = t.tgid; }
    return t.sid;
  }]],
  [129, ["kill", (c, pid, sig) => kill(c, pid, sig)]],
  [130, ["tkill", (c, tid, sig) => killThread(c, -1, tid, sig)]],
  [131, ["tgkill", killThread]],
]);

