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

/**
 * Instructions per second the host can give its guests: its --capacity. A
 * host without one takes what its machine gives, which nothing here knows:
 * it counts as a nominal 1e9/s, so its guests never look held back (as no
 * cap holds them) and load balancing leaves them be — I/O-bound guests on an
 * uncapped host retire little, which says nothing of how fast they would run
 * elsewhere.
 */
function capacityOf(v: LoadVector): number {
  return v.capacity ?? 1e9;
}

/** Whether the host's guests want all it can give (each then gets only its share). */
export function saturated(v: LoadVector): boolean {
  return v.runnable > 0 && v.ipsWanted >= SATURATED * capacityOf(v);
}

/** What each guest running on `v` gets now (instructions per second). */
export function perGuestNow(v: LoadVector): number {
  const capacity = capacityOf(v);
  if (v.runnable === 0) return capacity;
  return saturated(v) ? capacity / v.runnable : v.ipsWanted / v.runnable;
}

/** What one more busy guest would get on `v`. */
export function perNewcomer(v: LoadVector): number {
  const capacity = capacityOf(v);
  const share = capacity / (v.runnable + 1);
  return saturated(v) ? share : Math.max(share, capacity - v.ipsWanted);
}

/** How much faster a guest of `from` would run on `to` (1: no faster; a guest of a host that is not saturated already gets what it wants). */
export function gain(from: LoadVector, to: LoadVector): number {
  return saturated(from) ? perNewcomer(to) / perGuestNow(from) : 1;
}

/** "B 4.0M/s per guest" for reasons in the log. */
export function describeSpeed(v: LoadVector): string {
  const now = perGuestNow(v);
  return `${v.name} ${v.runnable} running, ${(now / 1e6).toFixed(1)}M/s each`;
}
