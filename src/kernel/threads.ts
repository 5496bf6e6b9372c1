// Threads: the tasks of one process (a thread group, clone(2)'s CLONE_THREAD).
// "The threads within a group can be distinguished by their (system-wide)
// unique thread IDs"; they share the address space, the descriptor table, the
// signal dispositions and the signals sent to the process, and each has its own
// registers, signal mask and pending set. getpid(2) returns the group's ID (the
// leader's pid), gettid(2) the thread's. They take turns on the one hart like
// processes (kernel.ts's run loop), without a TLB flush between two of them.
//
// Ending: exit(2) "terminates only the calling thread"; exit_group(2), a fatal
// signal or execve(2) end every thread. The leader that calls exit(2) first
// stays a zombie its parent cannot reap until the group's last thread is gone.

import { STATE_EXIT_PC } from "../../assembly/layout.js";
import { Errno } from "./errno.js";
import { MAX_PROCESSES, type Kernel } from "./kernel.js";
import { Task } from "./task.js";

export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_VFORK = 0x4000;
export const CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000;

/** The registers a clone's new task starts with: the caller's after its ecall, a0 = 0, and the stack and TLS it asked for. */
export function cloneRegisters(k: Kernel, caller: Task, flags: number, stack: number, tls: number): Uint32Array {
  const registers = k.registersOf(caller).slice();
  registers[10] = 0; // "On success, the thread ID of the child process is returned in the caller's thread ... 0 in the child"
  registers[32] = (k.core.state32(STATE_EXIT_PC) + 4) >>> 0;
  if (stack) registers[2] = stack;
  if (flags & CLONE_SETTLS) registers[4] = tls;
  return registers;
}

/** How many tasks (threads of every process) are not zombies: RLIMIT_NPROC counts threads too. */
export function liveTasks(k: Kernel): number {
  let live = 0;
  for (const t of k.tasks.values()) if (t.status !== "zombie") live++;
  return live;
}

/** clone with CLONE_THREAD: a new thread of the caller's process; its thread ID, or -errno. */
export function createThread(k: Kernel, caller: Task, flags: number, stack: number, ptid: number, tls: number, ctid: number): number {
  // "CLONE_SIGHAND ... Since Linux 2.6.0, the flags mask must also include CLONE_VM if CLONE_SIGHAND is specified";
  // "CLONE_THREAD was specified in the flags mask, but CLONE_SIGHAND was not".
  if (!(flags & CLONE_SIGHAND) || !(flags & CLONE_VM)) return -Errno.EINVAL;
  if (!(flags & CLONE_FILES) || !(flags & CLONE_FS)) return -Errno.EINVAL; // a thread with a table of its own is not offered
  if (caller.sharesSpaceOf) return -Errno.EINVAL; // a vfork child borrows its parent's memory: no threads in it
  if (liveTasks(k) >= MAX_PROCESSES) return -Errno.EAGAIN;
  const leader = leaderOf(k, caller);
  const thread = new Task(k, k.nextPid++, caller.ppid, caller.pgid, caller.sid, caller.space, caller.files);
  thread.tgid = caller.tgid;
  thread.signals = caller.signals.thread();
  thread.exitSignal = 0; // a thread's end is no child's end: its parent hears of the process's only
  thread.limits = leader.limits; // "Resource limits are per-process attributes shared by all of the threads"
  thread.runsProgramOf(caller);
  thread.registers.set(cloneRegisters(k, caller, flags, stack, tls));
  if (flags & CLONE_PARENT_SETTID) caller.space.writeU32(ptid, thread.pid);
  if (flags & CLONE_CHILD_SETTID) caller.space.writeU32(ctid, thread.pid);
  if (flags & CLONE_CHILD_CLEARTID) thread.clearChildTid = ctid;
  k.tasks.set(thread.pid, thread);
  return thread.pid;
}

/** The leader of `task`'s process (the task itself for a process's first thread). */
export function leaderOf(k: Kernel, task: Task): Task {
  return task.tgid === task.pid ? task : (k.tasks.get(task.tgid) ?? task);
}

/** The threads of `task`'s process that have not ended, in the kernel's order. */
export function liveThreads(k: Kernel, task: Task): Task[] {
  const out: Task[] = [];
  for (const t of k.tasks.values()) if (t.tgid === task.tgid && t.status !== "zombie") out.push(t);
  return out;
}

/** Whether `task`'s process has threads besides `task` (the common case, none, answered without a list). */
export function hasOtherThreads(k: Kernel, task: Task): boolean {
  for (const t of k.tasks.values()) if (t.tgid === task.tgid && t !== task && t.status !== "zombie") return true;
  return false;
}

/** The process `task` names is alive: a leader that ended alone still stands for its live threads. */
export function processAlive(task: Task): boolean {
  return task.status !== "zombie" || task.exitedAsThread;
}

/**
 * The thread ends (exit(2), or its process ending): "if clear_child_tid is not NULL ... 0 is written at the address
 * specified in clear_child_tid and the kernel performs ... FUTEX_WAKE ... on the address", which is how pthread_join
 * and the C library's thread-list lock learn of it.
 */
export function clearChildTid(k: Kernel, task: Task): void {
  if (task.status === "zombie") return;
  releaseRobustList(k, task);
  const address = task.clearChildTid;
  if (!address) return;
  task.clearChildTid = 0;
  if (task.space.writeU32(address, 0)) k.futexes.wake(task.space, address, 1);
}

const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
const ROBUST_LIST_LIMIT = 2048; // Linux's ROBUST_LIST_LIMIT: a list looping on itself ends there

/**
 * The robust futexes a thread still holds as it ends (set_robust_list(2)): each one whose owner is this thread is
 * marked FUTEX_OWNER_DIED, and one waiter is woken, so the next pthread_mutex_lock returns EOWNERDEAD instead of
 * waiting for ever. Walks the list the C library keeps (head: next, futex_offset, list_op_pending), as Linux's
 * exit_robust_list does; a list it cannot read ends the walk.
 */
function releaseRobustList(k: Kernel, task: Task): void {
  const head = task.robustList;
  if (!head) return;
  task.robustList = 0;
  const space = task.space;
  const offset = space.readU32(head + 4), pending = space.readU32(head + 8);
  if (offset === null || pending === null) return;
  let entry = space.readU32(head);
  for (let n = 0; entry !== null && entry !== head && n < ROBUST_LIST_LIMIT; n++) {
    if (entry !== pending) ownerDied(k, task, (entry + offset) >>> 0);
    entry = space.readU32(entry);
  }
  if (pending) ownerDied(k, task, (pending + offset) >>> 0);
}

function ownerDied(k: Kernel, task: Task, address: number): void {
  const value = task.space.readU32(address);
  if (value === null || (value & FUTEX_TID_MASK) !== task.pid) return;
  if (!task.space.writeU32(address, (value & FUTEX_WAITERS) | FUTEX_OWNER_DIED)) return;
  if (value & FUTEX_WAITERS) k.futexes.wake(task.space, address, 1);
}

/**
 * exit(2) from a thread whose process goes on: it ends alone. A thread that is not the leader goes at once (nothing
 * waits for it); the leader stays, a zombie, and keeps its wait status for the process's end. False when it is the
 * process's last thread: then the process ends (process-tree.ts's endTask), with the leader's status if it ended first.
 */
export function endThreadAlone(k: Kernel, task: Task, status: number): boolean {
  if (!hasOtherThreads(k, task)) return false;
  clearChildTid(k, task);
  stopRunning(task);
  if (task.tgid === task.pid) {
    task.exitedAsThread = true;
    task.waitStatus = status;
  } else {
    removeThread(k, task);
  }
  k.notify();
  return true;
}

/** A thread that is not its process's leader leaves the table; its CPU time stays with the process (the leader's). */
export function removeThread(k: Kernel, thread: Task): void {
  const leader = k.tasks.get(thread.tgid);
  if (leader && leader !== thread) leader.threadsCpu += thread.cpuInstructions + thread.threadsCpu;
  stopRunning(thread);
  k.tasks.delete(thread.pid);
}

/** A task that ended: a zombie, waiting in nothing (a futex queue's entry for it lapses). */
export function stopRunning(task: Task): void {
  task.status = "zombie";
  task.blocked = undefined;
  task.blockedInCall = false;
  task.futexWait = undefined;
}

/** The process ends, or execs: every thread but `keep` goes ("all threads other than the calling thread are destroyed"). */
export function endOtherThreads(k: Kernel, keep: Task): void {
  for (const t of [...k.tasks.values()]) {
    if (t.tgid !== keep.tgid || t === keep) continue;
    if (t.pid === t.tgid) { stopRunning(t); continue; } // the leader stays
    removeThread(k, t);
  }
}

/**
 * execve(2) from a thread that is not the leader: "all other threads ... are destroyed ... the thread ID of the execing
 * thread becomes the thread group ID", so the leader's task (the one its parent knows) goes on as the caller, with the
 * caller's signal mask, and the caller's task leaves the table. The caller is on the hart, and the leader takes it.
 */
export function execingThreadBecomesLeader(k: Kernel, caller: Task): Task {
  endOtherThreads(k, caller);
  if (caller.tgid === caller.pid) return caller;
  const leader = k.tasks.get(caller.tgid);
  if (!leader) return caller;
  leader.status = "running";
  leader.exitedAsThread = false;
  leader.space = caller.space;
  leader.files = caller.files;
  leader.signals = caller.signals;
  leader.clearChildTid = 0;
  leader.blocked = undefined;
  leader.blockedInCall = false;
  leader.sleepDeadline = undefined;
  leader.cpuInstructions = leader.cpuInstructions + caller.cpuInstructions;
  leader.threadsCpu += caller.threadsCpu;
  stopRunning(caller);
  k.tasks.delete(caller.pid);
  k.current = leader; // the registers on the hart are the caller's, and now the leader's
  return leader;
}
