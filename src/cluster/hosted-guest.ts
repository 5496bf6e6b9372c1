// A guest as a host runs it: its run loop (frozen and thawed around
// migrations and checkpoints), its status, and the clients watching it.

import type { Core } from "../machine/core.js";
import type { GuestRunResult, RunnableGuest } from "../guest/runnable.js";
import type { MigratableGuest } from "../migration/source.js";
import type { GuestInfo, GuestSnapshot, RamPages } from "../snapshot/snapshot.js";
import type { GuestConsole } from "../guest/guest-console.js";

export type GuestStatus = "running" | "frozen" | "exited" | "moved" | "killed";

export interface GuestEvents {
  exited(guest: HostedGuest): void;
}

export class HostedGuest implements MigratableGuest {
  status: GuestStatus = "frozen";
  exitCode: number | undefined;
  report: string | undefined;
  movedTo: string | undefined;
  private loop: Promise<GuestRunResult> | undefined;
  private readonly endListeners = new Set<() => void>();
  private running: RunnableGuest | undefined;
  readonly info: GuestInfo;
  readonly console: GuestConsole;
  private finalInstret = 0n;

  constructor(guest: RunnableGuest, private readonly events: GuestEvents) {
    this.running = guest;
    this.info = guest.info;
    this.console = guest.console; // kept after the end, for late attaches
  }

  /** The guest itself, while it lives here (released when it ends or leaves, with its RAM). */
  get guest(): RunnableGuest {
    if (!this.running) throw new Error(`guest ${this.info.id} is ${this.status}`);
    return this.running;
  }

  get core(): Core {
    return this.guest.core;
  }

  get instret(): bigint {
    return this.running?.instret ?? this.finalInstret;
  }

  /** Drops the guest's core and RAM; its info, status and console output stay. */
  release(): void {
    if (!this.running) return;
    this.finalInstret = this.running.instret;
    this.running = undefined;
  }

  dependencies(): string[] {
    return this.running?.dependencies() ?? [];
  }

  /** Starts (or continues) the run loop. */
  start(): void {
    if (this.status === "running") return;
    this.status = "running";
    const loop = this.guest.run();
    this.loop = loop;
    void loop.then(
      (result) => this.settled(result),
      (error: Error) => this.settled({ exitCode: 1, report: `host error: ${error.message}`, instret: this.instret }),
    );
  }

  private settled(result: GuestRunResult): void {
    if (result.paused) {
      this.status = "frozen";
      return;
    }
    if (this.status === "moved") return;
    this.status = this.status === "killed" ? "killed" : "exited";
    this.exitCode = result.exitCode;
    this.report = result.report;
    this.events.exited(this);
    for (const listener of this.endListeners) listener();
  }

  /** Called when the guest stops running here for good (exit, kill, move). */
  onEnd(listener: () => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  async freeze(): Promise<void> {
    if (this.status !== "running") return;
    this.guest.pause();
    await this.loop;
  }

  thaw(): void {
    if (this.status === "frozen") this.start();
  }

  setThrottle(fraction: number): void {
    this.guest.setThrottle(fraction);
  }

  expectFreeze(soon: boolean): void {
    this.guest.expectFreeze(soon);
  }

  snapshotWithout(ram: RamPages): GuestSnapshot {
    return this.guest.snapshotWithout(ram);
  }

  kill(): void {
    if (this.status === "running") {
      this.status = "killed";
      this.guest.kill();
    } else if (this.status === "frozen") {
      this.status = "killed";
      this.exitCode = 137;
      this.events.exited(this);
      for (const listener of this.endListeners) listener();
    }
  }

  /** The guest now runs on another host. */
  moved(to: string): void {
    this.status = "moved";
    this.movedTo = to;
    for (const listener of this.endListeners) listener();
  }
}
