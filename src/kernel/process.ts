// Process mode: a static RV32 Linux program runs in U-mode on page tables the
// host built, and every trap comes to the host, which is its kernel: system
// calls, demand paging, and the fatal faults a shell would report.

import {
  CAUSE_BREAKPOINT, CAUSE_ECALL_U, CAUSE_FETCH_PAGE_FAULT, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_MISALIGNED_FETCH, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE, CAUSE_STORE_PAGE_FAULT, CSR_SATP,
  EXIT_BUDGET, EXIT_HOST_TRAP, EXIT_PAGE_MISSING, PRIV_U, RAM_GUEST_BASE, STATE_EXIT_CAUSE, STATE_EXIT_PC, STATE_EXIT_TVAL,
  STATE_HOST_TRAPS, STATE_INSTRET, STATE_PRIV, CSR_MCOUNTEREN, CSR_SCOUNTEREN, STATE_MTIME,
} from "../../assembly/layout.js";
import type { ElfImage } from "../elf/index.js";
import type { Core } from "../machine/core.js";
import { batchMs, type PostcopyPages } from "../machine/postcopy-pages.js";
import { WorkMeter } from "../machine/work-meter.js";
import { AddressSpace, MissingPage, OutOfMemory, PROT_EXEC, PROT_READ, PROT_WRITE, hex, type AddressSpaceState, type PhysicalMemory } from "./address-space.js";
import { Errno } from "./errno.js";
import { FileTable, WouldBlock, type FileTableState } from "./files.js";
import { loadProcess } from "./loader.js";
import { runSyscall, syscallName, type ProcessClock, type ProcessConsole, type SyscallContext } from "./syscalls.js";

export interface ProcessOptions {
  core: Core;
  image: ElfImage;
  ramBytes: number;
  root: string; // the sandbox directory
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
  pageFaults: number; // demand-paged pages
  wallMs: number;
}

// Signals, for the exit status a shell would show (128 + signal number).
const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGSEGV = 11;
const SLICE = 1_000_000;
const BATCH_MS = 8;

/** The kernel's state of one process, as plain data (RAM and the hart travel separately). */
export interface ProcessState {
  schemaVersion: 1;
  addressSpace: AddressSpaceState;
  files: FileTableState;
  pid: number;
  guestClockNs: string; // guest monotonic time at the snapshot (a bigint, as text)
  sleepDeadlineNs: string | null; // a sleep the pending ecall started
  warnedSyscalls: number[];
  syscalls: Array<[string, number]>;
  pageFaults: number;
}

export class MonotonicClock implements ProcessClock {
  /** A clock that reads `startNs` now and runs on from there. */
  static startingAt(startNs: bigint): MonotonicClock {
    return new MonotonicClock(startNs - process.hrtime.bigint());
  }
  constructor(private offsetNs = 0n) {}
  monotonicNs(): bigint { return process.hrtime.bigint() + this.offsetNs; }
  realtimeNs(): bigint { return BigInt(Date.now()) * 1_000_000n; }
}

export class Process {
  space: AddressSpace; // replaced when a migration brings a later state
  private readonly memory: PhysicalMemory;
  readonly files: FileTable;
  readonly stats: ProcessStats = { syscalls: new Map(), pageFaults: 0, wallMs: 0 };
  /** Work done, traps the kernel handled included: what --max-instructions bounds. */
  private readonly work = new WorkMeter();
  private readonly context: SyscallContext;
  private readonly warned = new Set<number>();
  private stopRequest: ProcessResult | undefined;
  private pauseRequested = false;
  private throttle = 0;
  private freezeSoon = false;
  private wake: (() => void) | undefined;

  /**
   * Starts `options.image` — or, with `restored`, continues a process from its
   * kernel state; `restoreMemory` then puts back the hart block and RAM pages
   * (after the core is initialised, before anything reads them).
   */
  constructor(
    private readonly options: ProcessOptions,
    restored?: { state: ProcessState; restoreMemory: (core: Core) => void; coreReady?: boolean },
  ) {
    const { core, ramBytes } = options;
    core.setTranslation(options.translate ?? true);
    // A migration destination has already initialised the core and received pages into its RAM.
    if (!restored?.coreReady) core.init(ramBytes);
    const memory: PhysicalMemory = {
      ram: () => core.ram,
      ramGuestBase: RAM_GUEST_BASE,
      wrote: (offset, length) => core.exports.hostWroteRam(RAM_GUEST_BASE + offset, length),
      flushTranslations: () => core.exports.flushTranslations(),
      isMissing: options.pages ? (frame) => options.pages!.isMissing(frame) : undefined,
    };
    this.memory = memory;
    this.files = new FileTable(options.root);
    if (restored) {
      const s = restored.state;
      if (s.schemaVersion !== 1) throw new Error(`process state: unknown schema version ${s.schemaVersion}`);
      this.space = AddressSpace.restore(memory, ramBytes / 4096, s.addressSpace);
      this.context = {
        space: this.space, files: this.files, console: options.console, clock: new MonotonicClock(), pid: s.pid, sleepDeadline: undefined,
      };
      this.restoreKernel(s, restored.restoreMemory, new Set(["files"]));
      return;
    }
    const loaded = loadProcess(memory, ramBytes / 4096, options.image, options.argv, options.envp);
    this.space = loaded.space;
    this.context = {
      space: this.space, files: this.files, console: options.console, clock: new MonotonicClock(), pid: 1000, sleepDeadline: undefined,
    };
    core.setState32(STATE_PRIV, PRIV_U);
    core.setState32(CSR_SATP, this.space.satp);
    core.setState32(STATE_HOST_TRAPS, 0xffff); // every exception is the kernel's
    // As Linux allows: user code may read cycle, time and instret.
    core.setState32(CSR_MCOUNTEREN, 7);
    core.setState32(CSR_SCOUNTEREN, 7);
    core.pc = loaded.entry;
    core.setX(2, loaded.sp);
    core.exports.flushCaches();
  }

  /**
   * Brings a restored process that has not run yet up to a later state of the
   * same process: a migration builds it from the state sent before the freeze,
   * then applies the final one. `changed` names the sections of `s` that differ
   * from the state it was built from; the hart block and the clocks always do.
   */
  update(s: ProcessState, restoreMemory: (core: Core) => void, changed: ReadonlySet<string>): void {
    if (s.schemaVersion !== 1) throw new Error(`process state: unknown schema version ${s.schemaVersion}`);
    if (changed.has("addressSpace")) {
      this.space = AddressSpace.restore(this.memory, this.options.ramBytes / 4096, s.addressSpace);
      this.context.space = this.space;
    }
    this.restoreKernel(s, restoreMemory, changed);
  }

  /** The hart block, clocks, counters and (if changed) the open files of a restored process. */
  private restoreKernel(s: ProcessState, restoreMemory: (core: Core) => void, changed: ReadonlySet<string>): void {
    const core = this.options.core;
    restoreMemory(core);
    core.exports.flushCaches();
    core.setTranslation(this.options.translate ?? true); // the restored state block carries the old host's flags
    if (changed.has("files")) this.files.restore(s.files);
    this.context.pid = s.pid;
    this.context.clock = MonotonicClock.startingAt(BigInt(s.guestClockNs));
    this.context.sleepDeadline = s.sleepDeadlineNs === null ? undefined : BigInt(s.sleepDeadlineNs);
    this.warned.clear();
    for (const n of s.warnedSyscalls) this.warned.add(n);
    this.stats.syscalls.clear();
    for (const [name, count] of s.syscalls) this.stats.syscalls.set(name, count);
    this.stats.pageFaults = s.pageFaults;
  }

  /**
   * Freezes the process: run() resolves with `paused` at the next slice
   * boundary (immediate blocking), or at once when it waits for slow I/O, whose
   * ecall then runs again when the process continues — here or elsewhere.
   */
  pause(): void {
    this.pauseRequested = true;
    this.wake?.();
  }

  /** A migration is about to freeze it: short batches, so the request is seen within ~1 ms. */
  expectFreeze(soon: boolean): void {
    this.freezeSoon = soon;
  }

  /** Auto-converge: idle this fraction of the time (0 = full speed). */
  setThrottle(fraction: number): void {
    this.throttle = Math.min(Math.max(fraction, 0), 0.99);
  }

  /** The kernel's state, for a snapshot (take it while paused). */
  state(): ProcessState {
    return {
      schemaVersion: 1,
      addressSpace: this.space.state(),
      files: this.files.state(),
      pid: this.context.pid,
      guestClockNs: this.context.clock.monotonicNs().toString(),
      sleepDeadlineNs: this.context.sleepDeadline === undefined ? null : this.context.sleepDeadline.toString(),
      warnedSyscalls: [...this.warned],
      syscalls: [...this.stats.syscalls.entries()],
      pageFaults: this.stats.pageFaults,
    };
  }

  /** Stops the process (Ctrl-C): run() resolves with this exit code. */
  stop(report: string, exitCode: number): void {
    this.stopRequest ??= { exitCode, report, instret: this.instret };
    this.wake?.();
  }

  get instret(): bigint {
    return this.options.core.state64(STATE_INSTRET);
  }

  async run(): Promise<ProcessResult> {
    const started = performance.now();
    let result: ProcessResult | undefined;
    try {
      result = await this.loop();
      return result;
    } finally {
      this.stats.wallMs += performance.now() - started;
      if (!result?.paused) this.files.closeAll();
    }
  }

  private async loop(): Promise<ProcessResult> {
    const core = this.options.core;
    const limit = this.options.maxInstructions;
    for (;;) {
      const batchStart = performance.now();
      const batch = batchMs(this.options.pages, this.freezeSoon, BATCH_MS);
      while (performance.now() - batchStart < batch) {
        if (this.stopRequest) return this.stopRequest;
        if (this.pauseRequested) {
          this.pauseRequested = false;
          return { paused: true, exitCode: 0, instret: this.instret };
        }
        let budget = SLICE;
        if (limit !== undefined) {
          const left = limit - this.work.spent;
          if (left <= 0) return this.limitReached();
          budget = Math.min(budget, left);
        }
        // The time CSR reads mtime: the guest's clock at 10 MHz, as on QEMU's virt board.
        core.setState64(STATE_MTIME, this.context.clock.monotonicNs() / 100n);
        const before = Number(this.instret);
        const reason = core.run(budget);
        if (reason === EXIT_BUDGET) { this.work.charge(reason, budget, Number(this.instret) - before); continue; }
        if (reason === EXIT_PAGE_MISSING && this.options.pages) {
          await this.waitFor(this.options.pages.fetch(core.state32(STATE_EXIT_CAUSE)));
          break;
        }
        if (reason !== EXIT_HOST_TRAP) {
          return this.fatal(SIGSEGV, `unexpected core exit ${reason} at pc ${hex(core.pc)}`);
        }
        let outcome: ReturnType<Process["trap"]>;
        try {
          outcome = this.trap();
        } catch (error) {
          if (error instanceof WouldBlock) {
            // A file on another host: the system call runs again when its answer is here.
            outcome = this.waitFor(error.until);
          } else {
            // Postcopy: the kernel needs a page that has not arrived; the trap runs again once it has.
            if (!(error instanceof MissingPage) || !this.options.pages) throw error;
            outcome = this.waitFor(this.options.pages.fetch(error.frame));
          }
        }
        // A trap the kernel handled costs work even when it retired nothing (a page it mapped).
        this.work.charge(reason, budget, Number(this.instret) - before);
        if (outcome === "continue") continue;
        if (outcome instanceof Promise) { await outcome; break; }
        return outcome;
      }
      if (this.throttle > 0) {
        // Auto-converge: sit idle for throttle / (1 - throttle) of the time just run.
        const ran = performance.now() - batchStart;
        await this.waitFor(new Promise((resolve) => setTimeout(resolve, (ran * this.throttle) / (1 - this.throttle))));
      } else await new Promise<void>((resolve) => setImmediate(resolve)); // let I/O and timers in
    }
  }

  /** Handles a trap the core handed over. */
  private trap(): "continue" | Promise<void> | ProcessResult {
    const core = this.options.core;
    const cause = core.state32(STATE_EXIT_CAUSE);
    const tval = core.state32(STATE_EXIT_TVAL);
    const pc = core.state32(STATE_EXIT_PC);
    switch (cause) {
      case CAUSE_ECALL_U:
        return this.syscall();
      case CAUSE_FETCH_PAGE_FAULT:
      case CAUSE_LOAD_PAGE_FAULT:
      case CAUSE_STORE_PAGE_FAULT: {
        const needed = cause === CAUSE_FETCH_PAGE_FAULT ? PROT_EXEC : cause === CAUSE_LOAD_PAGE_FAULT ? PROT_READ : PROT_WRITE;
        try {
          if (this.space.handleFault(tval, needed)) { this.stats.pageFaults++; return "continue"; }
        } catch (error) {
          if (error instanceof OutOfMemory) return this.fatal(SIGSEGV, `out of memory (${this.options.ramBytes >> 20} MiB of guest RAM) at pc ${hex(pc)}`);
          throw error;
        }
        const what = cause === CAUSE_FETCH_PAGE_FAULT ? "execute" : cause === CAUSE_LOAD_PAGE_FAULT ? "read" : "write";
        return this.fatal(SIGSEGV, `segmentation fault: ${what} at address ${hex(tval)} (pc ${hex(pc)})`);
      }
      case CAUSE_ILLEGAL_INSTRUCTION:
        return this.fatal(SIGILL, `illegal instruction ${hex(tval)} at pc ${hex(pc)}`);
      case CAUSE_BREAKPOINT:
        return this.fatal(SIGTRAP, `breakpoint at pc ${hex(pc)}`);
      case CAUSE_MISALIGNED_FETCH:
      case CAUSE_MISALIGNED_LOAD:
      case CAUSE_MISALIGNED_STORE:
        return this.fatal(SIGBUS, `bus error: misaligned access to ${hex(tval)} (pc ${hex(pc)})`);
      default:
        return this.fatal(SIGSEGV, `segmentation fault: access fault (cause ${cause}) at ${hex(tval)} (pc ${hex(pc)})`);
    }
  }

  private syscall(): "continue" | Promise<void> | ProcessResult {
    const core = this.options.core;
    const number = core.x(17);
    const args = [core.x(10), core.x(11), core.x(12), core.x(13), core.x(14), core.x(15)];
    const name = syscallName(number);
    let outcome = runSyscall(this.context, number, args);
    if (!outcome) {
      if (!this.warned.has(number)) {
        this.warned.add(number);
        this.options.warn?.(`unsupported system call ${number}; it returns ENOSYS`);
      }
      outcome = { kind: "return", value: -Errno.ENOSYS };
    }
    switch (outcome.kind) {
      case "return":
        this.stats.syscalls.set(name, (this.stats.syscalls.get(name) ?? 0) + 1);
        core.setX(10, outcome.value);
        this.retireEcall();
        return "continue";
      case "exit":
        this.stats.syscalls.set(name, (this.stats.syscalls.get(name) ?? 0) + 1);
        this.retireEcall();
        return { exitCode: outcome.code, instret: this.instret, silent: outcome.silent };
      case "block-input":
        // The ecall stays unretired: it runs again once input is there.
        return this.waitFor(this.options.inputReady());
      case "block-until": {
        const ms = Number(outcome.deadlineNs - this.context.clock.monotonicNs()) / 1e6;
        return this.waitFor(new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(ms)))));
      }
    }
  }

  private limitReached(): ProcessResult {
    const storm = this.work.stalled ? ` in a trap storm (${this.work.describeStorm()})` : "";
    return { exitCode: 124, report: `instruction limit reached${storm} (pc ${hex(this.options.core.pc)})`, instret: this.instret };
  }

  private retireEcall(): void {
    const core = this.options.core;
    core.pc = core.state32(STATE_EXIT_PC) + 4;
    core.setState64(STATE_INSTRET, this.instret + 1n);
  }

  private waitFor(event: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      void event.then(resolve);
    }).finally(() => { this.wake = undefined; });
  }

  private fatal(signal: number, report: string): ProcessResult {
    return { exitCode: 128 + signal, report: `${report}, ${this.instret} instructions retired`, instret: this.instret };
  }

  formatStats(): string {
    const instructions = Number(this.instret);
    const seconds = this.stats.wallMs / 1000;
    const calls = [...this.stats.syscalls.entries()].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c}`).join(", ");
    const t = this.options.core.translator?.stats;
    return [
      `instructions retired: ${instructions}`,
      `wall time: ${seconds.toFixed(3)} s; speed: ${seconds > 0 ? (instructions / seconds / 1e6).toFixed(1) : "-"} MIPS`,
      `page faults (demand paging): ${this.stats.pageFaults}; resident pages: ${this.space.residentPages}`,
      `system calls: ${calls || "none"}`,
      ...(t ? [`translated loops: ${t.translated} (${t.instructions} instructions, ${t.compileMs.toFixed(1)} ms compiling)`] : []),
    ].join("\n");
  }
}
