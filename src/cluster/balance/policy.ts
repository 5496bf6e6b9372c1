// Whether to balance, and which way (`roam host --balance POLICY`): the three
// classic initiatives (Eager, Lazowska & Zahorjan): a sender-initiated host
// pushes work away when it is overloaded, a receiver-initiated host asks for
// work when it is underloaded, a symmetric host does both. Each looks only at
// the load vectors the exchange brought (src/cluster/membership.ts), compared
// by how fast a guest runs on each host (speed.ts): hosts of different
// capacities are balanced by what their guests get, not by their counts.

import type { LoadVector } from "../load-vector.js";
import { describeSpeed, gain, MIN_GAIN } from "./speed.js";

export type Initiative = { kind: "push" | "pull"; reason: string };

export interface BalancePolicy {
  readonly name: PolicyName;
  /** Whether this host should act now, and how; undefined: the cluster is balanced enough as it is seen from here. */
  whether(self: LoadVector, others: LoadVector[]): Initiative | undefined;
}

export const POLICY_NAMES = ["sender", "receiver", "symmetric"] as const;
export type PolicyName = typeof POLICY_NAMES[number];

/** Overloaded: a guest here would run clearly faster (MIN_GAIN) on some member (speed.ts). */
function push(self: LoadVector, others: LoadVector[]): Initiative | undefined {
  const faster = others.filter((o) => gain(self, o) >= MIN_GAIN);
  if (!faster.length) return undefined;
  return { kind: "push", reason: `overloaded (${describeSpeed(self)}); a guest would run ${MIN_GAIN}x faster or more on ${faster.length} member(s): ${faster.map((o) => `${o.name} x${gain(self, o).toFixed(2)}`).join(", ")}` };
}

/**
 * Underloaded: a guest of some busy member would run clearly faster here —
 * also a guest alone on a slower host (it was two or more running, so a
 * receiver never took a guest off a slow host it had to itself; between hosts
 * of one speed MIN_GAIN already leaves a lone guest where it is).
 */
function pull(self: LoadVector, others: LoadVector[]): Initiative | undefined {
  const slower = others.filter((o) => o.runnable >= 1 && gain(o, self) >= MIN_GAIN);
  if (!slower.length) return undefined;
  return { kind: "pull", reason: `underloaded (${describeSpeed(self)}); a guest of ${slower.length} member(s) would run ${MIN_GAIN}x faster or more here: ${slower.map((o) => `${o.name} x${gain(o, self).toFixed(2)}`).join(", ")}` };
}

/** The member whose guests would gain most by coming here: the one a receiver asks for work. */
export function mostToGain(self: LoadVector, others: LoadVector[]): LoadVector | undefined {
  return [...others].filter((o) => o.runnable >= 1 && gain(o, self) >= MIN_GAIN).sort((a, b) => gain(b, self) - gain(a, self))[0];
}

export function balancePolicy(name: PolicyName): BalancePolicy {
  switch (name) {
    case "sender": return { name, whether: push };
    case "receiver": return { name, whether: pull };
    case "symmetric": return { name, whether: (self, others) => push(self, others) ?? pull(self, others) };
  }
}
