// bench:balance's table: per load and policy, the repetitions' mean slowdown
// (their mean, and min-max), p99, migrations per guest, bytes moved, and the
// reduction against placement only, paired by repetition (the same stream).

import type { Decision } from "../src/cluster/balance/balancer.js";

export interface Row {
  load: number;
  policy: string;
  repetition: number;
  guests: number;
  meanSlowdown: number;
  p99Slowdown: number;
  migrationsPerGuest: number;
  mibMoved: number;
  wallSeconds: number;
  /** The fixed cost of a guest in this run's cluster (place, run, attach, end), in "time alone" as in time in system. */
  overheadSeconds: number;
  /** The machine's 1-minute load average when the run ended. */
  machineLoad: number;
  /** Mean slowdown of short (< 2 units), middling and long (> 5 units) guests. */
  byLife: Record<string, number>;
  balance: { migrations: number; failures: number; refusals: number; decisions: Decision[] };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: number[], digits: number, unit = ""): string =>
  xs.length < 2 ? `${mean(xs).toFixed(digits)}${unit}` : `${mean(xs).toFixed(digits)}${unit} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;

/** The reduction of `of` (slowdown, or delay: slowdown - 1) below placement only in the same repetition, in %. */
function reductions(rows: Row[], r: Row[], delay: boolean): number[] {
  return r.flatMap((x) => {
    const base = rows.find((p) => p.load === x.load && p.policy === "placement" && p.repetition === x.repetition);
    if (!base) return [];
    const d = delay ? 1 : 0;
    return [100 * (1 - (x.meanSlowdown - d) / (base.meanSlowdown - d))];
  });
}

export function summaryTable(rows: Row[]): string {
  const lines = [
    "| load | policy | runs | guests | mean slowdown [min–max] | p99 | migrations/guest | MiB moved | mean slowdown vs placement | mean delay vs placement | machine load |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const load of [...new Set(rows.map((r) => r.load))]) {
    for (const policy of [...new Set(rows.map((r) => r.policy))]) {
      const r = rows.filter((x) => x.load === load && x.policy === policy);
      if (!r.length) continue;
      const vs = policy === "placement" ? "-" : spread(reductions(rows, r, false).map((x) => -x), 0, "%");
      const delay = policy === "placement" ? "-" : spread(reductions(rows, r, true).map((x) => -x), 0, "%");
      lines.push(`| ${load} | ${policy} | ${r.length} | ${Math.round(mean(r.map((x) => x.guests)))} | ${spread(r.map((x) => x.meanSlowdown), 2)} | ${spread(r.map((x) => x.p99Slowdown), 1)} | ` +
        `${mean(r.map((x) => x.migrationsPerGuest)).toFixed(3)} | ${mean(r.map((x) => x.mibMoved)).toFixed(1)} | ${vs} | ${delay} | ${spread(r.map((x) => x.machineLoad), 1)} |`);
    }
  }
  lines.push("", "slowdown: time in system over time alone on the fastest host (both with the fixed cost of a guest); vs placement: change of the mean",
    "against placement only in the same repetition (same stream), negative is better; delay = slowdown - 1, H-B&D's measure (they found 35-50% less).");
  return lines.join("\n");
}
