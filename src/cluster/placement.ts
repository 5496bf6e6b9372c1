// Where a new guest runs (`roam run --on cluster`): among the members up that
// carry every label it requires and have room for its RAM, the less loaded of
// two picked at random — Mitzenmacher's power of two choices, which keeps
// hosts nearly as even as asking every host, without every client herding onto
// the one that looked least loaded a moment ago. With two or fewer eligible
// members that is simply the least loaded.

import { loadOf, type LoadVector } from "./load-vector.js";
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
  const chosen = !second || loadOf(first) <= loadOf(second) ? first : second;
  const compared = second ? `the less loaded of two random choices among ${eligible.length} eligible (${first.name} ${loadOf(first).toFixed(2)}, ${second.name} ${loadOf(second).toFixed(2)})` : "the only eligible host";
  return { url: chosen.url, name: chosen.name, reason: `${compared}${requires.length ? `; it has ${requires.join(",")}` : ""}` };
}
