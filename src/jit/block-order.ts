// The order a region's blocks are emitted in (emit.ts): not their addresses'.
// In WebAssembly a forward jump is a plain `br` out of the blocks in between,
// and a jump back is either a `br` to a `loop` around it (loops.ts) or a trip
// through the region's dispatch (`br_table`). Compiled code often jumps back in
// address order without looping (a loop's exit test placed after its body, a
// function's tail before its head), so in address order most of those went
// round the dispatch. Here the blocks follow the control flow instead: every
// jump that is not a loop's back edge goes forward, and each loop's blocks are
// together, the order WebAssembly compilers sort a function's blocks in.

import type { Block } from "./region.js";
import { farTarget, inPageTarget, isCall } from "./ops-table.js";

/**
 * Each block's successors (by block number): where its last instruction jumps or branches in the page or to a
 * block the region took from another page, where it falls through, and after a call the return point (the call's
 * callee comes back there: for the order, the return point follows its call; the dispatch takes the return itself,
 * see loops.ts).
 */
export function successorsOf(blocks: readonly Block[], blockAt: ReadonlyMap<number, number>): number[][] {
  const table = successorTable(blocks, blockAt);
  return blocks.map((_, k) => {
    const out: number[] = [];
    for (let s = 3 * k; s < 3 * k + 3; s++) if (table[s] >= 0 && !out.includes(table[s])) out.push(table[s]);
    return out;
  });
}

/**
 * successorsOf's edges as a table, for the emitter's analyses of every region (loops.ts, register-homes.ts), which
 * then need no array per block: block k's jump or branch target at 3k, where it falls through at 3k + 1, after a
 * call the return point at 3k + 2; -1 where there is none (a successor may be there twice). Written into `table`.
 */
export function successorTable(
  blocks: readonly Block[], blockAt: ReadonlyMap<number, number>, table = new Int32Array(3 * blocks.length),
): Int32Array {
  for (let k = 0; k < blocks.length; k++) {
    const block = blocks[k];
    const last = block.entries[block.entries.length - 1];
    const jump = inPageTarget(last) ?? farTarget(last);
    table[3 * k] = jump === null ? -1 : blockAt.get(jump) ?? -1;
    table[3 * k + 1] = blockAt.get(block.next) ?? -1;
    table[3 * k + 2] = isCall(last) ? blockAt.get(last.index + last.length / 2) ?? -1 : -1;
  }
  return table;
}

/**
 * A permutation of block numbers 0..n-1 (the emission order) in which every edge that is not a loop's back edge
 * goes forward and every loop's blocks are contiguous, its head first. `roots`: blocks control may enter at (the
 * region's entries), depth-first from them in turn. Null when there is no loop, or when the control flow is not
 * reducible (a loop entered other than at its head): then address order stays.
 */
export function loopOrder(successors: readonly number[][], roots: readonly number[]): number[] | null {
  const n = successors.length;
  const backEdges = findBackEdges(successors, roots);
  // Without a loop, address order stays: measured, reordering such regions saved nothing on the main thread and
  // cost V8's optimising compiler ~5-10% more (the SQLite and Lua tests).
  if (backEdges.length === 0) return null;
  const loops = naturalLoops(successors, backEdges);
  // In a loop entered only at its head every block of its body is reached from the head inside the body; a block
  // that is not was reached walking back from the latch past the loop's entry: another way in.
  for (const [head, body] of loops) if (reachedWithin(successors, head, body).size !== body.size) return null;
  const isBack = (u: number, v: number) => backEdges.some(([a, b]) => a === u && b === v);
  const waiting = new Array<number>(n).fill(0); // forward predecessors not yet placed
  successors.forEach((ks, u) => ks.forEach((v) => { if (!isBack(u, v)) waiting[v]++; }));
  const ready = new Set<number>();
  for (let k = 0; k < n; k++) if (waiting[k] === 0) ready.add(k);
  // A block inside a loop whose head is not placed yet (a return point in a loop's body: control enters there too)
  // waits while anything else is ready, so that it does not split its loop.
  const heads = new Array<number[]>(n).fill([]).map(() => [] as number[]);
  for (const [head, body] of loops) for (const k of body) if (k !== head) heads[k].push(head);
  const order: number[] = [];
  const open: Array<Set<number>> = []; // loops begun, innermost last: their blocks come before anything else
  const placed = new Set<number>();
  while (order.length < n) {
    while (open.length > 0 && [...open[open.length - 1]].every((k) => placed.has(k))) open.pop();
    const inner = open[open.length - 1];
    let pick = -1, pickEarly = true;
    for (const k of ready) {
      if (inner && !inner.has(k)) continue;
      const early = heads[k].some((h) => !placed.has(h));
      if (pick < 0 || (pickEarly && !early) || (early === pickEarly && k < pick)) { pick = k; pickEarly = early; } // else the lowest address
    }
    if (pick < 0) return null; // the innermost loop has blocks left but none is ready: entered other than at its head
    ready.delete(pick);
    placed.add(pick);
    order.push(pick);
    const loop = loops.get(pick);
    if (loop) open.push(loop);
    for (const v of successors[pick]) if (!isBack(pick, v) && --waiting[v] === 0) ready.add(v);
  }
  return order;
}

/** The blocks of `within` reached from `start` without leaving it. */
function reachedWithin(successors: readonly number[][], start: number, within: Set<number>): Set<number> {
  const seen = new Set<number>([start]);
  const stack = [start];
  while (stack.length > 0) for (const v of successors[stack.pop()!]) if (within.has(v) && !seen.has(v)) { seen.add(v); stack.push(v); }
  return seen;
}

/** Edges to a block still on the depth-first path (from `roots` in turn, then any block not reached). */
function findBackEdges(successors: readonly number[][], roots: readonly number[]): Array<[number, number]> {
  const n = successors.length;
  const state = new Array<0 | 1 | 2>(n).fill(0); // unseen, on the path, done
  const back: Array<[number, number]> = [];
  const visit = (start: number) => {
    if (state[start] !== 0) return;
    const stack: Array<[number, number]> = [[start, 0]]; // block, next successor to look at
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [u, i] = top;
      if (i < successors[u].length) {
        top[1]++;
        const v = successors[u][i];
        if (state[v] === 1) back.push([u, v]);
        else if (state[v] === 0) { state[v] = 1; stack.push([v, 0]); }
      } else {
        state[u] = 2;
        stack.pop();
      }
    }
  };
  for (const r of roots) visit(r);
  for (let k = 0; k < n; k++) visit(k);
  return back;
}

/** For each loop head, the blocks of its loop: those that reach a back edge's source without passing the head. */
function naturalLoops(successors: readonly number[][], backEdges: Array<[number, number]>): Map<number, Set<number>> {
  const predecessors = successors.map(() => [] as number[]);
  successors.forEach((ks, u) => ks.forEach((v) => predecessors[v].push(u)));
  const loops = new Map<number, Set<number>>();
  for (const [latch, head] of backEdges) {
    const body = loops.get(head) ?? new Set<number>([head]);
    const stack = [latch];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (body.has(k)) continue;
      body.add(k);
      for (const p of predecessors[k]) stack.push(p);
    }
    loops.set(head, body);
  }
  return loops;
}
