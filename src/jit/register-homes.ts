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

import { MAX_REGION_INSTRUCTIONS, type Block, type Region } from "./region.js";
import { successorTable } from "./block-order.js";
import { COMPUTATIONAL } from "./gen-alu.js";
import { MEMORY_ACCESS } from "./ops-table.js";

/**
 * A set of guest registers as flags (0 or 1) indexed by register number (the decoder's fields hold up to 63): the
 * emitter asks "is r in it?" for every operand, which an array answers without hashing. A plain array: a typed one
 * costs more to make, and there are a few per region.
 */
export type RegisterFlags = number[];
export const REGISTER_FIELD_VALUES = 64;

/** An empty register set. */
export function noRegisters(): RegisterFlags { return new Array<number>(REGISTER_FIELD_VALUES).fill(0); }
/** The empty set the regions without a cycle share (read only). */
const NO_REGISTERS: Readonly<RegisterFlags> = noRegisters();

/** The registers flagged in `flags`, in increasing order. */
export function registerList(flags: Readonly<RegisterFlags>): number[] {
  const list: number[] = [];
  for (let r = 0; r < flags.length; r++) if (flags[r] !== 0) list.push(r);
  return list;
}

/**
 * The registers region code keeps in locals: those any instruction of a loop block names (rd, rs1, rs2; the sink
 * too). A loop block lies on a cycle of the region's own control flow: a block of a strongly connected component of
 * more than one block, or one that jumps to itself. Cycles through other regions (a call and its return) do not
 * count: each of their iterations enters the region afresh anyway. (A span from a back edge's target to its source,
 * which took in every block between, put loop registers in 206 of the SQLite test's 391 regions.)
 */
export function loopRegisters(
  region: Region, successors = successorTable(region.blocks, region.blockAt),
): Readonly<RegisterFlags> {
  const { blocks } = region;
  if (!jumpsBack(successors, blocks.length)) return NO_REGISTERS; // no cycle: most regions
  const registers = noRegisters();
  const inLoop = blocksOnCycles(successors, blocks.length);
  for (let k = 0; k < blocks.length; k++) {
    if (inLoop[k] === 0) continue;
    for (const e of blocks[k].entries) { registers[e.rd] = 1; registers[e.rs1] = 1; registers[e.rs2] = 1; }
  }
  registers[0] = 0;
  return registers;
}

/** Whether a block jumps or falls through to itself or an earlier block (see successorTable): every cycle does. */
function jumpsBack(successors: Int32Array, n: number): boolean {
  for (let k = 0; k < n; k++) {
    const jump = successors[3 * k], next = successors[3 * k + 1];
    if ((jump >= 0 && jump <= k) || (next >= 0 && next <= k)) return true;
  }
  return false;
}

/**
 * Which blocks lie on a cycle of `edges` (a successorTable: a jump's target and where a block falls through; not a
 * call's return point, a cycle through another region): Tarjan's strongly connected components, iteratively,
 * in one pass (finding, for each back edge, the blocks reachable from its target that reach its source cost two
 * searches per back edge). The answer is a working array: good until the next region's analysis.
 */
function blocksOnCycles(edges: Int32Array, n: number): Int32Array {
  const order = scratch(0, n, -1), low = scratch(1, n), onStack = scratch(2, n), cyclic = scratch(3, n);
  const stack = scratch(4, n), path = scratch(5, n), tried = scratch(6, n);
  let stacked = 0, visited = 0;
  for (let root = 0; root < n; root++) {
    if (order[root] >= 0) continue;
    let depth = 0;
    path[0] = root; tried[0] = 0; order[root] = low[root] = visited++; stack[stacked++] = root; onStack[root] = 1;
    while (depth >= 0) {
      const v = path[depth];
      if (tried[depth] < 2) {
        const w = edges[3 * v + tried[depth]++];
        if (w === v) cyclic[v] = 1; // a block that jumps to itself
        if (w < 0 || w === v) continue;
        if (order[w] < 0) {
          path[++depth] = w; tried[depth] = 0; order[w] = low[w] = visited++; stack[stacked++] = w; onStack[w] = 1;
        } else if (onStack[w] !== 0 && order[w] < low[v]) low[v] = order[w];
        continue;
      }
      if (low[v] === order[v]) { // v is its component's first block: the component is the stack from v up
        let from = stacked - 1;
        while (stack[from] !== v) from--;
        for (let i = from; i < stacked; i++) { onStack[stack[i]] = 0; if (stacked - from > 1) cyclic[stack[i]] = 1; }
        stacked = from;
      }
      if (--depth >= 0 && low[v] < low[path[depth]]) low[path[depth]] = low[v];
    }
  }
  return cyclic;
}

/**
 * Working arrays of the loop analysis, kept from region to region (a region has at most MAX_REGION_INSTRUCTIONS
 * blocks): allocating seven typed arrays per region was a tenth of the emitter's garbage.
 */
const scratchArrays: Int32Array[] = Array.from({ length: 7 }, () => new Int32Array(MAX_REGION_INSTRUCTIONS));

/** Working array `which`, at least `length` long, its first `length` elements set to `value`. */
function scratch(which: number, length: number, value = 0): Int32Array {
  if (scratchArrays[which].length < length) scratchArrays[which] = new Int32Array(length);
  return scratchArrays[which].fill(value, 0, length);
}

/**
 * The entries of a block whose result need not be stored to the state block (when rd lives there), flagged by
 * their position in the block (in `dead`, which it clears first): a later instruction of the block writes rd again,
 * and only computational instructions (which never leave the region) and loads and stores come in between. A load
 * or store leaves only at a TLB miss, whose way out stores such values first (Gen.storePending); later reads in the
 * block take them from their locals (Gen.get). On Lua's dispatch, "andi a4, a1, 127; slli a4, a4, 2; add a4, a4,
 * s1" stores a4 once, not three times, and so does "lw a5, 8(a0); addi a5, a5, 1; sw a5, 8(a0); lw a5, 12(a0)".
 */
export function overwrittenInBlock(block: Block, dead = new Uint8Array(block.entries.length)): Uint8Array {
  const entries = block.entries;
  dead.fill(0, 0, entries.length);
  const lastWrite = lastWrites.fill(-1); // rd -> the position that last wrote it
  let unseenFrom = 0; // writes from here on no exit has seen yet
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!COMPUTATIONAL[e.op] && !MEMORY_ACCESS[e.op]) { unseenFrom = i + 1; continue; } // it may leave otherwise (a jump): all are seen
    if (e.rd === 0) continue;
    if (lastWrite[e.rd] >= unseenFrom) dead[lastWrite[e.rd]] = 1;
    lastWrite[e.rd] = i;
  }
  return dead;
}
const lastWrites = new Int32Array(REGISTER_FIELD_VALUES);
