// Sending and delivering signals. A signal sent is marked pending (or discarded,
// if ignored); it is delivered when its process next runs: a default action
// (terminate, stop, continue, ignore), or its handler, called in a frame built
// on the process's stack. A process waiting in a system call is woken for it:
// the call returns EINTR, or — SA_RESTART, and a call Linux restarts — runs
// again after the handler returns.

import { Errno } from "./errno.js";
import type { Kernel } from "./kernel.js";
import { endTask, notifyParent } from "./process-tree.js";
import {
  bit, defaultAction, FRAME_SIZE, frameBytes, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_RESTORER, SIG_DFL,
  SIG_IGN, SIGCONT, SIGINFO_SIZE, SIGKILL, SIGSEGV, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SS_DISABLE, TRAMPOLINE_PAGE, UNBLOCKABLE, type SigInfo,
} from "./signals.js";
import type { Task } from "./task.js";

const STOP_SIGNALS = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);

/** System calls Linux never restarts after a handler, whatever SA_RESTART says (signal(7)). */
const NEVER_RESTARTED = new Set([
  101, 407, // nanosleep, clock_nanosleep_time64
  413, 414, // pselect6_time64, ppoll_time64
  133, 421, // rt_sigsuspend, rt_sigtimedwait_time64
]);

/**
 * Sends `sig` to `task`. `forced` is a fault's signal (SIGSEGV, SIGILL ...):
 * blocked or ignored, it still comes, with the default action.
 */
export function sendSignal(k: Kernel, task: Task, sig: number, info: SigInfo, forced = false): void {
  if (task.status === "zombie" || sig === 0) return;
  if (task.away) { k.onAwaySignal?.(task, sig, info); return; } // it runs on another host now: the signal goes there
  if (sig === SIGKILL) { endTask(k, task, SIGKILL); return; }
  const signals = task.signals;
  if (sig === SIGCONT) {
    signals.pending &= ~STOP_SIGNALS;
    if (task.status === "stopped") {
      task.status = "running";
      task.stopReport = "continued";
      notifyParent(k, task, 6 /* CLD_CONTINUED */, SIGCONT);
    }
  }
  if (STOP_SIGNALS & bit(sig)) signals.pending &= ~bit(SIGCONT);
  if (forced) {
    const action = signals.action(sig);
    if (action.handler === SIG_IGN || (signals.mask & bit(sig))) {
      signals.actions.delete(sig);
      signals.mask &= ~bit(sig);
    }
  } else if (signals.ignored(sig) && !(signals.mask & bit(sig))) {
    return; // "the signal is discarded" — a blocked one stays pending, its disposition may change
  }
  signals.pending |= bit(sig);
  task.pendingInfo.set(sig, info);
  // A process waiting in a call wakes to take it (unless it blocks the signal).
  if (!(signals.mask & ~UNBLOCKABLE & bit(sig)) && task.blocked) task.blocked = undefined;
  k.notify();
}

/** Delivers what is pending and not blocked for `task` (the one on the hart, or about to be). */
export function deliverSignals(k: Kernel, task: Task): void {
  for (;;) {
    if (task.status !== "running") return;
    const sig = task.signals.next();
    if (sig === 0) return;
    task.signals.pending &= ~bit(sig);
    const info = task.pendingInfo.get(sig) ?? { signo: sig, code: 0 };
    task.pendingInfo.delete(sig);
    const action = task.signals.action(sig);
    if (action.handler === SIG_IGN) continue;
    if (action.handler === SIG_DFL) {
      if (defaultOf(k, task, sig)) return;
      continue;
    }
    runHandler(k, task, sig, info);
    return; // one frame at a time: the next pending signal comes when this one's handler has begun
  }
}

/** The default action; true when it took the process off the hart (stopped or ended). */
function defaultOf(k: Kernel, task: Task, sig: number): boolean {
  switch (defaultAction(sig)) {
    case "ignore":
    case "continue":
      return false;
    case "stop":
      task.status = "stopped";
      task.stopReport = "stopped";
      task.lastStopSignal = sig;
      notifyParent(k, task, 5 /* CLD_STOPPED */, sig);
      return true;
    case "core":
      // "Core" in signal(7), but Roam writes no core file, so the status says none was dumped (as with RLIMIT_CORE 0).
      endTask(k, task, sig);
      return true;
    case "terminate":
      endTask(k, task, sig);
      return true;
  }
}

function runHandler(k: Kernel, task: Task, sig: number, info: SigInfo): void {
  k.openFiles.readAhead.drop(); // the handler may tell the program that a file changed, with no system call (read-ahead.ts)
  const action = task.signals.action(sig);
  const registers = k.registersOf(task).slice();
  if (task.blockedInCall) {
    // Interrupted in a system call: restart it after the handler, or fail it with EINTR.
    const restart = (action.flags & SA_RESTART) !== 0 && !NEVER_RESTARTED.has(registers[17]);
    if (!restart) {
      registers[10] = -Errno.EINTR >>> 0;
      registers[32] = (registers[32] + 4) >>> 0;
    }
    task.blockedInCall = false;
    task.blocked = undefined;
    task.sleepDeadline = undefined;
  }
  const [altBase, altFlags, altSize] = task.signals.altStack;
  const sp = registers[2];
  const onAltStack = altFlags !== SS_DISABLE && sp > altBase && sp <= altBase + altSize;
  const top = (action.flags & SA_ONSTACK) && altFlags !== SS_DISABLE && !onAltStack ? altBase + altSize : sp;
  const frame = ((top - FRAME_SIZE) & ~15) >>> 0;
  // rt_sigsuspend's temporary mask gives way to the one it saved: the handler's return restores that.
  const savedMask = task.suspendedMask ?? task.signals.mask;
  task.suspendedMask = undefined;
  const bytes = frameBytes(info, registers, savedMask, task.signals.altStack);
  if (!task.space.write(frame, bytes)) {
    // "If the stack is not writable, the process is killed with SIGSEGV."
    endTask(k, task, SIGSEGV | 0x80);
    return;
  }
  registers[32] = action.handler;
  registers[1] = (action.flags & SA_RESTORER) && action.restorer ? action.restorer : TRAMPOLINE_PAGE;
  registers[2] = frame;
  registers[10] = sig;
  registers[11] = frame;
  registers[12] = frame + SIGINFO_SIZE;
  k.setRegistersOf(task, registers);
  task.signals.mask |= action.mask | ((action.flags & SA_NODEFER) ? 0n : bit(sig));
  task.signals.mask &= ~UNBLOCKABLE;
  if (action.flags & SA_RESETHAND) task.signals.actions.delete(sig);
}

