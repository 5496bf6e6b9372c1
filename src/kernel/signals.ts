// Signals, as signal(7) has them: per process a disposition for each signal and
// a set of signals pending for the process as a whole; per thread a mask of
// blocked signals and a set of signals pending for that thread alone. A handler runs on the
// process's stack (or its alternate stack) in a frame the kernel builds —
// siginfo, then a ucontext holding the interrupted registers and mask — with
// ra pointing at the sigreturn trampoline the kernel maps into every process
// (as Linux's vDSO provides __vdso_rt_sigreturn on RISC-V); rt_sigreturn puts
// the registers and mask back from that frame.

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9;
export const SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18;
export const SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGWINCH = 28;
export const NSIG = 64;

export const SIG_DFL = 0, SIG_IGN = 1;
export const SA_NOCLDSTOP = 1, SA_NOCLDWAIT = 2, SA_SIGINFO = 4, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
export const SS_ONSTACK = 1, SS_DISABLE = 2;

/** The sigreturn trampoline's page: above the stack, below the top of user space. */
export const TRAMPOLINE_PAGE = 0x7ffff000;
/** `li a7, 139` (rt_sigreturn); `ecall` */
export const TRAMPOLINE_CODE = [0x08b00893, 0x00000073];

export type DefaultAction = "terminate" | "core" | "ignore" | "stop" | "continue";

/** signal(7)'s "Default action" column. */
export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: return "ignore";
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: return "stop";
    case SIGCONT: return "continue";
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: return "core";
    default: return "terminate";
  }
}

export const bit = (sig: number): bigint => 1n << BigInt(sig - 1);
/** "The signals SIGKILL and SIGSTOP cannot be caught, blocked, or ignored." */
export const UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);
export const ALL_SIGNALS = (1n << 64n) - 1n;

export interface SignalAction {
  handler: number; // SIG_DFL, SIG_IGN or an address
  flags: number;
  mask: bigint;
  restorer: number;
}

/** A thread's signal state as data: sets as decimal text (64-bit), actions only where not SIG_DFL. */
export interface SignalStateData {
  mask: string;
  pending: string;
  /** Pending for the whole process (kill(2)); optional: states made before threads had it only in `pending`. */
  processPending?: string;
  actions: Array<[number, number, number, string, number]>; // signal, handler, flags, mask, restorer
  altStack: [number, number, number]; // ss_sp, ss_flags, ss_size
}

/** What a process's threads share of pending signals: those sent to the process, which any thread not blocking them takes. */
export interface ProcessPending {
  bits: bigint;
  /** What each one's siginfo says; not kept in a snapshot. */
  readonly info: Map<number, SigInfo>;
}

export class SignalState {
  /** Dispositions: one table for all of a process's threads (clone(2)'s CLONE_SIGHAND). Absent = SIG_DFL. */
  actions = new Map<number, SignalAction>();
  /** "A process-directed signal may be delivered to any one of the threads that does not currently have the signal blocked." */
  process: ProcessPending = { bits: 0n, info: new Map() };
  mask = 0n;
  /** Pending for this thread alone (tgkill, a fault, SIGPIPE). */
  pending = 0n;
  altStack: [number, number, number] = [0, SS_DISABLE, 0];

  action(sig: number): SignalAction {
    return this.actions.get(sig) ?? { handler: SIG_DFL, flags: 0, mask: 0n, restorer: 0 };
  }

  /** fork: "The child inherits copies of the parent's set of open file descriptors... signal dispositions, mask"; pending is emptied. */
  fork(): SignalState {
    const child = new SignalState();
    for (const [sig, a] of this.actions) child.actions.set(sig, { ...a });
    child.mask = this.mask;
    child.altStack = [...this.altStack];
    return child;
  }

  /** A new thread: the same dispositions and process-wide pending set; "the signal mask is inherited", nothing pending for it. */
  thread(): SignalState {
    const thread = new SignalState();
    thread.actions = this.actions;
    thread.process = this.process;
    thread.mask = this.mask;
    return thread; // no alternate stack: clone(2) clears it for a thread sharing the caller's memory
  }

  /** Pending for this thread or its process. */
  get anyPending(): bigint {
    return this.pending | this.process.bits;
  }

  /** Takes `sig` off the pending sets, this thread's first; its siginfo if one was kept. */
  take(sig: number, threadInfo: Map<number, SigInfo>): SigInfo {
    const b = bit(sig);
    let info: SigInfo | undefined;
    if (this.pending & b) {
      this.pending &= ~b;
      info = threadInfo.get(sig);
      threadInfo.delete(sig);
    } else {
      this.process.bits &= ~b;
      info = this.process.info.get(sig);
      this.process.info.delete(sig);
    }
    return info ?? { signo: sig, code: 0 };
  }

  /** execve: "dispositions of any signals that are being caught are reset to the default"; ignored stay ignored. */
  execed(): void {
    for (const [sig, a] of [...this.actions]) if (a.handler !== SIG_IGN) this.actions.delete(sig);
    this.altStack = [0, SS_DISABLE, 0];
  }

  /** Whether sending `sig` does anything at all (an ignored signal is discarded on arrival). */
  ignored(sig: number): boolean {
    const a = this.action(sig);
    return a.handler === SIG_IGN || (a.handler === SIG_DFL && defaultAction(sig) === "ignore");
  }

  /** The lowest pending signal (this thread's or its process's) not blocked, or 0. */
  next(): number {
    const ready = (this.pending | this.process.bits) & ~(this.mask & ~UNBLOCKABLE);
    if (ready === 0n) return 0;
    for (let sig = 1; sig <= NSIG; sig++) if (ready & bit(sig)) return sig;
    return 0;
  }

  state(): SignalStateData {
    return {
      mask: this.mask.toString(),
      pending: this.pending.toString(),
      ...(this.process.bits !== 0n ? { processPending: this.process.bits.toString() } : {}),
      actions: [...this.actions].map(([sig, a]) => [sig, a.handler, a.flags, a.mask.toString(), a.restorer]),
      altStack: [...this.altStack],
    };
  }

  static restore(d: SignalStateData): SignalState {
    const s = new SignalState();
    s.mask = BigInt(d.mask);
    s.pending = BigInt(d.pending);
    s.process.bits = BigInt(d.processPending ?? "0");
    for (const [sig, handler, flags, mask, restorer] of d.actions) s.actions.set(sig, { handler, flags, mask: BigInt(mask), restorer });
    s.altStack = [...d.altStack];
    return s;
  }
}

// ---- The handler's frame (RISC-V Linux: struct rt_sigframe { siginfo_t info; struct ucontext uc; }) ----

export const SIGINFO_SIZE = 128;
const UC_STACK = 8, UC_SIGMASK = 20, UC_MCONTEXT = 160; // mcontext is 16-byte aligned (its FP union holds quads)
const UCONTEXT_SIZE = UC_MCONTEXT + 128 + 528;
export const FRAME_SIZE = (SIGINFO_SIZE + UCONTEXT_SIZE + 15) & ~15;

export interface SigInfo {
  signo: number;
  code: number; // SI_USER 0, SI_KERNEL 0x80, SI_TKILL -6, CLD_* for SIGCHLD
  pid?: number;
  uid?: number;
  status?: number; // SIGCHLD: the exit code or signal
  address?: number; // SIGSEGV, SIGBUS: the faulting address
  /** Sent to a process group (-1: to every process): a process that moved alone passes it on to that group's members there. */
  group?: number;
}

export function sigInfoBytes(info: SigInfo): Uint8Array {
  const out = new Uint8Array(SIGINFO_SIZE);
  const v = new DataView(out.buffer);
  v.setInt32(0, info.signo, true);
  v.setInt32(8, info.code, true);
  if (info.address !== undefined) v.setUint32(12, info.address >>> 0, true);
  else {
    v.setInt32(12, info.pid ?? 0, true);
    v.setInt32(16, info.uid ?? 0, true);
    if (info.status !== undefined) v.setInt32(20, info.status, true);
  }
  return out;
}

/** siginfo then ucontext: the interrupted registers (pc, x1..x31) and the mask to restore. */
export function frameBytes(info: SigInfo, registers: Uint32Array, oldMask: bigint, altStack: [number, number, number]): Uint8Array {
  const out = new Uint8Array(FRAME_SIZE);
  out.set(sigInfoBytes(info), 0);
  const v = new DataView(out.buffer, SIGINFO_SIZE);
  v.setUint32(UC_STACK, altStack[0] >>> 0, true);
  v.setInt32(UC_STACK + 4, altStack[1], true);
  v.setUint32(UC_STACK + 8, altStack[2] >>> 0, true);
  v.setBigUint64(UC_SIGMASK, oldMask, true);
  v.setUint32(UC_MCONTEXT, registers[32], true); // pc
  for (let r = 1; r < 32; r++) v.setUint32(UC_MCONTEXT + r * 4, registers[r], true);
  return out;
}

/** What rt_sigreturn reads back from a frame at `frame`: registers (x0..x31, pc) and the mask. */
export function readFrame(bytes: Uint8Array): { registers: Uint32Array; mask: bigint } {
  const v = new DataView(bytes.buffer, bytes.byteOffset + SIGINFO_SIZE);
  const registers = new Uint32Array(33);
  registers[32] = v.getUint32(UC_MCONTEXT, true);
  for (let r = 1; r < 32; r++) registers[r] = v.getUint32(UC_MCONTEXT + r * 4, true);
  return { registers, mask: v.getBigUint64(UC_SIGMASK, true) };
}
