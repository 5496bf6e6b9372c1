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

import { MAX_REGION_INSTRUCTIONS, type Region } from "./region.js";
import { successorTable } from "./block-order.js";

export interface StructuredLoop { head: number; last: number } // block numbers

/**
 * The loops that get a WebAssembly `loop`, outer ones before the loops they hold. `entries`: entry indices of the
 * region; `successors`: its successorTable (emit.ts has it at hand).
 */
export function structuredLoops(
  region: Region, entries: readonly number[], successors = successorTable(region.blocks, region.blockAt),
): StructuredLoop[] {
  const n = region.blocks.length;
  // Each block jumped back to heads a candidate reaching to the farthest block that jumps back to it (by head; -1: none).
  const lastOf = lastOfScratch.fill(-1, 0, n);
  let candidates = 0;
  for (let p = 0; p < n; p++) {
    for (let s = 3 * p; s < 3 * p + 3; s++) {
      const k = successors[s];
      if (k < 0 || k > p) continue;
      if (lastOf[k] < 0) candidates++;
      if (p > lastOf[k]) lastOf[k] = p;
    }
  }
  if (candidates === 0) return []; // no jump back: most regions
  const predecessors = predecessorsOf(successors, n);
  const entered = enteredScratch.fill(0, 0, n);
  for (let i = 0; i < entries.length; i++) {
    const k = region.blockAt.get(entries[i]);
    if (k !== undefined) entered[k] = 1;
  }
  let loops: StructuredLoop[] = [];
  for (let k = 0; k < n; k++) if (lastOf[k] >= 0) loops.push({ head: k, last: lastOf[k] });
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
/**
 * structuredLoops' working arrays, kept from region to region (a region has at most MAX_REGION_INSTRUCTIONS blocks):
 * by block, the farthest block that jumps back to it, and whether the region is entered there; predecessor lists.
 */
const lastOfScratch = new Int32Array(MAX_REGION_INSTRUCTIONS), enteredScratch = new Uint8Array(MAX_REGION_INSTRUCTIONS);
const predecessorStarts = new Int32Array(MAX_REGION_INSTRUCTIONS + 1);
const predecessorList = new Int32Array(3 * MAX_REGION_INSTRUCTIONS);

/**
 * Each block's predecessors from its successor table, all in one list (working arrays, no array per block): block
 * k's are list[starts[k]] to list[starts[k + 1] - 1] (an edge there twice counts twice: no harm to validLoop).
 */
function predecessorsOf(successors: Int32Array, n: number): { starts: Int32Array; list: Int32Array } {
  const starts = predecessorStarts.fill(0, 0, n + 1), list = predecessorList;
  for (let s = 0; s < 3 * n; s++) if (successors[s] >= 0) starts[successors[s] + 1]++;
  for (let k = 0; k < n; k++) starts[k + 1] += starts[k];
  const filled = fillScratch.fill(0, 0, n);
  for (let p = 0; p < n; p++) {
    for (let s = 3 * p; s < 3 * p + 3; s++) {
      const k = successors[s];
      if (k >= 0) list[starts[k] + filled[k]++] = p;
    }
  }
  return { starts, list };
}
const fillScratch = new Int32Array(MAX_REGION_INSTRUCTIONS);

function validLoop(
  loop: StructuredLoop, loops: StructuredLoop[], predecessors: { starts: Int32Array; list: Int32Array }, entered: Uint8Array,
  n: number,
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
  const { starts, list } = predecessors;
  for (let k = head + 1; k <= last; k++) {
    if (entered[k] !== 0) return false;
    for (let i = starts[k]; i < starts[k + 1]; i++) {
      const p = list[i];
      if (p < head || p > last) return false; // entered from outside
      if (p >= k && !loops.some((inner) => inner.head === k && inner.last <= last)) return false; // a jump back inside, not a loop's
    }
  }
  return true;
}
