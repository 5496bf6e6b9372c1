// Signal calls: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend,
// rt_sigtimedwait, rt_sigreturn, sigaltstack. Delivery itself is in ../deliver.ts.

import { Errno } from "../errno.js";
import { FRAME_SIZE, NSIG, readFrame, SIGKILL, SIGSTOP, sigInfoBytes, SS_DISABLE, SS_ONSTACK, UNBLOCKABLE } from "../signals.js";
import { readTimespec64 } from "./time.js";
import { endTask } from "../process-tree.js";
import type { Task } from "../task.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import { callerOf, type Handler } from "./call-args.js";


const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const KSIGACTION_SIZE = 20; // handler, flags, restorer (u32 each), mask (8 bytes): struct k_sigaction with SA_RESTORER, as musl riscv32 passes it
const MINSIGSTKSZ = 2048;

const self = callerOf;
const u64 = (bytes: Uint8Array, at = 0) => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);

function sigaction(c: SyscallContext, sig: number, act: number, oldact: number, size: number): number {
  if (size !== 8) return -Errno.EINVAL; // sigsetsize
  if (sig < 1 || sig > NSIG) return -Errno.EINVAL; // "signum is invalid"
  const signals = self(c).signals;
  let next: Uint8Array | null = null;
  if (act) {
    if (sig === SIGKILL || sig === SIGSTOP) return -Errno.EINVAL; // "an attempt is made to change the action for SIGKILL or SIGSTOP"
    next = c.space.read(act, KSIGACTION_SIZE);
    if (!next) return -Errno.EFAULT;
  }
  if (oldact) {
    const old = signals.action(sig);
    const out = new Uint8Array(KSIGACTION_SIZE);
    const v = new DataView(out.buffer);
    v.setUint32(0, old.handler >>> 0, true);
    v.setUint32(4, old.flags >>> 0, true);
    v.setUint32(8, old.restorer >>> 0, true);
    v.setBigUint64(12, old.mask, true);
    if (!c.space.write(oldact, out)) return -Errno.EFAULT;
  }
  if (next) {
    const v = new DataView(next.buffer);
    const action = { handler: v.getUint32(0, true), flags: v.getUint32(4, true), restorer: v.getUint32(8, true), mask: v.getBigUint64(12, true) & ~UNBLOCKABLE };
    if (action.handler === 0 && action.flags === 0) signals.actions.delete(sig);
    else signals.actions.set(sig, action);
    // "Setting a signal's disposition to SIG_IGN for a pending signal causes it to be discarded" (for every thread).
    if (signals.ignored(sig)) {
      const me = self(c);
      for (const t of c.kernel.tasks.values()) if (t.tgid === me.tgid) t.signals.pending &= ~(1n << BigInt(sig - 1));
      signals.process.bits &= ~(1n << BigInt(sig - 1));
    }
  }
  return 0;
}

function sigprocmask(c: SyscallContext, how: number, set: number, oldset: number, size: number): number {
  if (size !== 8) return -Errno.EINVAL;
  const signals = self(c).signals;
  let change: bigint | undefined;
  if (set) {
    const raw = c.space.read(set, 8);
    if (!raw) return -Errno.EFAULT;
    change = u64(raw);
    if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) return -Errno.EINVAL; // "The value specified in how was invalid"
  }
  if (oldset && !c.space.write(oldset, new Uint8Array(BigUint64Array.of(signals.mask).buffer))) return -Errno.EFAULT;
  if (change !== undefined) {
    if (how === SIG_BLOCK) signals.mask |= change;
    else if (how === SIG_UNBLOCK) signals.mask &= ~change;
    else signals.mask = change;
    signals.mask &= ~UNBLOCKABLE; // "It is not possible to block SIGKILL or SIGSTOP. Attempts to do so are silently ignored."
  }
  return 0;
}

/** rt_sigsuspend: "temporarily replaces the signal mask ... and then suspends the thread until delivery of a signal" (always EINTR). */
function sigsuspend(c: SyscallContext, set: number, size: number): SyscallOutcome | number {
  if (size !== 8) return -Errno.EINVAL;
  const task = self(c);
  const raw = c.space.read(set, 8);
  if (!raw) return -Errno.EFAULT;
  const mask = u64(raw) & ~UNBLOCKABLE;
  // The first run saves the mask; a run after a wake-up that brought no handler finds it saved.
  if (task.suspendedMask === undefined) task.suspendedMask = task.signals.mask;
  task.signals.mask = mask;
  return { kind: "block-event" }; // a handler's delivery ends it with EINTR (deliver.ts), restoring the saved mask on return
}

/**
 * rt_sigtimedwait(set, info, timeout, sigsetsize): "suspends execution of the calling thread until one of the signals in
 * set is pending", then takes it (its own pending first, then its process's) without running a handler. Runs again at
 * every wake-up of the thread until one is there or the timeout (kept across runs) has passed.
 */
function sigtimedwait(c: SyscallContext, setPtr: number, infoPtr: number, timeout: number, size: number): SyscallOutcome | number {
  if (size !== 8) return -Errno.EINVAL;
  const task = self(c);
  const raw = c.space.read(setPtr, 8);
  if (!raw) return -Errno.EFAULT;
  const set = u64(raw) & ~UNBLOCKABLE;
  const signals = task.signals;
  const ready = signals.anyPending & set;
  if (ready !== 0n) {
    let sig = 1;
    while (!(ready & (1n << BigInt(sig - 1)))) sig++;
    if (infoPtr && !c.space.ensure(infoPtr, 128, 2)) return -Errno.EFAULT;
    const info = signals.take(sig, task.pendingInfo);
    if (infoPtr) c.space.write(infoPtr, sigInfoBytes(info));
    task.sleepDeadline = undefined;
    return sig;
  }
  if (timeout && task.sleepDeadline === undefined) {
    const ns = readTimespec64(c, timeout);
    if (ns === null) return -Errno.EFAULT;
    if (ns < 0n) return -Errno.EINVAL; // "timeout was invalid"
    task.sleepDeadline = c.clock.monotonicNs() + ns;
  }
  if (task.sleepDeadline !== undefined && c.clock.monotonicNs() >= task.sleepDeadline) {
    task.sleepDeadline = undefined;
    return -Errno.EAGAIN; // "No signal in set became pending within the timeout period"
  }
  return { kind: "block-event", deadlineNs: task.sleepDeadline }; // a signal sent anywhere notifies: the call looks again
}

/** rt_sigreturn: back from a handler, through the frame deliver.ts built at sp. */
function sigreturn(c: SyscallContext): SyscallOutcome | number {
  const task = self(c);
  const sp = c.kernel.registersOf(task)[2];
  const bytes = c.space.read(sp, FRAME_SIZE);
  if (!bytes) { endTask(c.kernel, task, 11 | 0x80); return { kind: "jumped" }; } // a forged or lost frame: SIGSEGV, as Linux does
  const { registers, mask } = readFrame(bytes);
  c.kernel.setRegistersOf(task, registers);
  task.signals.mask = mask & ~UNBLOCKABLE;
  return { kind: "jumped" };
}

function sigaltstack(c: SyscallContext, ss: number, oldss: number): number {
  const task = self(c);
  const [base, flags, size] = task.signals.altStack;
  const sp = c.kernel.registersOf(task)[2];
  const onStack = flags !== SS_DISABLE && sp > base && sp <= base + size;
  if (oldss) {
    const out = new Uint8Array(12);
    const v = new DataView(out.buffer);
    v.setUint32(0, base >>> 0, true);
    v.setInt32(4, onStack ? SS_ONSTACK : flags, true);
    v.setUint32(8, size >>> 0, true);
    if (!c.space.write(oldss, out)) return -Errno.EFAULT;
  }
  if (ss) {
    const raw = c.space.read(ss, 12);
    if (!raw) return -Errno.EFAULT;
    if (onStack) return -Errno.EPERM; // "An attempt was made to change the alternate signal stack while it was active"
    const v = new DataView(raw.buffer);
    const nextFlags = v.getInt32(4, true);
    if (nextFlags !== 0 && nextFlags !== SS_DISABLE) return -Errno.EINVAL; // "ss is not a null pointer, and the ss_flags field contains an invalid flag"
    const nextSize = v.getUint32(8, true);
    if (nextFlags !== SS_DISABLE && nextSize < MINSIGSTKSZ) return -Errno.ENOMEM; // "The specified size of the new alternate signal stack ss.ss_size was less than MINSIGSTKSZ"
    task.signals.altStack = nextFlags === SS_DISABLE ? [0, SS_DISABLE, 0] : [v.getUint32(0, true), 0, nextSize];
  }
  return 0;
}

export const SIGNAL_CALLS = new Map<number, [string, Handler]>([
  [134, ["rt_sigaction", sigaction]],
  [135, ["rt_sigprocmask", sigprocmask]],
  [136, ["rt_sigpending", (c, set, size) => {
    if (size !== 8) return -Errno.EINVAL;
    const s = self(c).signals;
    // "the set of signals that are pending for delivery to the calling thread (i.e., ... pending on either the calling thread or the process)"
    return c.space.write(set, new Uint8Array(BigUint64Array.of(s.anyPending & s.mask).buffer)) ? 0 : -Errno.EFAULT;
  }]],
  [133, ["rt_sigsuspend", sigsuspend]],
  [421, ["rt_sigtimedwait_time64", sigtimedwait]],
  [139, ["rt_sigreturn", sigreturn]],
  [132, ["sigaltstack", sigaltstack]],
]);
