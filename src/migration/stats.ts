// What a migration reports, in the manner of QEMU's `info migrate`.

export type Strategy = "stop-copy" | "precopy" | "postcopy" | "hybrid";
export const STRATEGIES: Strategy[] = ["stop-copy", "precopy", "postcopy", "hybrid"];

export interface RoundStats {
  round: number;
  pages: number; // pages sent in the round (zero pages included, as 4-byte notes)
  bytes: number;
  ms: number;
  dirtyRateMBps: number; // how fast the guest dirtied memory during the round
}

export interface MigrationStats {
  guest: string;
  strategy: Strategy;
  status: "setup" | "active" | "postcopy" | "completed" | "failed";
  from: string;
  to: string;
  startedAt: string;
  totalMs: number;
  setupMs: number;
  downtimeMs: number; // freeze at the source to first instruction at the destination
  rounds: RoundStats[];
  pagesSent: number;
  zeroPagesSkipped: number;
  bytes: number; // everything sent: pages, zero-page notes, state
  throughputMBps: number;
  throttlePercent: number; // the highest auto-converge throttle applied
  remainingBytes: number; // while it runs: what is left to send in the current pass (the bar's rest)
  rateMBps: number; // while it runs: bytes sent per second, over about the last second
  postcopy?: {
    faults: number; // pages the destination asked for
    faultLatencyP50Ms: number;
    faultLatencyP99Ms: number;
    pushedPages: number; // sent by the background push
    dependencyEndedMs: number; // after the freeze, when the last page arrived and the source let go
  };
  residualDependency: string; // what the guest still needs from the source, or "none"
  /** A replicated guest's move: what became of its replication (promoted at its backup, or replicated on from the destination). */
  replication?: string;
  error?: string;
}

export function newStats(guest: string, strategy: Strategy, from: string, to: string): MigrationStats {
  return {
    guest, strategy, status: "setup", from, to, startedAt: new Date().toISOString(), totalMs: 0, setupMs: 0, downtimeMs: 0,
    rounds: [], pagesSent: 0, zeroPagesSkipped: 0, bytes: 0, throughputMBps: 0, throttlePercent: 0, remainingBytes: 0, rateMBps: 0,
    residualDependency: "none",
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function formatStats(s: MigrationStats): string {
  const lines = [
    `guest ${s.guest}: ${s.strategy} ${s.from} -> ${s.to}, ${s.status}${s.error ? ` (${s.error})` : ""}`,
    `total ${s.totalMs.toFixed(1)} ms, setup ${s.setupMs.toFixed(1)} ms, downtime ${s.downtimeMs.toFixed(2)} ms`,
    `sent ${s.pagesSent} pages, ${(s.bytes / 1048576).toFixed(2)} MiB, ${s.zeroPagesSkipped} zero pages skipped, ${s.throughputMBps.toFixed(0)} MB/s`,
  ];
  if (s.rounds.length) {
    lines.push(`rounds: ${s.rounds.map((r) => `#${r.round} ${r.pages}p ${r.ms.toFixed(1)}ms dirty ${r.dirtyRateMBps.toFixed(1)}MB/s`).join("; ")}`);
  }
  if (s.replication) lines.push(`replication: ${s.replication}`);
  if (s.throttlePercent) lines.push(`auto-converge throttle: ${s.throttlePercent}%`);
  if (s.postcopy) {
    const p = s.postcopy;
    lines.push(`postcopy: ${p.faults} faults (p50 ${p.faultLatencyP50Ms.toFixed(3)} ms, p99 ${p.faultLatencyP99Ms.toFixed(3)} ms), ${p.pushedPages} pages pushed, source released ${p.dependencyEndedMs.toFixed(1)} ms after the freeze`);
  }
  lines.push(`residual dependency: ${s.residualDependency}`);
  return lines.join("\n");
}
