// A guest as a host runs it: its run loop (frozen and thawed around
// migrations and checkpoints), its status, and the clients watching it.

import type { GuestMessage } from "../net/host-links.js";
import type { Core } from "../machine/core.js";
import type { GuestRunResult, ProcessInfo, RunnableGuest } from "../guest/runnable.js";
import type { MigratableGuest } from "../migration/source.js";
import type { GuestInfo, GuestSnapshot, RamPages } from "../snapshot/snapshot.js";
import type { GuestConsole } from "../guest/guest-console.js";
import type { MigrationStats } from "../migration/stats.js";
import { nowMs } from "../machine/host-clock.js";

export type GuestStatus = "running" | "frozen" | "exited" | "moved" | "killed" | "lost";

/** Whether a guest still lives here (runs, or is frozen for a while): at most one such copy exists anywhere. */
export function isLive(status: GuestStatus): boolean {
  return status === "running" || status === "frozen";
}

/**
 * Something done to a guest that must not overlap another such thing: a
 * migration or a checkpoint. A guest has at most one at a time; a kill waits
 * for it (cancelling it while it can still be undone).
 */
export interface GuestOperation {
  readonly kind: "migration" | "checkpoint" | "replication";
  /** For messages: "migration to ws://...", "checkpoint". */
  readonly description: string;
  /** Aborted by a kill or a cancel; the operation undoes itself if it has not passed its point of no return. */
  readonly cancel: AbortController;
  /** Resolves when the operation has ended, whichever way. */
  readonly settled: Promise<void>;
}

export class GuestBusy extends Error {}

export interface GuestEvents {
  exited(guest: HostedGuest): void;
  /** It runs here from now on (started, restarted after a freeze, or arrived). */
  started?(guest: HostedGuest): void;
}

/** Messages a replicated guest sent, held until their epoch is acknowledged (src/replication/held-messages.ts). */
export interface MessageHold {
  hold(message: GuestMessage): void;
  /** Something else the guest does outside (a write to a file on another host): `go` runs when its epoch is acked. */
  holdAction(go: () => void): void;
  /** Every held message goes now, and messages flow freely again. */
  releaseAll(): void;
}

export class HostedGuest implements MigratableGuest {
  status: GuestStatus = "frozen";
  exitCode: number | undefined;
  report: string | undefined;
  movedTo: string | undefined;
  /** The token the migration used to reach `movedTo` (a kill that waited for the migration is passed on with it). */
  movedToken: string | undefined;
  private loop: Promise<GuestRunResult> | undefined;
  private readonly endListeners = new Set<() => void>();
  private running: RunnableGuest | undefined;
  readonly info: GuestInfo;
  readonly console: GuestConsole;
  private finalInstret = 0n;
  /** The statistics of the migration under way, as last reported (stats and ps show it, like `info migrate`). */
  migrationProgress: MigrationStats | undefined;
  /** When it came to this host (started, arrived, restored): a balancer leaves a guest that just came (src/cluster/balance/which.ts). */
  readonly residentSince = nowMs();
  /** The migration or checkpoint under way, if any (one at a time). */
  operation: GuestOperation | undefined;
  /**
   * Replication (src/replication/primary.ts): run when the guest ends here,
   * before anyone is told; the backup learns of the end and the held output
   * is released first, so clients see all of it before the exit.
   */
  beforeEnd: (() => Promise<void>) | undefined;
  /**
   * Output commit (src/replication/output-commit.ts): while set, the messages
   * the guest sends to other guests and to port relays wait here until the
   * epoch that sent them is acknowledged by the backup.
   */
  heldMessages: MessageHold | undefined;
  /** Replication: the host keeping its backup, which takes it over if this host dies (attached clients follow it there). */
  backup: string | undefined;
  private readonly backupListeners = new Set<(url: string | undefined) => void>();

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

  /** Whether its core and RAM are still here (a released guest keeps only its info and output). */
  get holdsCore(): boolean {
    return this.running !== undefined;
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

  processes(): ProcessInfo[] | undefined {
    return this.running?.processes?.();
  }

  /** Starts (or continues) the run loop. */
  start(): void {
    if (this.status === "running") return;
    this.status = "running";
    const loop = this.guest.run();
    this.events.started?.(this);
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
    if (this.status !== "lost") {
      this.status = this.status === "killed" ? "killed" : "exited";
      this.exitCode = result.exitCode;
      this.report = result.report;
    }
    const gate = this.beforeEnd;
    this.beforeEnd = undefined;
    if (!gate) return this.ended();
    void gate().catch(() => {}).then(() => {
      if (this.status !== "moved") this.ended(); // else its backup had taken it over: it was fenced, and moved there
    });
  }

  private ended(): void {
    this.events.exited(this);
    for (const listener of this.endListeners) listener();
  }

  /**
   * Runs `work` as this guest's one operation: a second one is refused with a
   * reason, and a kill waits for the first to settle (see settleOperation).
   */
  async exclusively<T>(kind: GuestOperation["kind"], description: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.operation) throw new GuestBusy(`guest ${this.info.id} is busy: ${this.operation.description} is under way`);
    if (!isLive(this.status)) throw new GuestBusy(`guest ${this.info.id} ${this.describeEnd()}, it is not running here`);
    let done!: () => void;
    const operation: GuestOperation = { kind, description, cancel: new AbortController(), settled: new Promise<void>((resolve) => (done = resolve)) };
    this.operation = operation;
    try {
      return await work(operation.cancel.signal);
    } finally {
      this.operation = undefined;
      this.migrationProgress = undefined;
      done();
    }
  }

  /** How it ended here, for messages: "has moved to ws://...", "has exited (0)", "was killed", "is lost: ...". */
  describeEnd(): string {
    switch (this.status) {
      case "moved": return this.movedTo === "checkpoint" ? "was checkpointed" : `has moved to ${this.movedTo}`;
      case "exited": return `has exited (${this.exitCode})`;
      case "killed": return "was killed";
      case "lost": return `is ${this.report}`;
      default: return `is ${this.status}`;
    }
  }

  /** Cancels the operation under way (it undoes itself unless past its point of no return) and waits for it to end. */
  async settleOperation(reason: string): Promise<void> {
    const operation = this.operation;
    if (!operation) return;
    operation.cancel.abort(new Error(reason));
    await operation.settled;
  }

  /**
   * The guest cannot go on anywhere: the host it depended on died (a postcopy
   * source with pages still to send, or a destination after the commit).
   * Stops it if it runs here; `ps`, `stats` and attached clients say why.
   */
  lose(reason: string): void {
    if (this.status === "exited" || this.status === "killed" || this.status === "lost") return;
    const wasRunning = this.status === "running";
    this.status = "lost";
    this.exitCode = 137;
    this.report = reason;
    if (wasRunning && this.running) { this.running.kill(); return; } // settled() reports the end
    this.events.exited(this);
    for (const listener of this.endListeners) listener();
  }

  /** A message from another guest: into its kernel (a guest without sockets has nothing to take it). */
  receiveMessage(message: GuestMessage): void {
    this.running?.receiveMessage?.(message);
  }

  setBackup(url: string | undefined): void {
    this.backup = url;
    for (const listener of this.backupListeners) listener(url);
  }

  onBackup(listener: (url: string | undefined) => void): () => void {
    this.backupListeners.add(listener);
    return () => this.backupListeners.delete(listener);
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

  /** Ctrl-C from an attached terminal: it ends as an exit with 130 (a frozen guest thaws first, so it can end). */
  interrupt(): void {
    if (this.status === "frozen") this.thaw();
    if (this.status === "running") this.guest.interrupt();
  }

  /** The guest now runs on another host. */
  moved(to: string): void {
    this.status = "moved";
    this.movedTo = to;
    for (const listener of this.endListeners) listener();
  }
}
