// The locality policy's decision (src/cluster/balance/locality.ts) on made-up
// traffic counters: it moves a guest to the host it exchanges most data with
// only when gain x age exceeds its RAM, past the minimum residence, with the
// hysteresis, to a host that may take it.

import { describe, expect, it } from "vitest";
import { Locality } from "../../src/cluster/balance/locality.js";
import type { LoadVector } from "../../src/cluster/load-vector.js";
import type { MovableGuest } from "../../src/cluster/balance/which.js";

const host = (name: string, extra: Partial<LoadVector> = {}): LoadVector => ({
  url: `ws://${name}:1`, name, incarnation: 1, seq: 1, capacity: null, speed: null, labels: [], guests: 1, runnable: 1, ipsGiven: 0, ipsWanted: 0,
  memoryUsed: 0, memoryFree: 1 << 30, dirtyBytesPerSecond: 0, messagesPerSecond: 0, crossingBytesPerSecond: 0, ...extra,
});
const guest = (extra: Partial<MovableGuest> = {}): MovableGuest => ({
  id: "g1", ageSeconds: 60, residentSeconds: 60, ramBytes: 1 << 20, dirtyBytesPerSecond: 0, requires: [], prefers: [], ...extra,
});

/** Decides twice, one second apart, the guest having exchanged `perSecond` bytes with each host (by name) in between. */
function decide(perSecond: Record<string, number>, options: { g?: MovableGuest; members?: LoadVector[]; random?: number } = {}) {
  const counters = new Map<string, number>();
  const locality = new Locality(() => counters, () => options.random ?? 0);
  const self = host("A");
  const members = options.members ?? [host("B"), host("C")];
  const g = options.g ?? guest();
  expect(locality.decide(self, members, [g], 0)).toBeUndefined(); // the first sample only starts the measurement
  for (const [name, n] of Object.entries(perSecond)) counters.set(`ws://${name}:1`, n);
  return locality.decide(self, members, [g], 1000);
}

describe("locality", () => {
  it("moves a guest to the host it exchanges most data with, saying why", () => {
    const move = decide({ A: 1000, B: 200_000, C: 50_000 });
    expect(move?.member.name).toBe("B");
    expect(move?.reason).toMatch(/^locality: 195\.3 KiB\/s exchanged with B, 1\.0 KiB\/s with guests here; gain 194\.3 KiB\/s x age 60\.0 s = 11\.4 MiB > its move 1\.0 MiB$/);
  });

  it("not when the gain over its age does not pay for its RAM", () => {
    expect(decide({ B: 100_000 }, { g: guest({ ramBytes: 64 << 20 }) })).toBeUndefined(); // 100 kB/s x 60 s < 64 MiB
    expect(decide({ B: 100_000 }, { g: guest({ ageSeconds: 5 }) })).toBeUndefined(); // 500 kB < 1 MiB
  });

  it("a move costs the pages the guest wrote, not its whole RAM (untouched pages go as zero-page notes)", () => {
    expect(decide({ B: 100_000 }, { g: guest({ ramBytes: 64 << 20, writtenBytes: 256 << 10 }) })?.reason).toMatch(/> its move 0\.3 MiB$/);
  });

  it("not before the minimum residence, nor within the hysteresis, nor for a trickle", () => {
    expect(decide({ B: 200_000 }, { g: guest({ residentSeconds: 2 }) })).toBeUndefined();
    expect(decide({ A: 150_000, B: 200_000 })).toBeUndefined(); // not twice what it exchanges here
    expect(decide({ B: 500 }, { g: guest({ ageSeconds: 1e6 }) })).toBeUndefined(); // below MIN_GAIN
  });

  it("not to a host without its labels, without room, or overloaded", () => {
    expect(decide({ B: 200_000 }, { g: guest({ requires: ["secure"] }) })).toBeUndefined();
    expect(decide({ B: 200_000 }, { members: [host("B", { memoryFree: 1000 })] })).toBeUndefined();
    expect(decide({ B: 200_000 }, { members: [host("B", { capacity: 1e6, ipsWanted: 2e6 })] })).toBeUndefined();
    expect(decide({ B: 200_000 }, { members: [host("B", { labels: ["secure"] })], g: guest({ requires: ["secure"] }) })?.member.name).toBe("B");
    expect(decide({ B: 200_000 }, { g: guest({ prefers: ["secure"] }) })?.member.name).toBe("B"); // A lacks it too: nothing lost
  });

  it("acts on a gain only on some rounds, so two hosts do not swap a pair of peers at once", () => {
    expect(decide({ B: 200_000 }, { random: 0.9 })).toBeUndefined();
  });
});
