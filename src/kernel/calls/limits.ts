// Who a process is and what it may use: ids (the guest is root in its
// sandbox), resource limits, its name, its CPU (there is one), its priority,
// and the machine's figures. The man pages' words for each error.

import { MAX_FILES } from "../files.js";
import { MAX_PROCESSES } from "../kernel.js";
import { Errno } from "../errno.js";
import { STACK_SIZE } from "../loader.js";
import type { ResourceLimit, Task } from "../task.js";
import type { SyscallContext } from "../syscalls.js";
import { u32Bytes, type Handler } from "./call-args.js";

const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIM_NLIMITS = 16;
const RLIMIT_STACK = 3, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7, RLIMIT_AS = 9;

type Limit = ResourceLimit;

/** Linux's defaults for a container's root, and the guest's own bounds (descriptors, processes, RAM). */
function defaultLimit(c: SyscallContext, resource: number): Limit {
  switch (resource) {
    case RLIMIT_STACK: return { cur: BigInt(STACK_SIZE), max: RLIM_INFINITY };
    case RLIMIT_NPROC: return { cur: BigInt(MAX_PROCESSES), max: BigInt(MAX_PROCESSES) };
    case RLIMIT_NOFILE: return { cur: BigInt(MAX_FILES), max: BigInt(MAX_FILES) };
    case RLIMIT_AS: {
      const ram = BigInt((c.kernel.frames?.frameCount ?? 0) * 4096);
      return { cur: ram, max: ram };
    }
    default: return { cur: RLIM_INFINITY, max: RLIM_INFINITY };
  }
}

// A process's limits are its Task's (Task.limits): a fork copies them, an
// execve keeps them, a migration carries them. What is enforced: RLIMIT_NOFILE
// (the descriptors a process may have), RLIMIT_STACK (how far its stack may
// grow, up to the 8 MiB the layout has), RLIMIT_AS once set (what mmap, brk and
// mremap may map); RLIMIT_NPROC stays the guest's own bound.
const niceness = new WeakMap<object, number>();

function taskOf(c: SyscallContext, pid: number): Task | undefined {
  const task = c.kernel.tasks.get(pid === 0 ? c.pid : pid);
  return task && task.status !== "zombie" ? task : undefined;
}

function limitOf(c: SyscallContext, task: Task, resource: number): Limit {
  return task.limits.get(resource) ?? defaultLimit(c, resource);
}

/** What a process's limits decide beyond themselves: the descriptors its table may give (after a set, or a restore). */
export function applyLimits(task: Task): void {
  const nofile = task.limits.get(RLIMIT_NOFILE);
  if (task.files) task.files.fdLimit = nofile ? Number(nofile.cur < BigInt(MAX_FILES) ? nofile.cur : BigInt(MAX_FILES)) : MAX_FILES;
}

/** The lowest stack address `task` may touch: its stack top less RLIMIT_STACK's soft limit (the layout has 8 MiB at most). */
export function stackFloor(task: Task, stackTop: number): number {
  const limit = task.limits.get(RLIMIT_STACK)?.cur;
  return limit === undefined || limit >= BigInt(STACK_SIZE) ? stackTop - STACK_SIZE : stackTop - Number(limit);
}

/** Whether `task` may map `bytes` more: RLIMIT_AS, once the process set one, bounds its mappings (the stack apart). */
export function mayMap(task: Task | undefined, mappedBytes: number, bytes: number): boolean {
  const limit = task?.limits.get(RLIMIT_AS)?.cur;
  return limit === undefined || BigInt(mappedBytes + bytes) <= limit;
}

/** prlimit64(pid, resource, new_limit, old_limit): struct rlimit64 is two u64s, rlim_cur and rlim_max. */
function prlimit64(c: SyscallContext, pid: number, resource: number, newPtr: number, oldPtr: number): number {
  const task = taskOf(c, pid | 0);
  if (!task) return -Errno.ESRCH; // "Could not find a process with the ID specified in pid"
  if (resource >= RLIM_NLIMITS) return -Errno.EINVAL; // "resource is not valid"
  let wanted: Limit | undefined;
  if (newPtr !== 0) {
    const raw = c.space.read(newPtr, 16);
    if (!raw) return -Errno.EFAULT;
    const v = new DataView(raw.buffer);
    wanted = { cur: v.getBigUint64(0, true), max: v.getBigUint64(8, true) };
    if (wanted.cur > wanted.max) return -Errno.EINVAL; // "rlim->rlim_cur was greater than rlim->rlim_max"
    // Root could raise a hard limit on Linux; the guest's bounds are the machine's, which it cannot raise.
    if (wanted.max > defaultLimit(c, resource).max) return -Errno.EPERM;
  }
  const old = limitOf(c, task, resource);
  if (oldPtr !== 0) {
    const out = new Uint8Array(16);
    new DataView(out.buffer).setBigUint64(0, old.cur, true);
    new DataView(out.buffer).setBigUint64(8, old.max, true);
    if (!c.space.write(oldPtr, out)) return -Errno.EFAULT;
  }
  if (wanted) {
    task.limits.set(resource, wanted);
    applyLimits(task);
  }
  return 0;
}

const PR_SET_NAME = 15, PR_GET_NAME = 16, TASK_COMM_LEN = 16;

/** prctl: the process's name (comm, what ps shows); "option is not recognized": EINVAL for the rest. */
function prctl(c: SyscallContext, option: number, arg: number): number {
  const task = c.kernel.tasks.get(c.pid);
  if (option === PR_SET_NAME) {
    const raw = c.space.readString(arg, TASK_COMM_LEN) ?? readPrefix(c, arg);
    if (raw === null) return -Errno.EFAULT;
    if (task) task.name = Buffer.from(raw).subarray(0, TASK_COMM_LEN - 1).toString();
    return 0;
  }
  if (option === PR_GET_NAME) {
    const out = new Uint8Array(TASK_COMM_LEN);
    out.set(Buffer.from(task?.name ?? "").subarray(0, TASK_COMM_LEN - 1));
    return c.space.write(arg, out) ? 0 : -Errno.EFAULT;
  }
  return -Errno.EINVAL;
}

/** A name of 16 bytes or more with no NUL in them: its first 15 bytes. */
function readPrefix(c: SyscallContext, address: number): string | null {
  const raw = c.space.read(address, TASK_COMM_LEN);
  return raw ? Buffer.from(raw.subarray(0, TASK_COMM_LEN - 1)).toString() : null;
}

/** sched_getaffinity: one CPU. Linux writes (and returns) as many bytes as its CPU mask has: one long. */
function schedGetaffinity(c: SyscallContext, pid: number, size: number, mask: number): number {
  if (!taskOf(c, pid | 0)) return -Errno.ESRCH;
  // "cpusetsize is smaller than the size of the affinity mask used by the kernel", or not a multiple of a long
  if (size < 4 || size % 4) return -Errno.EINVAL;
  return c.space.write(mask, u32Bytes(1)) ? 4 : -Errno.EFAULT;
}

function schedSetaffinity(c: SyscallContext, pid: number, size: number, mask: number): number {
  if (!taskOf(c, pid | 0)) return -Errno.ESRCH;
  const raw = c.space.read(mask, Math.min(size, 128));
  if (!raw) return -Errno.EFAULT;
  return raw.length > 0 && (raw[0] & 1) ? 0 : -Errno.EINVAL; // "The affinity bit mask mask contains no processors that are currently physically on the system"
}

/** sysinfo: struct sysinfo of a 32-bit machine (64 bytes), memory in units of one page. */
function sysinfo(c: SyscallContext, buf: number): number {
  const frames = c.kernel.frames;
  const total = frames?.frameCount ?? 0, free = total - (frames?.used ?? 0);
  const uptime = Number(c.clock.monotonicNs() / 1_000_000_000n);
  const procs = c.kernel.tasks.size;
  const out = u32Bytes(uptime, 0, 0, 0, total, free, 0, 0, 0, 0, procs & 0xffff, 0, 0, 4096, 0, 0);
  return c.space.write(buf, out) ? 0 : -Errno.EFAULT;
}

const PRIO_PROCESS = 0, PRIO_USER = 2;

/** getpriority returns 20 - nice (the raw system call avoids negative results; libc turns it back). */
function getpriority(c: SyscallContext, which: number, who: number): number {
  if (which > PRIO_USER) return -Errno.EINVAL; // "which was not one of PRIO_PROCESS, PRIO_PGRP, or PRIO_USER"
  const task = which === PRIO_PROCESS ? taskOf(c, who | 0) : c.kernel.tasks.get(c.pid) ?? c;
  if (!task) return -Errno.ESRCH;
  return 20 - (niceness.get(task) ?? 0);
}

function setpriority(c: SyscallContext, which: number, who: number, prio: number): number {
  if (which > PRIO_USER) return -Errno.EINVAL;
  const task = which === PRIO_PROCESS ? taskOf(c, who | 0) : c.kernel.tasks.get(c.pid) ?? c;
  if (!task) return -Errno.ESRCH;
  niceness.set(task, Math.max(-20, Math.min(19, prio | 0))); // a nice value outside [-20, 19] is clamped, as Linux does
  return 0;
}

/** getresuid/getresgid: real, effective and saved ids, all root's. */
function zeros(c: SyscallContext, pointers: number[]): number {
  for (const p of pointers) if (!c.space.write(p, u32Bytes(0))) return -Errno.EFAULT;
  return 0;
}

/** The setuid family: the guest is root and stays so; becoming root (or keeping an id, -1) succeeds, another user is EPERM. */
const toRoot = (...ids: number[]) => (ids.every((id) => id === 0 || id === 0xffffffff) ? 0 : -Errno.EPERM);

export const LIMIT_CALLS = new Map<number, [string, Handler]>([
  [174, ["getuid", () => 0]],
  [175, ["geteuid", () => 0]],
  [176, ["getgid", () => 0]],
  [177, ["getegid", () => 0]],
  [148, ["getresuid", (c, r, e, s) => zeros(c, [r, e, s])]],
  [150, ["getresgid", (c, r, e, s) => zeros(c, [r, e, s])]],
  [158, ["getgroups", (c, size) => ((size | 0) < 0 ? -Errno.EINVAL : 0)]], // no supplementary groups
  [159, ["setgroups", (c, size) => ((size | 0) < 0 || size > 65536 ? -Errno.EINVAL : 0)]],
  [146, ["setuid", (_c, id) => toRoot(id)]],
  [144, ["setgid", (_c, id) => toRoot(id)]],
  [145, ["setreuid", (_c, r, e) => toRoot(r, e)]],
  [143, ["setregid", (_c, r, e) => toRoot(r, e)]],
  [147, ["setresuid", (_c, r, e, s) => toRoot(r, e, s)]],
  [149, ["setresgid", (_c, r, e, s) => toRoot(r, e, s)]],
  [151, ["setfsuid", () => 0]], // returns the previous fsuid: root's
  [152, ["setfsgid", () => 0]],
  [261, ["prlimit64", prlimit64]],
  [167, ["prctl", prctl]],
  [122, ["sched_setaffinity", schedSetaffinity]],
  [123, ["sched_getaffinity", schedGetaffinity]],
  // "sched_yield() causes the calling thread to relinquish the CPU ... moved to the end of the queue": the next runnable
  // task takes the hart (a thread spinning on a flag with sched_yield gives the one it waits for its turn at once).
  [124, ["sched_yield", (c) => { c.kernel.yieldHart(); return 0; }]],
  [179, ["sysinfo", (c, buf) => sysinfo(c, buf)]],
  [140, ["setpriority", setpriority]],
  [141, ["getpriority", getpriority]],
]);
