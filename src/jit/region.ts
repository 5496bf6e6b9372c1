// Region discovery: which decoded entries of one code page a translation covers.
//
// A region starts at a hot entry (a loop head, a called function) and takes
// every entry reachable from it without leaving the page: both sides of
// branches, in-page jumps and calls, and the return points after calls (a return
// comes back there through the region's own target check). It stops at
// instructions the generators do not handle and at entries not decoded yet (code
// that has never run); those become exits to the interpreter. The entries are cut into basic blocks, each starting at a leader
// (the head, a branch or jump target, the instruction after a control transfer).

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { translatable, endsBlock, inPageTarget, isCall, fallsThrough } from "./ops-table.js";
import { loopOrder, successorsOf } from "./block-order.js";

/** One decoded entry (see assembly/ops.ts for the 8-byte layout). */
export interface Entry {
  index: number; // entry index in the page: guest byte offset / 2 (2048, 2049 = the page-end sentinels)
  op: number;
  rd: number; // register numbers 0..31, 32 = the sink for rd = x0 on instructions with side effects
  rs1: number;
  rs2: number; // register number, or the raw byte for CSR zimm / AMO flags
  imm: number;
  length: number; // guest bytes: 2 or 4
  /** A 4-byte instruction straddling into the next page (straddle.ts): the upper half it was translated with. */
  upper?: number;
}

export interface Block {
  start: number; // entry index of its first instruction
  entries: Entry[];
  /** Where control goes after the last entry if it does not jump: an entry index (maybe outside the region), or -1. */
  next: number;
}

export interface Region {
  head: number; // entry index of the hot entry
  blocks: Block[]; // in the order they are emitted: control flow's, loops together (block-order.ts)
  blockAt: Map<number, number>; // entry index -> block number, for every block start
  returnPoints: number[]; // block starts right after a call: where an indirect jump (a return) may land
  instructions: number;
}

// Not more: V8 optimizes each hot region in the background with Turbofan, whose register allocation grows faster
// than the function (every register local lives across the dispatch loop and meets at every exit). With 600, a
// Lua run of 378 M instructions took 2.4 s of CPU and the SQLite test 1.9-2.1 s; with 150, 1.5-1.9 s and 1.3-1.7 s
// (60: no better); the compute guests' loops are smaller anyway.
export const MAX_REGION_INSTRUCTIONS = 150;
/** Halfword entries of a code page; entries 2048 and 2049 are the page-end sentinels (see assembly/memory.ts). */
export const PAGE_ENTRIES = 2048;

/**
 * Discovers the region from entry `head`; `read(index)` gives the decoded entry (OP_DECODE if never run).
 * `headElsewhere(index)`: whether the entry is another region's head (translated, or compiling): the walk stops there
 * and the region chains to it, as to code on another page, rather than translating that region's code again.
 */
export function discoverRegion(head: number, read: (index: number) => Entry, headElsewhere?: (index: number) => boolean): Region {
  const entries = new Map<number, Entry>();
  const leaders = new Set<number>([head]);
  const returnPoints = new Set<number>();
  const queue = [head];
  while (queue.length > 0) {
    const index = queue.pop()!;
    if (entries.has(index) || index < 0 || index >= PAGE_ENTRIES) continue;
    if (index !== head && headElsewhere?.(index)) continue; // an exit that chains to that region
    const e = read(index);
    if (!translatable(e.op) || entries.size >= MAX_REGION_INSTRUCTIONS) continue; // an exit, not part of the region
    entries.set(index, e);
    const after = index + e.length / 2;
    const target = inPageTarget(e);
    if (target !== null) { leaders.add(target); queue.push(target); }
    if (endsBlock(e.op)) leaders.add(after);
    if (fallsThrough(e.op) || isCall(e)) queue.push(after);
    if (isCall(e)) returnPoints.add(after);
  }
  const blocks: Block[] = [];
  const blockAt = new Map<number, number>();
  let current: Block | null = null;
  for (const index of [...entries.keys()].sort((a, b) => a - b)) {
    const e = entries.get(index)!;
    if (current === null || leaders.has(index) || current.next !== index) {
      current = { start: index, entries: [], next: -1 };
      blockAt.set(index, blocks.length);
      blocks.push(current);
    }
    current.entries.push(e);
    current.next = fallsThrough(e.op) ? index + e.length / 2 : -1;
    if (endsBlock(e.op)) current = null;
  }
  const points = [...returnPoints].filter((p) => blockAt.has(p)).sort((a, b) => a - b);
  const ordered = inControlFlowOrder(blocks, blockAt, [head, ...points]);
  return { head, blocks: ordered, blockAt: blockNumbers(ordered), returnPoints: points, instructions: entries.size };
}

/** The blocks in the order emit.ts lays them out (block-order.ts), or as they are if the control flow is irreducible. */
function inControlFlowOrder(blocks: Block[], blockAt: Map<number, number>, entries: number[]): Block[] {
  const order = loopOrder(successorsOf(blocks, blockAt), entries.map((index) => blockAt.get(index)!));
  return order ? order.map((k) => blocks[k]) : blocks;
}

function blockNumbers(blocks: Block[]): Map<number, number> {
  return new Map(blocks.map((block, k) => [block.start, k]));
}

/** The decoded-page slot holding WASM address `at` (an entry, or a page's entry 0). */
export function decodedSlot(at: number): number {
  return Math.floor((at - L.DECODE_BASE) / L.DECODE_SLOT_BYTES);
}

/** Reads the decoded entry at `index` of the page whose entry 0 is at WASM address `base`. */
export function readEntry(view: DataView, base: number, index: number, originals: number): Entry {
  const address = base + index * 8;
  let word = view.getUint32(address, true);
  let imm = view.getInt32(address + 4, true);
  if ((word & 0xff) === O.OP_JIT) {
    // Another region's head: translate the instruction it replaced.
    const original = originals + imm * 8;
    word = view.getUint32(original, true);
    imm = view.getInt32(original + 4, true);
  }
  return {
    index,
    op: word & 0xff,
    rd: ((word >>> 8) & 0xfc) >> 2,
    rs1: ((word >>> 16) & 0xff) >> 2,
    rs2: (word >>> 24) >> 2,
    imm,
    length: ((word >>> 8) & 3) === 2 ? 4 : 2,
  };
}
