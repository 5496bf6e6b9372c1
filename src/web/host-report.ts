// What one host tells a dashboard about itself: its guests, the migrations it
// sent (finished, failed, under way), and its balancer's decisions. Read from
// what the host already keeps (Host.migrations, HostedGuest, the balancer's
// log): no second bookkeeping. A dashboard host asks every member up for
// theirs (the host request "dash-report", src/cluster/host-cluster.ts).

import type { Decision } from "../cluster/balance/balancer.js";
import type { HostedGuest } from "../cluster/hosted-guest.js";
import type { MigrationStats } from "../migration/stats.js";

export interface ReportedGuest {
  id: string;
  program: string;
  status: string;
  ramBytes: number;
  createdAt: string;
  instret: number;
}

export interface ReportedMigration {
  guest: string;
  strategy: string;
  status: string;
  from: string; // the source host's name
  to: string; // the destination's URL
  startedAt: string;
  totalMs: number;
  downtimeMs: number;
  bytes: number;
  rounds: number;
  error?: string;
}

export interface HostReport {
  name: string;
  url: string;
  guests: ReportedGuest[];
  migrations: ReportedMigration[];
  policy: string;
  decisions: Decision[];
}

/** What a host lets its report read. */
export interface ReportSource {
  readonly name: string;
  readonly url: string;
  readonly migrations: Map<string, MigrationStats[]>;
  liveGuests(): HostedGuest[];
  readonly balancer: { policyName: string; decisions: Decision[] };
}

/** The newest migrations kept per host in a report (the page shows fewer). */
const MIGRATIONS_KEPT = 100;

export function hostReport(source: ReportSource): HostReport {
  const live = source.liveGuests();
  const migrations: ReportedMigration[] = [];
  for (const history of source.migrations.values()) for (const s of history) migrations.push(reported(s));
  for (const g of live) if (g.operation?.kind === "migration" && g.migrationProgress) migrations.push(reported(g.migrationProgress));
  migrations.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return {
    name: source.name, url: source.url,
    guests: live.map((g) => ({ id: g.info.id, program: (g.info.argv.join(" ") || g.info.program).slice(0, 200), status: g.status, ramBytes: g.info.ramBytes, createdAt: g.info.createdAt, instret: Number(g.instret) })),
    migrations: migrations.slice(-MIGRATIONS_KEPT),
    policy: source.balancer.policyName,
    decisions: source.balancer.decisions,
  };
}

function reported(s: MigrationStats): ReportedMigration {
  return {
    guest: s.guest, strategy: s.strategy, status: s.status, from: s.from, to: s.to, startedAt: s.startedAt,
    totalMs: s.totalMs, downtimeMs: s.downtimeMs, bytes: s.bytes, rounds: s.rounds.length, error: s.error,
  };
}
