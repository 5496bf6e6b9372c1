// Where a guest goes: a member that may run it (its labels, room for its RAM)
// and where it would run clearly faster, by MIN_GAIN (speed.ts) — the
// hysteresis that keeps a guest from ping-ponging between two hosts whose load
// it would merely swap. Chosen as the fastest for it, or by the power of two
// random choices (Mitzenmacher): nearly as good, and hosts deciding at once
// do not all pick the same one.

import type { LoadVector } from "../load-vector.js";
import { missingLabels } from "../placement.js";
import { preferenceMisses } from "./preference.js";
import { describeSpeed, gain, MIN_GAIN } from "./speed.js";
import type { MovableGuest } from "./which.js";

/** The members `guest` may go to from `source` (its labels, room for its RAM), each with the speed-up it would see there. */
export function fitTargets(source: LoadVector, guest: MovableGuest, members: LoadVector[]): Array<{ member: LoadVector; gain: number }> {
  return members
    .filter((m) => m.url !== source.url && missingLabels(guest.requires, m.labels).length === 0 && m.memoryFree >= guest.ramBytes)
    .filter((m) => preferenceMisses(guest, m) <= preferenceMisses(guest, source)) // never away from labels it prefers
    .map((m) => ({ member: m, gain: gain(source, m) }))
    .filter((t) => t.gain >= MIN_GAIN);
}

export type WhereRule = "least" | "two-choices";

export function where(source: LoadVector, guest: MovableGuest, members: LoadVector[], rule: WhereRule = "two-choices", random = Math.random): { member: LoadVector; reason: string } | undefined {
  const fit = fitTargets(source, guest, members);
  if (!fit.length) return undefined;
  let chosen = fit.reduce((a, b) => (b.gain > a.gain ? b : a));
  let how = `fastest for it of ${fit.length} fit`;
  if (rule === "two-choices" && fit.length > 2) {
    const first = fit[Math.floor(random() * fit.length)];
    const rest = fit.filter((t) => t !== first);
    const second = rest[Math.floor(random() * rest.length)];
    chosen = first.gain >= second.gain ? first : second;
    how = `faster for it of two random choices among ${fit.length} fit`;
  }
  return { member: chosen.member, reason: `${how}: ${describeSpeed(chosen.member)}, x${chosen.gain.toFixed(2)} for it there; here ${describeSpeed(source)}` };
}
