// A host's part in its cluster: the exchange of load vectors (membership.ts),
// what it measures for them (load-vector.ts), its --capacity cap (capacity.ts),
// its --label set, and the checks and choices that use them (placement.ts).
// Kept out of host.ts, which only routes requests here.

import type { GuestInfo } from "../snapshot/snapshot.js";
import type { TlsIdentity } from "../net/tls.js";
import { num, ProtocolError, str, strList, type Message } from "../net/protocol.js";
import { CapacityPacer } from "./capacity.js";
import { cancelMovesTo } from "./departures.js";
import { DirtyRates } from "./dirty-rates.js";
import { LoadMeter } from "./load-vector.js";
import { Membership } from "./membership.js";
import { hostUrlKey, type Members } from "./members.js";
import { labelList, missingLabels, placeGuest, shareForNewGuest, type Placement } from "./placement.js";
import type { HostedGuest } from "./hosted-guest.js";
import type { MemoryBudget } from "./memory-budget.js";
import type { MigrationStats } from "../migration/stats.js";
import { Balancer } from "./balance/balancer.js";
import { Locality } from "./balance/locality.js";
import type { MessageCounts } from "./message-counts.js";
import { countPages, writtenBitmap } from "../migration/pages.js";
import type { PolicyName } from "./balance/policy.js";
import type { MovableGuest } from "./balance/which.js";
import { hostReport, type HostReport } from "../web/host-report.js";
import { nowMs } from "../machine/host-clock.js";

export interface ClusterHost {
  readonly name: string;
  readonly url: string;
  readonly members: Members;
  readonly budget: MemoryBudget;
  readonly migrations: Map<string, MigrationStats[]>;
  liveGuests(): HostedGuest[];
  /** Migrates guest `id` here to `to` by precopy; rejects saying why (it then runs on here). */
  migrateAway(id: string, to: string): Promise<void>;
  messagesSoFar(): number;
  /** What the switch counts: per guest, the data bytes it exchanged with each host (locality's input), and their total crossing hosts. */
  readonly messaging: { switch: { counts: MessageCounts } };
  log(line: string, level?: "info" | "warn" | "error"): void;
}

export interface ClusterOptions {
  token?: string;
  tls?: TlsIdentity;
  /** --capacity: instructions per second for all its guests together. */
  capacity?: number;
  /** --label: what this host offers. */
  labels?: string[];
  /** --balance: its balancing initiative (without it the host still answers receivers asking for work). */
  balance?: PolicyName;
  /** --balance ...,locality: move guests next to the hosts they exchange most data with (balance/locality.ts). */
  locality?: boolean;
}

/** The requests of other hosts this part serves: load vectors, receivers asking for work, a dashboard asking for this host's report. */
export const CLUSTER_HOST_REQUESTS = new Set(["load", "balance-pull", "dash-report"]);

export class HostCluster {
  readonly pacer: CapacityPacer | undefined;
  readonly labels: string[];
  readonly membership: Membership;
  readonly balancer: Balancer;
  private readonly meter: LoadMeter;
  /** Each guest's dirty rate, sampled with every load vector. */
  private readonly dirtyRates = new DirtyRates();
  /** The --capacity share of each guest running here, by id. */
  private readonly shares = new Map<string, () => void>();

  constructor(private readonly host: ClusterHost, options: ClusterOptions) {
    this.pacer = options.capacity === undefined ? undefined : new CapacityPacer(options.capacity);
    this.labels = [...new Set(options.labels ?? [])].sort();
    const pacer = this.pacer;
    this.meter = new LoadMeter({
      guests: () => {
        const live = host.liveGuests();
        this.dirtyRates.sample(live.map((g) => ({ id: g.info.id, core: g.core, ramBytes: g.info.ramBytes })));
        return live.map((g) => ({ id: g.info.id, instret: g.instret, busy: g.guest.busy, dirtyBytesPerSecond: this.dirtyRates.of(g.info.id) }));
      },
      memoryUsed: () => host.budget.committed,
      memoryLimit: () => host.budget.limit,
      messages: () => host.messagesSoFar(),
      crossingBytes: () => host.messaging.switch.counts.crossingBytes,
      wantedInstructions: pacer ? () => pacer.wanted : undefined,
      capacity: options.capacity ?? null,
      labels: this.labels,
    });
    this.membership = new Membership({
      selfUrl: () => host.url, makeVector: () => this.meter.next(host.url, host.name), members: host.members,
      token: options.token, tls: options.tls, log: (line, level) => host.log(line, level),
      onDown: (url, why) => cancelMovesTo(host.liveGuests(), url, why, (line, level) => host.log(line, level)),
    });
    this.balancer = new Balancer({
      name: host.name,
      view: () => { const [self, ...others] = this.membership.up(); return { self, others }; },
      movable: () => this.movable(),
      migrate: (id, to) => host.migrateAway(id, to),
      runsHere: (id) => host.liveGuests().some((g) => g.info.id === id && g.status === "running"),
      askForGuest: async (url) => {
        const answer = await this.membership.ask(url, { t: "balance-pull", url: host.url }, 120_000);
        return { moved: answer.moved as string | undefined, declined: answer.declined as string | undefined };
      },
      log: (line, level) => host.log(line, level),
    }, options.balance, options.locality ? new Locality((id) => (host.messaging.switch.counts.has(id) ? host.messaging.switch.counts.of(id).exchanged : undefined)) : undefined);
  }

  /** The guests here a balancer may move: running, not busy (a replicated guest is movable), not still receiving their memory. */
  private movable(): MovableGuest[] {
    const now = nowMs();
    return this.host.liveGuests()
      .filter((g) => g.status === "running" && (!g.operation || g.operation.kind === "replication") && !g.guest.receivingPages) // a replication runs its moves (move.ts)
      .map((g) => ({
        id: g.info.id, ageSeconds: (Date.now() - Date.parse(g.info.createdAt)) / 1000, residentSeconds: (now - g.residentSince) / 1000,
        ramBytes: g.info.ramBytes, writtenBytes: writtenBytes(g), dirtyBytesPerSecond: this.dirtyRates.of(g.info.id) ?? 0, requires: g.info.requires ?? [],
        prefers: g.info.prefers ?? [],
      }));
  }

  async start(joins: string[]): Promise<void> {
    await this.membership.start(joins);
    this.balancer.start();
  }

  close(): void {
    this.balancer.close();
    this.membership.close();
  }

  /** A guest starts running here: it gets its share of the --capacity. */
  running(hosted: HostedGuest): void {
    if (!this.pacer || this.shares.has(hosted.info.id)) return;
    const share = this.pacer.share();
    hosted.guest.setPace(share.pace, share.allowance);
    this.shares.set(hosted.info.id, share.end);
  }

  /** A guest stopped running here (ended, moved, saved). */
  stopped(id: string): void {
    this.shares.get(id)?.();
    this.shares.delete(id);
  }

  /** Refuses a guest whose requirements this host's labels do not meet (run, restore, an arrival). */
  admit(info: GuestInfo, what: string): void {
    const missing = missingLabels(info.requires, this.labels);
    if (missing.length) throw new ProtocolError(`${what} requires ${label(missing)}; host ${this.host.name} has ${this.labels.length ? `labels ${this.labels.join(",")}` : "no labels"}`);
  }

  /** Before a migration sends anything: refuses a destination whose labels (as the cluster knows them) lack what the guest requires. */
  refuseDestination(info: GuestInfo, to: string): void {
    if (!info.requires?.length) return;
    const member = this.membership.about(to);
    if (!member) return; // not a member heard of: the destination checks at mig-begin, before any page is sent
    const missing = missingLabels(info.requires, member.labels);
    if (missing.length) {
      throw new ProtocolError(`guest ${info.id} requires ${label(missing)}; host ${member.name} (${member.url}) has ${member.labels.length ? `labels ${member.labels.join(",")}` : "no labels"}`);
    }
  }

  /** A request of another host (CLUSTER_HOST_REQUESTS): its answer. */
  async serveHost(m: Message): Promise<Record<string, unknown>> {
    if (m.t === "load") return this.membership.receive(m.vectors);
    if (m.t === "dash-report") return this.dashReport() as unknown as Record<string, unknown>;
    return this.balancer.asked(str(m, "url"));
  }

  /** A client's `cluster` (stats and ps --cluster) or `place` (run --on cluster): its answer. */
  serveClient(m: Message): Record<string, unknown> {
    if (m.t === "cluster") return this.report();
    return { ...this.place(m.requires === undefined ? [] : labelList(strList(m, "requires"), "place: requires"), num(m, "ramBytes", 0, 1 << 30)) };
  }

  /**
   * Replication after a failover: members that may keep a new backup of
   * `info` — up, not in `exclude`, carrying its labels, with room for its RAM
   * — the one where it would run fastest first (the backup may run it next).
   */
  backupCandidates(info: GuestInfo, exclude: string[]): string[] {
    const key = (url: string) => { try { return hostUrlKey(url); } catch { return url; } };
    const skip = new Set(exclude.map(key));
    return this.membership.up()
      .filter((m) => !skip.has(key(m.url)) && missingLabels(info.requires, m.labels).length === 0 && m.memoryFree >= info.ramBytes)
      .sort((a, b) => shareForNewGuest(b) - shareForNewGuest(a))
      .map((m) => m.url);
  }

  /** `roam run --on cluster`: the member to run a guest on. */
  place(requires: string[], ramBytes: number): Placement {
    return placeGuest(this.membership.up(), requires, ramBytes);
  }

  /** This host's guests, migrations and balancer decisions, for a dashboard (src/web/host-report.ts). */
  dashReport(): HostReport {
    const host = this.host;
    return hostReport({ name: host.name, url: host.url, migrations: host.migrations, liveGuests: () => host.liveGuests(), balancer: this.balancer });
  }

  /** `roam stats --cluster`: every member as this host sees it. */
  report(): Record<string, unknown> {
    const b = this.balancer;
    return { self: this.host.url, members: this.membership.view(), balance: { policy: b.policyName, ...b.counts, decisions: b.decisions } };
  }
}

const label = (names: string[]) => `label${names.length > 1 ? "s" : ""} ${names.join(",")}`;

/** The dirty rate a guest's last precopy round measured (bytes/s), if it ever migrated from here. */
/** The bytes of a guest's RAM ever written: what moving it sends as pages. */
function writtenBytes(g: HostedGuest): number {
  const pages = g.info.ramBytes / 4096;
  return countPages(writtenBitmap(g.core, pages), pages) * 4096;
}
