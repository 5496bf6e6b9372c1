// A host's speed, measured (issue 12: uncapped hosts balance): instructions
// per second of the time spent running guests flat out, smoothed, carried in
// the load vector, and what the balancer compares hosts by — capped hosts by
// the least of their cap and that.

import { afterEach, describe, expect, it, vi } from "vitest";
import { LoadMeter, type LoadSource, type LoadVector } from "../../src/cluster/load-vector.js";
import { IDLE_RECOVERY_PER_SECOND, MIN_BUSY_MS, SMOOTH_MS, SpeedEstimate } from "../../src/cluster/speed-estimate.js";
import { gain, saturated, speedOf, UNMEASURED_SPEED } from "../../src/cluster/balance/speed.js";
import { balancePolicy } from "../../src/cluster/balance/policy.js";
import { placeGuest } from "../../src/cluster/placement.js";

describe("SpeedEstimate", () => {
  it("is null until a guest has run flat out, then the first measurement", () => {
    const e = new SpeedEstimate();
    expect(e.update(0, 0, 0.5)).toBeNull();
    expect(e.update(1000, MIN_BUSY_MS / 2, 0.5)).toBeNull(); // too little running to say anything
    expect(e.update(200e6, 400, 0.5)).toBe(500e6);
  });

  it("moves towards a new measurement by the running it rests on", () => {
    const e = new SpeedEstimate();
    e.update(500e6, 1000, 1); // 500M/s
    expect(e.update(10e6, 10, 1)).toBeCloseTo(500e6 + (10 / (10 + SMOOTH_MS)) * (1e9 - 500e6), -3); // 10 ms at 1G/s barely moves it
    const busy = new SpeedEstimate();
    busy.update(500e6, 1000, 1);
    expect(busy.update(1e9, SMOOTH_MS, 1)).toBe(750e6); // a busy second weighs as much as all before
  });

  it("a guest waiting on I/O is not slowness: wall time spent waiting does not enter it", () => {
    const e = new SpeedEstimate();
    e.update(300e6, 300, 1); // 1e9/s while it ran
    // The next second the guest ran 2 ms in all (short slices between reads, under MIN_BUSY_MS): nothing changes.
    expect(e.update(2e6, 2, 1)).toBe(1e9);
  });

  it("an idle host drifts back towards the best it showed (the slowdown it saw may be gone)", () => {
    const e = new SpeedEstimate();
    e.update(1e9, 1000, 1);
    e.update(2.5e8 * 100, 100e3, 100); // then long contended: ~250M/s
    const slowed = e.current!;
    expect(slowed).toBeLessThan(3e8);
    const after = e.update(0, 0, 1)!;
    expect(after).toBeCloseTo(slowed + IDLE_RECOVERY_PER_SECOND * (1e9 - slowed), -3);
    for (let i = 0; i < 60; i++) e.update(0, 0, 1);
    expect(e.current!).toBeGreaterThan(0.99e9);
  });
});

/** A host's guests as LoadMeter reads them: counters that tests advance. */
function source(capacity: number | null) {
  const guests = new Map<string, { instret: bigint; busy: { instructions: number; ms: number } }>();
  const src: LoadSource = {
    guests: () => [...guests.entries()].map(([id, g]) => ({ id, instret: g.instret, busy: { ...g.busy } })),
    memoryUsed: () => 0, memoryLimit: () => 1 << 30, messages: () => 0, capacity, labels: [],
  };
  const run = (id: string, retired: number, flatOut: number, flatOutMs: number) => {
    const g = guests.get(id) ?? { instret: 0n, busy: { instructions: 0, ms: 0 } };
    g.instret += BigInt(retired);
    g.busy.instructions += flatOut;
    g.busy.ms += flatOutMs;
    guests.set(id, g);
  };
  return { src, run };
}

describe("the load vector's speed", () => {
  afterEach(() => { vi.useRealTimers(); });
  it("is what the guests retired per ms of flat-out running, not per ms of wall time", async () => {
    vi.useFakeTimers({ toFake: ["hrtime"] }); // the host clock (src/machine/host-clock.ts)
    const { src, run } = source(null);
    const meter = new LoadMeter(src);
    run("io", 0, 0, 0);
    meter.next("ws://a", "A");
    run("io", 1e6, 1e6, 1); // an I/O-bound guest: 1M instructions, 1 ms of it flat out, over the whole interval
    vi.advanceTimersByTime(500);
    expect(meter.next("ws://a", "A").speed).toBeNull();
    run("io", 40e6, 40e6, 40); // a busier interval: 40 ms flat out at 1G/s, the rest of the half second waiting
    vi.advanceTimersByTime(500);
    const v = meter.next("ws://a", "A");
    expect(v.speed).toBe(1e9);
    expect(v.ipsGiven).toBeLessThan(1e9); // what it gave over the wall time is far less: it waited
    expect(saturated(v)).toBe(false);
  });

  it("a guest new to the host counts all it ran here", () => {
    const { src, run } = source(null);
    const meter = new LoadMeter(src);
    meter.next("ws://a", "A");
    run("new", 80e6, 80e6, 100);
    expect(meter.next("ws://a", "A").speed).toBe(800e6);
  });
});

const vector = (name: string, runnable: number, given: number, extra: Partial<LoadVector>): LoadVector => ({
  url: `ws://127.0.0.1:${name.charCodeAt(0)}`, name, incarnation: 1, seq: 1, capacity: null, speed: null, labels: [], guests: runnable, runnable,
  ipsGiven: given, ipsWanted: given, memoryUsed: 0, memoryFree: 1 << 30, dirtyBytesPerSecond: 0, messagesPerSecond: 0, crossingBytesPerSecond: 0, ...extra,
});

describe("uncapped hosts balance by their measured speed", () => {
  it("a host gives its measured speed, capped by its capacity; unmeasured, its capacity or a nominal speed", () => {
    expect(speedOf(vector("A", 0, 0, { speed: 300e6 }))).toBe(300e6);
    expect(speedOf(vector("A", 0, 0, { speed: 300e6, capacity: 16e6 }))).toBe(16e6);
    expect(speedOf(vector("A", 0, 0, { speed: 10e6, capacity: 16e6 }))).toBe(10e6); // a cap the machine cannot give
    expect(speedOf(vector("A", 0, 0, { capacity: 16e6 }))).toBe(16e6);
    expect(speedOf(vector("A", 0, 0, {}))).toBe(UNMEASURED_SPEED);
  });

  it("two busy guests on one uncapped host: one goes to an idle host as fast, and not back", () => {
    // 300M/s measured, of which they retired 270M/s: a nominal 1e9/s made this host look a third busy, and nothing moved.
    const busy = vector("A", 2, 270e6, { speed: 300e6 }), idle = vector("B", 0, 0, { speed: 300e6 });
    expect(saturated(busy)).toBe(true);
    expect(gain(busy, idle)).toBe(2);
    expect(balancePolicy("sender").whether(busy, [idle])?.kind).toBe("push");
    expect(balancePolicy("receiver").whether(idle, [busy])?.kind).toBe("pull");
    const after = [vector("A", 1, 270e6, { speed: 300e6 }), vector("B", 1, 270e6, { speed: 300e6 })];
    expect(balancePolicy("symmetric").whether(after[0], [after[1]])).toBeUndefined();
    expect(balancePolicy("symmetric").whether(after[1], [after[0]])).toBeUndefined();
  });

  it("a host whose guests wait on I/O is not overloaded, however little it gives", () => {
    const io = vector("A", 3, 5e6, { speed: 1e9 }); // three guests, mostly waiting
    expect(saturated(io)).toBe(false);
    expect(balancePolicy("sender").whether(io, [vector("B", 0, 0, { speed: 1e9 })])).toBeUndefined();
  });

  it("a slower host (sharing its cores) is not picked for a new guest over a faster idle one", () => {
    const slow = vector("S", 0, 0, { speed: 200e6 }), fast = vector("F", 0, 0, { speed: 1e9 });
    expect(placeGuest([slow, fast], [], 1 << 20, () => 0).name).toBe("F");
    expect(placeGuest([fast, slow], [], 1 << 20, () => 0).name).toBe("F");
  });
});
