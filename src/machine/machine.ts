import { BusyTime } from "./busy-time.js";
import type { DeviceState } from "./device.js";
import {
  CAUSE_LOAD_ACCESS,
  CAUSE_STORE_ACCESS,
  CSR_MCAUSE,
  CSR_MEPC,
  CSR_MIE,
  CSR_MIP,
  CSR_MTVEC,
  EXIT_BREAKPOINT,
  EXIT_BUDGET,
  EXIT_HOST_TRAP,
  EXIT_MMIO,
  EXIT_PAGE_MISSING,
  EXIT_WATCH,
  EXIT_WFI,
  IRQ_MSI,
  IRQ_MTI,
  MAX_RAM_BYTES,
  MMIO_STORE,
  RAM_GUEST_BASE,
  STATE_EXIT_CAUSE,
  STATE_EXIT_KIND,
  STATE_EXIT_PC,
  STATE_EXIT_SIZE,
  STATE_EXIT_TVAL,
  STATE_INSTRET,
  STATE_MMIO_VALUE,
  STATE_MTIME,
  STATE_WATCH_LEN,
  STATE_WATCH_PADDR,
  STATE_WFI,
} from "../../assembly/layout.js";
import type { ElfImage } from "../elf/index.js";
import { hex } from "../elf/hex.js";
import { Bus } from "./bus.js";
import type { ConsoleOutput } from "./console-output.js";
import type { Core } from "./core.js";
import type { HaltRequest } from "./device.js";
import { Clint } from "./devices/clint.js";
import { Htif } from "./devices/htif.js";
import { TestFinisher } from "./devices/test-finisher.js";
import { Uart16550 } from "./devices/uart16550.js";
import { GuestClock, TICKS_PER_SECOND } from "./guest-clock.js";
import { GuestRam } from "./guest-ram.js";
import { deviceTreeAddress, findHtifAddresses, loadImage } from "./load-image.js";
import { exitName, MachineStats } from "./machine-stats.js";
import { Sleeper } from "./sleeper.js";
import type { PostcopyPages } from "./postcopy-pages.js";
import { BatchPacing } from "./batch-pacing.js";
import { WorkMeter } from "./work-meter.js";
import { nowMs } from "./host-clock.js";

// A QEMU-virt-like machine in machine mode: RAM at 0x80000000, CLINT, NS16550A
// UART, SiFive test finisher and HTIF, driven by the WASM core in slices.
//
// The host loop runs slices back to back for BATCH_MS of wall time, then yields
// to the event loop (console input, Ctrl-C, output back-pressure) with
// setImmediate, so a busy guest never blocks the process. A hart in wfi sleeps
// on a timer until the next timer interrupt instead of spinning.

export const EXIT_CODE_FAULT = 1; // the machine stopped on something it cannot handle
export const EXIT_CODE_LIMIT = 124; // --max-instructions reached (as timeout(1) reports)
export const EXIT_CODE_INTERRUPTED = 130; // Ctrl-C (128 + SIGINT)

const BATCH_MS = 8;
const MAX_SLICE = 1_000_000; // V8 optimises WASM only between calls: keep calls bounded
const MIN_SLICE = 1_000;
const SLICE_TICKS = TICKS_PER_SECOND / 1000; // aim for ~1 ms of guest time per slice
const MTIP = 1 << IRQ_MTI;
const MSIP = 1 << IRQ_MSI;

export interface MachineOptions {
  core: Core;
  ramBytes: number;
  console: ConsoleOutput;
  maxInstructions?: number;
  clock?: GuestClock;
  /** Translate hot code to WebAssembly (default true); false runs the interpreter only. */
  translate?: boolean;
  /** Arrivals at a jump target before it is translated (default: ROAM_JIT_THRESHOLD, else the core's). */
  jitThreshold?: number;
  /** The core is initialised already and its RAM holds a guest (a migration received it): do not reset it. */
  coreReady?: boolean;
  /** Postcopy migration: RAM pages that have not arrived yet, and how to wait for one. */
  pages?: PostcopyPages;
  /**
   * Supplies RAM pages the core reports missing (transfer on reference): fills
   * `bytes` (one 4 KiB page, RAM page index `page`); the machine then marks the
   * page present and the faulting instruction restarts.
   */
  pageSource?: PageSource;
}

export type PageSource = (page: number, bytes: Uint8Array) => void;

/** The machine around the hart, as plain data (RAM and the hart's block travel separately). */
export interface MachineState {
  schemaVersion: 1;
  clock: ReturnType<GuestClock["state"]>;
  uart: DeviceState;
  clint: DeviceState;
  testFinisher: DeviceState;
  htif: { tohost: number; fromhost: number | null; state: DeviceState } | null;
}

export type StopKind = "guest" | "limit" | "interrupted" | "fault";

export interface MachineResult {
  /** pause() froze it at a slice boundary (or in wfi): run() continues it. */
  paused?: boolean;
  exitCode: number;
  reason: string;
  kind: StopKind;
  quiet: boolean; // a clean guest exit: nothing worth reporting
  instret: bigint;
  pc: number;
  stats: MachineStats;
}

interface Halt extends HaltRequest {
  kind: StopKind;
  quiet: boolean;
}

export class Machine {
  readonly core: Core;
  readonly ram: GuestRam;
  readonly bus = new Bus();
  readonly clock: GuestClock;
  readonly clint: Clint;
  readonly uart: Uart16550;
  readonly testFinisher: TestFinisher;
  readonly stats = new MachineStats();
  /** Its batches (synchronous, all instructions and devices): the host's speed (src/cluster/load-vector.ts). */
  readonly busy = new BusyTime();
  /** Work done, traps included: what --max-instructions bounds. */
  readonly work = new WorkMeter();

  private readonly console: ConsoleOutput;
  private readonly maxInstructions: number | undefined;
  private readonly pageSource: PageSource | undefined;
  private readonly sleeper = new Sleeper();
  private halt: Halt | undefined;
  private pauseRequested = false;
  /** Batch length, the capacity share and auto-converge's throttle (batch-pacing.ts). */
  readonly pacing = new BatchPacing();
  private pendingPage: number | undefined; // postcopy: a page the hart touched before it arrived
  private readonly pages: MachineOptions["pages"];
  private htifDevice: Htif | undefined; // only for images with a tohost symbol
  private instructionsPerTick = 10; // refined from measurements as the guest runs
  // Callbacks handed to devices (console bytes, a guest asking to stop).
  private readonly toConsole = (byte: number): void => this.console.putByte(byte);
  private readonly guestHalt = (request: HaltRequest): void => this.requestHalt({ ...request, kind: "guest" });

  constructor(options: MachineOptions) {
    const { core, ramBytes } = options;
    if (!Number.isInteger(ramBytes) || ramBytes <= 0 || ramBytes % 4096 !== 0 || ramBytes > MAX_RAM_BYTES) {
      throw new RangeError(`RAM size ${ramBytes} must be a positive multiple of 4096 up to ${MAX_RAM_BYTES}`);
    }
    this.core = core;
    this.console = options.console;
    this.maxInstructions = options.maxInstructions;
    this.pageSource = options.pageSource;
    this.pages = options.pages;
    core.setTranslation(options.translate ?? true, options.jitThreshold);
    if (!options.coreReady) core.init(ramBytes); // hart in M-mode at pc 0, RAM zeroed, caches empty

    this.ram = new GuestRam(() => core.ram, RAM_GUEST_BASE, (paddr, length) => core.exports.hostWroteRam(paddr, length));
    this.clock = options.clock ?? new GuestClock();
    this.clint = new Clint(this.clock);
    this.uart = new Uart16550(this.toConsole);
    this.testFinisher = new TestFinisher(this.guestHalt);
    this.bus.attach(this.testFinisher);
    this.bus.attach(this.clint);
    this.bus.attach(this.uart);
    this.uart.onInput(() => this.sleeper.wake());
  }

  // Loads a bare-metal ELF and points the hart at its entry, with the registers
  // QEMU's virt machine passes: a0 = hart id, a1 = device tree address.
  /** Marks every RAM page missing: from now on each is fetched from the page source on first touch. */
  dropAllPages(): void {
    if (!this.pageSource) throw new Error("dropAllPages needs a page source");
    const pages = this.ram.size / 4096;
    for (let page = 0; page < pages; page++) this.core.exports.setPagePresent(page, 0);
  }

  load(image: ElfImage): void {
    loadImage(this.ram, image);
    const htif = findHtifAddresses(image, this.ram);
    if (htif) {
      this.htifDevice = new Htif(this.ram, htif.tohost, htif.fromhost, this.toConsole, this.guestHalt);
      this.core.setState32(STATE_WATCH_PADDR, htif.tohost);
      this.core.setState32(STATE_WATCH_LEN, 8);
      // A write-TLB entry made before the watch was set would let stores to the
      // tohost page bypass it.
      this.core.exports.flushCaches();
    }
    this.core.pc = image.entry;
    this.core.setX(10, 0);
    this.core.setX(11, deviceTreeAddress(this.ram.size));
  }

  get htif(): Htif | undefined {
    return this.htifDevice;
  }

  // Asks the run loop to stop at the next slice boundary (Ctrl-C, a signal).
  stop(reason: string, exitCode = EXIT_CODE_INTERRUPTED): void {
    this.requestHalt({ exitCode, reason, kind: "interrupted" });
  }

  get instret(): bigint {
    return this.core.state64(STATE_INSTRET);
  }

  /** Freezes the machine at the next slice boundary (at once when waiting in wfi): run() resolves with `paused`. */
  pause(): void {
    this.pauseRequested = true;
    this.sleeper.wake();
  }

  state(): MachineState {
    const htif = this.htifDevice;
    return {
      schemaVersion: 1,
      clock: this.clock.state(),
      uart: this.uart.state(),
      clint: this.clint.state(),
      testFinisher: this.testFinisher.state(),
      htif: htif ? { tohost: htif.tohost, fromhost: htif.fromhost ?? null, state: htif.state() } : null,
    };
  }

  /** Puts the devices back as `state` says (the hart block and RAM are restored by the caller). */
  restoreState(state: MachineState): void {
    if (state.schemaVersion !== 1) throw new Error(`machine state: unknown schema version ${state.schemaVersion}`);
    this.clock.restore(state.clock);
    this.uart.restore(state.uart);
    this.clint.restore(state.clint);
    this.testFinisher.restore(state.testFinisher);
    if (state.htif) {
      this.htifDevice = new Htif(this.ram, state.htif.tohost, state.htif.fromhost ?? undefined, this.toConsole, this.guestHalt);
      this.htifDevice.restore(state.htif.state);
    }
    this.core.exports.flushCaches();
  }

  async run(): Promise<MachineResult> {
    while (!this.halt) {
      if (this.pauseRequested) {
        this.pauseRequested = false;
        await this.console.flush();
        return { paused: true, exitCode: 0, reason: "paused", kind: "interrupted", quiet: true, instret: this.instret, pc: this.core.pc, stats: this.stats };
      }
      if (this.pendingPage !== undefined && this.pages) {
        const page = this.pendingPage;
        this.pendingPage = undefined;
        await this.pages.fetch(page);
        continue;
      }
      // STATE_WFI is part of the hart state, so a hart restored mid-wfi sleeps too.
      if (this.core.state32(STATE_WFI)) {
        await this.waitForInterrupt();
        // Resuming continues after the wfi (the core takes the interrupt first if
        // it is enabled), so the hart is no longer waiting either way. A machine
        // stopped mid-wait keeps the flag, so its state still says so.
        if (!this.halt) this.core.setState32(STATE_WFI, 0);
        continue;
      }
      this.sleeper.clear();
      const batchStart = nowMs();
      const instretAtStart = this.instret;
      this.runBatch();
      await this.console.flush();
      const waitMs = this.pacing.idleAfter(batchStart, Number(this.instret - instretAtStart));
      if (waitMs > 0) await this.sleeper.sleep(waitMs);
      if (!this.halt && !this.core.state32(STATE_WFI)) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.console.flush();
    this.stats.stop();
    const halt = this.halt;
    return {
      exitCode: halt.exitCode,
      reason: halt.reason,
      kind: halt.kind,
      quiet: halt.quiet,
      instret: this.instret,
      pc: this.core.pc,
      stats: this.stats,
    };
  }

  // Runs slices until BATCH_MS have passed (1 ms while postcopy pages arrive), the machine halts or the hart waits in wfi.
  private runBatch(): void {
    const started = nowMs();
    const batch = this.pacing.batchMs(this.pages, BATCH_MS);
    const startInstret = Number(this.instret);
    const allowed = this.pacing.allowed();
    for (;;) {
      const now = this.syncTime();
      const allowedLeft = allowed - (Number(this.instret) - startInstret);
      if (allowedLeft <= 0) break; // the capacity share is spent: the run loop waits for it
      const budget = Math.min(this.nextBudget(now), allowedLeft);
      if (budget === 0) {
        const storm = this.work.stalled ? ` in a trap storm ${this.stormReport()}` : "";
        this.requestHalt({ exitCode: EXIT_CODE_LIMIT, reason: `instruction limit reached${storm}`, kind: "limit" });
        break;
      }
      const before = Number(this.instret);
      const reason = this.core.run(budget);
      this.stats.countExit(reason);
      this.handleExit(reason); // after it, so an access fault's undone load is not counted as retired
      this.work.charge(reason, budget, Number(this.instret) - before);
      if (this.work.storming) this.fault(`the hart is stuck in a trap storm ${this.stormReport()}`);
      if (this.halt || reason === EXIT_WFI || this.pendingPage !== undefined || this.pauseRequested) break;
      if (nowMs() - started >= batch) break;
      if (this.core.translator?.compiling) break; // a background compile's promise resolves only in the event loop
    }
    const instructions = Number(this.instret) - startInstret, elapsedMs = nowMs() - started;
    this.measureSpeed(instructions, elapsedMs);
    this.busy.add(instructions, elapsedMs);
  }

  private handleExit(reason: number): void {
    const core = this.core;
    switch (reason) {
      case EXIT_BUDGET:
      case EXIT_WFI:
        return;
      case EXIT_MMIO: {
        const paddr = core.state32(STATE_EXIT_CAUSE);
        const size = core.state32(STATE_EXIT_SIZE);
        if ((core.state32(STATE_EXIT_KIND) & 0xff) === MMIO_STORE) {
          if (!this.bus.write(paddr, size, core.state32(STATE_EXIT_TVAL))) core.exports.mmioFault(CAUSE_STORE_ACCESS);
        } else {
          const value = this.bus.read(paddr, size);
          if (value === undefined) core.exports.mmioFault(CAUSE_LOAD_ACCESS);
          else core.setState32(STATE_MMIO_VALUE, value);
        }
        return;
      }
      case EXIT_WATCH:
        // EXIT_SIZE is only written by MMIO exits; until watch exits write it too,
        // a never-written 0 is read as a word store (RV32 writes tohost as two).
        this.htifDevice?.storeHit(core.state32(STATE_EXIT_CAUSE), core.state32(STATE_EXIT_SIZE) || 4);
        return;
      case EXIT_HOST_TRAP:
      case EXIT_BREAKPOINT:
        return this.fault(
          `unexpected ${exitName(reason)} exit (cause ${core.state32(STATE_EXIT_CAUSE)}, tval ${hex(core.state32(STATE_EXIT_TVAL))}` +
            `, at pc ${hex(core.state32(STATE_EXIT_PC))})`,
        );
      case EXIT_PAGE_MISSING: {
        const page = core.state32(STATE_EXIT_CAUSE);
        if (this.pages) { this.pendingPage = page; return; } // fetched asynchronously by run()
        if (!this.pageSource) return this.fault(`page-missing exit for RAM page ${hex(page)} and no page source`);
        this.pageSource(page, core.ram.subarray(page * 4096, page * 4096 + 4096));
        core.exports.setPagePresent(page, 1);
        this.stats.pagesFetched++;
        return;
      }
      default:
        return this.fault(`core returned unknown exit reason ${reason}`);
    }
  }

  // Writes guest time into the state block and reflects the CLINT into mip; the
  // core reads both but never updates them itself.
  private syncTime(): bigint {
    const now = this.clint.now();
    this.core.setState64(STATE_MTIME, now);
    let mip = this.core.state32(CSR_MIP) & ~(MTIP | MSIP);
    if (this.clint.timerPending(now)) mip |= MTIP;
    if (this.clint.softwarePending()) mip |= MSIP;
    this.core.setState32(CSR_MIP, mip);
    this.bus.tick(now);
    return now;
  }

  // Instructions for the next slice: about 1 ms of guest time, ending early enough
  // to deliver an enabled timer interrupt on time, and never past the limit.
  // Returns 0 when the instruction limit is reached.
  private nextBudget(now: bigint): number {
    let budget = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor(this.instructionsPerTick * SLICE_TICKS)));
    const deadline = this.clint.nextDeadline();
    if (deadline !== undefined && deadline > now && this.core.state32(CSR_MIE) & MTIP) {
      const untilDeadline = Math.floor(Number(deadline - now) * this.instructionsPerTick);
      budget = Math.min(budget, Math.max(MIN_SLICE, untilDeadline));
    }
    if (this.maxInstructions !== undefined) {
      const remaining = this.maxInstructions - this.work.spent;
      if (remaining <= 0) return 0;
      budget = Math.min(budget, remaining);
    }
    return budget;
  }

  // What a stuck hart is doing: the trap it keeps taking and where it goes.
  private stormReport(): string {
    const core = this.core;
    return `(${this.work.describeStorm()}; mcause ${core.state32(CSR_MCAUSE) >>> 0}` +
      `, mepc ${hex(core.state32(CSR_MEPC))}, mtvec ${hex(core.state32(CSR_MTVEC))})`;
  }

  private measureSpeed(instructions: number, elapsedMs: number): void {
    if (elapsedMs < 1 || instructions < MIN_SLICE) return; // too little to say anything
    const sample = instructions / (elapsedMs * (TICKS_PER_SECOND / 1000));
    this.instructionsPerTick = this.instructionsPerTick * 0.75 + sample * 0.25;
  }

  // The hart executed wfi with nothing pending in mie & mip. Sleeps until the
  // timer interrupt it enabled is due, or until console input or a stop request
  // wakes the sleeper (the guest then resumes after its wfi, which the ISA allows).
  private async waitForInterrupt(): Promise<void> {
    const now = this.syncTime();
    const mie = this.core.state32(CSR_MIE);
    if (mie & this.core.state32(CSR_MIP)) return; // became pending meanwhile: resume at once
    const deadline = mie & MTIP ? this.clint.nextDeadline() : undefined;
    if (deadline === undefined && this.uart.inputEnded) {
      // Only the CLINT timer raises interrupts the hart does not raise itself, and
      // no input can come to end the wait either: it would never finish.
      const why = mie & MTIP ? "mtimecmp is not programmed" : `mie ${hex(mie)} has no timer interrupt enabled`;
      return this.fault(`the hart waits in wfi for an interrupt that can never arrive (${why}) and console input has ended`);
    }
    const ms = deadline === undefined ? undefined : Math.ceil(Number(deadline - now) / (TICKS_PER_SECOND / 1000));
    const slept = await this.sleeper.sleep(ms);
    this.stats.countSleep(slept.ms);
    // Node's timers run on a loop clock of whole milliseconds, so the timer can
    // fire up to ~1 ms before the deadline: sleep the rest, or the hart would
    // resume with its timer interrupt not yet due (legal, but a wasted wake-up).
    if (!slept.woken && deadline !== undefined && !this.halt && this.syncTime() < deadline) return this.waitForInterrupt();
  }

  private fault(reason: string): void {
    this.requestHalt({ exitCode: EXIT_CODE_FAULT, reason, kind: "fault" });
  }

  private requestHalt(request: HaltRequest & { kind: StopKind }): void {
    if (this.halt) return; // the first reason to stop is the one reported
    this.halt = { ...request, quiet: request.quiet ?? false };
    this.sleeper.wake();
  }
}
