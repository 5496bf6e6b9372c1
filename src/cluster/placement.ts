// Where a new guest runs (`roam run --on cluster`): among the members up that
// carry every label it requires and have room for its RAM, the better of two
// picked at random — Mitzenmacher's power of two choices, which keeps hosts
// nearly as even as asking every host, without every client herding onto the
// one that looked best a moment ago. With two or fewer eligible members that
// is simply the better one. "Better" is where the guest would run fastest:
// the host's capacity shared with the guests that run there (an idle 4M host
// is worse than a 32M host running one guest), then the lower load.

import { loadOf, type LoadVector } from "./load-vector.js";
import { speedOf, UNMEASURED_SPEED } from "./balance/speed.js";

/** Instructions per second a new guest would get on `v`: what it gives (its measured speed, capped by its capacity) shared with those that run there. */
export function shareForNewGuest(v: LoadVector): number {
  return speedOf(v) / (v.runnable + 1);
}

/** Whether `a` is at least as good a place for a new guest as `b`. */
function noWorse(a: LoadVector, b: LoadVector): boolean {
  const sa = shareForNewGuest(a), sb = shareForNewGuest(b);
  return sa !== sb ? sa > sb : loadOf(a) <= loadOf(b);
}
import { ProtocolError } from "../net/protocol.js";

/** Label names as given (`--label secure,gpu`, `--require secure`): each letters, digits, '-', '_', '.'. */
export function labelList(values: string[], what: string): string[] {
  const names = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  for (const name of names) if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new ProtocolError(`${what}: '${name}' is not a label (letters, digits, '-', '_', '.')`);
  return [...new Set(names)];
}

/** The labels of `required` that `offered` lacks. */
export function missingLabels(required: readonly string[] | undefined, offered: readonly string[]): string[] {
  return (required ?? []).filter((name) => !offered.includes(name));
}

export interface Placement {
  url: string;
  name: string;
  /** Why this host, for the client to say. */
  reason: string;
}

export function placeGuest(members: LoadVector[], requires: string[], ramBytes: number, random: () => number = Math.random): Placement {
  const labelled = members.filter((m) => missingLabels(requires, m.labels).length === 0);
  if (labelled.length === 0) {
    throw new ProtocolError(`no host up in the cluster has ${requires.length > 1 ? "labels" : "label"} ${requires.join(",")} (${members.length} up: ${members.map((m) => `${m.name} [${m.labels.join(",") || "no labels"}]`).join(", ")})`);
  }
  const eligible = labelled.filter((m) => m.memoryFree >= ramBytes);
  if (eligible.length === 0) throw new ProtocolError(`no host up with ${requires.length ? `label ${requires.join(",")} and ` : ""}${ramBytes >> 20} MiB of guest memory free`);
  const pool = [...eligible];
  const first = pool.splice(Math.floor(random() * pool.length), 1)[0];
  const second = pool.length ? pool[Math.floor(random() * pool.length)] : undefined;
  const chosen = !second || noWorse(first, second) ? first : second;
  const share = (v: LoadVector) => (speedOf(v) === UNMEASURED_SPEED ? `${v.name} not yet measured` : `${v.name} ${(shareForNewGuest(v) / 1e6).toFixed(1)}M/s`);
  const compared = second ? `the faster for it of two random choices among ${eligible.length} eligible (${share(first)}, ${share(second)})` : "the only eligible host";
  return { url: chosen.url, name: chosen.name, reason: `${compared}${requires.length ? `; it has ${requires.join(",")}` : ""}` };
}
