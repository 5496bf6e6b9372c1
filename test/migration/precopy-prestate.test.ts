// The destination builds the guest from the prestate while the guest runs on
// at the source; what it dirties meanwhile must travel in a round of its own,
// not inside the downtime (a process tree's prestate took ~20 ms to build, and a
// guest dirtying 10 MB/s then left ~130 pages, 0.5 MB, for the freeze).

import { describe, expect, test } from "vitest";
import { RAM_GUEST_BASE } from "../../assembly/layout.js";
import { Core } from "../../src/machine/core.js";
import { newStats } from "../../src/migration/stats.js";
import { precopy } from "../../src/migration/strategies/precopy.js";
import type { Transfer } from "../../src/migration/strategies/transfer.js";
import { PAGE } from "../../src/migration/pages.js";

const PAGES = 256;

/** A transfer over a real core whose "guest" writes `dirtiedWhileBuilding` pages while the destination builds the prestate. */
async function transfer(dirtiedWhileBuilding: number[]) {
  const core = await Core.load();
  core.init(PAGES * PAGE);
  const sent: Array<{ round: number; pages: number[] }> = [];
  const events: string[] = [];
  const write = (page: number) => core.exports.hostWroteRam(RAM_GUEST_BASE + page * PAGE, 4);
  for (let p = 0; p < 32; p++) write(p); // pages the guest has written
  const t: Transfer = {
    guest: {
      info: { id: "g", ramBytes: PAGES * PAGE } as never, core,
      freeze: async () => {}, thaw: () => {}, setThrottle: () => {}, expectFreeze: () => {}, snapshotWithout: () => ({}) as never,
    },
    peer: { request: async () => ({ t: "reply" }) } as never,
    stats: newStats("g", "precopy", "A", "B"),
    options: { strategy: "precopy", maxDowntimeMs: 1, bandwidthBytesPerSecond: 1e9 },
    pageCount: PAGES,
    sender: { send: async (pages: number[], round: number) => { sent.push({ round, pages: [...pages] }); events.push(`round ${round}`); return pages.length * PAGE; } } as never,
    meter: { tick: () => {} } as never,
    sendPrestate: async () => { events.push("prestate"); for (const p of dirtiedWhileBuilding) write(p); },
    refreshPrestate: async () => { events.push("refresh"); },
    freeze: async () => { events.push("freeze"); },
    allPages: () => Array.from({ length: 32 }, (_, i) => i),
    stopIfCancelled: () => {},
  };
  return { t, sent, events };
}

describe("precopy and the prestate", () => {
  test("pages dirtied while the destination builds the prestate go in a round before the freeze", async () => {
    const meanwhile = Array.from({ length: 130 }, (_, i) => 40 + i);
    const { t, sent, events } = await transfer(meanwhile);
    const handover = await precopy(t);
    expect(events).toEqual(["round 1", "prestate", "refresh", "round 2", "freeze"]);
    expect(sent[1].pages).toEqual(meanwhile);
    expect(handover.finalPages).toEqual([]); // nothing was written after that round
  });

  test("a few pages dirtied meanwhile are left for the freeze, not worth a round", async () => {
    const { t, events } = await transfer([200, 201, 202]);
    const handover = await precopy(t);
    expect(events).toEqual(["round 1", "prestate", "refresh", "freeze"]);
    expect(handover.finalPages).toEqual([200, 201, 202]);
  });
});
