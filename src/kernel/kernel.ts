// Process mode's kernel: the guest is a tree of Linux processes (tasks), all in
// one core. Each has its own Sv32 address space in the guest's RAM; the hart
// runs one at a time in U-mode and every trap comes here: system calls, demand
// paging and copy-on-write, faults that become signals. Switching processes is
// cheap — 33 registers, satp, a TLB flush — while decoded code and translations
// are keyed by physical page, so processes that share a program share them.
// The whole tree is one guest: it freezes, migrates and restores as one
// (docs/ARCHITECTURE.md, "Processes").

import { ProcFs } from "./procfs.js";
import {
  CAUSE_BREAKPOINT, CAUSE_ECALL_U, CAUSE_FETCH_PAGE_FAULT, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_MISALIGNED_FETCH, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE, CAUSE_STORE_PAGE_FAULT, CSR_SATP,
  EXIT_BUDGET, EXIT_HOST_TRAP, EXIT_PAGE_MISSING, PRIV_U, RAM_GUEST_BASE, STATE_EXIT_CAUSE, STATE_EXIT_PC, STATE_EXIT_TVAL,
  STATE_HOST_TRAPS, STATE_INSTRET, STATE_PRIV, CSR_MCOUNTEREN, CSR_SCOUNTEREN, STATE_MTIME, STATE_RESERVATION_VALID,
} from "../../assembly/layout.js";
import type { ElfImage } from "../elf/index.js";
import type { Core } from "../machine/core.js";
import type { PostcopyPages } from "../machine/postcopy-pages.js";
import { BatchPacing } from "../machine/batch-pacing.js";
import { WorkMeter } from "../machine/work-meter.js";
import { BusyTime } from "../machine/busy-time.js";
import { AddressSpace, MissingPage, OutOfMemory, PROT_EXEC, PROT_READ, PROT_WRITE, hex, type PhysicalMemory } from "./address-space.js";
import { Errno } from "./errno.js";
import { FileTable, TmpMount, WouldBlock } from "./files.js";
import { Frames } from "./frames.js";
import { loadProcess } from "./loader.js";
import { OpenFiles } from "./open-files.js";
import { Pipe } from "./pipes.js";
import { deliverSignals, sendSignal } from "./deliver.js";
import { endTask } from "./process-tree.js";
import { endThreadAlone, liveThreads, processAlive } from "./threads.js";
import { Futexes } from "./futexes.js";
import { SIGBUS, SIGILL, SIGSEGV, SIGTRAP, SIGWINCH, type SigInfo } from "./signals.js";
import { Terminal, type TerminalState } from "./terminal.js";
import { runSyscallEntry, syscallEntry, type ProcessClock, type ProcessConsole, type SyscallOutcome } from "./syscalls.js";
import { Task } from "./task.js";
import { kernelState, restoreKernel, type KernelState } from "./kernel-state.js";
import { adopt } from "./adopt.js";
import { stackFloor } from "./calls/limits.js";
import type { Home, ProcessImage } from "./lone-process.js";
import type { ProcessInfo } from "../guest/runnable.js";
import { guestAddress } from "./sockets/addresses.js";
import { LocalNames, type SocketNames } from "./sockets/names.js";
import { Sockets } from "./sockets/table.js";
import { receiveMessage } from "./sockets/remote-messages.js";
import type { OutMessage } from "./sockets/remote-peer.js";
import { describeStats } from "../jit/translator-stats.js";
import { nowMs } from "../machine/host-clock.js";

export type { KernelState } from "./kernel-state.js";

export interface KernelOptions {
  core: Core;
  image: ElfImage;
  /** The program's ELF bytes: what /proc/self/exe is until a process execs something else. */
  program?: Uint8Array;
  ramBytes: number;
  root: string; // the sandbox directory
  /**
   * A host directory the guest sees as /tmp, over whatever the root has there (roam run's, for a root without a tmp),
   * or a function that makes it, called when the guest first reaches /tmp.
   */
  tmp?: string | (() => string);
  argv: string[];
  envp: string[];
  console: ProcessConsole;
  /** Resolves when console input arrives (or ends): a blocked read waits on it. */
  inputReady: () => Promise<void>;
  maxInstructions?: number;
  translate?: boolean;
  warn?: (message: string) => void;
  /** Postcopy migration: RAM pages that have not arrived, and how to wait for one. */
  pages?: PostcopyPages;
  /** --strace: each system call with its arguments and result, once it is done (strace.ts formats it). */
  trace?: (task: Task, number: number, args: number[], outcome: SyscallOutcome) => void;
  /** A process that moved here alone (--children home): started from its image, its family at `home`. */
  adopt?: { image: ProcessImage; home: Home };
  /** Where socket names are bound and found: the guest's own (LocalNames) unless a host passes a cluster-wide one. */
  socketNames?: SocketNames;
  /** Sends a message to another guest (docs/MESSAGES.md): the way out of streams that reach other guests. */
  sendMessage?: (message: OutMessage) => void;
  /** The guest's id, from which its IPv4 address on the virtual network is derived (sockets/addresses.ts guestAddress). */
  guestId?: string;
  /** Whether the host has work waiting for another guest: the run loop then ends its batch at the next slice. */
  yieldWanted?: () => boolean;
}

export interface ProcessResult {
  /** true when pause() froze it (at a slice boundary, or at once when blocked in slow I/O): run() continues it. */
  paused?: boolean;
  exitCode: number;
  /** Why it stopped, when not a plain exit: "segmentation fault ...", "instruction limit reached", ... */
  report?: string;
  /** Ended by a broken pipe: a shell says nothing, and neither do we. */
  silent?: boolean;
  instret: bigint;
}

export interface ProcessStats {
  syscalls: Map<string, number>;
  pageFaults: number; // demand-paged pages and copies on write
  wallMs: number;
}

const SLICE = 1_000_000;
/** While translated code compiles in the background: about 1 ms of interpreting, then a yield lets the compile land. */
const SLICE_WHILE_COMPILING = 200_000;
/** How stale (ms of host time) the time CSR may get between slices; a slice is ~1 ms. */
const MTIME_REFRESH_MS = 0.05;
const BATCH_MS = 8;
/** A batch's length while the host has work waiting for another guest: a round trip between two guests of one host costs about two of these. */
const SHARED_BATCH_MS = 0.5;
/**
 * A guest that sent or took a message to or from another guest this recently
 * is in a conversation: its batches are SHARED_BATCH_MS too, because its
 * partner's next message may wait on this host's socket, which the host reads
 * only between batches (a running guest otherwise held each hop back by up to
 * BATCH_MS).
 */
const CONVERSATION_MS = 20;
/** A guest's process limit (RLIMIT_NPROC): fork beyond it fails with EAGAIN, so a fork bomb stops there. */
export const MAX_PROCESSES = 512;
export const FIRST_PID = 1000;

export class MonotonicClock implements ProcessClock {
  /** A clock that reads `startNs` now and runs on from there. */
  static startingAt(startNs: bigint): MonotonicClock {
    return new MonotonicClock(startNs - process.hrtime.bigint());
  }
  constructor(private offsetNs = 0n) {}
  monotonicNs(): bigint { return process.hrtime.bigint() + this.offsetNs; }
  realtimeNs(): bigint { return BigInt(Date.now()) * 1_000_000n; }
}

export class Kernel {
  frames: Frames;
  readonly openFiles = new OpenFiles();
  tasks = new Map<number, Task>();
  pipes = new Map<number, Pipe>();
  /** Threads waiting on futex words (not in a snapshot: a waiter runs its call again where it is restored). */
  futexes = new Futexes();
  readonly sockets: Sockets;
  nextPid = FIRST_PID;
  nextPipe = 1;
  /** The process whose registers are in the hart. */
  current!: Task;
  /** The process the guest was started with: the guest ends when it does. */
  firstPid = FIRST_PID;
  clock: ProcessClock = new MonotonicClock();
  readonly program: Uint8Array;
  readonly stats: ProcessStats = { syscalls: new Map(), pageFaults: 0, wallMs: 0 };
  /** Slices that ran their whole budget: the host's speed (src/cluster/load-vector.ts). */
  readonly busy = new BusyTime();
  readonly warned = new Set<number>();
  /** Set when the first process ends: the guest's result, and its wait status (what a home is told of a lone process). */
  result: ProcessResult | undefined;
  firstStatus: number | undefined;
  readonly memory: PhysicalMemory;
  /** Work done, traps the kernel handled included: what --max-instructions bounds. */
  private readonly work = new WorkMeter();
  private stopRequest: ProcessResult | undefined;
  private pauseRequested = false;
  /** Batch length, the capacity share and auto-converge's throttle (src/machine/batch-pacing.ts). */
  readonly pacing = new BatchPacing();
  private wake: (() => void) | undefined;
  private round = 0; // round-robin position
  /** sched_yield: the next pick passes the hart on (if another task can run), whatever the round. */
  private yielded = false;
  /** When (nowMs) and from which clock the time CSR was last set (see MTIME_REFRESH_MS). */
  private mtimeSetAt = -Infinity;
  private mtimeClock: ProcessClock | undefined;
  private readonly changeWaiters: Array<() => void> = [];

  constructor(readonly options: KernelOptions, restored?: { state: KernelState; restoreMemory: (core: Core) => void; coreReady?: boolean }) {
    const { core, ramBytes } = options;
    core.setTranslation(options.translate ?? true);
    // A migration destination has already initialised the core and received pages into its RAM.
    if (!restored?.coreReady) core.init(ramBytes);
    this.memory = {
      ram: () => core.ram,
      ramGuestBase: RAM_GUEST_BASE,
      wrote: (offset, length) => core.exports.hostWroteRam(RAM_GUEST_BASE + offset, length),
      flushTranslations: () => core.exports.flushTranslations(),
      flushTranslationsOf: (va, pages) => core.exports.flushTranslationsOf(va, pages),
      isMissing: options.pages ? (frame) => options.pages!.isMissing(frame) : undefined,
    };
    this.frames = new Frames(this.memory, ramBytes / 4096);
    this.openFiles.onLastClose = (file) => this.lastClose(file);
    this.openFiles.proc = new ProcFs(this);
    this.sockets = new Sockets(options.socketNames ?? new LocalNames(), guestAddress(options.guestId ?? "local"), () => this.notify());
    this.sockets.clockMs = () => Number(this.clock.monotonicNs() / 1_000_000n);
    this.sockets.guestId = options.guestId ?? "";
    if (options.sendMessage) this.sockets.network = { send: options.sendMessage };
    this.program = options.program ?? new Uint8Array(0);
    if (restored) {
      restoreKernel(this, restored.state, restored.restoreMemory, null);
      this.takeTerminal(restored.state.terminal);
      return;
    }
    if (options.adopt) {
      adopt(this, options.adopt.image, options.root);
      this.home = options.adopt.home;
      return;
    }
    const loaded = loadProcess(this.frames, options.image, options.argv, options.envp);
    const task = new Task(this, FIRST_PID, 1, FIRST_PID, FIRST_PID, loaded.space, FileTable.withConsole(options.root, this.openFiles, tmpMount(options.tmp)));
    task.name = baseName(options.argv[0] ?? "");
    task.argv = options.argv;
    this.nextPid = FIRST_PID + 1;
    this.tasks.set(task.pid, task);
    this.current = task;
    core.setState32(STATE_PRIV, PRIV_U);
    core.setState32(CSR_SATP, loaded.space.satp);
    core.setState32(STATE_HOST_TRAPS, 0xffff); // every exception is the kernel's
    // As Linux allows: user code may read cycle, time and instret.
    core.setState32(CSR_MCOUNTEREN, 7);
    core.setState32(CSR_SCOUNTEREN, 7);
    core.pc = loaded.entry;
    core.setX(2, loaded.sp);
    core.exports.flushCaches();
    this.takeTerminal();
  }

  get core(): Core {
    return this.options.core;
  }

  get console(): ProcessConsole {
    return this.options.console;
  }

  /** The first process's address space (what `ps` and stats describe). */
  get space(): AddressSpace {
    const first = this.tasks.get(this.firstPid);
    return (first && !first.away ? first : this.current).space;
  }

  get instret(): bigint {
    return this.core.state64(STATE_INSTRET);
  }

  /**
   * Brings a restored kernel that has not run yet up to a later state of the
   * same guest: a migration builds it from the state sent before the freeze,
   * then applies the final one. `changed` names the sections that differ.
   */
  update(s: KernelState, restoreMemory: (core: Core) => void, changed: ReadonlySet<string>): void {
    restoreKernel(this, s, restoreMemory, changed);
    if (s.terminal) this.terminal?.load(s.terminal);
  }

  /** Freezes the guest: run() resolves with `paused` at the next slice boundary, or at once when every process waits. */
  pause(): void {
    this.pauseRequested = true;
    this.wake?.();
  }

  /** Ends the guest at once (roam kill): run() resolves with this exit code. */
  stop(report: string, exitCode: number): void {
    this.stopRequest ??= { exitCode, report, instret: this.instret };
    this.wake?.();
  }

  /** Whether Ctrl-C came from the console (the report then says so). */
  consoleInterrupted = false;

  /** Ctrl-C (SIGINT on the host: `kill -INT`, or a terminal the kernel does not read): SIGINT to the foreground process group. */
  interrupt(sig = 2): void {
    const first = this.tasks.get(this.firstPid);
    if (!first) return;
    this.consoleInterrupted = true;
    this.signalGroup(this.terminal?.foreground ?? first.pgid, sig);
  }

  /** `sig` from the kernel (SI_KERNEL) to each process of group `pgid`: the keyboard's signals, SIGTTIN, SIGWINCH. */
  signalGroup(pgid: number, sig: number): void {
    for (const task of this.tasks.values()) {
      // Each process of the group once (its leader stands for its threads).
      if (task.pgid === pgid && task.tgid === task.pid && processAlive(task)) sendSignal(this, task, sig, { signo: sig, code: 0x80, group: pgid });
    }
    this.wake?.();
  }

  /** The guest's terminal (its line discipline), when the console gives the host's keys (ProcessConsole.takeTerminal). */
  terminal: Terminal | undefined;

  /** Takes the host's terminal for the guest (or goes on with the one a snapshot carried). */
  private takeTerminal(state?: TerminalState): void {
    const console = this.options.console;
    if (!console.takeTerminal || !console.isTerminal(0)) return;
    const echoTo = console.isTerminal(1) ? 1 : console.isTerminal(2) ? 2 : 0;
    const host = {
      // Echo goes to the screen: the terminal's own output, whichever of stdout and stderr it is.
      echo: (bytes: Uint8Array) => { if (echoTo) try { console.write(echoTo, bytes); } catch { /* the screen is gone */ } },
      signalGroup: (pgid: number, sig: number) => { this.consoleInterrupted ||= sig === 2; this.signalGroup(pgid, sig); },
      // A read waiting here, or at home for a process that moved alone (lone-home.ts waits for a change), runs again.
      readable: () => { this.wakeInputWaiters(); this.notify(); },
    };
    const terminal = state ? Terminal.restore(host, state) : new Terminal(host, this.tasks.get(this.firstPid)?.sid ?? this.firstPid);
    if (!console.takeTerminal((bytes) => terminal.receive(bytes), () => terminal.hangUp())) return;
    const size = console.windowSize();
    if (size && !state) { terminal.rows = size.rows; terminal.columns = size.columns; }
    this.terminal = terminal;
  }

  /** The terminal's window changed size (the host's did, or TIOCSWINSZ): "SIGWINCH ... sent to the foreground process group". */
  resizeTerminal(rows: number, columns: number): void {
    const tty = this.terminal;
    if (!tty || (tty.rows === rows && tty.columns === columns)) return;
    tty.rows = rows;
    tty.columns = columns;
    this.signalGroup(tty.foreground, SIGWINCH);
  }

  /** Restored from a checkpoint: its streams to other guests learn whether their other ends are still there. */
  probeRemoteStreams(): void {
    this.sockets.probeRemoteStreams();
  }

  /** A message from another guest for this guest's sockets: a malformed one is dropped with a warning. */
  receiveMessage(message: Record<string, unknown>): void {
    this.sockets.lastRemoteAt = nowMs();
    receiveMessage(this.sockets, message, (text) => this.options.warn?.(text));
  }

  /** Something a blocked process may wait for happened (pipe, child, signal): those waiting on events run their call again. */
  notify(): void {
    for (const task of this.tasks.values()) {
      const b = task.blocked;
      if (b?.kind === "event" || (b?.kind === "promise" && b.event)) task.blocked = undefined;
    }
    for (const resolve of this.changeWaiters.splice(0)) resolve();
    this.wake?.();
  }

  /** Resolves at the next notify(): what a home host waits on for a lone process's blocked I/O. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  /** A signal for a process that moved alone to another host (lone-process.ts): the host passes it on. */
  onAwaySignal: ((task: Task, sig: number, info: SigInfo) => void) | undefined;
  /** The process that moved here alone stopped (CLD_STOPPED) or went on (CLD_CONTINUED): its parent is at home, which is told. */
  onStopReport: ((code: number, sig: number) => void) | undefined;
  /** A lone process's home (it was started from a ProcessImage): kills of other pids go there. */
  home: Home | undefined;
  /** A lone process's children at home, as the home last said: its waits ask there while there are any. */
  homeChildren = 0;
  /** SIGCHLDs that came from home: a wait that heard "later" asks again after each. */
  homeChildEvents = 0;

  // ---- Processes -------------------------------------------------------------------

  /** Puts `task`'s registers and page tables on the hart. */
  switchTo(task: Task): void {
    if (task === this.current) return;
    const core = this.core;
    const leaving = this.current;
    for (let r = 0; r < 32; r++) leaving.registers[r] = core.x(r);
    leaving.registers[32] = core.pc;
    for (let r = 1; r < 32; r++) core.setX(r, task.registers[r]);
    core.pc = task.registers[32];
    core.setState32(STATE_RESERVATION_VALID, 0); // "an SC may fail ... if there was a context switch"
    if (task.space !== leaving.space || leaving.status === "zombie") {
      core.setState32(CSR_SATP, task.space.satp);
      core.exports.flushTranslations();
    } // two threads of one process: the same page tables, nothing cached to drop
    this.current = task;
  }

  /** The registers of `task` (x0..x31, pc), wherever they are now. */
  registersOf(task: Task): Uint32Array {
    if (task !== this.current) return task.registers;
    const out = new Uint32Array(33);
    for (let r = 0; r < 32; r++) out[r] = this.core.x(r);
    out[32] = this.core.pc;
    return out;
  }

  /** Sets the registers of `task` (x0..x31, pc). */
  setRegistersOf(task: Task, registers: Uint32Array): void {
    if (task !== this.current) { task.registers.set(registers); return; }
    for (let r = 1; r < 32; r++) this.core.setX(r, registers[r]);
    this.core.pc = registers[32];
  }

  newPipe(): Pipe {
    const pipe = new Pipe(this.nextPipe++);
    this.pipes.set(pipe.id, pipe);
    return pipe;
  }

  /** A description's last descriptor closed: a pipe end goes (readers see EOF, writers get EPIPE). */
  private lastClose(file: { kind: string; pipe?: number; socket?: number; flags: number }): void {
    if (file.kind === "socket" && file.socket !== undefined) {
      const socket = this.sockets.get(file.socket);
      if (socket) this.sockets.close(socket);
      return;
    }
    if (file.kind !== "pipe" || file.pipe === undefined) return;
    const pipe = this.pipes.get(file.pipe);
    if (!pipe) return;
    if ((file.flags & 3) === 0) pipe.readers--; else pipe.writers--;
    if (pipe.readers <= 0 && pipe.writers <= 0) this.pipes.delete(pipe.id);
    this.notify();
  }

  // ---- The run loop -------------------------------------------------------------------

  async run(): Promise<ProcessResult> {
    const started = nowMs();
    let result: ProcessResult | undefined;
    try {
      result = await this.loop();
      return result;
    } finally {
      this.stats.wallMs += nowMs() - started;
      if (!result?.paused) this.shutDown();
    }
  }

  /** The guest is over: every process still there ends, and its files close. */
  private shutDown(): void {
    for (const task of this.tasks.values()) if (task.status !== "zombie") task.files.closeAll();
    this.openFiles.closeAll();
  }

  private conversing(now: number): boolean {
    return this.options.yieldWanted?.() === true || now - this.sockets.lastRemoteAt < CONVERSATION_MS;
  }

  private async loop(): Promise<ProcessResult> {
    const limit = this.options.maxInstructions;
    for (;;) {
      const batchStart = nowMs();
      const instretAtStart = this.core.state64Number(STATE_INSTRET);
      const batch = this.pacing.batchMs(this.options.pages, BATCH_MS);
      const allowed = this.pacing.allowed();
      this.sockets.runTimers(); // syns that may have died on the way go again; closed streams stop lingering
      for (let now = batchStart; now - batchStart < batch;) {
        if (this.stopRequest) return this.stopRequest;
        if (this.result) return this.result;
        if (this.pauseRequested) {
          this.pauseRequested = false;
          return { paused: true, exitCode: 0, instret: this.instret };
        }
        const task = this.pickRunnable();
        if (!task) { await this.waitForAnyWake(); break; }
        this.switchTo(task);
        if (task.signals.pending !== 0n || task.signals.process.bits !== 0n) {
          deliverSignals(this, task);
          if (!task.runnable) { now = nowMs(); continue; }
        }
        const allowedLeft = allowed - (this.core.state64Number(STATE_INSTRET) - instretAtStart);
        if (allowedLeft <= 0) break; // the share is spent: wait for it below
        const compiling = this.core.translator?.compiling ?? false;
        let budget = Math.min(compiling ? SLICE_WHILE_COMPILING : SLICE, allowedLeft);
        if (limit !== undefined) {
          const left = limit - this.work.spent;
          if (left <= 0) return this.limitReached();
          budget = Math.min(budget, left);
        }
        // Awaited only when the slice must wait (a page on its way): an await per slice is a turn of the microtask
        // queue per system call, which showed in profiles of programs making many (4 KiB reads of a file).
        const sliced = this.runSlice(task, budget, now);
        const outcome = typeof sliced === "string" ? sliced : await sliced;
        now = nowMs();
        // The host has work for another guest (a message this one just sent it), or this guest is in a conversation with
        // another: end the batch after SHARED_BATCH_MS, so a guest that spins (poll with no time left) does not hold its
        // partner's answer back for a whole BATCH_MS.
        if (outcome === "yield" || (now - batchStart >= SHARED_BATCH_MS && this.conversing(now))) break;
        if (compiling || this.core.translator?.compiling) break; // its promise resolves only in the event loop
      }
      const waitMs = this.pacing.idleAfter(batchStart, this.core.state64Number(STATE_INSTRET) - instretAtStart);
      if (waitMs > 0) await this.waitFor(new Promise((resolve) => setTimeout(resolve, waitMs)));
      else await new Promise<void>((resolve) => setImmediate(resolve)); // let I/O and timers in
    }
  }

  /** The next process that can run, round robin; undefined when every one waits. */
  /** The task on the hart gives it up: the next runnable one takes it (sched_yield). */
  yieldHart(): void {
    this.yielded = true;
  }

  private pickRunnable(): Task | undefined {
    if (this.current.runnable && !this.yielded && this.round++ % 4 !== 0) return this.current; // stay a few slices: switches cost a TLB
    this.yielded = false;
    const list = [...this.tasks.values()];
    const start = list.indexOf(this.current);
    for (let i = 1; i <= list.length; i++) {
      const t = list[(start + i) % list.length];
      if (t.runnable) return t;
    }
    return undefined;
  }

  /**
   * Runs `task` for up to `budget` instructions, from host time `ranFrom` (ms), and handles the trap that ends the
   * slice. A promise only when the slice must wait before the loop goes on.
   */
  private runSlice(task: Task, budget: number, ranFrom: number): "continue" | "yield" | Promise<"yield"> {
    const core = this.core;
    // The time CSR reads mtime: the guest's clock at 10 MHz, as on QEMU's virt board. Set again once MTIME_REFRESH_MS
    // have passed (by the loop's clock, read once a slice anyway): a slice already sees the time it started at, and a
    // read of the guest's clock per slice, so per system call, cost ~0.1 us on this machine.
    if (!(ranFrom - this.mtimeSetAt < MTIME_REFRESH_MS) || this.mtimeClock !== this.clock) {
      core.setState64(STATE_MTIME, this.clock.monotonicNs() / 100n);
      this.mtimeSetAt = ranFrom;
      this.mtimeClock = this.clock;
    }
    const reason = core.run(budget);
    const ran = core.retired;
    task.retired(ran);
    if (reason === EXIT_BUDGET) {
      this.busy.add(ran, nowMs() - ranFrom); // only flat-out slices: one ended by a system call says little of speed
      this.work.charge(reason, budget, ran);
      return "continue";
    }
    if (reason === EXIT_PAGE_MISSING && this.options.pages) {
      return this.waitFor(this.options.pages.fetch(core.state32(STATE_EXIT_CAUSE))).then(() => "yield" as const);
    }
    if (reason !== EXIT_HOST_TRAP) {
      this.fault(task, SIGSEGV, `unexpected core exit ${reason} at pc ${hex(core.pc)}`);
      return "continue";
    }
    let waitOn: Promise<void> | undefined;
    let wakeOnEvent = false;
    const instretAfterRun = core.state64Number(STATE_INSTRET);
    try {
      this.trap(task);
    } catch (error) {
      if (error instanceof WouldBlock) { waitOn = error.until; wakeOnEvent = error.wakeOnEvent; } // a file on another host: the call runs again when its answer is here
      else if (error instanceof MissingPage && this.options.pages) waitOn = this.options.pages.fetch(error.frame); // postcopy
      else throw error;
    }
    // A trap the kernel handled costs work even when it retired nothing (a page it mapped); an ecall it retired counts.
    this.work.charge(reason, budget, ran + (core.state64Number(STATE_INSTRET) - instretAfterRun));
    if (waitOn) {
      const block = { kind: "promise" as const, settled: false, event: wakeOnEvent };
      task.blocked = block;
      void waitOn.then(() => { block.settled = true; if (task.blocked === block) task.blocked = undefined; this.wake?.(); });
    }
    return "continue";
  }

  /** Handles the trap that ended `task`'s slice. */
  private trap(task: Task): void {
    const core = this.core;
    const cause = core.state32(STATE_EXIT_CAUSE);
    const tval = core.state32(STATE_EXIT_TVAL);
    const pc = core.state32(STATE_EXIT_PC);
    switch (cause) {
      case CAUSE_ECALL_U:
        return this.syscall(task);
      case CAUSE_FETCH_PAGE_FAULT:
      case CAUSE_LOAD_PAGE_FAULT:
      case CAUSE_STORE_PAGE_FAULT: {
        const needed = cause === CAUSE_FETCH_PAGE_FAULT ? PROT_EXEC : cause === CAUSE_LOAD_PAGE_FAULT ? PROT_READ : PROT_WRITE;
        try {
          if (!this.beyondStackLimit(task, tval) && task.space.handleFault(tval, needed)) { this.stats.pageFaults++; return; }
        } catch (error) {
          if (error instanceof OutOfMemory) return this.fault(task, SIGSEGV, `out of memory (${this.options.ramBytes >> 20} MiB of guest RAM) at pc ${hex(pc)}`, tval);
          throw error;
        }
        const what = cause === CAUSE_FETCH_PAGE_FAULT ? "execute" : cause === CAUSE_LOAD_PAGE_FAULT ? "read" : "write";
        return this.fault(task, SIGSEGV, `segmentation fault: ${what} at address ${hex(tval)} (pc ${hex(pc)})`, tval);
      }
      case CAUSE_ILLEGAL_INSTRUCTION:
        return this.fault(task, SIGILL, `illegal instruction ${hex(tval)} at pc ${hex(pc)}`);
      case CAUSE_BREAKPOINT:
        return this.fault(task, SIGTRAP, `breakpoint at pc ${hex(pc)}`);
      case CAUSE_MISALIGNED_FETCH:
      case CAUSE_MISALIGNED_LOAD:
      case CAUSE_MISALIGNED_STORE:
        return this.fault(task, SIGBUS, `bus error: misaligned access to ${hex(tval)} (pc ${hex(pc)})`, tval);
      default:
        return this.fault(task, SIGSEGV, `segmentation fault: access fault (cause ${cause}) at ${hex(tval)} (pc ${hex(pc)})`, tval);
    }
  }

  /** A stack page below what RLIMIT_STACK lets the stack grow to (Linux refuses to grow the stack there: SIGSEGV). */
  private beyondStackLimit(task: Task, address: number): boolean {
    const region = task.space.regionAt(address);
    return region?.kind === "stack" && address < stackFloor(task, region.end) && !task.space.isMapped(address);
  }

  /**
   * A fault in `task`: the signal is delivered at once. A handler runs (and the
   * instruction runs again after it returns, as on Linux); with none, the
   * process dies, and if it is the first one `report` says why.
   */
  private fault(task: Task, sig: number, report: string, address?: number): void {
    task.faultReport = `${report}, ${this.instret} instructions retired`;
    sendSignal(this, task, sig, { signo: sig, code: 0x80, address }, true);
    deliverSignals(this, task);
  }

  private syscall(task: Task): void {
    const core = this.core;
    const number = core.x(17);
    const a0 = core.x(10), a1 = core.x(11), a2 = core.x(12), a3 = core.x(13), a4 = core.x(14), a5 = core.x(15);
    this.openFiles.readAhead.beforeSyscall(task.files, number, a0, task.console);
    const entry = syscallEntry(number);
    const name = entry?.[0] ?? `syscall ${number}`;
    let result = entry ? runSyscallEntry(task, entry, a0, a1, a2, a3, a4, a5) : undefined;
    if (result === undefined) {
      if (!this.warned.has(number)) {
        this.warned.add(number);
        this.options.warn?.(`unsupported system call ${number}; it returns ENOSYS`);
      }
      result = -Errno.ENOSYS;
    }
    // A value or -errno, nearly always as a number (no outcome object made for it); a few calls still build one.
    if (typeof result !== "number" && result.kind === "return") result = result.value;
    const blocks = typeof result !== "number" && (result.kind === "block-input" || result.kind === "block-until" || result.kind === "block-event" || result.kind === "block-futex");
    if (this.options.trace && !blocks) {
      this.options.trace(task, number, [a0, a1, a2, a3, a4, a5], typeof result === "number" ? { kind: "return", value: result } : result);
    }
    if (typeof result === "number") {
      this.count(name);
      task.blockedInCall = false;
      core.setX(10, result);
      this.retireEcall();
      return;
    }
    const outcome = result;
    switch (outcome.kind) {
      case "jumped": // execve, rt_sigreturn: the call set the registers itself
        this.count(name);
        task.blockedInCall = false;
        core.setState64Number(STATE_INSTRET, core.state64Number(STATE_INSTRET) + 1);
        return;
      case "exit":
        this.count(name);
        this.retireEcall();
        if (outcome.thread && endThreadAlone(this, task, (outcome.code & 0xff) << 8)) return;
        endTask(this, task, (outcome.code & 0xff) << 8);
        return;
      case "block-input":
        // The ecall stays unretired: it runs again once input is there.
        task.blocked = { kind: "input" };
        task.blockedInCall = true;
        break;
      case "block-until":
        task.blocked = { kind: "until", deadlineNs: outcome.deadlineNs };
        task.blockedInCall = true;
        break;
      case "block-futex":
        task.blocked = { kind: "futex", deadlineNs: outcome.deadlineNs };
        task.blockedInCall = true;
        break;
      case "block-event":
        task.blocked = { kind: "event", input: outcome.input, deadlineNs: outcome.deadlineNs };
        task.blockedInCall = true;
        break;
    }
    // A signal that can be delivered now is never left waiting behind a block: the loop delivers it next.
    if (task.signals.next() !== 0) task.blocked = undefined;
  }

  private count(name: string): void {
    this.stats.syscalls.set(name, (this.stats.syscalls.get(name) ?? 0) + 1);
  }

  private retireEcall(): void {
    const core = this.core;
    core.pc = core.state32(STATE_EXIT_PC) + 4;
    core.setState64Number(STATE_INSTRET, core.state64Number(STATE_INSTRET) + 1);
  }

  /** Every process waits: sleep until input, a timer, an answer, or a request wakes one. */
  private async waitForAnyWake(): Promise<void> {
    const now = this.clock.monotonicNs();
    let earliest: bigint | undefined;
    let input = false;
    for (const task of this.tasks.values()) {
      const b = task.blocked;
      const deadline = b?.kind === "until" || b?.kind === "event" || b?.kind === "futex" ? b.deadlineNs : undefined;
      if (deadline !== undefined) {
        if (deadline <= now) { task.blocked = undefined; return; }
        if (earliest === undefined || deadline < earliest) earliest = deadline;
      }
      if (b?.kind === "input" || (b?.kind === "event" && b.input)) input = true;
    }
    // A socket timer (a syn retry, a linger's end: table.ts runTimers) wakes the loop, which runs it.
    const socketTimer = this.sockets.nextTimerMs;
    if (socketTimer !== Infinity) {
      const at = BigInt(socketTimer) * 1_000_000n;
      if (at <= now) return;
      if (earliest === undefined || at < earliest) earliest = at;
    }
    const events: Array<Promise<unknown>> = [];
    let timer: NodeJS.Timeout | undefined;
    if (earliest !== undefined) {
      const ms = Math.max(0, Math.ceil(Number(earliest - now) / 1e6));
      events.push(new Promise((resolve) => { timer = setTimeout(resolve, ms); }));
    }
    if (input) events.push(this.options.inputReady().then(() => this.wakeInputWaiters()));
    let keepAlive: NodeJS.Timeout | undefined;
    if (events.length === 0 && ![...this.tasks.values()].some((t) => t.blocked?.kind === "promise")) {
      // Nothing in the guest can wake a process (pause(), a deadlock the guest made): as on Linux it waits until a
      // signal comes from outside (Ctrl-C, `roam kill`). The timer keeps Node's event loop alive meanwhile: without
      // it `roam run` ended at once, as if the guest had exited with 0.
      keepAlive = setInterval(() => {}, 2 ** 30);
      events.push(new Promise(() => {}));
    }
    try {
      await this.waitFor(Promise.race(events).then(() => {}));
    } finally {
      if (timer) clearTimeout(timer);
      if (keepAlive) clearInterval(keepAlive);
    }
    const after = this.clock.monotonicNs();
    for (const task of this.tasks.values()) {
      const b = task.blocked;
      const deadline = b?.kind === "until" || b?.kind === "event" || b?.kind === "futex" ? b.deadlineNs : undefined;
      if (deadline !== undefined && deadline <= after) task.blocked = undefined;
    }
  }

  private wakeInputWaiters(): void {
    for (const task of this.tasks.values()) {
      const b = task.blocked;
      if (b?.kind === "input" || (b?.kind === "event" && b.input)) task.blocked = undefined;
    }
  }

  private waitFor(event: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      void event.then(resolve);
    }).finally(() => { this.wake = undefined; });
  }

  private limitReached(): ProcessResult {
    const storm = this.work.stalled ? ` in a trap storm (${this.work.describeStorm()})` : "";
    return { exitCode: 124, report: `instruction limit reached${storm} (pc ${hex(this.core.pc)})`, instret: this.instret };
  }

  /** The kernel's state, for a snapshot (take it while paused). */
  state(): KernelState {
    return kernelState(this);
  }

  /** Every process, parents first, for ps: each once (its leader), with its threads' state and CPU time. */
  processList(): ProcessInfo[] {
    const rows: ProcessInfo[] = [];
    for (const t of this.tasks.values()) {
      if (t.tgid !== t.pid) continue;
      const threads = liveThreads(this, t);
      const cpu = threads.reduce((sum, o) => sum + (o === t ? 0n : o.cpuInstructions), t.cpuInstructions + t.threadsCpu);
      const shown = threads.length > 0 ? threads : [t];
      const state = t.away ? "away" : shown.some((o) => o.runnable) ? "running" : shown[0].status !== "running" ? shown[0].status : "waiting";
      rows.push({ pid: t.pid, ppid: t.ppid, name: t.name || baseName(this.options.argv[0] ?? ""), cpuInstructions: Number(cpu), state, ...(threads.length > 1 ? { threads: threads.length } : {}) });
    }
    return rows;
  }

  /**
   * The RAM page the first process's page tables map at `pageVA` for execution, mapped in if it is a demand page; -1
   * if none (the translator's warm start: jit/warm-start.ts).
   */
  codeFrame(pageVA: number): number {
    try {
      const offset = this.space.ramOffset(pageVA, PROT_EXEC);
      return offset < 0 ? -1 : Math.floor(offset / 4096);
    } catch {
      return -1; // no frame left for it: the guest will fault there as it would have
    }
  }

  /** How many processes the guest has started (the first included). */
  get processesStarted(): number {
    return this.nextPid - FIRST_PID;
  }

  formatStats(): string {
    const instructions = Number(this.instret);
    const seconds = this.stats.wallMs / 1000;
    const calls = [...this.stats.syscalls.entries()].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c}`).join(", ");
    const translator = this.core.translator, t = translator?.stats;
    return [
      `instructions retired: ${instructions}`,
      `wall time: ${seconds.toFixed(3)} s; speed: ${seconds > 0 ? mipsText(instructions / seconds / 1e6) : "-"} MIPS`,
      `page faults (demand paging): ${this.stats.pageFaults}; resident pages: ${this.frames.peak}`,
      `processes: ${this.processesStarted} started`,
      `system calls: ${calls || "none"}`,
      ...(t ? [describeStats(t, instructions, translator!.translatedRetired())] : []),
    ].join("\n");
  }
}

/** MIPS with the digits that matter: a short program on a loaded machine runs at well under 0.1. */
function mipsText(mips: number): string {
  return mips >= 10 ? mips.toFixed(1) : mips.toFixed(Math.min(6, Math.max(1, 1 - Math.floor(Math.log10(mips || 1)))));
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1).slice(0, 15);
}

/** The /tmp mount of a kernel's `tmp` option: a directory, or the function that makes it. */
function tmpMount(tmp: string | (() => string) | undefined): TmpMount | undefined {
  if (tmp === undefined) return undefined;
  return new TmpMount(typeof tmp === "string" ? () => tmp : tmp);
}
