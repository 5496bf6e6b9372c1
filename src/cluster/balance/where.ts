// Where a guest goes: a member that may run it (its labels, room for its RAM)
// and that is clearly less loaded than this host even after taking it — the
// hysteresis that keeps a guest from ping-ponging between two hosts whose load
// it would merely swap. Chosen by least load, or by the power of two random
// choices (Mitzenmacher): nearly as good, and hosts deciding at once do not
// all pick the same one.

import type { LoadVector } from "../load-vector.js";
import { missingLabels } from "../placement.js";
import { balanceLoad } from "./policy.js";
import type { MovableGuest } from "./which.js";

/** The target's load after the move must stay this far below the source's now. */
export const HYSTERESIS = 0.25;

/** The load a guest brings: its host's wanted rate per runnable guest, over the target's capacity. */
function addedLoad(source: LoadVector, target: LoadVector): number {
  return source.ipsWanted / Math.max(1, source.runnable) / (target.capacity ?? 1e9);
}

/** The members `guest` may go to from `source`, each with its load after the move. */
export function fitTargets(source: LoadVector, guest: MovableGuest, members: LoadVector[]): Array<{ member: LoadVector; after: number }> {
  return members
    .filter((m) => m.url !== source.url && missingLabels(guest.requires, m.labels).length === 0 && m.memoryFree >= guest.ramBytes)
    .map((m) => ({ member: m, after: balanceLoad(m) + addedLoad(source, m) }))
    .filter((t) => t.after < balanceLoad(source) - HYSTERESIS);
}

export type WhereRule = "least" | "two-choices";

export function where(source: LoadVector, guest: MovableGuest, members: LoadVector[], rule: WhereRule = "two-choices", random = Math.random): { member: LoadVector; reason: string } | undefined {
  const fit = fitTargets(source, guest, members);
  if (!fit.length) return undefined;
  let chosen = fit.reduce((a, b) => (b.after < a.after ? b : a));
  let how = `least loaded of ${fit.length} fit`;
  if (rule === "two-choices" && fit.length > 2) {
    const first = fit[Math.floor(random() * fit.length)];
    const rest = fit.filter((t) => t !== first);
    const second = rest[Math.floor(random() * rest.length)];
    chosen = first.after <= second.after ? first : second;
    how = `less loaded of two random choices among ${fit.length} fit`;
  }
  return { member: chosen.member, reason: `${how}: ${chosen.member.name} ${balanceLoad(chosen.member).toFixed(2)} -> ${chosen.after.toFixed(2)} after, this host ${balanceLoad(source).toFixed(2)}` };
}
