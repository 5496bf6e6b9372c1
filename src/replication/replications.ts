// A host's replications, both ways: the guests it replicates to backups
// (primary.ts) and the replicas it keeps for other hosts (backup.ts); what the
// host's request handlers call, so host.ts holds only a few hooks.

import type { HostedGuest } from "../cluster/hosted-guest.js";
import { isLive } from "../cluster/hosted-guest.js";
import type { Peer } from "../net/peer.js";
import { ProtocolError, str, type Message } from "../net/protocol.js";
import type { GuestInfo } from "../snapshot/snapshot.js";
import type { MigrationStats } from "../migration/stats.js";
import { Replica, type BackupHost } from "./backup.js";
import { newReplicationStats, type ReplicationStats } from "./epoch.js";
import { TakeoverRecord } from "./takeover-record.js";
import { PrimaryReplication, type PrimaryHost } from "./primary.js";
import { findNewBackup } from "./new-backup.js";

export interface ReplicationHost extends PrimaryHost, Omit<BackupHost, "replicaEnded" | "takingOver"> {
  /** Whether guest `id` lives here or is arriving (then a primary asking to replicate it is fenced). */
  hasGuest(id: string): boolean;
  readonly guests: Map<string, HostedGuest>;
  /** `--state-dir`: where takeovers are recorded, to fence old primaries after a restart (takeover-record.ts). */
  readonly stateDir?: string;
  /** Members that may keep a backup of `info`, best first, none of `exclude` (the cluster's view). */
  backupCandidates(info: GuestInfo, exclude: string[]): string[];
  /** Hosts a primary (an authenticated host peer) knows as members: asked here too where a guest is (rep-begin's `members`). */
  learnHostsToAsk?(urls: string[]): void;
}

const KEEP_ENDED = 32;

export class Replications {
  private readonly primaries = new Map<string, PrimaryReplication>();
  private readonly replicas = new Map<string, Replica>();
  private readonly byPeer = new WeakMap<Peer, Replica>();
  /** Guests this host took over, by id: a primary that comes back for one is told (fencing). Kept while the host runs. */
  private readonly takenOver = new Map<string, ReplicationStats>();
  /** Takeovers on disk (with --state-dir): they fence old primaries after this host restarts too. */
  readonly record = new TakeoverRecord(() => this.host.stateDir);
  private readonly ended = new Map<string, ReplicationStats>();
  /** "guest from": migrations of a guest from a host whose backup took it over meanwhile (rep-fence): never started here. */
  private readonly fencedArrivals = new Set<string>();
  private readonly backupHost: BackupHost;
  private closed = false;

  constructor(private readonly host: ReplicationHost) {
    this.backupHost = {
      get name() { return host.name; },
      get url() { return host.url; },
      get token() { return host.token; },
      log: (line, level) => host.log(line, level),
      reserve: (info) => host.reserve(info),
      unreserve: (id) => host.unreserve(id),
      prepare: (core, snapshot, pages) => host.prepare(core, snapshot, pages),
      replicaEnded: (replica, tookOver) => this.replicaEnded(replica, tookOver),
      takingOver: (replica) => {
        try {
          this.record.record(replica.info.id, replica.stats.peer);
        } catch (error) { // the fence then lasts only while this host runs: better than not taking over
          host.log(`guest ${replica.info.id}: could not record its takeover on disk: ${(error as Error).message}`, "error");
        }
      },
    };
  }

  /**
   * Starts replicating `hosted` to `to`; resolves once the backup has
   * committed the first epoch. A guest that was never started (run
   * --replicate) starts at the end of that first epoch.
   */
  async replicate(hosted: HostedGuest, to: string, epochMs: number, token: string | undefined): Promise<ReplicationStats> {
    const id = hosted.info.id;
    if (!isLive(hosted.status)) throw new ProtocolError(`guest ${id} ${hosted.describeEnd()}; nothing to replicate`);
    if (hosted.status === "running" && hosted.guest.receivingPages) throw new ProtocolError(`guest ${id} is still receiving its memory by postcopy; replicate it once that completes`);
    const primary = new PrimaryReplication(this.host, hosted, to, epochMs, token);
    let linked!: (error?: Error) => void;
    const ready = new Promise<void>((resolve, reject) => (linked = (error) => (error ? reject(error) : resolve())));
    const running = hosted.exclusively("replication", `a replication to ${to}`, async (signal) => {
      try {
        await primary.link();
      } catch (error) {
        linked(new ProtocolError(`replicate ${id}: backup ${to}: ${(error as Error).message}`));
        return;
      }
      linked();
      this.primaries.set(id, primary);
      await primary.run(signal);
    });
    running.catch((error: Error) => linked(error)); // refused: busy with a migration, or ended
    await ready;
    const endedFirst = running.then(() => {
      throw new ProtocolError(`replication of ${id} to ${to} ended before the first epoch was acknowledged (${primary.stats.status}${primary.stats.error ? `: ${primary.stats.error}` : ""})`);
    });
    await Promise.race([primary.protectedNow, endedFirst]);
    return primary.stats;
  }

  /** A migration of a replicated guest (departures.ts): run by its replication; undefined if it has none here. */
  move(hosted: HostedGuest, to: string, move: (signal: AbortSignal) => Promise<MigrationStats>): Promise<MigrationStats> | undefined {
    if (hosted.operation?.kind !== "replication") return undefined;
    const primary = this.primaries.get(hosted.info.id);
    return primary ? primary.move(to, move) : undefined;
  }

  /** Why a migration of guest `id` from host `from` must not start it here (its backup took it over), if it must not. */
  refusesArrival(id: string, from: string | undefined): string | undefined {
    if (from === undefined || !this.fencedArrivals.has(`${id} ${from}`)) return undefined;
    return `guest ${id} was taken over by its backup while it moved here from ${from}: not started here`;
  }

  /** A replication message on a host link; false if it is not one. */
  async serve(peer: Peer, m: Message, primary: string): Promise<boolean> {
    if (m.t === "rep-begin") {
      await this.begin(peer, m, primary);
      return true;
    }
    if (m.t === "rep-fence") {
      // A backup lost the primary that was migrating the guest here: one copy only, this host's or the backup's.
      const id = str(m, "guest");
      const hosted = this.host.guests.get(id);
      const running = hosted !== undefined && isLive(hosted.status);
      if (!running) {
        this.fencedArrivals.add(`${id} ${str(m, "from")}`);
        for (const old of [...this.fencedArrivals].slice(0, Math.max(0, this.fencedArrivals.size - KEEP_ENDED))) this.fencedArrivals.delete(old);
        this.host.log(`guest ${id}: its backup took it over; its migration here from ${str(m, "from")} will not start it`, "warn");
      }
      peer.reply(m, { running });
      return true;
    }
    if (m.t === "rep-owner") {
      const id = str(m, "guest");
      peer.reply(m, { owned: this.owns(id) });
      return true;
    }
    const replica = this.byPeer.get(peer);
    return replica !== undefined && replica.handle(m);
  }

  private async begin(peer: Peer, m: Message, primary: string): Promise<void> {
    const id = (m.guest as GuestInfo | undefined)?.id;
    if (typeof id !== "string") throw new ProtocolError("rep-begin: guest info missing");
    // Fencing: once taken over here, the guest is this host's for good.
    if (this.owns(id)) {
      peer.reply(m, { owned: true, host: this.host.name });
      return;
    }
    // The primary's members are asked where a guest is from here too: after a takeover the guest's peers (a published
    // port's relay, other guests' hosts) are found by asking them, even on a backup that just started and knows nobody.
    if (Array.isArray(m.members)) this.host.learnHostsToAsk?.(m.members.filter((u): u is string => typeof u === "string").slice(0, 1024));
    const older = this.replicas.get(id);
    if (older) { // the primary reconnected: its fresh first epoch replaces what the old link had
      older.drop("a new link from its primary replaced it");
      older.peer.terminate();
    }
    const replica = await Replica.begin(this.backupHost, peer, m, primary);
    this.replicas.set(id, replica);
    this.byPeer.set(peer, replica);
    peer.reply(m, { host: this.host.name });
  }

  /** Whether this host keeps a backup of guest `id` (not running here: it may take it over any moment). */
  keepsReplica(id: string): boolean {
    return this.replicas.has(id);
  }

  /** Whether guest `id` is this host's: it runs or arrives here, or it was taken over here (even before a restart). */
  private owns(id: string): boolean {
    return this.takenOver.has(id) || this.record.get(id) !== undefined || this.host.hasGuest(id);
  }

  private replicaEnded(replica: Replica, tookOver: boolean): void {
    const id = replica.info.id;
    if (this.replicas.get(id) === replica) this.replicas.delete(id);
    if (tookOver) {
      this.takenOver.set(id, replica.stats);
      // Its streams to other guests go on from the committed epoch: both ends send again what the other may lack.
      const hosted = this.host.guests.get(id);
      if (hosted?.holdsCore) hosted.guest.resumeAfterTakeover?.();
      // A second death must not lose it: a new backup from the cluster (after a promotion too; never the old primary).
      void findNewBackup(this.host, id, replica.stats.peer, replica.stats.epochMs, () => this.closed, (h, to, e, t) => this.replicate(h, to, e, t));
    }
    else {
      this.ended.delete(id);
      this.ended.set(id, replica.stats);
      for (const old of [...this.ended.keys()].slice(0, Math.max(0, this.ended.size - KEEP_ENDED))) this.ended.delete(old);
    }
  }

  /** What `roam stats` shows of guest `id`'s replication here, if any. */
  report(id: string): ReplicationStats | undefined {
    return this.primaries.get(id)?.stats ?? this.replicas.get(id)?.stats ?? this.takenOver.get(id) ?? this.ended.get(id) ?? this.recorded(id);
  }

  /** A takeover from before this host restarted: the guest died with it. */
  private recorded(id: string): ReplicationStats | undefined {
    const t = this.record.get(id);
    if (!t) return undefined;
    return { ...newReplicationStats(id, "backup", t.from, 0), status: "took-over", tookOverAt: t.at, error: "taken over before this host restarted; the guest ended with it" };
  }

  /** The replicas kept here, as `ps` lists them (status "backup": not running here). */
  psRows(): Array<Record<string, unknown>> {
    return [...this.replicas.values()].map((r) => ({ ...r.info, status: "backup", instret: 0, replication: r.stats }));
  }

  /** The host stops: replicas are dropped, not taken over. */
  close(): void {
    this.closed = true;
    for (const replica of [...this.replicas.values()]) replica.drop("the backup host stopped");
  }
}
