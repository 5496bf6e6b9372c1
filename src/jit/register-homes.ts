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

import type { Region } from "./region.js";
import { inPageTarget } from "./ops-table.js";

/**
 * The registers region code keeps in locals: those any instruction of a loop block names (rd, rs1, rs2; the sink
 * too). A loop block lies between a back edge's target and its source (blocks are in address order, so every
 * cycle of the region's own control flow has an edge to a block at or before its source); that span may take in
 * a few blocks that are not on the cycle, which is harmless. Cycles through other regions (a call and its return)
 * do not count: each of their iterations enters the region afresh anyway.
 */
export function loopRegisters(region: Region): Set<number> {
  const { blocks, blockAt } = region;
  const inLoop = new Array<boolean>(blocks.length).fill(false);
  blocks.forEach((block, source) => {
    const last = block.entries[block.entries.length - 1];
    const targets = [inPageTarget(last), block.next];
    for (const target of targets) {
      const k = target === null || target < 0 ? undefined : blockAt.get(target);
      if (k !== undefined && k <= source) for (let b = k; b <= source; b++) inLoop[b] = true;
    }
  });
  const registers = new Set<number>();
  blocks.forEach((block, k) => {
    if (!inLoop[k]) return;
    for (const e of block.entries) for (const r of [e.rd, e.rs1, e.rs2]) if (r !== 0) registers.add(r);
  });
  return registers;
}
