// The sending side of a migration. The guest keeps running on this host until
// the destination confirms it runs there; if anything fails before that, the
// guest is thawed here, so there are never two running copies.
//
// A migration, whatever its strategy:
//   setup      mig-begin (the destination makes the guest's memory ready), and
//              for postcopy and hybrid a second, urgent-page connection
//   transfer   the strategy's part (strategies/: stop-copy, precopy, postcopy,
//              hybrid): pages while the guest runs, the freeze, what is left
//   commit     the last pages, the state's changes since the prestate and the
//              commit, in one write; the destination answers and starts it
//   postcopy   pages the destination still lacks: requests and a push
//              (postcopy-server.ts), until mig-complete ends the dependency
// Every strategy sends the state once before the freeze (mig-prestate, from
// which the destination builds the guest) and only its changes inside the
// downtime; the commit follows the final state without waiting for an answer.

import type { Core } from "../machine/core.js";
import type { Peer } from "../net/peer.js";
import { encode, num, type Message } from "../net/protocol.js";
import { changesSince } from "../snapshot/changes.js";
import { encodeSnapshot, type GuestInfo, type GuestSnapshot, type RamPages } from "../snapshot/snapshot.js";
import { PageSender } from "./page-sender.js";
import { BATCH_PAGES, countPages, writtenBitmap, writtenPages } from "./pages.js";
import { servePostcopy, type PostcopyLink } from "./postcopy-server.js";
import { RemoteError } from "../net/remote-error.js";
import { ProgressMeter } from "./progress.js";
import { newStats, type MigrationStats, type Strategy } from "./stats.js";
import { TRANSFERS } from "./strategies/index.js";
import type { Handover, Transfer } from "./strategies/transfer.js";
import { nowMs } from "../machine/host-clock.js";

/** What a migration needs from the guest being moved. */
export interface MigratableGuest {
  readonly info: GuestInfo;
  readonly core: Core;
  /** Freezes at a slice boundary (at once when blocked in slow I/O); resolves when frozen. */
  freeze(): Promise<void>;
  /** Continues on this host after a failed migration. */
  thaw(): void;
  /** Auto-converge: the fraction of time the guest must sit idle (0 = full speed). */
  setThrottle(fraction: number): void;
  /** A freeze is about to be asked for: run short batches, so it is seen at once. */
  expectFreeze(soon: boolean): void;
  snapshotWithout(ram: RamPages): GuestSnapshot;
}

export interface MigrateOptions {
  strategy: Strategy;
  maxDowntimeMs: number;
  bandwidthBytesPerSecond?: number; // a cap on the page stream
  maxRounds?: number;
  onProgress?: (stats: MigrationStats) => void;
  /** The destination runs the guest now (for postcopy, pages still flow after this). */
  onCommitted?: () => void;
  /** Opens a second connection to the destination, for postcopy's urgent pages. */
  openUrgentChannel?: () => Promise<Peer>;
  /** Test hook: called at named points so a test can cut the connection there. */
  checkpoint?: (point: string) => void;
  /**
   * Cancels the migration (a kill, `roam migrate --cancel`, its destination
   * marked down): honoured until the commit leaves, after which the guest is
   * the destination's and it finishes. Before that it takes effect at once: the
   * connections are dropped, so no wait on a destination that does not answer
   * (a request's 30 s) holds it, and the destination discards what it got.
   */
  signal?: AbortSignal;
}

const EMPTY_PAGES: RamPages = { indices: new Uint32Array(0), data: new Uint8Array(0) };

export class MigrationFailed extends Error {}

/** Postcopy recovery: how long either side waits for a broken link to be made again before the guest is lost. */
export const RESUME_MS = 30_000;

export async function migrateOut(guest: MigratableGuest, peer: Peer, from: string, to: string, options: MigrateOptions): Promise<MigrationStats> {
  return new OutgoingMigration(guest, peer, from, to, options).run();
}

/** One migration of one guest, from setup to the end of its residual dependency. */
class OutgoingMigration implements Transfer {
  readonly stats: MigrationStats;
  readonly pageCount: number;
  readonly sender: PageSender;
  readonly meter: ProgressMeter;
  private readonly started = nowMs();
  private frozenAt = 0;
  private urgent: Peer | undefined;
  private committed = false;
  private base: GuestSnapshot | undefined; // the prestate the destination built the guest from
  private readonly earlyRequests: Message[] = []; // postcopy: page requests that came before the commit's answer
  private offEarly = () => {};

  constructor(readonly guest: MigratableGuest, readonly peer: Peer, private readonly from: string, private readonly to: string, readonly options: MigrateOptions) {
    this.stats = newStats(guest.info.id, options.strategy, from, to);
    this.pageCount = guest.info.ramBytes / 4096;
    this.meter = new ProgressMeter(this.stats, this.started, options.onProgress);
    this.sender = new PageSender(guest, peer, this.stats, this.meter, options.bandwidthBytesPerSecond, () => this.stopIfCancelled());
  }

  async run(): Promise<MigrationStats> {
    const interrupt = () => this.interrupt();
    this.options.signal?.addEventListener("abort", interrupt, { once: true });
    try {
      this.stopIfCancelled();
      await this.begin();
      const handover = await TRANSFERS[this.options.strategy](this);
      this.options.checkpoint?.("frozen");
      await this.commit(handover);
      if (handover.postcopy) await this.postcopy(handover.postcopy);
      return this.completed();
    } catch (error) {
      throw this.failed(error as Error);
    } finally {
      this.options.signal?.removeEventListener("abort", interrupt);
      this.sender.release();
    }
  }

  /** A cancel while the migration waits (on pages, a request, the freeze): before the commit, the links drop now. */
  private interrupt(): void {
    if (this.committed) return; // the guest is the destination's: the migration finishes
    this.peer.terminate();
    this.urgent?.terminate();
  }

  stopIfCancelled(): void {
    const signal = this.options.signal;
    if (signal?.aborted) throw new MigrationFailed(`cancelled (${(signal.reason as Error)?.message ?? "by request"})`);
  }

  allPages(): number[] {
    return writtenPages(this.guest.core, this.pageCount);
  }

  /** Setup: the destination makes a core, and the memory of the pages that may carry data (ever written) ready. */
  private async begin(): Promise<void> {
    // (A first touch of fresh memory costs ~1.7 µs per page on this kind of VM, ~40% of the page stream.)
    const expected = writtenBitmap(this.guest.core, this.pageCount);
    await this.peer.request({ t: "mig-begin", guest: this.guest.info, strategy: this.options.strategy, expected }, 30_000);
    // Postcopy (and hybrid, which may switch to it) answers page requests on a second connection.
    if (this.options.strategy === "postcopy" || this.options.strategy === "hybrid") {
      this.urgent = await this.options.openUrgentChannel?.();
      await this.urgent?.request({ t: "mig-urgent", guest: this.guest.info.id }, 30_000);
    }
    this.stopIfCancelled();
    this.stats.setupMs = nowMs() - this.started;
    this.stats.status = "active";
    this.options.checkpoint?.("begun");
    this.meter.tick(countPages(expected, this.pageCount) * 4096, true);
  }

  /**
   * The state as it is just before the freeze goes ahead (mig-prestate): the
   * destination builds the guest from it while the guest still runs here, and
   * the freeze then sends only what changed since (the registers, the clock,
   * ...). Resolves once the destination has built it, or that work would
   * still be under way inside the downtime. The guest runs in short batches
   * meanwhile, so a freeze that follows is seen within ~1 ms, not after a
   * whole batch with the destination gone idle.
   */
  async sendPrestate(): Promise<void> {
    this.base = this.guest.snapshotWithout(EMPTY_PAGES);
    const snapshot = encodeSnapshot(this.base);
    this.stats.bytes += snapshot.length;
    this.guest.expectFreeze(true);
    const built = this.peer.request({ t: "mig-prestate", snapshot }, 30_000);
    this.options.checkpoint?.("prestate-sent");
    await built;
    this.stopIfCancelled();
  }

  /**
   * Brings the destination's prestate up to now (mig-prestate-changes: what
   * changed since, as the final state carries it), and waits until the
   * destination has applied it; the guest runs on. What the guest changed in
   * its structure while the prestate was built (a process forked, a mapping
   * grew) is rebuilt there now rather than inside the downtime, and both
   * sides run the final state's code once before the freeze: its first run
   * compiles it (1-2 ms of the downtime on a host that has not migrated yet).
   */
  async refreshPrestate(): Promise<void> {
    if (!this.base) throw new Error("refreshPrestate before sendPrestate");
    const next = this.guest.snapshotWithout(EMPTY_PAGES);
    const message = { t: "mig-prestate-changes", changes: changesSince(this.base, next) };
    this.stats.bytes += encode(message).length;
    await this.peer.request(message, 30_000);
    this.base = next;
    this.options.checkpoint?.("prestate-refreshed");
    this.stopIfCancelled();
  }

  /** Freezes the guest (after the prestate, sent now unless the strategy sent it already); from here on the downtime runs. */
  async freeze(): Promise<void> {
    if (!this.base) await this.sendPrestate();
    await this.guest.freeze();
    this.guest.expectFreeze(false);
    this.sender.frozen = true;
    this.frozenAt = nowMs();
  }

  /** The guest is frozen: the last pages, then the state and the commit; resolves when the destination runs it. */
  private async commit({ finalPages, postcopy }: Handover): Promise<void> {
    const { peer, stats, options } = this;
    // Pages still to come, as a bitmap (8 KiB for 256 MiB, where a list of numbers was 256 KiB).
    const state = encode({ t: "mig-state", changes: changesSince(this.base!, this.guest.snapshotWithout(EMPTY_PAGES)), missing: postcopy ?? new Uint8Array(0) });
    stats.bytes += state.length;
    options.checkpoint?.("state-encoded");
    // A few last pages leave in the same write as the state and the commit
    // (see Peer.hold); a larger set streams first, as in the rounds.
    const fewLast = finalPages.length <= BATCH_PAGES;
    if (!fewLast) await this.sender.send(finalPages, stats.rounds.length + 1);
    const release = peer.hold();
    let answer: Promise<Message>;
    try {
      if (fewLast) await this.sender.send(finalPages, stats.rounds.length + 1);
      options.checkpoint?.("final-pages-sent");
      answer = this.sendStateAndCommit(state, postcopy !== null);
    } finally {
      release();
    }
    const reply = await answer.catch(async (error) => {
      throw new MigrationFailed(`no answer to commit (${(error as Error).message})`);
    });
    void num(reply, "startedAt");
    stats.downtimeMs = nowMs() - this.frozenAt;
    options.checkpoint?.("commit-answered");
    options.onCommitted?.();
  }

  /**
   * The state and the commit go out back to back: the destination takes them
   * in order (builds the guest, then starts it) and answers only the commit
   * (a bad state fails it), so the downtime holds one round trip, not two.
   * Until the commit is on the wire a failure thaws the guest here; after it,
   * the host asks the destination before thawing.
   */
  private sendStateAndCommit(state: Uint8Array, postcopy: boolean): Promise<Message> {
    this.peer.sendEncoded(state, () => {});
    this.options.checkpoint?.("state-sent");
    if (!this.peer.open) throw new MigrationFailed("connection to the destination closed before the commit");
    this.stopIfCancelled(); // the last moment: after this line the guest is the destination's
    this.committed = true;
    // Postcopy: the guest faults as soon as it starts, maybe before we hear the
    // commit's answer; keep those requests for the page server.
    if (postcopy) {
      this.offEarly = this.peer.onMessage((m) => { if (m.t === "mig-page-request" || m.t === "mig-fault-served") this.earlyRequests.push(m); });
    }
    const answer = this.peer.request({ t: "mig-commit" }, 30_000);
    this.options.checkpoint?.("commit-sent");
    return answer;
  }

  /** The guest runs at the destination; serve it the pages it still lacks. */
  private async postcopy(toCome: Uint8Array): Promise<void> {
    this.stats.status = "postcopy";
    this.stats.residualDependency = `${countPages(toCome, this.pageCount)} pages on ${this.from}`;
    this.meter.phase();
    try {
      const link: PostcopyLink = {
        peer: this.peer, urgent: this.urgent!, reconnect: this.options.openUrgentChannel && (() => this.reconnect()), checkpoint: this.options.checkpoint,
      };
      try {
        await servePostcopy(this.guest, link, toCome, this.sender.everSent, this.stats, this.frozenAt, this.earlyRequests, this.offEarly, this.meter);
      } finally {
        if (link.peer !== this.peer) link.peer.close(); // connections opened again after a break
        if (link.urgent !== this.urgent) link.urgent.close();
      }
    } finally {
      this.urgent?.close();
    }
  }

  /**
   * Postcopy recovery: the link to the destination broke while its guest
   * still needs pages from here. Both connections are opened again (every
   * 250 ms, for RESUME_MS) and the destination says which pages it still
   * lacks. A destination whose port refuses connections is gone; one that no
   * longer has the arrival (it gave up waiting) cannot take the pages either.
   */
  private async reconnect(): Promise<{ peer: Peer; urgent: Peer; missing: Uint8Array }> {
    const id = this.guest.info.id;
    const deadline = nowMs() + RESUME_MS;
    this.stats.residualDependency = `${this.stats.residualDependency.replace(/ \(.*\)$/, "")} (the link broke: reconnecting)`;
    for (;;) {
      let peer: Peer | undefined, urgent: Peer | undefined;
      try {
        peer = await this.options.openUrgentChannel!();
        const reply = await peer.request({ t: "mig-resume", guest: id }, 10_000);
        if (!(reply.missing instanceof Uint8Array)) throw new MigrationFailed("mig-resume: the destination did not say which pages it lacks");
        urgent = await this.options.openUrgentChannel!();
        await urgent.request({ t: "mig-urgent", guest: id }, 10_000);
        this.stats.residualDependency = this.stats.residualDependency.replace(/ \(.*\)$/, "");
        return { peer, urgent, missing: reply.missing };
      } catch (error) {
        peer?.close();
        urgent?.close();
        const message = (error as Error).message;
        if (error instanceof RemoteError || error instanceof MigrationFailed) throw new MigrationFailed(`destination ${this.to}: ${message}`);
        if (/ECONNREFUSED/.test(message)) throw new MigrationFailed(`destination ${this.to} went away during postcopy (${message})`);
        if (nowMs() > deadline) throw new MigrationFailed(`destination ${this.to} could not be reached again within ${RESUME_MS / 1000} s after the link broke during postcopy (${message})`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private completed(): MigrationStats {
    const stats = this.stats;
    stats.status = "completed";
    stats.residualDependency = "none";
    stats.remainingBytes = 0;
    stats.totalMs = nowMs() - this.started;
    stats.throughputMBps = stats.bytes / 1e6 / (stats.totalMs / 1000);
    this.meter.phase();
    return stats;
  }

  /** Undoes what can be undone (before the commit the guest thaws here) and says what happened. */
  private failed(error: Error): MigrationFailed {
    const stats = this.stats;
    const signal = this.options.signal;
    stats.status = "failed";
    // A cancel shows first as the dropped connection's error: the cancel is the cause.
    stats.error = signal?.aborted && !this.committed ? `cancelled (${(signal.reason as Error)?.message ?? "by request"})` : error.message;
    stats.totalMs = nowMs() - this.started;
    this.guest.setThrottle(0);
    this.guest.expectFreeze(false);
    this.urgent?.close();
    if (!this.committed) {
      this.peer.send({ t: "mig-abort", reason: stats.error });
      if (this.sender.frozen) this.guest.thaw();
    }
    const message = stats.error.includes(this.to) ? stats.error : `destination ${this.to}: ${stats.error}`;
    return Object.assign(new MigrationFailed(message), { stats, committed: this.committed });
  }
}
