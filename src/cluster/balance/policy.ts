// Whether to balance, and which way (`roam host --balance POLICY`): the three
// classic initiatives (Eager, Lazowska & Zahorjan): a sender-initiated host
// pushes work away when it is overloaded, a receiver-initiated host asks for
// work when it is underloaded, a symmetric host does both. Each looks only at
// the load vectors the exchange brought (src/cluster/membership.ts).

import type { LoadVector } from "../load-vector.js";

/** Wanted over capacity above this: the guests want more than the host gives them. */
export const OVERLOADED = 1.0;
/** Below this the host has room to spare. */
export const UNDERLOADED = 0.6;

export type Initiative = { kind: "push" | "pull"; reason: string };

export interface BalancePolicy {
  readonly name: PolicyName;
  /** Whether this host should act now, and how; undefined: the cluster is balanced enough as it is seen from here. */
  whether(self: LoadVector, others: LoadVector[]): Initiative | undefined;
}

export const POLICY_NAMES = ["sender", "receiver", "symmetric"] as const;
export type PolicyName = typeof POLICY_NAMES[number];

/** How loaded a host is for balancing: what its guests want over what it gives (its --capacity, else 1e9/s). */
export function balanceLoad(v: LoadVector): number {
  return v.ipsWanted / (v.capacity ?? 1e9);
}

const fmt = (v: LoadVector) => `${v.name} ${balanceLoad(v).toFixed(2)}`;

function push(self: LoadVector, others: LoadVector[]): Initiative | undefined {
  if (balanceLoad(self) <= OVERLOADED || self.runnable < 2) return undefined; // one guest cannot be split
  const idle = others.filter((o) => balanceLoad(o) < UNDERLOADED);
  if (!idle.length) return undefined;
  return { kind: "push", reason: `overloaded (${fmt(self)} > ${OVERLOADED}); ${idle.length} member(s) below ${UNDERLOADED}: ${idle.map(fmt).join(", ")}` };
}

function pull(self: LoadVector, others: LoadVector[]): Initiative | undefined {
  if (balanceLoad(self) >= UNDERLOADED) return undefined;
  const busy = others.filter((o) => balanceLoad(o) > OVERLOADED && o.runnable >= 2);
  if (!busy.length) return undefined;
  return { kind: "pull", reason: `underloaded (${fmt(self)} < ${UNDERLOADED}); ${busy.length} member(s) overloaded: ${busy.map(fmt).join(", ")}` };
}

export function balancePolicy(name: PolicyName): BalancePolicy {
  switch (name) {
    case "sender": return { name, whether: push };
    case "receiver": return { name, whether: pull };
    case "symmetric": return { name, whether: (self, others) => push(self, others) ?? pull(self, others) };
  }
}
