// ROAM_TRACE=1: each phase of a migration, with its time in epoch ms, so the
// lines of two hosts merge into one timeline. Lines are kept in memory and
// written out a little later: a synchronous write to a log file inside the
// freeze was itself seen to take up to 2 ms, the very thing being measured.

import { nowMs } from "../machine/host-clock.js";

export const tracing = process.env.ROAM_TRACE === "1";

const pending: string[] = [];
let flushTimer: NodeJS.Timeout | undefined;

/** The time now, in epoch milliseconds (same clock on every host of one machine). */
export function epochMs(): number {
  return performance.timeOrigin + nowMs();
}

/** Records one trace line (only when tracing); written to stderr within ~50 ms. */
export function trace(line: string): void {
  if (!tracing) return;
  if (pending.length === 0 && flushTimer === undefined) process.once("exit", flush); // the last lines, when the host stops
  pending.push(line);
  flushTimer ??= setTimeout(flush, 50);
}

function flush(): void {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (pending.length === 0) return;
  process.removeListener("exit", flush);
  process.stderr.write(pending.join("\n") + "\n");
  pending.length = 0;
}
