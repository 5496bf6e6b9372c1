// A guest's dirty rate is measured between load vectors, whether or not it ever migrated.

import { describe, expect, it } from "vitest";
import { RAM_GUEST_BASE } from "../../assembly/layout.js";
import { Core } from "../../src/machine/core.js";
import { DirtyRates } from "../../src/cluster/dirty-rates.js";

const PAGES = 64;

describe("dirty rates", () => {
  it("counts the pages first written between two samples, per second, and forgets guests that are gone", async () => {
    const core = await Core.load();
    core.init(PAGES * 4096);
    const guest = { id: "g", core, ramBytes: PAGES * 4096 };
    const rates = new DirtyRates();
    rates.sample([guest], 1000);
    expect(rates.of("g")).toBeUndefined(); // one sample starts the count
    for (let p = 0; p < 10; p++) core.exports.hostWroteRam(RAM_GUEST_BASE + p * 4096, 8);
    core.exports.hostWroteRam(RAM_GUEST_BASE + 2 * 4096, 8); // the same page again: still one page
    rates.sample([guest], 1500);
    expect(rates.of("g")).toBe((10 * 4096) / 0.5);
    rates.sample([guest], 2500);
    expect(rates.of("g")).toBe(0);
    rates.sample([], 3000);
    expect(rates.of("g")).toBeUndefined();
  });
});
