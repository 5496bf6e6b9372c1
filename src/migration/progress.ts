// What a migration tells its client while it runs: its statistics at most
// every 200 ms (and at once at each change of phase), with what is left to
// send in the current pass and how fast the bytes go, so that `roam migrate`
// can draw a bar with an ETA in every strategy.

import type { MigrationStats } from "./stats.js";
import { nowMs } from "../machine/host-clock.js";

const EVERY_MS = 200;
const RATE_WINDOW_MS = 1000; // the rate is measured over about the last second

export class ProgressMeter {
  private lastReport = -Infinity;
  private windowStart: number;
  private windowBytes = 0;

  constructor(private readonly stats: MigrationStats, private readonly started: number, private readonly report?: (stats: MigrationStats) => void) {
    this.windowStart = started;
  }

  /** Bytes still to send in the current pass; reported if it is time (or `now`). */
  tick(remainingBytes: number, now = false): void {
    const at = nowMs();
    const stats = this.stats;
    stats.remainingBytes = remainingBytes;
    if (at - this.windowStart >= EVERY_MS) stats.rateMBps = (stats.bytes - this.windowBytes) / 1e3 / (at - this.windowStart);
    if (at - this.windowStart >= RATE_WINDOW_MS) {
      this.windowStart = at;
      this.windowBytes = stats.bytes;
    }
    if (!now && at - this.lastReport < EVERY_MS) return;
    this.lastReport = at;
    stats.totalMs = at - this.started;
    this.report?.(stats);
  }

  /** Reports now, what is left unchanged (a change of phase). */
  phase(): void {
    this.tick(this.stats.remainingBytes, true);
  }
}
