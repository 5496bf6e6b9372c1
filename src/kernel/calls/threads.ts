// Thread calls: futex, set_tid_address, gettid, membarrier, the robust-list
// pair. Threads themselves are made by clone (../threads.ts); their wait
// queues are in ../futexes.ts. The man pages' words for each error.

import { Errno } from "../errno.js";
import type { Task } from "../task.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import { readTimespec64 } from "./time.js";
import { callerOf, u32Bytes, type Handler } from "./call-args.js";

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const FUTEX_BITSET_MATCH_ANY = 0xffffffff;
const INT_MAX = 0x7fffffff;

const self = callerOf;

/** How many a wake of `val` wakes: Linux counts each waiter it wakes against val after waking it, so 0 or less wakes one. */
const wakeCount = (val: number): number => Math.max(1, val | 0);

/** futex(uaddr, futex_op, val, timeout or val2, uaddr2, val3): futex_time64, riscv32's only futex call. */
function futex(c: SyscallContext, uaddr: number, op: number, val: number, timeout: number, uaddr2: number, val3: number): SyscallOutcome | number {
  const command = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  // "FUTEX_CLOCK_REALTIME ... can be employed only with the FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI ... operations"
  if ((op & FUTEX_CLOCK_REALTIME) && command !== FUTEX_WAIT_BITSET && command !== FUTEX_WAIT) return -Errno.ENOSYS;
  if (uaddr & 3) return -Errno.EINVAL; // "uaddr ... is not aligned on a four-byte boundary" (EINVAL)
  const futexes = c.kernel.futexes;
  switch (command) {
    case FUTEX_WAIT:
      return wait(c, uaddr, val, timeout, FUTEX_BITSET_MATCH_ANY, false, (op & FUTEX_CLOCK_REALTIME) !== 0);
    case FUTEX_WAIT_BITSET:
      if (val3 === 0) return -Errno.EINVAL; // "The operation ... specified a bit mask of zero"
      return wait(c, uaddr, val, timeout, val3, true, (op & FUTEX_CLOCK_REALTIME) !== 0);
    case FUTEX_WAKE:
      return futexes.wake(c.space, uaddr, wakeCount(val));
    case FUTEX_WAKE_BITSET:
      if (val3 === 0) return -Errno.EINVAL;
      return futexes.wake(c.space, uaddr, wakeCount(val), val3);
    case FUTEX_CMP_REQUEUE:
    case FUTEX_REQUEUE: {
      // val2 travels in the timeout argument's place.
      if ((val | 0) < 0 || (timeout | 0) < 0) return -Errno.EINVAL; // "the value of val or val2 is negative"
      if (uaddr2 & 3) return -Errno.EINVAL;
      if (command === FUTEX_CMP_REQUEUE) {
        const now = c.space.readU32(uaddr);
        if (now === null) return -Errno.EFAULT;
        if (now !== val3 >>> 0) return -Errno.EAGAIN; // "The value pointed to by uaddr is not equal to the expected value val3"
      }
      return futexes.requeue(c.space, uaddr, uaddr2, val, timeout);
    }
    case FUTEX_WAKE_OP:
      return wakeOp(c, uaddr, val, timeout, uaddr2, val3);
    default:
      return -Errno.ENOSYS; // "Invalid operation specified in futex_op": the priority-inheritance ones are not offered
  }
}

/**
 * FUTEX_WAIT: "tests that the value at the futex word pointed to by the address uaddr still contains the expected value
 * val, and if so, then sleeps waiting for a FUTEX_WAKE". Runs again after every wake-up of its thread: woken, it
 * returns 0; past its deadline, ETIMEDOUT. Only a wake, a signal or the deadline runs it again (a "futex" block).
 */
function wait(c: SyscallContext, uaddr: number, val: number, timeout: number, bitset: number, absolute: boolean, realtime: boolean): SyscallOutcome | number {
  const task = self(c);
  const waiting = task.futexWait;
  if (waiting) {
    if (waiting.woken) return done(task, 0);
    if (task.sleepDeadline !== undefined && c.clock.monotonicNs() >= task.sleepDeadline) return done(task, -Errno.ETIMEDOUT);
    return { kind: "block-futex", deadlineNs: task.sleepDeadline };
  }
  const now = c.space.readU32(uaddr);
  if (now === null) return -Errno.EFAULT; // "timeout did not point to a valid user-space address" / uaddr likewise
  // "The value pointed to by uaddr was not equal to the expected value val at the time of the call."
  if (now !== val >>> 0) return done(task, -Errno.EAGAIN);
  if (timeout && task.sleepDeadline === undefined) {
    const ns = readTimespec64(c, timeout);
    if (ns === null) return -Errno.EFAULT;
    if (ns < 0n) return -Errno.EINVAL; // "The supplied timeout argument was invalid (tv_sec was less than zero, or tv_nsec ...)"
    // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's "an absolute time ... measured against CLOCK_MONOTONIC" or realtime.
    const monotonic = c.clock.monotonicNs();
    task.sleepDeadline = !absolute ? monotonic + ns : realtime ? monotonic + (ns - c.clock.realtimeNs()) : ns;
  }
  if (task.sleepDeadline !== undefined && c.clock.monotonicNs() >= task.sleepDeadline) return done(task, -Errno.ETIMEDOUT);
  c.kernel.futexes.wait(task, uaddr, bitset);
  return { kind: "block-futex", deadlineNs: task.sleepDeadline };
}

/** The wait is over: its queue entry lapses, its deadline goes. */
function done(task: Task, value: number): number {
  task.futexWait = undefined;
  task.sleepDeadline = undefined;
  return value;
}

/**
 * FUTEX_WAKE_OP: "*(int *) uaddr2 = oldval op oparg; futex_wake(uaddr, val); if (oldval cmp cmparg) futex_wake(uaddr2, val2)",
 * the operation and comparison encoded in val3.
 */
function wakeOp(c: SyscallContext, uaddr: number, val: number, val2: number, uaddr2: number, val3: number): number {
  if (uaddr2 & 3) return -Errno.EINVAL;
  const op = (val3 >>> 28) & 7, shiftArg = (val3 >>> 31) & 1, cmp = (val3 >>> 24) & 15;
  let oparg = (val3 << 8) >> 20, cmparg = (val3 << 20) >> 20; // 12-bit signed fields
  if (shiftArg) oparg = oparg < 0 || oparg > 31 ? 0 : 1 << oparg;
  const old = c.space.readU32(uaddr2);
  if (old === null) return -Errno.EFAULT;
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op];
  if (next === undefined) return -Errno.ENOSYS;
  if (!c.space.writeU32(uaddr2, next)) return -Errno.EFAULT;
  const o = old | 0;
  const tests = [o === cmparg, o !== cmparg, o < cmparg, o <= cmparg, o > cmparg, o >= cmparg];
  if (tests[cmp] === undefined) return -Errno.ENOSYS;
  const futexes = c.kernel.futexes;
  let woken = futexes.wake(c.space, uaddr, Math.min(val >>> 0, INT_MAX));
  if (tests[cmp]) woken += futexes.wake(c.space, uaddr2, Math.min(val2 >>> 0, INT_MAX));
  return woken;
}

const MEMBARRIER_CMD_QUERY = 0;
/** GLOBAL, GLOBAL_EXPEDITED and its registration, PRIVATE_EXPEDITED and its registration: the commands offered. */
const MEMBARRIER_OFFERED = 1 | 2 | 4 | 8 | 16;

/**
 * membarrier(cmd, flags, cpu_id): "issuing memory barriers on a set of threads". Roam's threads take turns on one hart
 * and change turns only between instructions, so every other thread has already passed a barrier: nothing to do but
 * answer.
 */
function membarrier(_c: SyscallContext, cmd: number, flags: number): number {
  if (flags !== 0) return -Errno.EINVAL; // "flags is non-zero"
  if (cmd === MEMBARRIER_CMD_QUERY) return MEMBARRIER_OFFERED;
  if ((cmd & MEMBARRIER_OFFERED) !== cmd || (cmd & (cmd - 1)) !== 0) return -Errno.EINVAL; // "cmd is invalid"
  return 0;
}

const ROBUST_LIST_HEAD_SIZE = 12; // next, futex_offset, list_op_pending: three 32-bit words

/** get_robust_list(pid, head_ptr, len_ptr): "returns the head of the robust futex list of the thread whose thread ID is pid". */
function getRobustList(c: SyscallContext, pid: number, headPtr: number, lenPtr: number): number {
  const task = (pid | 0) === 0 ? self(c) : c.kernel.tasks.get(pid | 0);
  if (!task || task.status === "zombie") return -Errno.ESRCH; // "No thread with the thread ID pid could be found"
  if (!c.space.ensure(headPtr, 4, 2) || !c.space.ensure(lenPtr, 4, 2)) return -Errno.EFAULT;
  c.space.write(headPtr, u32Bytes(task.robustList));
  c.space.write(lenPtr, u32Bytes(ROBUST_LIST_HEAD_SIZE));
  return 0;
}

export const THREAD_CALLS = new Map<number, [string, Handler]>([
  [422, ["futex_time64", futex]],
  // "set_tid_address() always returns the caller's thread ID."
  [96, ["set_tid_address", (c, tidptr) => { self(c).clearChildTid = tidptr; return c.pid; }]],
  [178, ["gettid", (c) => c.pid]],
  [283, ["membarrier", membarrier]],
  // "The robust futex list ... is used to ensure that if a thread accidentally fails to unlock a futex before
  // terminating ... another thread waiting on that futex is notified" (threads.ts releases it as the thread ends).
  [99, ["set_robust_list", (c, head, len) => {
    if (len !== ROBUST_LIST_HEAD_SIZE) return -Errno.EINVAL; // "len does not match the size of structure struct robust_list_head"
    self(c).robustList = head;
    return 0;
  }]],
  [100, ["get_robust_list", getRobustList]],
]);
