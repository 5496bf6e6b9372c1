// The balancer's pieces, on load vectors made up here: whether (each policy's
// initiative), which (age against move cost, minimum residence), where (labels,
// room, and the hysteresis that keeps a guest from swapping two hosts' loads).

import { describe, expect, it } from "vitest";
import type { LoadVector } from "../../src/cluster/load-vector.js";
import { balancePolicy } from "../../src/cluster/balance/policy.js";
import { MIN_RESIDENCE_MS, whichGuests, type MovableGuest } from "../../src/cluster/balance/which.js";
import { where } from "../../src/cluster/balance/where.js";
import { placeGuest } from "../../src/cluster/placement.js";
import { preferredMove } from "../../src/cluster/balance/preference.js";

const CAP = 100e6;

function host(name: string, runnable: number, wantedPerGuest = 2 * CAP, extra: Partial<LoadVector> = {}): LoadVector {
  return {
    url: `ws://127.0.0.1:${name.charCodeAt(0)}`, name, incarnation: 1, seq: 1, capacity: CAP, speed: null, labels: [], guests: runnable, runnable,
    ipsGiven: Math.min(CAP, runnable * wantedPerGuest), ipsWanted: runnable * wantedPerGuest, memoryUsed: 0, memoryFree: 1 << 30,
    dirtyBytesPerSecond: 0, messagesPerSecond: 0, crossingBytesPerSecond: 0, ...extra,
  };
}

const guest = (id: string, ageSeconds: number, extra: Partial<MovableGuest> = {}): MovableGuest =>
  ({ id, ageSeconds, residentSeconds: MIN_RESIDENCE_MS / 1000 + 1, ramBytes: 4 << 20, dirtyBytesPerSecond: 0, requires: [], prefers: [], ...extra });

describe("whether", () => {
  const busy = host("A", 3), idle = host("B", 0);
  it("sender pushes from an overloaded host when a member has room; receiver pulls into an idle one; symmetric does both", () => {
    expect(balancePolicy("sender").whether(busy, [idle])?.kind).toBe("push");
    expect(balancePolicy("sender").whether(idle, [busy])).toBeUndefined();
    expect(balancePolicy("receiver").whether(idle, [busy])?.kind).toBe("pull");
    expect(balancePolicy("receiver").whether(busy, [idle])).toBeUndefined();
    expect(balancePolicy("symmetric").whether(busy, [idle])?.kind).toBe("push");
    expect(balancePolicy("symmetric").whether(idle, [busy])?.kind).toBe("pull");
  });
  it("one guest alone is not balanced away (it would only overload the other host)", () => {
    expect(balancePolicy("sender").whether(host("A", 1), [idle])).toBeUndefined();
    expect(balancePolicy("receiver").whether(idle, [host("A", 1)])).toBeUndefined();
  });
});

describe("hosts of different capacities: compared by what a guest gets", () => {
  const slow = (runnable: number) => host("S", runnable, 2 * 4e6, { capacity: 4e6 });
  const fast = (runnable: number) => host("F", runnable, 2 * 32e6, { capacity: 32e6 });
  it("a guest alone on a slow host goes to an idle fast one; two on a fast host do not go to an idle slow one", () => {
    expect(balancePolicy("sender").whether(slow(1), [fast(0)])?.reason).toMatch(/overloaded \(S 1 running, 4\.0M\/s each\).*F x8\.00/);
    expect(where(slow(1), guest("g", 60), [fast(0)])?.member.name).toBe("F");
    expect(balancePolicy("sender").whether(fast(2), [slow(0)])).toBeUndefined();
    expect(where(fast(2), guest("g", 60), [slow(0)])).toBeUndefined();
    // Four on the fast host (8M/s each) and none on the slow one (4M/s for a newcomer): no gain, no move.
    expect(balancePolicy("receiver").whether(slow(0), [fast(4)])).toBeUndefined();
  });
  it("guests that want less than the host gives gain nothing by moving", () => {
    const calm = host("C", 2, 0.2 * CAP); // two guests wanting 20% each of a host that gives 100%
    expect(balancePolicy("sender").whether(calm, [host("B", 0)])).toBeUndefined();
  });
});

describe("which", () => {
  it("moves the oldest guest whose age exceeds its move cost, never one that just arrived", () => {
    const picked = whichGuests([guest("young", 0.01), guest("old", 60), guest("older-but-new-here", 600, { residentSeconds: 0.5 }), guest("mid", 10)]);
    expect(picked.map((p) => p.guest.id)).toEqual(["old", "mid"]);
    expect(picked[0].reason).toMatch(/^age 60\.0 s > move cost 0\.05 s/);
    // A 1 GiB guest costs about a second to move: at half a second old it stays.
    expect(whichGuests([guest("big", 0.5, { ramBytes: 1 << 30 })])).toEqual([]);
  });

  it("prices a move by the pages a guest wrote, not by its whole RAM", () => {
    // 1 GiB of RAM of which 4 MiB was ever written: the move sends 4 MiB (the rest goes as zero-page notes).
    const sparse = guest("sparse", 0.5, { ramBytes: 1 << 30, writtenBytes: 4 << 20 });
    expect(whichGuests([sparse]).map((p) => p.guest.id)).toEqual(["sparse"]);
    expect(whichGuests([{ ...sparse, writtenBytes: 1 << 30 }])).toEqual([]);
    // What it dirties while its pages stream counts too: 8 GB/s for 0.1 s is another 0.8 s.
    expect(whichGuests([{ ...sparse, dirtyBytesPerSecond: 8e9 }])).toEqual([]);
  });
});

describe("where", () => {
  it("only to a member with the guest's labels and room, and clearly less loaded after the move", () => {
    const source = host("A", 2);
    expect(where(source, guest("g", 60), [host("B", 0)])?.member.name).toBe("B");
    expect(where(source, guest("g", 60, { requires: ["secure"] }), [host("B", 0)])).toBeUndefined();
    expect(where(source, guest("g", 60, { requires: ["secure"] }), [host("B", 0), host("S", 0, undefined, { labels: ["secure"] })])?.member.name).toBe("S");
    expect(where(source, guest("g", 60, { ramBytes: 1 << 30 }), [host("B", 0, undefined, { memoryFree: 64 << 20 })])).toBeUndefined();
    // 2 guests here, 1 there: moving one only swaps the loads (no ping-pong).
    expect(where(source, guest("g", 60), [host("B", 1)])).toBeUndefined();
  });
  it("two random choices take the less loaded of the two drawn", () => {
    const source = host("A", 6);
    const members = [host("B", 0), host("C", 2), host("D", 1)];
    const draws = [0, 0.99]; // B first, then the last of the rest
    const chosen = where(source, guest("g", 60), members, "two-choices", () => draws.shift()!);
    expect(chosen?.member.name).toBe("B");
    expect(chosen?.reason).toMatch(/two random choices among 3 fit/);
  });
});

describe("placement of a new guest", () => {
  it("of the two drawn, the host where it would run fastest: an idle slow host loses to a fast one already running a guest", () => {
    const slow = host("S", 0, undefined, { capacity: 4e6 }), fast = host("F", 1, undefined, { capacity: 32e6 });
    for (const draws of [[0, 0], [0.99, 0]]) { // each drawn first
      const placed = placeGuest([slow, fast], [], 0, () => draws.shift()!);
      expect(placed.name).toBe("F");
      expect(placed.reason).toMatch(/faster for it of two random choices among 2 eligible \(.*F 16\.0M\/s/);
    }
    // Equal shares: the lower load.
    const busy = host("B", 1, 3 * CAP), calm = host("C", 1, 1 * CAP);
    expect(placeGuest([busy, calm], [], 0, () => 0).name).toBe("C");
  });
});

describe("preferences (--prefer): sensitive work to a secure node", () => {
  const plain = host("P", 0), secure = host("S", 3, undefined, { labels: ["secure"] }), full = host("F", 0, undefined, { labels: ["secure"], memoryFree: 1 << 20 });
  it("a guest here that prefers a label this host lacks goes to a member with it and room, even a busier one; none when it has its labels", () => {
    const sensitive = guest("s", 0.1, { prefers: ["secure"], residentSeconds: 0 });
    const move = preferredMove(plain, [guest("other", 60), sensitive], [full, secure]);
    expect(move?.guest.id).toBe("s");
    expect(move?.member.name).toBe("S");
    expect(move?.reason).toMatch(/it prefers secure; P has no labels, S has secure and room/);
    expect(preferredMove(secure, [sensitive], [plain, full])).toBeUndefined();
    expect(preferredMove(plain, [sensitive], [full])).toBeUndefined(); // no room anywhere: it runs on here
  });
  it("load balancing never takes a guest away from labels it prefers", () => {
    const sensitive = guest("s", 60, { prefers: ["secure"] });
    expect(where(secure, sensitive, [plain])).toBeUndefined();
    expect(where(secure, guest("g", 60), [plain])?.member.name).toBe("P");
  });
});

describe("heterogeneous hosts and stale vectors (bench:balance's decisions)", () => {
  const slow = (runnable: number) => host("S", runnable, 2 * 2e6, { capacity: 2e6 });
  const fast = (runnable: number) => host("F", runnable, 2 * 16e6, { capacity: 16e6 });
  it("a receiver takes a guest alone on a slow host, which would run 8x faster here", () => {
    expect(balancePolicy("receiver").whether(fast(0), [slow(1)])?.reason).toMatch(/S x8\.00/);
    // Between hosts of one speed a lone guest stays (no gain), as before.
    expect(balancePolicy("receiver").whether(host("B", 0), [host("A", 1)])).toBeUndefined();
  });
  it("a guest is movable after a second here (two load vectors), no longer five", () => {
    expect(MIN_RESIDENCE_MS).toBe(1000);
    expect(whichGuests([guest("g", 3, { residentSeconds: 1.2 })]).map((c) => c.guest.id)).toEqual(["g"]);
  });
});
