// The cluster as a dashboard shows it: every member's load over time (sampled
// from the load vectors the membership exchange already brings), and every
// member's guests, migrations and balancer decisions (each member's own
// report, host-report.ts, asked over the kept host links). One state object,
// pushed whole to each page once a second (dashboard.ts): small enough, and a
// page that joins late draws the same as one that watched all along.

import { loadOf } from "../cluster/load-vector.js";
import type { MemberView } from "../cluster/membership.js";
import type { Decision } from "../cluster/balance/balancer.js";
import type { HostReport, ReportedMigration } from "./host-report.js";

/** Samples kept per host: three minutes at one a second. */
const SAMPLES_KEPT = 180;
/** How long a member has to answer for its report; a slower one shows its last. */
const REPORT_MS = 2000;

/**
 * One sample of a host's load vector: [time ms since the epoch, ips given, ips wanted, memory used bytes, guests,
 * messages/s, load (the balancer's loadOf: wanted over its measured speed or capacity)].
 */
export type LoadSample = [number, number, number, number, number, number, number];

export interface HostSeries {
  name: string;
  capacity: number | null;
  samples: LoadSample[];
}

export interface FeedState {
  t: "state";
  at: number;
  self: string;
  members: Array<MemberView & { load: number }>; // load: the balancer's (loadOf), so the page shows what it compares
  history: Record<string, HostSeries>; // by URL
  guests: Array<{ id: string; program: string; host: string; status: string; ramBytes: number; instret: number; path: string[] }>;
  migrations: Array<ReportedMigration & { toName: string }>;
  decisions: Array<Decision & { host: string }>;
  policy: Record<string, string>; // by host name
  unreachable: string[]; // members up whose report did not come this time
}

export interface FeedSource {
  readonly name: string;
  /** Every member this host knows of, itself first (Membership.view). */
  members(): MemberView[];
  /** This host's own report. */
  ownReport(): HostReport;
  /** Asks the member at `url` for its report. */
  askReport(url: string, timeoutMs: number): Promise<HostReport>;
}

const urlKey = (url: string) => url.replace(/\/$/, "");

export class ClusterFeed {
  private readonly history = new Map<string, HostSeries>();
  private readonly reports = new Map<string, HostReport>();
  private unreachable: string[] = [];

  constructor(private readonly source: FeedSource) {}

  /** Takes one sample of every member's newest load vector (down members get none: a gap in their line). */
  sample(now = Date.now()): void {
    for (const m of this.source.members()) {
      if (m.state === "down") continue;
      const key = urlKey(m.url);
      let series = this.history.get(key);
      if (!series) { series = { name: m.name, capacity: m.capacity, samples: [] }; this.history.set(key, series); }
      series.name = m.name;
      series.capacity = m.capacity;
      series.samples.push([now, m.ipsGiven, m.ipsWanted, m.memoryUsed, m.guests, m.messagesPerSecond, loadOf(m)]);
      if (series.samples.length > SAMPLES_KEPT) series.samples.splice(0, series.samples.length - SAMPLES_KEPT);
    }
  }

  /** Asks every member up for its report (this host's own is read directly); one that does not answer keeps its last. */
  async gather(): Promise<void> {
    const members = this.source.members();
    this.reports.set(urlKey(members[0]?.url ?? ""), this.source.ownReport());
    const others = members.filter((m) => m.state === "up");
    const unreachable: string[] = [];
    await Promise.all(others.map(async (m) => {
      try {
        this.reports.set(urlKey(m.url), await this.source.askReport(m.url, REPORT_MS));
      } catch {
        unreachable.push(m.name);
      }
    }));
    for (const m of members) if (m.state === "down") this.reports.delete(urlKey(m.url)); // its guests are not known to run anywhere
    this.unreachable = unreachable.sort();
  }

  state(now = Date.now()): FeedState {
    const members = this.source.members();
    const nameOf = (url: string) => members.find((m) => urlKey(m.url) === urlKey(url))?.name ?? url;
    const reports = [...this.reports.values()];
    const migrations = reports.flatMap((r) => r.migrations.map((m) => ({ ...m, toName: nameOf(m.to) })))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const guests = reports.flatMap((r) => r.guests.map((g) => ({
      id: g.id, program: g.program, host: r.name, status: g.status, ramBytes: g.ramBytes, instret: g.instret,
      path: pathOf(g.id, r.name, migrations),
    })));
    const decisions = reports.flatMap((r) => r.decisions.map((d) => ({ ...d, host: r.name }))).sort((a, b) => a.at.localeCompare(b.at));
    return {
      t: "state", at: now, self: this.source.name, members: members.map((m) => ({ ...m, load: loadOf(m) })),
      history: Object.fromEntries(this.history), guests, migrations,
      decisions, policy: Object.fromEntries(reports.map((r) => [r.name, r.policy])), unreachable: this.unreachable,
    };
  }
}

/** The hosts a guest ran on, in order, from the migrations that completed (its source is where it ran first); ends where it runs now. */
function pathOf(guest: string, now: string, migrations: Array<ReportedMigration & { toName: string }>): string[] {
  const moves = migrations.filter((m) => m.guest === guest && m.status === "completed");
  const path = moves.length ? [moves[0].from, ...moves.map((m) => m.toName)] : [];
  if (path[path.length - 1] !== now) path.push(now);
  return path;
}
