// Which of a region's loops become WebAssembly `loop`s (emit.ts): a jump back
// to such a loop's head is a plain `br` to it, where every other backward jump
// goes round the region's dispatch loop (set the block number, `br_table`).
// The dispatch merges every path of the region at one point, so V8 keeps each
// local live across it and its jump table sits on every iteration; a loop of
// its own lets Turbofan see the loop as it is (a loop of three blocks ran ~25%
// faster so in a hand-written comparison).
//
// WebAssembly's control flow is structured: a `loop` can only be entered at its
// top. So a loop [head, last] (blocks in emission order, which keeps a loop's
// blocks together: block-order.ts; `last` is the farthest block that jumps back
// to `head`) gets one only if nothing enters its body
// other than at the head: no entry of the region (head, return points: the
// dispatch starts there) lies in (head, last], every edge into a body block
// comes from inside the loop, and a jump back to a body block is itself the
// back edge of an inner loop that gets one. Loops nest or are apart; a loop that
// overlaps another is left to the dispatch, and then so is any loop around it.

import type { Region } from "./region.js";
import { successorsOf } from "./block-order.js";

export interface StructuredLoop { head: number; last: number } // block numbers

/** The loops that get a WebAssembly `loop`, outer ones before the loops they hold. `entries`: entry indices of the region. */
export function structuredLoops(region: Region, entries: readonly number[]): StructuredLoop[] {
  const successors = successorsOf(region.blocks, region.blockAt);
  const n = region.blocks.length;
  // Each block jumped back to heads a candidate reaching to the farthest block that jumps back to it.
  const lastOf = new Map<number, number>();
  successors.forEach((ks, p) => ks.forEach((k) => { if (k <= p) lastOf.set(k, Math.max(lastOf.get(k) ?? k, p)); }));
  if (lastOf.size === 0) return []; // no jump back: most regions
  const predecessors = successors.map(() => [] as number[]);
  successors.forEach((ks, p) => ks.forEach((k) => predecessors[k].push(p)));
  const entered = new Set(entries.map((index) => region.blockAt.get(index)).filter((k): k is number => k !== undefined));
  let loops = [...lastOf].map(([head, last]) => ({ head, last }));
  for (let changed = true; changed;) {
    changed = false;
    const kept = loops.filter((loop) => {
      const valid = validLoop(loop, loops, predecessors, entered, n);
      if (!valid) changed = true;
      return valid;
    });
    loops = kept;
  }
  return loops.sort((a, b) => a.head - b.head || b.last - a.last);
}

function validLoop(
  loop: StructuredLoop, loops: StructuredLoop[], predecessors: number[][], entered: Set<number>, n: number,
): boolean {
  const { head, last } = loop;
  if (last >= n) return false;
  for (const other of loops) {
    if (other === loop) continue;
    const apart = other.last < head || other.head > last;
    const inside = other.head >= head && other.last <= last && !(other.head === head && other.last === last);
    const around = other.head <= head && other.last >= last;
    if (!apart && !inside && !around) return false; // they overlap
  }
  for (let k = head + 1; k <= last; k++) {
    if (entered.has(k)) return false;
    for (const p of predecessors[k]) {
      if (p < head || p > last) return false; // entered from outside
      if (p >= k && !loops.some((inner) => inner.head === k && inner.last <= last)) return false; // a jump back inside, not a loop's
    }
  }
  return true;
}
