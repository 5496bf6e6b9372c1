// One thread of a guest's process (a process has one, or several sharing its
// address space, descriptor table and signal dispositions: threads.ts): its
// place in the tree (parent, process group, session), its signal mask and
// pending set, and — while another thread holds the hart — its registers. What
// a system call sees as `c`; `pid` is its thread id, `tgid` its process's id.

import type { AddressSpace, AddressSpaceState } from "./address-space.js";
import type { FileTable, FileTableState } from "./files.js";
import type { Kernel } from "./kernel.js";
import type { FutexWait } from "./futexes.js";
import { SignalState, type SigInfo, type SignalStateData } from "./signals.js";
import type { ProcessClock, ProcessConsole, SyscallContext } from "./syscalls.js";

/** Why a process is not running now. */
export type Block =
  | { kind: "input" } // terminal input: runs its system call again when input arrives
  | { kind: "until"; deadlineNs: bigint } // a sleep or a timeout, in guest monotonic time
  // A futex wait: runs again when a FUTEX_WAKE takes it (futexes.ts), a signal comes, or its timeout passes; never for
  // a change elsewhere (a pipe, a child), which would only run every waiting thread's call again to wait on.
  | { kind: "futex"; deadlineNs?: bigint }
  // A pipe, a child, a signal: runs again when the kernel notes a change — or, for
  // poll and select, when terminal input arrives or the timeout passes.
  | { kind: "event"; input?: boolean; deadlineNs?: bigint }
  // A remote file's answer, a postcopy page; `event`: a change here also runs the call again (a poll of local and forwarded descriptors).
  | { kind: "promise"; settled: boolean; event?: boolean };

export type TaskStatus = "running" | "stopped" | "zombie";

/** A resource limit a process set (prlimit64): soft and hard. */
export interface ResourceLimit { cur: bigint; max: bigint }

/** A process as data (its RAM pages travel with the guest's). */
export interface TaskState {
  pid: number;
  /** Its process (thread group): the leader's pid; optional: absent means its own pid (a process of one thread). */
  tgid?: number;
  /** set_tid_address / CLONE_CHILD_CLEARTID: where 0 is written, and a futex woken, when the thread ends (absent: 0). */
  clearChildTid?: number;
  /** set_robust_list: the head of the robust futexes it holds, released as it ends (absent: 0). */
  robustList?: number;
  /** A thread leader that ended with exit(2) while other threads go on (a zombie its parent cannot wait for yet). */
  exitedAsThread?: boolean;
  /** A leader: the CPU time (instructions, decimal) of its threads that ended; absent: "0". */
  threadsCpu?: string;
  /** Woken from a futex wait and not yet back from it (the call returns 0 when it runs again). */
  futexWoken?: boolean;
  ppid: number;
  pgid: number;
  sid: number;
  status: TaskStatus;
  waitStatus: number; // for a zombie: what wait reports (exit code << 8, or the signal)
  exitSignal: number; // sent to the parent at exit (SIGCHLD, or 0)
  registers: Uint8Array; // x0..x31, pc (u32 each)
  cpuInstructions: string; // instructions it retired (decimal)
  /** CPU time (ns) of the children it reaped and of theirs (decimal); optional: states made before it mean "0". */
  childrenCpuNs?: string;
  /** Resource limits it set (getrlimit(2): inherited by fork, kept by execve): [resource, cur, max] (decimal); optional: none. */
  limits?: Array<[number, string, string]>;
  addressSpace: AddressSpaceState | null; // null: shares its vfork parent's or its process's (another thread holds it), or a zombie
  sharesSpaceOf: number; // vfork: the pid whose space it borrows until exec or exit (0 = none)
  vforkChild: number; // vfork parent: the child it waits for (0 = none)
  files: FileTableState | null; // null for a zombie, or a thread whose process's table another thread holds
  signals: SignalStateData;
  blockedInCall: boolean; // its pc is at an ecall it runs again (a signal interrupts it)
  sleepDeadlineNs: string | null;
  suspendedMask: string | null; // rt_sigsuspend's saved mask (decimal), while it waits
  exe: string; // /proc/self/exe: a guest path, or "" for the program the guest was started with
  name: string; // comm
  /** /proc/PID/cmdline: the arguments it was started or last exec'ed with; absent in states made before it: [name]. */
  argv?: string[];
  away: [string, string] | null; // a proxy: the host and guest the process moved to alone
}

export class Task implements SyscallContext {
  space: AddressSpace;
  files: FileTable;
  signals = new SignalState();
  /** What each pending signal's siginfo says (who sent it, why); not kept in a snapshot. */
  readonly pendingInfo = new Map<number, SigInfo>();
  status: TaskStatus = "running";
  waitStatus = 0;
  exitSignal = 17;
  /** x0..x31 and pc, while another process holds the hart. */
  readonly registers = new Uint32Array(33);
  /** Its process: the thread group leader's pid (its own for a process's first thread). */
  tgid: number;
  /** set_tid_address(2): "When a thread whose clear_child_tid is not NULL terminates ... 0 is written at the address". */
  clearChildTid = 0;
  /** set_robust_list(2): the head of the list of robust futexes it holds (0: none given). */
  robustList = 0;
  /** A leader that ended with exit(2) while its other threads go on: its process has not ended. */
  exitedAsThread = false;
  /** A leader: instructions its threads retired before they ended (CLOCK_PROCESS_CPUTIME_ID counts them). */
  threadsCpu = 0n;
  /** Waiting in futex(2), or woken from it and not yet back (futexes.ts). */
  futexWait: FutexWait | undefined;
  /** Instructions it retired before the ones `retired` adds, as a BigInt. */
  private cpuBase = 0n;
  /** Instructions it retired in slices since (a number: the run loop adds a slice's at every system call). */
  private cpuSlices = 0;
  /** The instructions it retired: its CPU clock (calls/time.ts). */
  get cpuInstructions(): bigint {
    return this.cpuBase + BigInt(this.cpuSlices);
  }
  set cpuInstructions(value: bigint) {
    this.cpuBase = value;
    this.cpuSlices = 0;
  }
  /** Counts a slice's instructions without a BigInt each time (exact: folded into the BigInt long before 2^53). */
  retired(instructions: number): void {
    this.cpuSlices += instructions;
    if (this.cpuSlices >= 2 ** 52) { this.cpuBase += BigInt(this.cpuSlices); this.cpuSlices = 0; }
  }
  /** What getrusage(RUSAGE_CHILDREN) and tms_cutime report: each reaped child's CPU time and its own children's, in ns. */
  childrenCpuNs = 0n;
  /** The resource limits it (or a parent before a fork) set; one not here has its default (calls/limits.ts). */
  limits = new Map<number, ResourceLimit>();
  blocked: Block | undefined;
  /** Its pc is at an ecall that runs again when it wakes (a handled signal makes it return EINTR, or restarts it). */
  blockedInCall = false;
  sleepDeadline: bigint | undefined;
  sharesSpaceOf = 0;
  vforkChild = 0;
  exe = "";
  name = "";
  /** The arguments execve gave it (/proc/PID/cmdline). */
  argv: string[] = [];

  /** A new thread or forked child: the program `other` runs, by its path, name and arguments, until an execve. */
  runsProgramOf(other: Task): void {
    this.exe = other.exe;
    this.name = other.name;
    this.argv = other.argv;
  }
  /** Stopped by SIGSTOP/SIGTSTP and not yet reported to a waiting parent (WUNTRACED); likewise a SIGCONT (WCONTINUED). */
  stopReport: "stopped" | "continued" | undefined;
  lastStopSignal = 0;
  /** rt_sigsuspend: the mask to restore once a handler has run. */
  suspendedMask: bigint | undefined;
  /** Moved alone to another host (--children home): this is its proxy in the tree. */
  away: { host: string; guest: string } | undefined;
  /** Questions to a lone process's home (lone-satellite.ts): each round is one question, asked until its answer is taken. */
  remoteRound = 0;
  /** The home said "later" to this wait (asked: idtype/id/options) when it had sent `events` SIGCHLDs: it stands until the next. */
  homeWait: { asked: string; events: number; until: number } | undefined;
  /** The wait a forwarded poll asked of the home in round `round`. */
  pollWait: { round: number; waitMs: number } | undefined;
  /** Why the last fault happened (the first process's report, if it dies of it). */
  faultReport: string | undefined;

  constructor(
    readonly kernel: Kernel,
    readonly pid: number,
    public ppid: number,
    public pgid: number,
    public sid: number,
    space: AddressSpace,
    files: FileTable,
  ) {
    this.space = space;
    this.files = files;
    this.tgid = pid;
  }

  get console(): ProcessConsole {
    return this.kernel.console;
  }

  get clock(): ProcessClock {
    return this.kernel.clock;
  }

  get runnable(): boolean {
    return this.status === "running" && this.blocked === undefined && this.vforkChild === 0 && this.away === undefined;
  }

  /** As data; `holdsShared`: this thread carries its process's space and descriptor table (one thread of each process does). */
  state(holdsShared = true): TaskState {
    const zombie = this.status === "zombie";
    return {
      pid: this.pid,
      ...(this.tgid !== this.pid ? { tgid: this.tgid } : {}),
      ...(this.clearChildTid ? { clearChildTid: this.clearChildTid } : {}),
      ...(this.robustList ? { robustList: this.robustList } : {}),
      ...(this.exitedAsThread ? { exitedAsThread: true } : {}),
      ...(this.threadsCpu ? { threadsCpu: this.threadsCpu.toString() } : {}),
      ...(this.futexWait?.woken ? { futexWoken: true } : {}),
      ppid: this.ppid, pgid: this.pgid, sid: this.sid, status: this.status, waitStatus: this.waitStatus,
      exitSignal: this.exitSignal,
      registers: new Uint8Array(this.registers.buffer.slice(0)),
      cpuInstructions: this.cpuInstructions.toString(), childrenCpuNs: this.childrenCpuNs.toString(),
      addressSpace: zombie || this.sharesSpaceOf || this.away || !holdsShared ? null : this.space.state(),
      sharesSpaceOf: this.sharesSpaceOf, vforkChild: this.vforkChild,
      files: zombie || !holdsShared ? null : this.files.state(),
      signals: this.signals.state(),
      blockedInCall: this.blockedInCall,
      sleepDeadlineNs: this.sleepDeadline === undefined ? null : this.sleepDeadline.toString(),
      suspendedMask: this.suspendedMask === undefined ? null : this.suspendedMask.toString(),
      limits: [...this.limits].map(([resource, l]) => [resource, l.cur.toString(), l.max.toString()]),
      exe: this.exe, name: this.name, argv: this.argv, away: this.away ? [this.away.host, this.away.guest] : null,
    };
  }
}
