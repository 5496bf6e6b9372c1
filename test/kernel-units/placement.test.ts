// Where mmap places a mapping (src/kernel/calls/placement.ts): linearStart folds the mappings onto the linear window
// and picks from the gaps; the search it replaced walked down from the top, moving below each alias it met. Both must
// give the same start on any layout, wrapped places and the circle's own wrap included.
import { describe, expect, test } from "vitest";
import { linearStart } from "../../src/kernel/calls/placement.js";

interface Span { start: number; end: number }
const PAGE = 4096;

/** The search linearStart replaced, without its cap on steps: the highest start whose range meets no alias. */
function searchDown(taken: Span[], highest: number, size: number, window: number, floor: number): number {
  let start = highest;
  while (start >= floor) {
    let lowest: number | null = null;
    for (const r of taken) {
      const first = Math.floor((start - r.end) / window) + 1, last = Math.floor((start + size - 1 - r.start) / window);
      for (let k = first; k <= last; k++) {
        const at = r.start + k * window;
        if (at < start + size && r.end + k * window > start) lowest = Math.min(lowest ?? at, at);
      }
    }
    if (lowest === null) return start;
    start = lowest - size;
  }
  return -Infinity;
}

/** A small deterministic generator (mulberry32), so a failure names a layout that can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("linearStart", () => {
  test("with nothing mapped, the top", () => {
    expect(linearStart([], 0x6ff00000, 0x100000, 0x4000000)).toBe(0x6ff00000);
  });

  test("moves below a mapping's place a window away, and fits a range into a gap between two places", () => {
    const window = 16 * PAGE;
    // A mapping at pages 2..4 of some window: the top's range (pages 0..3 of its window) meets its alias.
    expect(linearStart([{ start: 0x1002 * PAGE, end: 0x1005 * PAGE }], 0x2000 * PAGE, 4 * PAGE, window)).toBe(0x1ffe * PAGE); // places 14..17: below the alias at 0x2002
    // Places at 0..2 and 6..16 leave a gap of 4 pages (2..6): a 4-page range fits only there.
    const taken = [{ start: 0x100 * PAGE, end: 0x102 * PAGE }, { start: 0x206 * PAGE, end: 0x210 * PAGE }];
    expect(linearStart(taken, 0x800 * PAGE, 4 * PAGE, window)).toBe(0x7f2 * PAGE);
    expect(linearStart(taken, 0x800 * PAGE, 5 * PAGE, window)).toBe(-Infinity);
  });

  test("agrees with the search down on random layouts", () => {
    const next = random(14);
    for (let round = 0; round < 3000; round++) {
      const windowPages = 1 << (3 + Math.floor(next() * 6)); // 8..256 pages
      const window = windowPages * PAGE;
      const taken: Span[] = [];
      const count = Math.floor(next() * 6);
      for (let i = 0; i < count; i++) {
        const start = Math.floor(next() * 4 * windowPages) * PAGE + 64 * window;
        taken.push({ start, end: start + (1 + Math.floor(next() * (windowPages - 1) * (next() < 0.7 ? 0.3 : 1))) * PAGE });
      }
      const size = (1 + Math.floor(next() * (windowPages - 1) * (next() < 0.5 ? 0.25 : 1))) * PAGE;
      const highest = Math.floor(next() * 8 * windowPages) * PAGE + 64 * window;
      const floor = 56 * window;
      const expected = searchDown(taken, highest, size, window, floor);
      const got = linearStart(taken, highest, size, window);
      const layout = JSON.stringify({ round, windowPages, taken, size, highest });
      expect(got >= floor ? got : -Infinity, layout).toBe(expected);
    }
  });
});
