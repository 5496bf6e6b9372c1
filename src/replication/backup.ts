// The backup's side of replication: one replica per replication link. It
// keeps the guest's RAM in a core that does not run, and the state of the last
// complete epoch. An epoch's pages are staged as they arrive and applied, with
// its state, only when rep-epoch says the epoch is complete: all in one turn
// of the event loop, so a failover sees the last complete epoch, never half of
// one. Then it acknowledges (rep-ack).
//
// Failover: when the link closes, or nothing has come from the primary for
// silenceBoundMs(epochMs), the backup builds the guest from its last complete
// epoch and starts it, as a migration's destination starts an arrival. The
// takeover is final: the host remembers it, and a primary that comes back is
// told (rep-begin's answer `owned`) and drops its copy (primary.ts).
//
// A move (move.ts): rep-promote makes the backup take over at once (the guest
// is frozen at its primary since the epoch just committed). rep-handoff names
// the host the guest is migrating to; losing the primary then, the backup asks
// that host first (rep-fence): one that runs the guest keeps it (the backup
// stands down), one that does not is fenced (it will refuse the migration's
// commit) and the backup takes over. rep-alive keeps a move's silence short.

import { Core } from "../machine/core.js";
import type { PostcopyPages } from "../machine/postcopy-pages.js";
import type { PreparedGuest } from "../migration/destination.js";
import { PAGE, forEachRun, markWritten, readBatch } from "../migration/pages.js";
import { connect, type Peer } from "../net/peer.js";
import { bytes, num, ProtocolError, type Message } from "../net/protocol.js";
import { applyChanges, type SnapshotChanges } from "../snapshot/changes.js";
import { decodeSnapshot, type GuestInfo, type GuestSnapshot } from "../snapshot/snapshot.js";
import { newReplicationStats, silenceBoundMs, type ReplicationStats } from "./epoch.js";
import { nowMs } from "../machine/host-clock.js";

/** What a replica needs from the host it is kept on. */
export interface BackupHost {
  readonly name: string;
  readonly url: string;
  readonly token?: string;
  log(line: string, level?: "info" | "warn" | "error"): void;
  /** Admits a guest of this size against the memory budget (held until release), or throws why not. */
  reserve(info: GuestInfo): void;
  unreserve(id: string): void;
  /** Builds the guest from a snapshot on `core`, whose RAM already holds the pages; not started yet. */
  prepare(core: Core, snapshot: GuestSnapshot, pages: PostcopyPages): PreparedGuest;
  /** Just before a taken-over guest starts here (its takeover is recorded: fencing). */
  takingOver(replica: Replica): void;
  /** The replica ended: dropped, or its guest taken over. */
  replicaEnded(replica: Replica, tookOver: boolean): void;
}

/** A taken-over guest has every page here. */
const ALL_HERE: PostcopyPages = { isMissing: () => false, fetch: () => Promise.resolve(), arriving: false };

export class Replica {
  readonly stats: ReplicationStats;
  private committed: GuestSnapshot | undefined; // the last complete epoch's state
  private staged = new Map<number, Uint8Array | null>(); // the epoch arriving: page -> bytes (null: now zero)
  private stagedPages = 0;
  private lastHeard = nowMs();
  private readonly watch: NodeJS.Timeout;
  private over = false;
  /** rep-handoff: the host the primary is migrating the guest to (settled with before any takeover). */
  private movingTo: string | undefined;
  private settling = false;

  private constructor(private readonly host: BackupHost, readonly peer: Peer, readonly info: GuestInfo, private readonly core: Core, epochMs: number, primary: string) {
    this.stats = newReplicationStats(info.id, "backup", primary, epochMs);
    const bound = silenceBoundMs(epochMs);
    this.watch = setInterval(() => {
      if (nowMs() - this.lastHeard > bound) this.takeOver(`no word from the primary for ${bound} ms`);
    }, Math.min(250, bound / 4));
    void peer.closed.then(() => this.takeOver("the link to the primary closed"));
  }

  /** rep-begin: a core for the guest's RAM, admitted against the memory budget. */
  static async begin(host: BackupHost, peer: Peer, m: Message, primary: string): Promise<Replica> {
    const info = m.guest as GuestInfo;
    if (typeof info !== "object" || info === null || typeof info.id !== "string" || typeof info.ramBytes !== "number") throw new ProtocolError("rep-begin: guest info missing");
    if (!Number.isInteger(info.ramBytes) || info.ramBytes <= 0 || info.ramBytes % PAGE || info.ramBytes > 1 << 30) throw new ProtocolError(`rep-begin: bad RAM size ${info.ramBytes}`);
    const epochMs = num(m, "epochMs", 1, 10_000);
    host.reserve(info);
    try {
      const core = await Core.load();
      core.init(info.ramBytes);
      return new Replica(host, peer, info, core, epochMs, primary);
    } catch (error) {
      host.unreserve(info.id);
      throw error;
    }
  }

  get committedEpoch(): number {
    return this.stats.ackedEpoch;
  }

  /** Handles a message of this replica's link; false if it is not one. A bad one drops the replica (the primary lives: no takeover). */
  handle(m: Message): boolean {
    if (this.over) return false;
    this.lastHeard = nowMs();
    try {
      switch (m.t) {
        case "mig-pages": this.pages(m); return true;
        case "rep-epoch": this.epoch(m); return true;
        case "rep-alive": return true;
        case "rep-handoff":
          this.movingTo = typeof m.to === "string" ? m.to : undefined;
          this.peer.reply(m);
          return true;
        case "rep-promote": this.promote(m); return true;
        case "rep-end":
          this.drop(`the primary ended it (${typeof m.reason === "string" ? m.reason : "no reason given"})`);
          this.peer.reply(m);
          return true;
        default: return false;
      }
    } catch (error) {
      this.drop(`bad ${m.t}: ${(error as Error).message}`);
      this.peer.close(1002, "bad replication frame");
      throw error;
    }
  }

  private pages(m: Message): void {
    const round = num(m, "round");
    if (round !== this.committedEpoch + 1) throw new ProtocolError(`mig-pages for epoch ${round}, expected ${this.committedEpoch + 1}`);
    const batch = readBatch(bytes(m, "indices"), bytes(m, "data"), bytes(m, "zero"), this.info.ramBytes / PAGE);
    this.stats.bytes += batch.data.length + 4 * (batch.indices.length + batch.zero.length);
    this.stagedPages += batch.indices.length + batch.zero.length;
    if (this.committed === undefined) {
      // The first epoch goes straight into RAM: there is no committed epoch it could spoil (and, until it is complete, nothing to take over).
      const ram = this.core.ram;
      forEachRun(batch.indices, (page, index, count) => ram.set(batch.data.subarray(index * PAGE, (index + count) * PAGE), page * PAGE));
      markWritten(this.core, batch.indices);
      for (const page of batch.zero) ram.fill(0, page * PAGE, (page + 1) * PAGE);
      return;
    }
    batch.indices.forEach((page, i) => this.staged.set(page, batch.data.slice(i * PAGE, (i + 1) * PAGE)));
    for (const page of batch.zero) this.staged.set(page, null);
  }

  /** The epoch is complete: its state and its pages become the committed epoch at once, and the primary hears so. */
  private epoch(m: Message): void {
    const n = num(m, "epoch");
    if (n !== this.committedEpoch + 1) throw new ProtocolError(`rep-epoch ${n}, expected ${this.committedEpoch + 1}`);
    const sent = num(m, "pages", 0);
    if (sent !== this.stagedPages) throw new ProtocolError(`rep-epoch ${n}: ${sent} pages were sent, ${this.stagedPages} arrived`);
    const next = this.committed === undefined ? this.firstState(m) : applyChanges(this.committed, m.changes as SnapshotChanges);
    // Commit: nothing else runs on this event loop until the end of this function.
    const ram = this.core.ram;
    for (const [page, data] of this.staged) {
      if (data) ram.set(data, page * PAGE);
      else ram.fill(0, page * PAGE, (page + 1) * PAGE);
    }
    markWritten(this.core, this.staged.keys());
    this.staged.clear();
    this.stagedPages = 0;
    this.committed = next;
    this.stats.ackedEpoch = this.stats.epochs = n;
    this.stats.committedOutput = next.console.outputOffset;
    if (n === 1) this.stats.status = "protected";
    this.peer.send({ t: "rep-ack", epoch: n });
  }

  private firstState(m: Message): GuestSnapshot {
    const snapshot = decodeSnapshot(bytes(m, "snapshot"));
    if (snapshot.guest.id !== this.info.id) throw new ProtocolError(`rep-epoch: state of ${snapshot.guest.id}, begun for ${this.info.id}`);
    return snapshot;
  }

  /** The primary moved the guest here: it takes over now, and the primary hears whether it did. */
  private promote(m: Message): void {
    const peer = this.peer;
    this.takeOver("its primary moved it here (promoted)", true, false);
    if (this.stats.status !== "took-over") throw new ProtocolError(this.stats.error ?? "could not take over");
    peer.reply(m, { epoch: this.committedEpoch });
    peer.close();
  }

  /**
   * The primary is gone: the guest starts here from the last complete epoch
   * (if there is one). During a move, only once its destination says it does
   * not run it (and will not), or is certainly dead.
   */
  takeOver(why: string, settled = false, terminate = true): void {
    if (this.over) return;
    if (this.movingTo !== undefined && !settled) {
      void this.settleMove(why);
      return;
    }
    const noticed = nowMs();
    this.end();
    if (terminate) this.peer.terminate();
    const snapshot = this.committed;
    if (!snapshot) {
      this.stats.error = `${why} before the first epoch was complete: nothing to take over`;
      this.host.log(`replica of ${this.info.id}: ${this.stats.error}`, "warn");
      this.host.unreserve(this.info.id);
      this.host.replicaEnded(this, false);
      return;
    }
    try {
      const prepared = this.host.prepare(this.core, snapshot, ALL_HERE);
      this.host.takingOver(this);
      prepared.start();
    } catch (error) {
      this.stats.error = `could not take over: ${(error as Error).message}`;
      this.host.log(`replica of ${this.info.id}: ${this.stats.error}`, "error");
      this.host.unreserve(this.info.id);
      this.host.replicaEnded(this, false);
      return;
    }
    const now = nowMs();
    Object.assign(this.stats, { status: "took-over", failoverMs: now - this.lastHeard, detectMs: noticed - this.lastHeard, tookOverAt: new Date().toISOString(), error: why });
    this.host.log(`guest ${this.info.id} taken over from ${this.stats.peer} at epoch ${this.committedEpoch} (${why}; failover ${this.stats.failoverMs!.toFixed(1)} ms)`, "warn");
    this.host.replicaEnded(this, true);
  }

  /** Asks the host the guest was moving to whether it runs it; takes over only if it does not (it is fenced then) or is gone. */
  private async settleMove(why: string): Promise<void> {
    if (this.settling) return;
    this.settling = true;
    const to = this.movingTo!;
    this.peer.terminate(); // a primary that is only silent learns it was fenced when it asks again
    this.host.log(`replica of ${this.info.id}: ${why} while it moved to ${to}; asking there before taking over`, "warn");
    while (!this.over) {
      let peer: Peer | undefined;
      try {
        peer = await connect(to, { role: "host", token: this.host.token, name: this.host.name, url: this.host.url });
        const reply = await peer.request({ t: "rep-fence", guest: this.info.id, from: this.stats.peer }, 10_000);
        if (reply.running === true) return this.drop(`its primary moved it to ${to}, which runs it`);
        return this.takeOver(`${why} during its move to ${to}, which will not start it (fenced there)`, true);
      } catch (error) {
        const message = (error as Error).message;
        if (/ECONNREFUSED/.test(message)) return this.takeOver(`${why} during its move to ${to}, whose host is gone`, true);
        await new Promise((resolve) => setTimeout(resolve, 250));
      } finally {
        peer?.close();
      }
    }
  }

  /** Forgets the replica without taking over (the primary ended it, or a newer link for the same guest replaces it). */
  drop(why: string): void {
    if (this.over) return;
    this.end();
    this.stats.status = "ended";
    this.stats.error = why;
    this.host.unreserve(this.info.id);
    this.host.replicaEnded(this, false);
  }

  private end(): void {
    this.over = true;
    clearInterval(this.watch);
    this.staged.clear();
  }
}
