// Sending and delivering signals. A signal sent is marked pending (or discarded,
// if ignored); it is delivered when its process next runs: a default action
// (terminate, stop, continue, ignore), or its handler, called in a frame built
// on the process's stack. A process waiting in a system call is woken for it:
// the call returns EINTR, or — SA_RESTART, and a call Linux restarts — runs
// again after the handler returns.

import { Errno } from "./errno.js";
import type { Kernel } from "./kernel.js";
import { endTask, notifyParent } from "./process-tree.js";
import { hasOtherThreads, leaderOf, liveThreads } from "./threads.js";
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
 * Sends `sig` to the process `task` belongs to (kill(2), a child's SIGCHLD, the terminal's Ctrl-C): pending for the
 * process, taken by whichever of its threads does not block it. `forced` is a fault's signal (SIGSEGV, SIGILL ...),
 * which goes to the faulting thread alone: blocked or ignored, it still comes, with the default action.
 */
export function sendSignal(k: Kernel, task: Task, sig: number, info: SigInfo, forced = false): void {
  post(k, task, sig, info, forced ? "forced" : "process");
}

/** Sends `sig` to the thread `task` alone (tkill, tgkill, pthread_kill; a write's SIGPIPE). */
export function sendToThread(k: Kernel, task: Task, sig: number, info: SigInfo): void {
  post(k, task, sig, info, "thread");
}

function post(k: Kernel, task: Task, sig: number, info: SigInfo, scope: "process" | "thread" | "forced"): void {
  if (sig === 0) return;
  const threads = scope === "process" && (task.status === "zombie" || task.tgid !== task.pid || hasOtherThreads(k, task)) ? liveThreads(k, task) : [task];
  const target = threads.includes(task) ? task : threads[0];
  if (!target || target.status === "zombie") return;
  if (target.away) { k.onAwaySignal?.(target, sig, info); return; } // it runs on another host now: the signal goes there
  // "SIGKILL and SIGSTOP ... cannot be caught": the whole process is killed, whichever thread it was sent to.
  if (sig === SIGKILL) { endTask(k, target, SIGKILL); return; }
  const signals = target.signals;
  if (sig === SIGCONT) continueProcess(k, target);
  if (STOP_SIGNALS & bit(sig)) forEachThread(k, target, (t) => { t.signals.pending &= ~bit(SIGCONT); t.signals.process.bits &= ~bit(SIGCONT); });
  if (scope === "forced") {
    const action = signals.action(sig);
    if (action.handler === SIG_IGN || (signals.mask & bit(sig))) {
      signals.actions.delete(sig);
      signals.mask &= ~bit(sig);
    }
  } else if (signals.ignored(sig) && !(signals.mask & bit(sig))) {
    return; // "the signal is discarded" — a blocked one stays pending, its disposition may change
  }
  const unblocked = (t: Task) => !(t.signals.mask & ~UNBLOCKABLE & bit(sig));
  if (scope === "process") {
    signals.process.bits |= bit(sig);
    signals.process.info.set(sig, info);
    // A thread waiting in a call wakes to take it: the one it was sent to if that one does not block it, or another.
    const taker = unblocked(target) ? target : threads.find(unblocked);
    if (taker?.blocked) taker.blocked = undefined;
  } else {
    signals.pending |= bit(sig);
    target.pendingInfo.set(sig, info);
    if (unblocked(target) && target.blocked) target.blocked = undefined;
  }
  k.notify();
}

/** SIGCONT: "Continue if stopped": every thread of the process, and stop signals still pending are discarded. */
function continueProcess(k: Kernel, task: Task): void {
  let wasStopped = false;
  forEachThread(k, task, (t) => {
    t.signals.pending &= ~STOP_SIGNALS;
    t.signals.process.bits &= ~STOP_SIGNALS;
    if (t.status === "stopped") { t.status = "running"; wasStopped = true; }
  });
  if (!wasStopped) return;
  const leader = leaderOf(k, task);
  leader.stopReport = "continued";
  notifyParent(k, leader, 6 /* CLD_CONTINUED */, SIGCONT);
}

function forEachThread(k: Kernel, task: Task, each: (t: Task) => void): void {
  if (task.tgid === task.pid && !hasOtherThreads(k, task)) { each(task); return; }
  for (const t of liveThreads(k, task)) each(t);
}

/** Delivers what is pending and not blocked for `task` (the one on the hart, or about to be). */
export function deliverSignals(k: Kernel, task: Task): void {
  for (;;) {
    if (task.status !== "running") return;
    const sig = task.signals.next();
    if (sig === 0) return;
    const info = task.signals.take(sig, task.pendingInfo);
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
    case "stop": {
      // "Stop the process": every thread of it.
      forEachThread(k, task, (t) => { t.status = "stopped"; });
      const leader = leaderOf(k, task);
      leader.stopReport = "stopped";
      leader.lastStopSignal = sig;
      notifyParent(k, leader, 5 /* CLD_STOPPED */, sig);
      return true;
    }
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
    // Interrupted in a system call: restart it after the handler, or fail it with EINTR. A futex wait that was woken
    // before the signal came has its wake: it returns 0.
    const woken = task.futexWait?.woken === true;
    task.futexWait = undefined;
    const restart = (action.flags & SA_RESTART) !== 0 && !NEVER_RESTARTED.has(registers[17]);
    if (woken) {
      registers[10] = 0;
      registers[32] = (registers[32] + 4) >>> 0;
    } else if (!restart) {
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

