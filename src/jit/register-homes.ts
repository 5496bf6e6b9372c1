// Where a region keeps each guest register while it runs: in a WebAssembly local
// (loaded from the state block when the region is entered, stored back at its
// exits) or in the state block itself (every write a store, the first read in a
// basic block a load: Gen.get in emit.ts keeps what a block read or wrote).
//
// Locals pay off only where code runs many times per entry: in a loop of the
// region. Elsewhere a region runs once per entry (on Lua a chained transfer every
// ~17 instructions), and there locals cost more than they save: each one is
// loaded at entry and stored at the exit whatever path ran, and every local is
// live across the dispatch loop, so V8's register allocator spills most of them
// and copies them between stack slots at each entry and chained call. Measured,
// registers in the state block everywhere against locals everywhere (10 passed
// as parameters of the chaining call): SQLite test 1.64-1.74 -> 1.45-1.62 s,
// BusyBox sort 1.29-1.63 -> 1.16-1.61 s, but md5sum 0.35 -> 0.41 s (its loop
// wants locals).

import type { Block, Region } from "./region.js";
import { inPageTarget } from "./ops-table.js";
import { isComputational } from "./gen-alu.js";

/**
 * The registers region code keeps in locals: those any instruction of a loop block names (rd, rs1, rs2; the sink
 * too). A loop block lies on a cycle of the region's own control flow: every cycle has an edge to a block at or
 * before its source (blocks are in address order), and the blocks on a cycle through such an edge t <- s are those
 * reachable from t that reach s. Cycles through other regions (a call and its return) do not count: each of their
 * iterations enters the region afresh anyway. (A span from t to s, which took in every block between, put loop
 * registers in 206 of the SQLite test's 391 regions.)
 */
export function loopRegisters(region: Region): Set<number> {
  const { blocks, blockAt } = region;
  const successors = blocks.map((block) => {
    const last = block.entries[block.entries.length - 1];
    return [inPageTarget(last), block.next]
      .map((target) => (target === null || target < 0 ? undefined : blockAt.get(target)))
      .filter((k): k is number => k !== undefined);
  });
  const predecessors = blocks.map(() => [] as number[]);
  successors.forEach((ks, source) => ks.forEach((k) => predecessors[k].push(source)));
  const inLoop = new Array<boolean>(blocks.length).fill(false);
  successors.forEach((ks, source) => {
    for (const t of ks) {
      if (t > source) continue;
      const fromT = reach(t, successors), toSource = reach(source, predecessors);
      for (let b = 0; b < blocks.length; b++) if (fromT[b] && toSource[b]) inLoop[b] = true;
    }
  });
  const registers = new Set<number>();
  blocks.forEach((block, k) => {
    if (!inLoop[k]) return;
    for (const e of block.entries) for (const r of [e.rd, e.rs1, e.rs2]) if (r !== 0) registers.add(r);
  });
  return registers;
}

/** The blocks reachable from `start` (itself included) along `edges`. */
function reach(start: number, edges: number[][]): boolean[] {
  const seen = new Array<boolean>(edges.length).fill(false);
  const stack = [start];
  seen[start] = true;
  while (stack.length > 0) for (const k of edges[stack.pop()!]) if (!seen[k]) { seen[k] = true; stack.push(k); }
  return seen;
}

/**
 * The entries of a block whose result need not be stored to the state block (when rd lives there): a later
 * instruction of the block writes rd again, and only computational instructions (which never leave the region) come
 * in between, so no exit can see the value in the state block; later reads in the block take it from its local
 * (Gen.get). On Lua's dispatch, "andi a4, a1, 127; slli a4, a4, 2; add a4, a4, s1" stores a4 once, not three times.
 */
export function overwrittenInBlock(block: Block): Set<number> {
  const dead = new Set<number>();
  const pending = new Map<number, number>(); // rd -> the entry index whose write no exit has seen yet
  for (const e of block.entries) {
    if (!isComputational(e.op)) { pending.clear(); continue; } // it may leave (a TLB miss, a jump): all are seen
    if (e.rd === 0) continue;
    const earlier = pending.get(e.rd);
    if (earlier !== undefined) dead.add(earlier);
    pending.set(e.rd, e.index);
  }
  return dead;
}
