// The capacity pacer's allowance: a batch may spend what its share holds, not
// a whole uncapped batch (~8 ms at full speed, seconds of a small host's
// capacity: a short guest ended inside it and never felt the cap).

import { describe, expect, it } from "vitest";
import { CapacityPacer } from "../../src/cluster/capacity.js";

describe("capacity pacer", () => {
  it("lets a batch spend at most its share's burst, and charges what it spent", () => {
    const pacer = new CapacityPacer(2e6); // 2M instructions a second: 2,000 a millisecond
    const a = pacer.share();
    const first = a.allowance();
    expect(first).toBeGreaterThanOrEqual(2_000); // at least a millisecond's worth
    expect(first).toBeLessThanOrEqual(20 * 2_000 + 1_000); // never more than the 20 ms burst (plus the clock's drift)
    // Spending it costs at most its own time at the share's rate; four times more asks for a wait of the debt's time.
    expect(a.pace(first)).toBeLessThanOrEqual(first / 2_000 + 0.01);
    const wait = a.pace(4 * first);
    expect(wait).toBeGreaterThan((3 * first) / 2_000);
    expect(a.allowance()).toBe(2_000); // in debt: only the minimum, paid by the wait that follows
  });

  it("splits the allowance between the shares that run", () => {
    const pacer = new CapacityPacer(2e6);
    const a = pacer.share(), b = pacer.share();
    a.pace(1_000); // a ran lately: b's next batch is counted as a second sharer
    expect(b.allowance()).toBeLessThanOrEqual(20 * 1_000 + 500);
  });
});
