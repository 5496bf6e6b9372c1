// A machine-mode guest (a bare-metal image on the virt board) as a host keeps
// it. Its UART is its console: output goes to the numbered log, client input
// into the UART's receive queue (device state, so it migrates with the guest).

import { parseElf } from "../elf/index.js";
import type { ConsoleOutput } from "../machine/console-output.js";
import type { Core } from "../machine/core.js";
import type { PostcopyPages } from "../machine/postcopy-pages.js";
import { Machine } from "../machine/machine.js";
import type { GuestInfo, GuestSnapshot, RamPages } from "../snapshot/snapshot.js";
import { GuestConsole } from "./guest-console.js";
import type { GuestHostOptions, StartOptions } from "./process-guest.js";
import { allRamPages, checkRestorable, hartBlock, newGuestInfo, restoreHartAndPages, type GuestRunResult } from "./runnable.js";
import type { BusyTime } from "../machine/busy-time.js";

/** Collects UART bytes and hands them to the guest console in chunks. */
class ConsoleBridge implements ConsoleOutput {
  private pending: number[] = [];
  constructor(private readonly console: GuestConsole) {}
  putByte(byte: number): void {
    this.pending.push(byte);
    if (this.pending.length >= 4096) this.flush();
  }
  flush(): void {
    if (this.pending.length === 0) return;
    this.console.write(1, Uint8Array.from(this.pending));
    this.pending = [];
  }
}

export class MachineGuest {
  readonly console: GuestConsole;
  readonly machine: Machine;

  private constructor(
    readonly options: GuestHostOptions,
    readonly info: GuestInfo,
    console: GuestConsole,
    make: (output: ConsoleOutput) => Machine,
  ) {
    this.console = console;
    this.machine = make(new ConsoleBridge(console));
    // Typed input goes on to the UART as soon as it is accepted.
    console.onInputAccepted(() => {
      for (let chunk = console.read(4096); chunk && chunk.length; chunk = console.read(4096)) this.machine.uart.receive(chunk);
    });
    console.onInputEnded(() => this.machine.uart.endInput());
  }

  get core(): Core {
    return this.options.core;
  }

  get instret(): bigint {
    return this.machine.instret;
  }

  get busy(): BusyTime {
    return this.machine.busy;
  }

  private postcopyPages: PostcopyPages | undefined;

  get receivingPages(): boolean {
    return this.postcopyPages?.arriving ?? false;
  }

  static start(options: GuestHostOptions, start: StartOptions): MachineGuest {
    const image = parseElf(start.elf);
    const ramBytes = start.ramBytes ?? 128 << 20;
    const info = newGuestInfo("machine", options.hostName, start, ramBytes);
    const guest = new MachineGuest(options, info, new GuestConsole(), (console) =>
      new Machine({ core: options.core, ramBytes, console, translate: options.translate }));
    guest.machine.load(image);
    return guest;
  }

  static restore(
    options: GuestHostOptions,
    snapshot: GuestSnapshot,
    coreReady = false,
    pages?: PostcopyPages,
  ): MachineGuest {
    checkRestorable(options.core, snapshot, "machine", coreReady);
    const info = { ...snapshot.guest, host: options.hostName };
    const guest = new MachineGuest(options, info, new GuestConsole(snapshot.console), (console) =>
      new Machine({ core: options.core, ramBytes: info.ramBytes, console, translate: options.translate, coreReady, pages }));
    const core = options.core;
    restoreHartAndPages(core, snapshot);
    core.setTranslation(options.translate ?? true); // the hart block carried the old host's flags
    guest.machine.restoreState(snapshot.machine!);
    guest.postcopyPages = pages;
    return guest;
  }

  /** Brings this guest, restored but not started, up to a later snapshot of the same guest. */
  update(snapshot: GuestSnapshot): void {
    checkRestorable(this.core, snapshot, "machine", true);
    this.console.restoreState(snapshot.console);
    restoreHartAndPages(this.core, snapshot);
    this.core.setTranslation(this.options.translate ?? true);
    this.machine.restoreState(snapshot.machine!);
  }

  async run(): Promise<GuestRunResult> {
    const r = await this.machine.run();
    return { paused: r.paused, exitCode: r.exitCode, report: r.quiet ? undefined : r.reason, instret: r.instret };
  }

  pause(): void {
    this.machine.pause();
  }

  setThrottle(fraction: number): void {
    this.machine.pacing.setThrottle(fraction);
  }

  setPace(pace: ((ran: number) => number) | undefined, allowance?: () => number): void {
    this.machine.pacing.setPace(pace, allowance);
  }

  expectFreeze(soon: boolean): void {
    this.machine.pacing.expectFreeze(soon);
  }

  kill(): void {
    this.machine.stop("killed", 137);
  }

  interrupt(): void {
    this.machine.stop("interrupted (Ctrl-C)", 130);
  }

  snapshotWithout(ram: RamPages): GuestSnapshot {
    return {
      version: 1,
      guest: { ...this.info, host: this.options.hostName },
      hart: hartBlock(this.core),
      ram,
      console: this.console.state(),
      machine: this.machine.state(),
    };
  }

  dependencies(): string[] {
    return [];
  }

  snapshot(): GuestSnapshot {
    return this.snapshotWithout(allRamPages(this.core, this.info.ramBytes));
  }
}
