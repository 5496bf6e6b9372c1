// The primary's side of replication (Remus-style checkpoints, issue 13): every
// epoch it freezes the guest at a slice boundary, takes the pages dirtied since
// the last epoch (the core's dirty bitmap, sent by the precopy machinery's
// PageSender as mig-pages frames) and the state's changes (snapshot/changes.ts),
// resumes the guest at once, and sends rep-epoch; the backup's rep-ack for
// epoch N releases the console output of epoch N (output-commit.ts).
//
// Losing the backup: the guest is frozen (it must not run, and its output could
// not be released anyway) while the primary reconnects. A backup that answers
// that it runs the guest (it took over) fences this copy: the guest is marked
// moved there and never runs here again. A backup host that refuses the
// connection (nothing listens: it is dead, so it runs nothing) leaves the guest
// running here unprotected. Otherwise the primary keeps trying, frozen.
//
// Moving the guest (migrate, drain, the balancer) is run by this loop, between
// epochs (move.ts): a last epoch with the guest frozen, then either the backup
// is promoted (the destination is the backup) or told where the guest goes
// (rep-handoff) before an ordinary migration, after which the new host
// replicates it on to the same backup.

import type { HostedGuest } from "../cluster/hosted-guest.js";
import { isLive } from "../cluster/hosted-guest.js";
import { PageSender } from "../migration/page-sender.js";
import { PAGE, takeDirtyPages, writtenPages } from "../migration/pages.js";
import { ProgressMeter } from "../migration/progress.js";
import { newStats } from "../migration/stats.js";
import { connect, type Peer } from "../net/peer.js";
import { encode, type Message } from "../net/protocol.js";
import { changesSince } from "../snapshot/changes.js";
import { encodeSnapshot, type GuestSnapshot, type RamPages } from "../snapshot/snapshot.js";
import { EPOCHS_IN_FLIGHT, newReplicationStats, type ReplicationStats } from "./epoch.js";
import { OutputCommit } from "./output-commit.js";
import { moveReplicated, type MoveRequest, type Moving } from "./move.js";
import type { MigrationStats } from "../migration/stats.js";
import type { GuestMessage } from "../net/host-links.js";
import { nowMs } from "../machine/host-clock.js";

const EMPTY_PAGES: RamPages = { indices: new Uint32Array(0), data: new Uint8Array(0) };
const RELINK_EVERY_MS = 250;
const ANSWER_MS = 10_000; // rep-begin, rep-end

/** What the primary needs from its host. */
export interface PrimaryHost {
  readonly name: string;
  readonly url: string;
  log(line: string, level?: "info" | "warn" | "error"): void;
  /** The backup took the guest over: it runs there now and never again here. */
  fenced(hosted: HostedGuest, owner: string): void;
  /** A message the guest sent, held until its epoch was acknowledged, goes now. */
  sendHeldMessage(message: GuestMessage): void;
  /** The cluster's members this host knows (told to the backup: after a takeover it must find the guest's peers). */
  memberUrls?(): string[];
}

export class ReplicationRefused extends Error {}

export class PrimaryReplication {
  readonly stats: ReplicationStats;
  private peer: Peer | undefined;
  private sender: PageSender | undefined;
  private pageStats = newStats("", "precopy", "", ""); // what the PageSender counts (pages, bytes) on the current link
  private last: GuestSnapshot | undefined; // the state the backup holds once the last epoch sent commits
  private epoch = 0;
  private unacked = 0;
  private pauses = 0;
  private readonly frozenAt = new Map<number, number>(); // epoch -> when it froze, until acknowledged
  private acks = 0;
  private readonly commit: OutputCommit;
  private over = false;
  private signal: AbortSignal | undefined;
  private moveRequest: MoveRequest | undefined;
  /** The dirty bitmap was used by something else (a migration that failed): the next epoch sends every page written. */
  private fullNext = false;
  private wake = () => {};
  private firstAck!: () => void;
  /** Resolves when the backup has committed the first epoch: the guest is protected from then on. */
  readonly protectedNow = new Promise<void>((resolve) => (this.firstAck = resolve));

  constructor(private readonly host: PrimaryHost, private readonly hosted: HostedGuest, readonly to: string, readonly epochMs: number, private readonly token: string | undefined) {
    this.stats = newReplicationStats(hosted.info.id, "primary", to, epochMs);
    this.commit = new OutputCommit(hosted, (message) => host.sendHeldMessage(message));
  }

  /** Opens the link and has the backup ready a replica; throws ReplicationRefused if it will not (or runs the guest itself). */
  async link(): Promise<void> {
    const peer = await connect(this.to, { role: "host", token: this.token, name: this.host.name, url: this.host.url });
    try {
      const members = this.host.memberUrls?.() ?? [];
      const reply = await peer.request({ t: "rep-begin", guest: this.hosted.info, epochMs: this.epochMs, members }, ANSWER_MS);
      if (reply.owned === true) throw Object.assign(new ReplicationRefused(`backup ${this.to} runs guest ${this.hosted.info.id} itself (it took over)`), { owned: true });
    } catch (error) {
      peer.close();
      throw error;
    }
    this.peer = peer;
    this.epoch = 0;
    this.unacked = 0;
    this.frozenAt.clear();
    this.last = undefined;
    this.commit.forgetEpochs(); // their acks will never come: the first epoch on this link releases their output
    this.sender?.release();
    this.pageStats = newStats(this.hosted.info.id, "precopy", this.host.name, this.to);
    this.sender = new PageSender(this.hosted, peer, this.pageStats, new ProgressMeter(this.pageStats, nowMs()), undefined, () => {});
    this.sender.frozen = true; // pages are only ever taken while the guest is frozen
    peer.onMessage((m) => this.message(m));
    void peer.closed.then(() => this.wake());
  }

  /** The epochs, until the guest ends, the replication is stopped (`signal`), or the backup took over. */
  async run(signal: AbortSignal): Promise<void> {
    const hosted = this.hosted;
    this.signal = signal;
    this.commit.start();
    hosted.beforeEnd = () => this.guestEnded();
    const stop = () => this.wake();
    signal.addEventListener("abort", stop);
    try {
      while (!signal.aborted && !this.over) {
        if (!this.peer?.open && !(await this.relink(signal))) break;
        if (this.over || signal.aborted) break;
        if (this.moveRequest) {
          const request = this.moveRequest;
          this.moveRequest = undefined;
          await moveReplicated(this.moving, request, signal).then(request.resolve, request.reject);
          continue;
        }
        const next = nowMs() + this.epochMs;
        try {
          await this.takeEpoch();
        } catch (error) {
          // The link closed under the epoch (the next turn finds out who owns the guest), or a bug: start afresh.
          if (this.peer?.open) {
            this.host.log(`guest ${hosted.info.id}: epoch ${this.epoch} to ${this.to} failed: ${(error as Error).message}`, "error");
            this.peer.terminate();
          }
          continue;
        }
        // Acks wake the pause early; the epoch still waits its time (and for room among the epochs in flight).
        while ((nowMs() < next || this.unacked >= EPOCHS_IN_FLIGHT) && this.peer?.open && !this.over && !signal.aborted && !this.moveRequest) {
          await this.pause(Math.max(1, next - nowMs()), signal);
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      if (signal.aborted && !this.over) this.stopped();
      this.sender?.release();
      this.moveRequest?.reject(new Error(`guest ${hosted.info.id}'s replication ended (${this.stats.status}) before it could be moved`));
    }
  }

  /**
   * Runs a migration of the guest (`move`, departures.ts) between two epochs,
   * handing the backup over (move.ts); resolves with what the migration says.
   */
  move(to: string, move: (signal: AbortSignal) => Promise<MigrationStats>): Promise<MigrationStats> {
    if (this.moveRequest) return Promise.reject(new Error(`guest ${this.hosted.info.id} is busy: a migration is under way`));
    if (this.over) return Promise.reject(new Error(`guest ${this.hosted.info.id}'s replication is ${this.stats.status}`));
    return new Promise((resolve, reject) => {
      this.moveRequest = { to, move, resolve, reject };
      this.wake();
    });
  }

  /** What move.ts works with: the loop's own parts, used only from inside the loop. */
  private get moving(): Moving {
    const self = this;
    return {
      hosted: this.hosted, host: this.host, backup: this.to, token: this.token, epochMs: this.epochMs, stats: this.stats,
      get peer() { return self.peer; },
      finalEpoch: () => self.finalEpoch(),
      sendAllNext: () => { self.fullNext = true; },
      ended: (note) => self.movedAway(note),
    };
  }

  private async finalEpoch(): Promise<boolean> {
    await this.takeEpoch(true);
    while (this.unacked > 0 && this.peer?.open && !this.over) await this.pause(1000, this.signal!);
    return this.unacked === 0 && this.peer?.open === true && !this.over;
  }

  private movedAway(note: string): void {
    this.over = true;
    this.stats.status = "moved";
    this.stats.error = note;
    this.hosted.beforeEnd = undefined;
    this.hosted.setBackup(undefined);
    this.peer?.close();
  }

  /** One epoch: freeze, take what changed, resume; the pages and the state are on their way when this returns. */
  private async takeEpoch(stayFrozen = false): Promise<void> {
    const { hosted, peer, sender } = this;
    await hosted.freeze(); // at the next slice boundary: until then the guest runs, so the pause starts here
    const frozenAt = nowMs();
    if (!isLive(hosted.status) || !peer || !sender) return;
    let sent: { n: number; bytes: number } | undefined;
    try {
      const n = ++this.epoch;
      this.frozenAt.set(n, frozenAt);
      const core = hosted.core;
      const pageCount = hosted.info.ramBytes / PAGE;
      const full = n === 1 || this.fullNext;
      this.fullNext = false;
      if (full) takeDirtyPages(core, pageCount); // tracking starts here; the first epoch sends every page ever written
      const pages = full ? writtenPages(core, pageCount) : takeDirtyPages(core, pageCount);
      const snapshot = hosted.snapshotWithout(EMPTY_PAGES);
      const state = this.last === undefined ? { snapshot: encodeSnapshot(snapshot) } : { changes: changesSince(this.last, snapshot) };
      this.last = snapshot;
      this.commit.epochEnded(n);
      const before = { bytes: this.pageStats.bytes, pages: this.pageStats.pagesSent };
      await sender.send(pages, n); // the bytes are copied into frames here, while frozen
      const frame = encode({ t: "rep-epoch", epoch: n, pages: this.pageStats.pagesSent - before.pages, ...state });
      peer.sendEncoded(frame, () => {});
      this.unacked++;
      sent = { n, bytes: this.pageStats.bytes - before.bytes + frame.length };
    } finally {
      const resumedAt = nowMs(); // (thaw runs the guest's first batch at once: not part of the pause)
      if (!stayFrozen) hosted.thaw(); // also the first start of a guest run with --replicate
      if (sent) this.account(sent.n, sent.bytes, resumedAt - frozenAt);
    }
  }

  private account(n: number, bytes: number, pauseMs: number): void {
    const s = this.stats;
    s.epochs = n;
    s.bytes += bytes;
    s.lastEpochBytes = bytes;
    if (n === 1) s.firstEpochBytes = bytes;
    else s.meanEpochBytes += (bytes - s.meanEpochBytes) / (n - 1);
    s.outputHeldBytes = this.commit.heldBytes;
    s.messagesHeld = this.commit.heldMessages;
    s.pauseMs.last = pauseMs;
    if (n === 1) { s.firstPauseMs = pauseMs; return; } // a stop-copy of every page written: not an epoch's usual pause
    const count = ++this.pauses;
    s.pauseMs.max = Math.max(s.pauseMs.max, pauseMs);
    s.pauseMs.mean += (pauseMs - s.pauseMs.mean) / count;
  }

  private message(m: Message): void {
    if (m.t !== "rep-ack" || typeof m.epoch !== "number") return;
    this.unacked = Math.max(0, this.epoch - m.epoch);
    const frozenAt = this.frozenAt.get(m.epoch);
    for (const e of this.frozenAt.keys()) if (e <= m.epoch) this.frozenAt.delete(e);
    if (frozenAt !== undefined) this.stats.ackMs += (nowMs() - frozenAt - this.stats.ackMs) / ++this.acks;
    this.stats.ackedEpoch = m.epoch;
    this.commit.acknowledged(m.epoch);
    this.stats.outputHeldBytes = this.commit.heldBytes;
    this.stats.messagesHeld = this.commit.heldMessages;
    if (this.stats.status === "syncing") {
      this.stats.status = "protected";
      this.hosted.setBackup(this.to);
      this.host.log(`guest ${this.hosted.info.id} replicated to ${this.to} (first epoch ${(this.stats.firstEpochBytes / 1024).toFixed(0)} KiB)`, "info");
      this.firstAck();
    }
    this.wake();
  }

  /** Waits `ms`, or less if something happens (an ack, the link closing, a stop). */
  private pause(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() { clearTimeout(timer); resolve(); }
      this.wake = done;
    });
  }

  /**
   * The link to the backup is gone. The guest freezes (it must not run on if
   * the backup took over), and we ask again until we know: the backup runs it
   * (fenced), the backup host is certainly dead (unprotected), or the backup
   * takes a fresh replica (epochs go on from a new first one).
   */
  private async relink(signal: AbortSignal): Promise<boolean> {
    const hosted = this.hosted;
    if (this.stats.status !== "syncing") this.stats.status = "reconnecting";
    this.peer = undefined;
    await hosted.freeze();
    if (!isLive(hosted.status)) return false;
    this.host.log(`guest ${hosted.info.id}: lost its backup ${this.to}; frozen until it is reached again`, "warn");
    while (!signal.aborted) {
      try {
        await this.link();
        this.stats.status = "syncing";
        this.host.log(`guest ${hosted.info.id}: backup ${this.to} reached again; replicating from a new first epoch`, "info");
        return true;
      } catch (error) {
        const message = (error as Error).message;
        if ((error as { owned?: boolean }).owned) return this.fence(), false;
        if (refused(message)) return this.unprotected(`backup ${this.to} is gone (${message})`), false;
        this.stats.error = message;
        await this.pause(RELINK_EVERY_MS, signal);
      }
    }
    return false;
  }

  /** The backup took over: this copy is dead for good. Its held output is not released (the backup's carries it). */
  private fence(): void {
    this.over = true;
    this.stats.status = "fenced";
    this.hosted.beforeEnd = undefined;
    this.host.log(`guest ${this.hosted.info.id}: backup ${this.to} took it over; dropped here (fenced)`, "warn");
    this.host.fenced(this.hosted, this.to);
  }

  private unprotected(reason: string): void {
    this.over = true;
    this.stats.status = "unprotected";
    this.hosted.setBackup(undefined);
    this.stats.error = reason;
    this.hosted.beforeEnd = undefined;
    this.commit.releaseAll();
    this.host.log(`guest ${this.hosted.info.id}: ${reason}; it runs on here without a backup`, "warn");
    this.hosted.thaw();
  }

  /** Stopped (a kill, the host closing): the backup forgets its replica, the output goes. */
  private stopped(): void {
    this.over = true;
    this.stats.status = "ended";
    this.hosted.setBackup(undefined);
    this.hosted.beforeEnd = undefined;
    this.peer?.send({ t: "rep-end", guest: this.hosted.info.id, reason: "stopped" });
    this.peer?.close();
    this.commit.releaseAll();
  }

  /**
   * The guest ended here: the backup is told (and forgets its replica) before
   * the last output is released and clients hear of the end. If the primary
   * dies between the backup's answer and the release, those last lines are
   * lost to clients (docs/ARCHITECTURE.md, "Replication").
   */
  private async guestEnded(): Promise<void> {
    this.over = true;
    this.stats.status = "ended";
    this.wake();
    const peer = this.peer;
    const reason = this.hosted.describeEnd();
    const told = peer?.open ? await peer.request({ t: "rep-end", guest: this.hosted.info.id, reason }, ANSWER_MS).then(() => true, () => false) : false;
    peer?.close();
    // The link was down as it ended (it ran on between losing the link and the freeze): the backup may have taken it over.
    if (!told && (await this.backupOwnsIt())) return this.fence();
    this.hosted.setBackup(undefined);
    this.commit.releaseAll();
  }

  /** Asks the backup whether it took the guest over, until it answers or its host is certainly dead (its port refuses). */
  private async backupOwnsIt(): Promise<boolean> {
    for (;;) {
      let peer: Peer | undefined;
      try {
        peer = await connect(this.to, { role: "host", token: this.token, name: this.host.name, url: this.host.url });
        const reply = await peer.request({ t: "rep-owner", guest: this.hosted.info.id }, ANSWER_MS);
        return reply.owned === true;
      } catch (error) {
        if (refused((error as Error).message)) return false;
        if (this.signal?.aborted) return false;
        await new Promise((resolve) => setTimeout(resolve, RELINK_EVERY_MS));
      } finally {
        peer?.close();
      }
    }
  }
}

/** Nothing listens at the backup's address: its host is dead, so it runs nothing. */
function refused(message: string): boolean {
  return /ECONNREFUSED/.test(message);
}
