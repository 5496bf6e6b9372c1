// The satellite's side of a process that moved alone (--children home): the
// calls that reach its family and its pipes and terminal go to its home host
// (lone-home.ts answers them). Kernel calls are synchronous, so each works in
// two passes, as remote files do (src/cluster/remote-files.ts): the first run
// of the call sends the request and throws WouldBlock; the process waits and
// runs the call again, and this time takes the answer. A home that cannot be
// reached (its host died, the link broke) fails the call with EIO.

import { Errno } from "./errno.js";
import { SandboxError, WouldBlock, type OpenFile } from "./files.js";
import type { Kernel } from "./kernel.js";
import { HOLD_MS } from "./lone-home.js";
import type { SyscallContext } from "./syscalls.js";
import type { Task } from "./task.js";

/** Sends `request` to the home of this satellite (or of `file`); the answer, or -errno. Throws WouldBlock until it is here. */
function askHome(k: Kernel, home: string | undefined, request: Record<string, unknown>): Record<string, unknown> | number {
  const remote = k.openFiles.remote;
  if (!remote || !home) return -Errno.EIO; // moved with no way to reach its home
  try {
    return remote.call(home, request);
  } catch (error) {
    if (error instanceof SandboxError) return -error.errno;
    throw error; // WouldBlock: the kernel waits for the answer, then runs the call again
  }
}

// Every question names the process that moved (the satellite's first process): its proxy at home holds the
// descriptions, the place in the family, the children. Its children forked here ask in its name.

/** read(2) or write(2) on a forwarded description: asked of the home host; the call runs again when the answer is here. */
export function forwardedIo(c: SyscallContext, file: OpenFile, op: "read" | "write", countOrData: number | Uint8Array): Uint8Array | number {
  const request = {
    t: "proc-io", guest: file.homeGuest, pid: c.kernel.firstPid, from: c.pid, file: file.homeFile, op,
    ...(typeof countOrData === "number" ? { count: countOrData } : { data: countOrData }),
  };
  let answer = askHome(c.kernel, file.home, request);
  // The home holds a call that must wait, but not past a request's time limit: then it says "again".
  if (typeof answer !== "number" && answer.again) answer = askHome(c.kernel, file.home, request);
  if (typeof answer === "number") return answer;
  if (op === "read") return answer.data as Uint8Array;
  return Number(answer.written);
}

/** kill(2) of a family member, asked of the home host. */
export function killAtHome(c: SyscallContext, pid: number, sig: number): number {
  const home = c.kernel.home!;
  const answer = askHome(c.kernel, home.url, { t: "proc-kill", guest: home.guest, pid: c.kernel.firstPid, target: pid, sig });
  return typeof answer === "number" ? answer : Number(answer.result);
}

/** What a wait found among the children at home. */
export interface HomeReport {
  pid: number;
  status: number;
  what: "exited" | "stopped" | "continued";
  /** An exited child's CPU time, its reaped children's included (what a wait's rusage says). */
  cpuNs?: bigint;
}

/** Whether `task`'s waits must look at home too: it is the process that moved alone, and children of it are there. */
export function hasChildrenAtHome(k: Kernel, task: Task): boolean {
  return k.home !== undefined && task.pid === k.firstPid && k.homeChildren > 0;
}

/**
 * wait4/waitid over the children `task` left at home: one it may take now,
 * "none", or "later". The home never waits: a child there that changes
 * state sends SIGCHLD, which comes here (`homeChildChanged`) and makes the
 * waiting call ask again; until then a "later" answer stands, so the call
 * does not ask home at every local change — for HOLD_MS at most, after which
 * the call (woken then: `HOME_WAIT_NS`) asks again, so that a SIGCHLD lost
 * with a broken link does not leave it waiting for ever.
 */
export function waitAtHome(k: Kernel, task: Task, idtype: number, id: number, options: number): HomeReport | "none" | "later" | number {
  const asked = `${idtype}/${id}/${options}`;
  const known = task.homeWait;
  if (known && known.asked === asked && known.events === k.homeChildEvents && Date.now() < known.until) return "later";
  const home = k.home!;
  // The events count and the round make each question its own: an answer is taken once, and a SIGCHLD asks anew.
  const request = { t: "proc-wait", guest: home.guest, pid: task.pid, idtype, id, options, events: k.homeChildEvents, round: task.remoteRound };
  const answer = askHome(k, home.url, request);
  if (typeof answer === "number") return answer;
  task.remoteRound++;
  k.homeChildren = Number(answer.children);
  task.homeWait = answer.later ? { asked, events: request.events, until: Date.now() + HOLD_MS } : undefined;
  if (answer.none) return "none";
  if (answer.later) return "later";
  const cpuNs = typeof answer.cpuNs === "string" && /^\d{1,30}$/.test(answer.cpuNs) ? BigInt(answer.cpuNs) : undefined;
  return { pid: Number(answer.pid), status: Number(answer.status), what: answer.what as HomeReport["what"], cpuNs };
}

/** How long a wait that heard "later" from home blocks before it asks again, if no SIGCHLD came first. */
export const HOME_WAIT_NS = BigInt(HOLD_MS) * 1_000_000n;

/** The process took what `waitAtHome` reported (not with WNOWAIT): the home reaps the child or consumes its stop. */
export function tookFromHome(k: Kernel, report: HomeReport): void {
  const home = k.home!;
  k.openFiles.remote?.tell(home.url, { t: "proc-reap", guest: home.guest, pid: k.firstPid, child: report.pid, what: report.what });
  if (report.what !== "exited") return;
  k.homeChildren--;
  // As a wait here adds a reaped child's CPU time to its parent's "children" times (getrusage, times).
  const parent = k.tasks.get(k.firstPid);
  if (parent) parent.childrenCpuNs += report.cpuNs ?? 0n;
}

/** A SIGCHLD from home: a child there changed state, so a waiting call asks again (even if SIGCHLD is ignored here). */
export function homeChildChanged(k: Kernel): void {
  k.homeChildEvents++;
  k.notify();
}

/** The wait a poll's question says, fixed for its round: the call runs again with the same question until answered. */
function pollWaitOf(task: Task, waitMs: number): number {
  if (task.pollWait?.round !== task.remoteRound) task.pollWait = { round: task.remoteRound, waitMs: Math.max(0, Math.round(waitMs)) };
  return task.pollWait.waitMs;
}

/**
 * ppoll/pselect over forwarded descriptions: their revents, asked of the home
 * (all from one home: a satellite has one), which answers when one is ready
 * or after `waitMs`. `wakeOnEvent`: a local change also runs the call again
 * (it watches local descriptors too).
 */
export function readinessAtHome(c: SyscallContext, asks: Array<{ file: OpenFile; events: number }>, waitMs: number, wakeOnEvent: boolean): number[] | number {
  const task = c.kernel.tasks.get(c.pid)!;
  const first = asks[0].file;
  const request = {
    t: "proc-poll", guest: first.homeGuest, pid: c.kernel.firstPid, from: c.pid, files: asks.map((a) => ({ file: a.file.homeFile, events: a.events })),
    waitMs: pollWaitOf(task, waitMs), round: task.remoteRound,
  };
  try {
    const answer = askHome(c.kernel, first.home, request);
    if (typeof answer === "number") return answer;
    task.remoteRound++;
    return (answer.revents as number[]).map(Number);
  } catch (error) {
    if (error instanceof WouldBlock && wakeOnEvent) throw new WouldBlock(error.until, true);
    throw error;
  }
}
