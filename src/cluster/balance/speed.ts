// The load index the balancer compares: how fast a guest runs on a host. On
// hosts of different capacities a count of guests (or wanted over capacity,
// where one busy guest already wants more than any cap) says little; what a
// guest feels is the instructions per second it gets. So a host is compared
// by what each of its guests gets now (its capacity shared among those that
// run, or what they want when they want less) and by what one more busy guest
// would get there; moving a guest pays when the second, somewhere else, is
// clearly more than the first here. The minimum gain (MIN_GAIN) also keeps
// a guest from ping-ponging: the move back would need the reverse gain.

import type { LoadVector } from "../load-vector.js";

/** A move must speed its guest up by this factor (1 + hysteresis). */
export const MIN_GAIN = 1.25;
/** Guests wanting this share of the capacity or more are taken to want it all (they are held back by the cap). */
const SATURATED = 0.9;

/** Instructions per second the host can give its guests: its --capacity, else what it gave while busy; null: unknown. */
function capacityOf(v: LoadVector): number | null {
  if (v.capacity !== null) return v.capacity;
  return v.runnable > 0 && v.ipsGiven > 0 ? v.ipsGiven : null;
}

/** Whether the host's guests want all it can give (each then gets only its share). */
export function saturated(v: LoadVector): boolean {
  const capacity = capacityOf(v);
  return v.runnable > 0 && (capacity === null || v.ipsWanted >= SATURATED * capacity);
}

/** What each guest running on `v` gets now (instructions per second); `fallback`: the capacity to assume when unknown. */
export function perGuestNow(v: LoadVector, fallback: number): number {
  const capacity = capacityOf(v) ?? fallback;
  if (v.runnable === 0) return capacity;
  return saturated(v) ? capacity / v.runnable : v.ipsWanted / v.runnable;
}

/** What one more busy guest would get on `v`. */
export function perNewcomer(v: LoadVector, fallback: number): number {
  const capacity = capacityOf(v) ?? fallback;
  const share = capacity / (v.runnable + 1);
  return saturated(v) ? share : Math.max(share, capacity - v.ipsWanted);
}

/**
 * How much faster a guest of `from` would run on `to` (1: no faster). A guest
 * of a host that is not saturated already gets what it wants: 1. A host whose
 * capacity is unknown (no --capacity, idle) is taken to be like `from`.
 */
export function gain(from: LoadVector, to: LoadVector): number {
  if (!saturated(from)) return 1;
  const fallback = capacityOf(from) ?? 1e9;
  return perNewcomer(to, fallback) / perGuestNow(from, fallback);
}

/** "B 4.0M/s per guest" for reasons in the log. */
export function describeSpeed(v: LoadVector): string {
  const now = perGuestNow(v, capacityOf(v) ?? 1e9);
  return `${v.name} ${v.runnable} running, ${(now / 1e6).toFixed(1)}M/s each`;
}
