// A migration's progress as one line, for the bar of `roam migrate` and for `roam stats` while it runs.

import type { MigrationStats } from "../migration/stats.js";

/** One line: "precopy round 3 [#####.....] 41.2 of 64.0 MiB  183 MB/s  dirty 12.4 MB/s  ETA 0.2 s". */
export function formatProgress(s: MigrationStats): string {
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  const total = s.bytes + s.remainingBytes;
  const done = total > 0 ? s.bytes / total : 0;
  const width = 20;
  const filled = Math.min(width, Math.round(done * width));
  const round = s.rounds.length ? ` round ${s.rounds.length}` : "";
  const phase = s.status === "active" || s.status === "setup" ? s.strategy : s.status;
  const dirty = s.rounds.length ? `  dirty ${s.rounds[s.rounds.length - 1].dirtyRateMBps.toFixed(1)} MB/s` : "";
  const eta = s.rateMBps > 0 ? `  ETA ${(s.remainingBytes / (s.rateMBps * 1e6)).toFixed(1)} s` : "";
  const throttle = s.throttlePercent ? `  throttle ${s.throttlePercent}%` : "";
  return `${phase}${round} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${mib(s.bytes)} of ${mib(total)} MiB  ${s.rateMBps.toFixed(0)} MB/s${dirty}${eta}${throttle}`;
}

