// One process of a guest: its address space, descriptor table, signal state,
// place in the tree (parent, process group, session), and — while another
// process holds the hart — its registers. What a system call sees as `c`.

import type { AddressSpace, AddressSpaceState } from "./address-space.js";
import type { FileTable, FileTableState } from "./files.js";
import type { Kernel } from "./kernel.js";
import { SignalState, type SigInfo, type SignalStateData } from "./signals.js";
import type { ProcessClock, ProcessConsole, SyscallContext } from "./syscalls.js";

/** Why a process is not running now. */
export type Block =
  | { kind: "input" } // terminal input: runs its system call again when input arrives
  | { kind: "until"; deadlineNs: bigint } // a sleep or a timeout, in guest monotonic time
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
  addressSpace: AddressSpaceState | null; // null: shares its vfork parent's, or a zombie
  sharesSpaceOf: number; // vfork: the pid whose space it borrows until exec or exit (0 = none)
  vforkChild: number; // vfork parent: the child it waits for (0 = none)
  files: FileTableState | null; // null for a zombie
  signals: SignalStateData;
  blockedInCall: boolean; // its pc is at an ecall it runs again (a signal interrupts it)
  sleepDeadlineNs: string | null;
  suspendedMask: string | null; // rt_sigsuspend's saved mask (decimal), while it waits
  exe: string; // /proc/self/exe: a guest path, or "" for the program the guest was started with
  name: string; // comm
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

  state(): TaskState {
    const zombie = this.status === "zombie";
    return {
      pid: this.pid, ppid: this.ppid, pgid: this.pgid, sid: this.sid, status: this.status, waitStatus: this.waitStatus,
      exitSignal: this.exitSignal,
      registers: new Uint8Array(this.registers.buffer.slice(0)),
      cpuInstructions: this.cpuInstructions.toString(), childrenCpuNs: this.childrenCpuNs.toString(),
      addressSpace: zombie || this.sharesSpaceOf || this.away ? null : this.space.state(),
      sharesSpaceOf: this.sharesSpaceOf, vforkChild: this.vforkChild,
      files: zombie ? null : this.files.state(),
      signals: this.signals.state(),
      blockedInCall: this.blockedInCall,
      sleepDeadlineNs: this.sleepDeadline === undefined ? null : this.sleepDeadline.toString(),
      suspendedMask: this.suspendedMask === undefined ? null : this.suspendedMask.toString(),
      limits: [...this.limits].map(([resource, l]) => [resource, l.cur.toString(), l.max.toString()]),
      exe: this.exe, name: this.name, away: this.away ? [this.away.host, this.away.guest] : null,
    };
  }
}
