// The capacity pacer's allowance: a batch may spend what its share holds, not
// a whole uncapped batch (~8 ms at full speed, seconds of a small host's
// capacity: a short guest ended inside it and never felt the cap). The test
// drives the pacer's clock, so a loaded machine's delays between calls cannot
// refill a bucket behind its back.

import { describe, expect, it } from "vitest";
import { CapacityPacer } from "../../src/cluster/capacity.js";

function clocked(ips: number) {
  let now = 1_000;
  const pacer = new CapacityPacer(ips, () => now);
  return { pacer, advance: (ms: number) => (now += ms) };
}

describe("capacity pacer", () => {
  it("lets a batch spend at most its share's burst, and charges what it spent", () => {
    const { pacer, advance } = clocked(2e6); // 2M instructions a second: 2,000 a millisecond
    const a = pacer.share();
    expect(a.allowance()).toBe(2_000); // a new share holds nothing: only the minimum, a millisecond's worth
    advance(100); // idle for 100 ms: the bucket fills to the 20 ms burst, no more
    const first = a.allowance();
    expect(first).toBe(20 * 2_000);
    // Spending it in a millisecond costs no wait, and leaves that millisecond's worth.
    advance(1);
    expect(a.pace(first)).toBe(0);
    // A batch of four bursts in the next millisecond: the wait is the debt's time at the share's rate.
    expect(a.allowance()).toBe(2_000);
    advance(1);
    const wait = a.pace(4 * first);
    expect(wait).toBeCloseTo((4 * first - 2 * 2_000) / 2_000, 6);
    expect(a.allowance()).toBe(2_000); // in debt: only the minimum, paid by the wait that follows
    advance(wait);
    expect(a.allowance()).toBe(2_000); // the wait paid the debt to zero: the bucket holds nothing yet
  });

  it("splits the allowance between the shares that run", () => {
    const { pacer, advance } = clocked(2e6);
    const a = pacer.share(), b = pacer.share();
    advance(100);
    a.pace(1_000); // a ran lately: b's next batch is counted as a second sharer
    expect(b.allowance()).toBe(20 * 1_000); // half the rate: a 20 ms burst at 1,000 a millisecond
    advance(100);
    expect(b.allowance()).toBe(20 * 2_000); // a has not run for 100 ms: b has the whole rate again
  });
});
