// Sensitive work goes to a secure node (the seed: "moving sensitive work to a
// secure machine"). A guest run with `--prefer secure` may start on any host,
// so it runs at once; the host it runs on moves it to a member carrying the
// labels it prefers as soon as one has room for it (its RAM free), the member
// where it would run fastest. Unlike `--require`, a preference never refuses
// a placement; and once a guest is on a host with its labels, balancing never
// moves it to one with fewer of them (where.ts).

import type { LoadVector } from "../load-vector.js";
import { missingLabels } from "../placement.js";
import { perNewcomer } from "./speed.js";
import type { MovableGuest } from "./which.js";

export interface PreferredMove { guest: MovableGuest; member: LoadVector; reason: string }

/** How many of the labels `guest` prefers `host` lacks. */
export function preferenceMisses(guest: MovableGuest, host: LoadVector): number {
  return missingLabels(guest.prefers, host.labels).length;
}

/** The first guest here that prefers labels this host lacks, and the best member that has them and room for it. */
export function preferredMove(self: LoadVector, guests: MovableGuest[], members: LoadVector[]): PreferredMove | undefined {
  for (const guest of guests) {
    const here = preferenceMisses(guest, self);
    if (here === 0) continue;
    const fit = members
      .filter((m) => m.url !== self.url && preferenceMisses(guest, m) < here && missingLabels(guest.requires, m.labels).length === 0 && m.memoryFree >= guest.ramBytes)
      .sort((a, b) => preferenceMisses(guest, a) - preferenceMisses(guest, b) || perNewcomer(b) - perNewcomer(a));
    if (!fit.length) continue;
    const member = fit[0];
    const has = guest.prefers.filter((l) => member.labels.includes(l));
    return { guest, member, reason: `it prefers ${guest.prefers.join(",")}; ${self.name} has ${self.labels.length ? self.labels.join(",") : "no labels"}, ${member.name} has ${has.join(",")} and room (${member.memoryFree >> 20} MiB free)` };
  }
  return undefined;
}
