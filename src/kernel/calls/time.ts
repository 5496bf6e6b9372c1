// Clocks, sleeps and CPU time. Guest time (monotonic) is carried across
// migrations; CPU time is counted in guest instructions, one instruction being
// one nanosecond (a 1 GHz machine retiring one instruction a cycle): the
// process's instructions (Task.cpuInstructions) are its CPU clock, so clock(),
// times() and getrusage() measure the guest's work, not the host's, and say
// the same after a move. Nothing runs in the kernel's name: system time is 0.

import { Errno } from "../errno.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import { u32Bytes, type Handler } from "./call-args.js";
import { leaderOf } from "../threads.js";

const CLOCK_REALTIME = 0, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3, CLOCK_REALTIME_COARSE = 5, CLOCK_TAI = 11;
const USER_HZ = 100; // clock ticks per second, as times() counts them
const NS_PER_TICK = 1_000_000_000n / BigInt(USER_HZ);

/**
 * The CPU time of process `pid` in nanoseconds (= instructions it retired): all its threads', those that ended too;
 * `thread`: of thread `pid` alone. Null if there is no such process or thread.
 */
export function cpuTimeNs(c: SyscallContext, pid = c.pid, thread = false): bigint | null {
  const task = c.kernel.tasks.get(pid);
  if (!task) return pid === c.pid ? 0n : null;
  if (thread) return task.cpuInstructions;
  const leader = leaderOf(c.kernel, task);
  let ns = leader.threadsCpu;
  for (const t of c.kernel.tasks.values()) if (t.tgid === task.tgid) ns += t.cpuInstructions;
  return ns;
}

/** What clock `clock` reads now; null for a clock that does not exist. */
export function nowNs(c: SyscallContext, clock: number): bigint | null {
  if (clock === CLOCK_REALTIME || clock === CLOCK_REALTIME_COARSE || clock === CLOCK_TAI) return c.clock.realtimeNs();
  if (clock === CLOCK_PROCESS_CPUTIME_ID || clock === CLOCK_THREAD_CPUTIME_ID) return cpuTimeNs(c, c.pid, clock === CLOCK_THREAD_CPUTIME_ID);
  if (clock >= 1 && clock <= 9) return c.clock.monotonicNs(); // MONOTONIC, RAW, COARSE, BOOTTIME, ...
  if (clock < 0) {
    // clock_getcpuclockid's: (~pid << 3) | type; type 2 (CPUCLOCK_SCHED) or 0/1 (PROF, VIRT), 4 marks a thread.
    const pid = ~(clock >> 3);
    if ((clock & 3) === 3) return null;
    return cpuTimeNs(c, pid === 0 ? c.pid : pid, (clock & 4) !== 0);
  }
  return null;
}

export function timespec64(ns: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, ns / 1_000_000_000n, true);
  v.setBigInt64(8, ns % 1_000_000_000n, true);
  return out;
}

/** A struct __kernel_timespec in nanoseconds; null for a bad pointer, -1 for an invalid value. */
export function readTimespec64(c: SyscallContext, address: number): bigint | null {
  const raw = c.space.read(address, 16);
  if (!raw) return null;
  const v = new DataView(raw.buffer);
  const sec = v.getBigInt64(0, true), nsec = v.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return -1n;
  return sec * 1_000_000_000n + nsec;
}

/** clock_nanosleep / nanosleep: block until the deadline, which survives re-execution. */
function sleep(c: SyscallContext, clock: number, absolute: boolean, request: number): SyscallOutcome | number {
  if (c.sleepDeadline === undefined) {
    const ns = readTimespec64(c, request);
    if (ns === null) return -Errno.EFAULT;
    if (ns < 0n) return -Errno.EINVAL;
    // "The clockid argument specified a CPU-time clock of the calling thread" (and no clock at all): EINVAL.
    if (clock === CLOCK_THREAD_CPUTIME_ID) return -Errno.EINVAL;
    const now = nowNs(c, clock);
    if (now === null) return -Errno.EINVAL;
    // Deadlines are kept in guest monotonic time.
    c.sleepDeadline = c.clock.monotonicNs() + (absolute ? ns - now : ns);
  }
  if (c.clock.monotonicNs() >= c.sleepDeadline) { c.sleepDeadline = undefined; return 0; }
  return { kind: "block-until", deadlineNs: c.sleepDeadline };
}

/** The CPU time of the children `pid` has reaped, theirs included (Task.childrenCpuNs). */
function childrenTimeNs(c: SyscallContext): bigint {
  const task = c.kernel.tasks.get(c.pid);
  return (task && leaderOf(c.kernel, task).childrenCpuNs) ?? 0n; // the process's (its leader keeps them)
}

/** times(): struct tms of four clock_t (32-bit) in ticks; the result is ticks since an arbitrary point (guest boot). */
function times(c: SyscallContext, buf: number): number {
  const user = Number(cpuTimeNs(c)! / NS_PER_TICK);
  const children = Number((childrenTimeNs(c) / NS_PER_TICK) & 0xffffffffn);
  if (buf !== 0 && !c.space.write(buf, u32Bytes(user, 0, children, 0))) return -Errno.EFAULT;
  return Number((c.clock.monotonicNs() / NS_PER_TICK) & 0x7fffffffn);
}

const RUSAGE_SELF = 0, RUSAGE_THREAD = 1, RUSAGE_CHILDREN = -1;

/** The kernel's struct rusage of a 32-bit machine: two timevals of longs, then 14 longs (72 bytes). */
export const RUSAGE_BYTES = 72;

/** A struct rusage whose user time is `ns` (system time is 0: nothing runs in the kernel's name). */
export function rusage(ns: bigint, maxRssKiB = 0): Uint8Array {
  return u32Bytes(Number(ns / 1_000_000_000n), Number((ns % 1_000_000_000n) / 1000n), 0, 0, maxRssKiB, ...new Array(13).fill(0));
}

/** getrusage (musl moves the times into its 64-bit struct). */
function getrusage(c: SyscallContext, who: number, buf: number): number {
  if (who !== RUSAGE_SELF && who !== RUSAGE_THREAD && who !== RUSAGE_CHILDREN) return -Errno.EINVAL; // "who is invalid"
  const out = who === RUSAGE_CHILDREN ? rusage(childrenTimeNs(c)) : rusage(cpuTimeNs(c, c.pid, who === RUSAGE_THREAD)!, c.space.residentPages * 4);
  return c.space.write(buf, out) ? 0 : -Errno.EFAULT;
}

export const TIME_CALLS = new Map<number, [string, Handler]>([
  [101, ["nanosleep", (c, req) => sleep(c, 1, false, req)]],
  [403, ["clock_gettime64", (c, clock, tp) => {
    const ns = nowNs(c, clock | 0);
    if (ns === null) return -Errno.EINVAL; // "The clockid specified is invalid"
    return c.space.write(tp, timespec64(ns)) ? 0 : -Errno.EFAULT;
  }]],
  [406, ["clock_getres_time64", (c, clock, tp) => {
    if (nowNs(c, clock | 0) === null) return -Errno.EINVAL;
    return tp === 0 || c.space.write(tp, timespec64(1n)) ? 0 : -Errno.EFAULT;
  }]],
  [407, ["clock_nanosleep_time64", (c, clock, flags, req) => sleep(c, clock | 0, (flags & 1) !== 0 /* TIMER_ABSTIME */, req)]],
  [169, ["gettimeofday", (c, tv) => {
    if (tv === 0) return 0;
    const ns = c.clock.realtimeNs();
    return c.space.write(tv, u32Bytes(Number(ns / 1_000_000_000n), Number((ns % 1_000_000_000n) / 1000n))) ? 0 : -Errno.EFAULT;
  }]],
  [153, ["times", (c, buf) => times(c, buf)]],
  [165, ["getrusage", (c, who, buf) => getrusage(c, who | 0, buf)]],
]);
