// The locality policy (`roam host --balance locality`, alone or after a load
// policy: `symmetric,locality`): a guest that exchanges most of its data with
// another host — messages with guests there, files it left there (a residual
// dependency) — moves there when the gain outweighs the move. Each round it
// measures, for each guest here, the bytes per second it exchanged with each
// host since the previous round (counted by the switch and the remote-file
// client: MessageCounts.exchanged). Moving guest g to host X makes its traffic
// with X local and its traffic with this host crossing, so the gain is
// rate(X) - rate(here) bytes per second. The move costs its memory; as with
// `which`, a guest's expected remaining life is taken to be its age
// (Harchol-Balter & Downey), so it moves when gain x age exceeds what its move
// sends (its RAM's written pages; untouched pages go as zero-page notes).
//
// No thrashing: a minimum residence (LOCALITY_RESIDENCE_MS: rates measured here over seconds), a hysteresis
// (X's traffic must be more than twice this host's), a floor (MIN_GAIN) below
// which nothing moves, and no target that the move would overload (a load
// policy would push it back). Two hosts running locality whose guests talk to
// each other could move both ends at once; each round a host acts on a gain
// only with probability ACT_CHANCE, so one of them usually goes first and the
// other then sees no gain. The other way round, a load policy asks
// `wouldReturn` before it moves a guest, and leaves one that locality would
// bring straight back (the balancer picks another).

import type { LoadVector } from "../load-vector.js";
import { missingLabels } from "../placement.js";
import { preferenceMisses } from "./preference.js";
import { saturated } from "./speed.js";
import type { MovableGuest } from "./which.js";
import { nowMs } from "../../machine/host-clock.js";

/** A guest's rates must have been measured here this long before it moves for them. */
export const LOCALITY_RESIDENCE_MS = 5000;
/** X's rate must be this many times the rate with guests here. */
export const LOCALITY_HYSTERESIS = 2;
/** Bytes per second below which no move is worth a decision. */
export const MIN_GAIN = 1024;
const ACT_CHANCE = 0.5;

export interface LocalityMove {
  guest: MovableGuest;
  member: LoadVector;
  reason: string;
}

export class Locality {
  private readonly last = new Map<string, { at: number; bytes: Map<string, number> }>();
  /** Each guest's rates by host (bytes/s), as last measured. */
  private readonly measured = new Map<string, Map<string, number>>();

  /** `traffic(id)`: the bytes guest `id` exchanged so far, by host URL (cumulative counters). */
  constructor(private readonly traffic: (guest: string) => ReadonlyMap<string, number> | undefined, private readonly random: () => number = Math.random) {}

  /** The best move for locality now, if one is worth it (measures first, as `measure`). */
  decide(self: LoadVector, members: LoadVector[], guests: MovableGuest[], now = nowMs()): LocalityMove | undefined {
    this.measure(guests, now);
    let best: (LocalityMove & { gain: number }) | undefined;
    for (const guest of guests) {
      const rates = this.measured.get(guest.id);
      if (!rates || guest.residentSeconds * 1000 < LOCALITY_RESIDENCE_MS) continue;
      const here = rates.get(key(self.url)) ?? 0;
      for (const member of members) {
        if (key(member.url) === key(self.url) || !fits(guest, self, member)) continue;
        const there = rates.get(key(member.url)) ?? 0;
        const gain = there - here;
        if (!worthMoving(guest, there, here) || (best && best.gain >= gain)) continue;
        best = {
          guest, member, gain,
          reason: `locality: ${rate(there)} exchanged with ${member.name}, ${rate(here)} with guests here; gain ${rate(gain)} x age ${guest.ageSeconds.toFixed(1)} s = ${mb(gain * guest.ageSeconds)} > its move ${mb(moveBytes(guest))}`,
        };
      }
    }
    if (!best || this.random() >= ACT_CHANCE) return undefined;
    return { guest: best.guest, member: best.member, reason: best.reason };
  }

  /**
   * Whether locality, at `to`, would move `guest` straight back to `from`: a
   * load policy must not make that move (the two policies would pass the
   * guest back and forth), and picks another guest instead.
   */
  wouldReturn(guest: MovableGuest, from: LoadVector, to: LoadVector): boolean {
    const rates = this.measured.get(guest.id);
    return rates !== undefined && worthMoving(guest, rates.get(key(from.url)) ?? 0, rates.get(key(to.url)) ?? 0);
  }

  /** Measures each guest's rates by host since the previous measure (at least 100 ms before); forgets guests no longer given. */
  measure(guests: MovableGuest[], now = nowMs()): void {
    const seen = new Set<string>();
    for (const guest of guests) {
      seen.add(guest.id);
      const rates = this.ratesSince(guest.id, now);
      if (rates) this.measured.set(guest.id, rates);
    }
    for (const id of this.last.keys()) {
      if (!seen.has(id)) { this.last.delete(id); this.measured.delete(id); } // left, ended or busy: measured afresh later
    }
  }

  /** Bytes per second by host since the previous call (undefined the first time a guest is seen, or within 100 ms). */
  private ratesSince(id: string, now: number): Map<string, number> | undefined {
    const bytes = new Map([...(this.traffic(id) ?? new Map<string, number>())].map(([url, n]) => [key(url), n]));
    const before = this.last.get(id);
    if (before && now - before.at < 100) return undefined;
    this.last.set(id, { at: now, bytes });
    if (!before) return undefined;
    const seconds = (now - before.at) / 1000;
    return new Map([...bytes].map(([url, n]) => [url, (n - (before.bytes.get(url) ?? 0)) / seconds]));
  }
}

/** Moving a guest whose exchange with the target is `there` B/s and with its present host `here` B/s pays, with hysteresis. */
function worthMoving(guest: MovableGuest, there: number, here: number): boolean {
  const gain = there - here;
  return gain >= MIN_GAIN && there > LOCALITY_HYSTERESIS * here && gain * guest.ageSeconds > moveBytes(guest);
}

/** What moving it sends: its RAM's written pages, and what it dirties while they stream. */
function moveBytes(guest: MovableGuest): number {
  return (guest.writtenBytes ?? guest.ramBytes) + guest.dirtyBytesPerSecond * 0.1;
}

/**
 * Whether `member` may take `guest` from `self`: its labels (none it prefers
 * lost), room for its RAM, and not saturated already: its guests do not want
 * all its capacity (a load policy would push one back: speed.ts).
 */
function fits(guest: MovableGuest, self: LoadVector, member: LoadVector): boolean {
  if (missingLabels(guest.requires, member.labels).length > 0 || member.memoryFree < guest.ramBytes) return false;
  if (preferenceMisses(guest, member) > preferenceMisses(guest, self)) return false;
  return !saturated(member);
}

const key = (url: string) => url.replace(/\/$/, "");
const rate = (bytesPerSecond: number) => `${(bytesPerSecond / 1024).toFixed(1)} KiB/s`;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
