// The load index the balancer compares: how fast a guest runs on a host. On
// hosts of different capacities a count of guests (or wanted over capacity,
// where one busy guest already wants more than any cap) says little; what a
// guest feels is the instructions per second it gets. So a host is compared
// by what each of its guests gets now (its capacity shared among those that
// run, or what they want when they want less) and by what one more busy guest
// would get there; moving a guest pays when the second, somewhere else, is
// clearly more than the first here. The minimum gain (MIN_GAIN) also keeps
// a guest from ping-ponging: the move back would need the reverse gain.
//
// What a host can give (speedOf) is measured (load-vector.ts, speed-estimate.ts):
// the instructions per second its guests retire while they run, capped by its
// --capacity. Its guests share it: one event loop runs them all.

import type { LoadVector } from "../load-vector.js";

/** A move must speed its guest up by this factor (1 + hysteresis). */
export const MIN_GAIN = 1.25;
/** Guests wanting this share of the capacity or more are taken to want it all (they are held back by the cap). */
const SATURATED = 0.9;

/**
 * What a host that has not yet run a guest flat out is taken to give: more
 * than any measured (this machine's hosts run 1-2G instructions/s), so a busy
 * host sends it work, and then it is measured.
 */
export const UNMEASURED_SPEED = 1e12;
/**
 * An uncapped host gives all its guests want until they want what it can run:
 * the share of its measured speed they retire when it is saturated. Less than
 * 1, as the event loop also runs system calls, yields between batches, garbage
 * collection and the cluster's own exchange, which the speed (flat-out slices
 * only) leaves out.
 */
const SATURATED_UNCAPPED = 0.7;

/**
 * Instructions per second the host can give its guests: its measured speed
 * (an I/O-bound guest does not lower it: only time spent running counts),
 * capped by its --capacity; a host not yet measured, its capacity (or
 * UNMEASURED_SPEED without one).
 */
export function speedOf(v: LoadVector): number {
  const measured = typeof v.speed === "number" && v.speed > 0 ? v.speed : undefined;
  if (v.capacity !== null && v.capacity !== undefined) return measured === undefined ? v.capacity : Math.min(v.capacity, measured);
  return measured ?? UNMEASURED_SPEED;
}


/** Whether the host's guests want all it can give (each then gets only its share). */
export function saturated(v: LoadVector): boolean {
  // A capped host's "wanted" counts what the cap held back; an uncapped host's is what it gave.
  const capped = v.capacity !== null && v.capacity !== undefined && (v.speed === null || v.speed === undefined || v.capacity <= v.speed);
  return v.runnable > 0 && v.ipsWanted >= (capped ? SATURATED : SATURATED_UNCAPPED) * speedOf(v);
}

/** What each guest running on `v` gets now (instructions per second). */
export function perGuestNow(v: LoadVector): number {
  const capacity = speedOf(v);
  if (v.runnable === 0) return capacity;
  return saturated(v) ? capacity / v.runnable : v.ipsWanted / v.runnable;
}

/** What one more busy guest would get on `v`. */
export function perNewcomer(v: LoadVector): number {
  const capacity = speedOf(v);
  const share = capacity / (v.runnable + 1);
  return saturated(v) ? share : Math.max(share, capacity - v.ipsWanted);
}

/** How much faster a guest of `from` would run on `to` (1: no faster; a guest of a host that is not saturated already gets what it wants). */
export function gain(from: LoadVector, to: LoadVector): number {
  return saturated(from) ? perNewcomer(to) / perGuestNow(from) : 1;
}

/** "B 4.0M/s per guest" for reasons in the log. */
export function describeSpeed(v: LoadVector): string {
  if (speedOf(v) === UNMEASURED_SPEED) return `${v.name} ${v.runnable} running, speed not yet measured`;
  const now = perGuestNow(v);
  return `${v.name} ${v.runnable} running, ${(now / 1e6).toFixed(1)}M/s each`;
}
