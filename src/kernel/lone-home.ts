// The home host's side of a process that moved alone (--children home): what
// the satellite asks of the proxy's family and descriptions, done here as if
// the process still ran here. Its I/O waits here when the pipe or terminal
// makes it wait (`homeIo`), its kills reach the family (`homeKill`), its waits
// look at its children here (`homeWait`, `homeReap`), and its ppoll/pselect
// ask whether its descriptions here are ready (`homePoll`).

import { pipeRead, pipeWrite } from "./calls/descriptors.js";
import { POLLERR, POLLHUP, POLLNVAL, readiness } from "./calls/poll.js";
import { sendSignal } from "./deliver.js";
import { Errno } from "./errno.js";
import { SandboxError, type OpenFile } from "./files.js";
import type { Kernel } from "./kernel.js";
import { endTask, findWaitable, notifyParent, reap, reapedCpuNs, WNOWAIT, WNOHANG } from "./process-tree.js";
import { SIGCONT } from "./signals.js";
import type { SyscallOutcome } from "./syscalls.js";
import type { Task } from "./task.js";

/** How long a home holds a call that must wait before it answers "again" (inside a request's 30 s limit). */
export const HOLD_MS = 10_000;

/** The proxy of away process `pid`, or EBADF (it ended, or never left). */
function proxyOf(k: Kernel, pid: number): Task {
  const task = k.tasks.get(pid);
  if (!task || !task.away || task.status === "zombie") throw new SandboxError(Errno.EIO);
  return task;
}

/** The proxy's description `fileId` (its descriptors still hold it here). */
function descriptionOf(task: Task, fileId: number): OpenFile {
  const file = [...task.files.files.values()].find((f) => f.id === fileId);
  if (!file) throw new SandboxError(Errno.EBADF);
  return file;
}

/** Resolves at the next change in the kernel (or terminal input), or after `ms`. */
function changeOrTimeout(k: Kernel, ms: number, input: boolean): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const events: Array<Promise<unknown>> = [k.changed(), new Promise((resolve) => { timer = setTimeout(resolve, ms); })];
  if (input) events.push(k.options.inputReady());
  return Promise.race(events).finally(() => clearTimeout(timer));
}

/**
 * Performs a read or write of the away process `pid` on description `fileId`
 * as if it ran here: resolves with the bytes or the count, or an errno, once
 * the pipe or terminal allows (a blocked call waits here, not there).
 */
export async function homeIo(k: Kernel, pid: number, fileId: number, op: "read" | "write", count: number, data: Uint8Array | undefined): Promise<Record<string, unknown>> {
  const task = proxyOf(k, pid);
  const file = descriptionOf(task, fileId);
  const giveUp = Date.now() + HOLD_MS;
  for (;;) {
    if (Date.now() > giveUp) return { again: true };
    if (task.status === "zombie" || !task.away) throw new SandboxError(Errno.EIO);
    const r = attempt(k, task, file, op, count, data);
    if (typeof r === "number" && r < 0) throw new SandboxError(-r);
    if (r instanceof Uint8Array) return { data: r };
    if (typeof r === "number") return { written: r };
    await changeOrTimeout(k, Math.max(0, giveUp - Date.now()), r === "input");
  }
}

function attempt(k: Kernel, task: Task, file: OpenFile, op: "read" | "write", count: number, data: Uint8Array | undefined): Uint8Array | number | "input" | "event" {
  if (file.kind === "pipe") {
    const r = op === "read" ? pipeRead(task, file, count) : pipeWrite(task, file, data ?? new Uint8Array(0));
    return isBlock(r) ? "event" : (r as Uint8Array | number);
  }
  if (file.kind === "terminal") {
    if (op === "read") {
      if (file.terminal !== 0) return -Errno.EBADF;
      // The guest's terminal, when it has one, holds the keys (its line discipline); else the console.
      const input = k.terminal ? k.terminal.read(count) : k.console.read(count);
      return input ?? "input";
    }
    if (file.terminal === 0) return -Errno.EBADF;
    k.console.write(file.terminal!, data ?? new Uint8Array(0));
    return data?.length ?? 0;
  }
  return -Errno.EBADF;
}

const isBlock = (r: unknown): r is SyscallOutcome => typeof r === "object" && r !== null && !(r instanceof Uint8Array);

/**
 * The away process's kill(2) of a family member, done at home. A group or
 * "all" kill leaves out its proxy: the satellite signalled the process itself
 * (and its children there), and a signal to the proxy would go back to it as
 * a second one.
 */
export function homeKill(k: Kernel, from: number, pid: number, sig: number): number {
  const named = (t: Task): boolean => (pid > 0 ? t.pid === pid : t.pid !== from && (pid === 0 ? t.pgid === k.tasks.get(from)?.pgid : pid === -1 || t.pgid === -pid));
  const targets = [...k.tasks.values()].filter((t) => t.status !== "zombie" && named(t));
  if (targets.length === 0) return -Errno.ESRCH;
  const group = pid > 0 ? {} : { group: pid === 0 ? k.tasks.get(from)?.pgid : pid === -1 ? -1 : -pid };
  for (const t of targets) sendSignal(k, t, sig, { signo: sig, code: 0, pid: from, ...group });
  return 0;
}

/**
 * The away process ended with wait status `status`: its proxy ends, and its
 * parent here reaps it as it would have. The CPU times it counted there
 * (decimal strings, from its start: its image carried what it had counted
 * here) become the proxy's, so that parent's rusage and times see them.
 */
export function homeExit(k: Kernel, task: Task, status: number, cpuNs: unknown, childrenCpuNs: unknown): void {
  if (typeof cpuNs === "string" && /^\d{1,30}$/.test(cpuNs)) task.cpuInstructions = BigInt(cpuNs);
  if (typeof childrenCpuNs === "string" && /^\d{1,30}$/.test(childrenCpuNs)) task.childrenCpuNs = BigInt(childrenCpuNs);
  endTask(k, task, status);
}

/**
 * The away process stopped or went on there: its proxy does so here, so its
 * parent's wait (WUNTRACED, WCONTINUED) reports it, and its parent gets
 * SIGCHLD, as if it had stopped here.
 */
export function homeStopped(k: Kernel, task: Task, what: "stopped" | "continued", sig: number): void {
  if (task.status === "zombie") return;
  if (what === "stopped") {
    task.status = "stopped";
    task.stopReport = "stopped";
    task.lastStopSignal = sig;
    notifyParent(k, task, 5 /* CLD_STOPPED */, sig);
  } else {
    task.status = "running";
    task.stopReport = "continued";
    notifyParent(k, task, 6 /* CLD_CONTINUED */, SIGCONT);
  }
}

/** Children of `pid` here, zombies included: when none are left the satellite stops asking. */
function childrenOf(k: Kernel, pid: number): number {
  let n = 0;
  for (const t of k.tasks.values()) if (t.ppid === pid) n++;
  return n;
}

/**
 * wait4/waitid of the away process `pid` over its children here, never
 * waiting: the child that has something to report (as WNOWAIT: the satellite
 * takes it with `homeReap` once it has given it to the process, so an answer
 * that never reaches the process loses nothing), "none" (ECHILD), or "later".
 * A child that changes state later sends SIGCHLD to the proxy, which goes on
 * to the satellite and makes it ask again.
 */
export function homeWait(k: Kernel, pid: number, idtype: number, id: number, options: number): Record<string, unknown> {
  const task = proxyOf(k, pid);
  const found = findWaitable(k, task, idtype, id, options);
  const children = childrenOf(k, pid);
  if (found === "none") return { none: true, children };
  if (found === "later") return { later: true, children };
  // An exited child's CPU time (its reaped children's included) goes with it: the rusage of the wait, and the
  // "children" times of the process once it takes the child (as a wait here adds it).
  const cpuNs = found.what === "exited" ? { cpuNs: reapedCpuNs(found.child).toString() } : {};
  return { pid: found.child.pid, status: reap(k, found, (options | WNOWAIT) & ~WNOHANG), what: found.what, children, ...cpuNs };
}

/** The satellite gave the process what `homeWait` reported of `child`: an exited child is reaped, a stop or continue consumed. */
export function homeReap(k: Kernel, pid: number, child: number, what: string): void {
  const t = k.tasks.get(child);
  if (!t || t.ppid !== pid) return;
  if (what === "exited" && t.status === "zombie") {
    k.tasks.delete(child);
    if (k.current === t) offTheHart(k);
  } else if (what !== "exited") t.stopReport = undefined;
  k.notify();
}

/**
 * The process on the hart was reaped here, not by a process running here (as
 * a wait would have been): the hart must name a process of the tree, which a
 * snapshot records. Another live one takes it; with none left here, the proxy
 * is named (it never runs here, so the registers it is given do not matter).
 */
function offTheHart(k: Kernel): void {
  const live = [...k.tasks.values()].find((t) => t.status !== "zombie" && !t.away);
  if (live) { k.switchTo(live); return; }
  const any = k.tasks.get(k.firstPid) ?? k.tasks.values().next().value;
  if (any) k.current = any;
}

/**
 * ppoll/pselect of the away process `pid` over its descriptions here: the
 * revents of each (as poll(2) reports them) once any is ready, or all zero
 * after `waitMs` (the satellite's timeout, at most HOLD_MS).
 */
export async function homePoll(k: Kernel, pid: number, asks: Array<{ file: number; events: number }>, waitMs: number): Promise<number[]> {
  const task = proxyOf(k, pid);
  const files = asks.map((a) => [...task.files.files.values()].find((f) => f.id === a.file));
  const input = files.some((f) => f?.kind === "terminal" && f.terminal === 0);
  const giveUp = Date.now() + Math.min(waitMs, HOLD_MS);
  for (;;) {
    const revents = asks.map((a, i) => readiness(task, files[i]) & (a.events | POLLERR | POLLHUP | POLLNVAL));
    if (revents.some((r) => r !== 0) || Date.now() >= giveUp) return revents;
    await changeOrTimeout(k, Math.max(0, giveUp - Date.now()), input);
    if (task.status === "zombie" || !task.away) throw new SandboxError(Errno.EIO);
  }
}
