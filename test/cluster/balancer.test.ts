// The balancer's rounds on a made-up host: a decision whose migration fails
// is recorded as failed, with the reason, and the guest stays where it was
// (the host's migrate rejected, so it runs on there); a load move does not
// undo what locality would do.
import { expect, it } from "vitest";
import { Balancer, type BalancerHost } from "../../src/cluster/balance/balancer.js";
import { Locality } from "../../src/cluster/balance/locality.js";
import type { LoadVector } from "../../src/cluster/load-vector.js";

const vector = (name: string, runnable: number, capacity: number): LoadVector => ({
  url: `ws://127.0.0.1:${name.charCodeAt(0)}`, name, incarnation: 1, seq: 1, capacity, speed: null, labels: [], guests: runnable, runnable,
  ipsGiven: runnable ? capacity : 0, ipsWanted: runnable * 2 * capacity, memoryUsed: 0, memoryFree: 1 << 30, dirtyBytesPerSecond: 0, messagesPerSecond: 0, crossingBytesPerSecond: 0,
});

it("a balancing migration that fails is recorded as failed, and the guest runs on where it was", async () => {
  const lines: string[] = [];
  const here = new Set(["old", "young"]);
  let tried = 0;
  let failed!: () => void;
  const failedOnce = new Promise<void>((resolve) => (failed = resolve));
  const host: BalancerHost = {
    name: "A",
    view: () => ({ self: vector("A", 2, 10e6), others: [vector("B", 0, 10e6)] }),
    movable: () => [...here].map((id) => ({ id, ageSeconds: id === "old" ? 60 : 0.01, residentSeconds: 60, ramBytes: 4 << 20, dirtyBytesPerSecond: 0, requires: [], prefers: [] })),
    migrate: async () => { tried++; throw new Error("the destination closed the connection"); },
    runsHere: (id) => here.has(id),
    askForGuest: async () => ({ declined: "not asked in this test" }),
    log: (line) => { lines.push(line); if (line.includes(": failed guest")) failed(); },
  };
  const balancer = new Balancer(host, "sender");
  balancer.start();
  try {
    await failedOnce;
  } finally {
    balancer.close();
  }
  expect(tried).toBe(1);
  expect(here.has("old")).toBe(true); // nothing took it away: the host's migrate failed, so it runs on there
  expect(balancer.counts).toMatchObject({ migrations: 0, failures: 1 });
  expect(balancer.decisions.map((d) => d.action)).toEqual(["migrate", "failed"]);
  expect(balancer.decisions[0].guest).toBe("old"); // the oldest moves first (Harchol-Balter & Downey)
  expect(balancer.decisions[1].reason).toBe("migration failed, the guest runs on here: the destination closed the connection");
  expect(lines.some((l) => /balance \(sender\): failed guest old A -> B/.test(l))).toBe(true);
});

it("a load move leaves a guest that locality would bring straight back, and moves another", async () => {
  const A = vector("A", 2, 10e6), B = vector("B", 0, 10e6);
  const started = performance.now();
  // "old" exchanges 100 KiB/s with guests here; "young" talks to no one.
  const traffic = (id: string) => (id === "old" ? new Map([[A.url, (100 * 1024 * (performance.now() - started)) / 1000]]) : new Map<string, number>());
  let views = 0;
  let moved!: (id: string) => void;
  const firstMove = new Promise<string>((resolve) => (moved = resolve));
  const host: BalancerHost = {
    name: "A",
    // B joins only at the third round: by then the rounds have measured each guest's traffic.
    view: () => ({ self: A, others: ++views >= 3 ? [B] : [] }),
    movable: () => ["old", "young"].map((id) => ({ id, ageSeconds: id === "old" ? 60 : 30, residentSeconds: 60, ramBytes: 4 << 20, dirtyBytesPerSecond: 0, requires: [], prefers: [] })),
    migrate: async (id) => moved(id),
    runsHere: () => true,
    askForGuest: async () => ({ declined: "not asked in this test" }),
    log: () => {},
  };
  const balancer = new Balancer(host, "sender", new Locality(traffic, () => 0.99 /* locality itself never acts */));
  balancer.start();
  try {
    expect(await firstMove).toBe("young"); // the oldest would go first, but locality would bring it back to A
  } finally {
    balancer.close();
  }
  expect(balancer.decisions[0].reason).toMatch(/which: age 30\.0 s/);
});

it("a member a move to which just failed is not picked again until the membership has had time to mark it down", async () => {
  // C is where a guest of A would run fastest; the move to it fails (it died), but its last vector (sent while the move
  // went on) keeps it "up" until the membership's bound passes: meanwhile no decision may pick it again.
  const A = vector("A", 2, 10e6), B = vector("B", 0, 10e6), C = vector("C", 0, 40e6);
  const tried: Array<{ to: string; at: number }> = [];
  let third!: () => void;
  const thirdTry = new Promise<void>((resolve) => (third = resolve));
  const host: BalancerHost = {
    name: "A",
    view: () => ({ self: A, others: [B, C] }),
    movable: () => [{ id: "g", ageSeconds: 60, residentSeconds: 60, ramBytes: 4 << 20, dirtyBytesPerSecond: 0, requires: [], prefers: [] }],
    migrate: async (_id, to) => {
      tried.push({ to, at: performance.now() });
      if (tried.length === 3) third();
      throw new Error("the destination closed the connection");
    },
    runsHere: () => true,
    askForGuest: async () => ({ declined: "not asked in this test" }),
    log: () => {},
  };
  const balancer = new Balancer(host, "sender", undefined, { roundMs: 10, cooldownMs: 0, avoidMs: 300 });
  balancer.start();
  try {
    await thirdTry;
  } finally {
    balancer.close();
  }
  expect(tried.map((t) => t.to)).toEqual([C.url, B.url, C.url]); // B's failure too: C again only once its time is over
  expect(tried[2].at - tried[0].at).toBeGreaterThanOrEqual(300);
  expect(balancer.decisions.filter((d) => d.action === "migrate").map((d) => d.to)).toEqual(["C", "B", "C"]);
});

it("a member's vector made before a move does not hide the guest sent there: the next round does not send it another", async () => {
  // A (10M) runs four busy guests; B (10M) is idle. One move makes it 3 and 1: a second is still worth it (x1.25 at least:
  // 10M/2 on B against 10M/3 here), a third is not. B's vector stays the one made before the moves (its ageMs grows).
  const B = { ...vector("B", 0, 10e6), ageMs: 0 };
  const madeAt = performance.now();
  const here = ["g0", "g1", "g2", "g3"]; // oldest first
  const moves: string[] = [];
  let twoRoundsAfterSecond!: () => void;
  const settled = new Promise<void>((resolve) => (twoRoundsAfterSecond = resolve));
  let roundsAfter = 0;
  const host: BalancerHost = {
    name: "A",
    view: () => {
      if (moves.length >= 2 && ++roundsAfter > 5) twoRoundsAfterSecond();
      return { self: vector("A", here.length, 10e6), others: [{ ...B, ageMs: performance.now() - madeAt }] };
    },
    movable: () => here.map((id, i) => ({ id, ageSeconds: 60 - i, residentSeconds: 60, ramBytes: 4 << 20, dirtyBytesPerSecond: 0, requires: [], prefers: [] })),
    migrate: async (id) => { moves.push(id); here.splice(here.indexOf(id), 1); },
    runsHere: () => true,
    askForGuest: async () => ({ declined: "not asked in this test" }),
    log: () => {},
  };
  const balancer = new Balancer(host, "sender", undefined, { roundMs: 5, cooldownMs: 0, avoidMs: 0 });
  balancer.start();
  try {
    await settled;
  } finally {
    balancer.close();
  }
  expect(moves).toEqual(["g0", "g1"]); // not four: B, counted with what it was sent, is not idle
  expect(balancer.counts.migrations).toBe(2);
});

it("a receiver whose request was declined may ask again at the next round, not after the cooldown", async () => {
  const asked: number[] = [];
  let declines = 0;
  let thrice!: () => void;
  const askedThrice = new Promise<void>((resolve) => (thrice = resolve));
  const host: BalancerHost = {
    name: "R",
    view: () => ({ self: vector("R", 0, 16e6), others: [vector("S", 1, 2e6)] }),
    movable: () => [],
    migrate: async () => {},
    runsHere: () => true,
    askForGuest: async () => { asked.push(performance.now()); return { declined: "no guest here has stayed its minimum residence" }; },
    log: (line) => { if ((line.match(/: decline /) && ++declines === 3)) thrice(); },
  };
  const balancer = new Balancer(host, "receiver", undefined, { roundMs: 10, cooldownMs: 60_000, avoidMs: 0 });
  balancer.start();
  try {
    await askedThrice; // with the 60 s cooldown after each decline, this would time out
  } finally {
    balancer.close();
  }
  expect(balancer.decisions.filter((d) => d.action === "decline")).toHaveLength(3);
});
