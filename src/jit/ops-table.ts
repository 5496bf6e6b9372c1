// What the region translator knows about each decoded op: whether a generator
// handles it, and how it moves control (for region discovery).

import * as O from "../../assembly/ops.js";
import type { Entry } from "./region.js";

// Kinds of control transfer by op (an op is a byte), as bits of one table: discovery and the block order ask for
// every entry, several times, mostly in code V8 has not optimised yet, where an array load is a bytecode and a
// Set's lookup a call.
const IN_PAGE_BRANCH = 1, FAR_BRANCH = 2, JUMP = 4;
const TRANSFERS = byOp<number>([
  ...[O.OP_BEQ_L, O.OP_BNE_L, O.OP_BLT_L, O.OP_BGE_L, O.OP_BLTU_L, O.OP_BGEU_L].map((op) => [op, IN_PAGE_BRANCH] as const),
  ...[O.OP_BEQ_F, O.OP_BNE_F, O.OP_BLT_F, O.OP_BGE_F, O.OP_BLTU_F, O.OP_BGEU_F].map((op) => [op, FAR_BRANCH] as const),
  ...[O.OP_JAL_L, O.OP_JAL_F, O.OP_JALR].map((op) => [op, JUMP] as const),
], 0);

/**
 * How each op ends a block, a byte per op, for the core's check of a warm start's record (assembly/index.ts
 * checkRecorded): 0 it does not, 1 it does and the next entry can run after it (a branch), 2 it does and cannot (a jump).
 */
export const BLOCK_ENDS: Uint8Array = Uint8Array.from(TRANSFERS, (kind) => (kind === 0 ? 0 : kind === JUMP ? 2 : 1));

/**
 * The ops gen-memory.ts emits, by op: loads and stores (OP_LB to OP_SW), LR.W, SC.W and the AMOs (OP_LR_W to
 * OP_AMOMAXU_W), ranges of assembly/ops.ts as in translatable. Inside a block they leave the region only at a TLB
 * miss (or a misaligned address), before they write anything.
 */
export const MEMORY_ACCESS: readonly boolean[] = Array.from({ length: 256 }, (_, op) =>
  (op >= O.OP_LB && op <= O.OP_SW) || (op >= O.OP_LR_W && op <= O.OP_AMOMAXU_W));

/** Ops a generator handles; everything else (system, CSRs, undecoded, page ends) exits to the interpreter. */
export function translatable(op: number): boolean {
  return (op >= O.OP_NOP && op <= O.OP_AMOMAXU_W) || op === O.OP_FENCE || op === O.OP_FENCE_I;
}

export function isInPageBranch(op: number): boolean { return TRANSFERS[op] === IN_PAGE_BRANCH; }
export function isFarBranch(op: number): boolean { return TRANSFERS[op] === FAR_BRANCH; }

/** A control transfer: the block ends after it. */
export function endsBlock(op: number): boolean {
  return TRANSFERS[op] !== 0;
}

/** Whether the next entry can run right after this one (everything but jumps). */
export function fallsThrough(op: number): boolean {
  return TRANSFERS[op] !== JUMP;
}

/** The entry index a branch or jump within the page goes to, or null. (Their imm is an entry-pointer delta.) */
export function inPageTarget(e: Entry): number | null {
  if (TRANSFERS[e.op] === IN_PAGE_BRANCH || e.op === O.OP_JAL_L) return e.index + e.imm / 8;
  return null;
}

/**
 * The entry index a branch or jump to another page goes to (as e.index counts: from the region's head page, so on
 * another page than e's), or null. (Their imm is the byte offset.)
 */
export function farTarget(e: Entry): number | null {
  if (TRANSFERS[e.op] === FAR_BRANCH || e.op === O.OP_JAL_F) return e.index + e.imm / 2;
  return null;
}

/** A jump that links (rd = ra or t0, the calling convention's link registers): its return lands after it. */
export function isCall(e: Entry): boolean {
  return TRANSFERS[e.op] === JUMP && (e.rd === 1 || e.rd === 5);
}

/**
 * A table indexed by op (an op is a byte) from [op, value] pairs, `none` elsewhere: the generators look up every
 * instruction's op in a few of these, which an array answers without hashing.
 */
export function byOp<T>(pairs: ReadonlyArray<readonly [number, T]>, none: T): T[] {
  const table = new Array<T>(256).fill(none);
  for (const [op, value] of pairs) table[op] = value;
  return table;
}
