// Region discovery: which decoded entries a translation covers, on its head's
// code page and, a few, on the pages that one jumps or calls to.
//
// A region starts at a hot entry (a loop head, a called function) and takes
// every entry reachable from it without leaving the page: both sides of
// branches, in-page jumps and calls, and the return points after calls (a return
// comes back there through the region's own target check). It stops at
// instructions the generators do not handle and at entries not decoded yet (code
// that has never run); those become exits to the interpreter. Then it takes the
// code its jumps, branches and calls to other pages reach there, when that fits
// (takeFromOtherPage). The entries are cut into basic blocks, each starting at a leader
// (the head, a branch or jump target, the instruction after a control transfer, a page's start).

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { translatable, endsBlock, farTarget, inPageTarget, isCall, fallsThrough } from "./ops-table.js";
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

/** Block.next of a block whose last instruction jumps (an index may be negative: code on a page before the head's). */
export const NO_NEXT = Number.MIN_SAFE_INTEGER;

export interface Block {
  start: number; // entry index of its first instruction
  entries: Entry[];
  /** Where control goes after the last entry if it does not jump: an entry index (maybe outside the region), or NO_NEXT. */
  next: number;
}

export interface Region {
  head: number; // entry index of the hot entry
  blocks: Block[]; // in the order they are emitted: control flow's, loops together (block-order.ts)
  blockAt: Map<number, number>; // entry index -> block number, for every block start
  returnPoints: number[]; // block starts right after a call: where an indirect jump (a return) may land
  instructions: number;
  /** The other pages the region takes code from (see OtherPage); entries there have indices from page.first on. */
  otherPages: OtherPage[];
  /**
   * Block starts on other pages right after a call there (a function taken in calls another on its page): a return
   * that lands on one goes on there (Gen.otherReturn), unmarked (nothing enters the region on another page).
   */
  otherReturnPoints: number[];
}

/**
 * A page other than the head's that a region takes code from: a function its head page calls, the code a jump or
 * branch from the head page goes to. Its entries have indices `first` to `first` + PAGE_ENTRIES - 1 (relative to
 * the head page's entry 0, as every index of a region: the entry at index i is at the head page's pc + 2i, so
 * `first` is the page's distance from the head page in halfwords, a multiple of PAGE_ENTRIES, never 0). The region
 * was discovered from the decoded page slot at WASM address `slot` (its entry 0) when that slot had generation
 * `generation`: translated code goes there only after checking that the fetch TLB still maps the page to that slot
 * and the slot still has that generation (its code has not changed since).
 */
export interface OtherPage { first: number; slot: number; generation: number }

/**
 * How discovery reaches code on other pages (see OtherPage): the page of the region's entry index `index` (outside
 * the head page) if the translator can read it now (the fetch TLB maps it and the page is decoded), else null; and
 * its decoded entries.
 */
export interface OtherPages {
  pageAt(index: number): OtherPage | null;
  read(page: OtherPage, index: number): Entry;
}

/**
 * Code a region takes from other pages at most, all of them together (callees', jump targets'): what it takes costs
 * compile time in every region that takes it (the SQLite test: 64 a page, without a total, translated 22% more
 * instructions and ran 3% slower than keeping to the page; 48 in all, as fast; 24 or 96: within the noise).
 */
export const OTHER_PAGE_INSTRUCTIONS = 48;

/** The other page holding region entry index `index`, or null for the head page. */
export function otherPageOf(region: Pick<Region, "otherPages">, index: number): OtherPage | null {
  const pages = region.otherPages; // an index loop: the emitter asks for every block and exit, mostly as cold code
  for (let i = 0; i < pages.length; i++) if (index >= pages[i].first && index < pages[i].first + PAGE_ENTRIES) return pages[i];
  return null;
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
 * `returnsElsewhere(index)`: whether another translation has the entry marked (or will have: planned), so a return
 * there goes to it: the walk does not go on after a call that returns there.
 * `others`: how to reach code on other pages; without it the region keeps to the head page. With it, a jump, branch
 * or call from the head page to another page takes in the code there too, when all of what it reaches on that page
 * fits (takeFromOtherPage, up to OTHER_PAGE_INSTRUCTIONS in all): the transfer between translations (a tail call
 * through the core's table, a callee's prologue) becomes a branch inside the function after a check of the page, and
 * a call's return comes back through the region's own return point.
 */
export function discoverRegion(
  head: number, read: (index: number) => Entry, headElsewhere?: (index: number) => boolean, others?: OtherPages,
  returnsElsewhere?: (index: number) => boolean,
): Region {
  const { entries, leaders, returnPoints, farTargets } = walkPage(head, read, headElsewhere, others !== undefined, returnsElsewhere);
  const otherPages: OtherPage[] = [];
  const otherReturns = new Set<number>();
  if (others) {
    const limit = Math.min(MAX_REGION_INSTRUCTIONS, entries.size + OTHER_PAGE_INSTRUCTIONS);
    for (const target of farTargets) takeFromOtherPage(target, { entries, leaders, otherPages, otherReturns, others, limit });
  }
  const { blocks, blockAt } = basicBlocks(entries, leaders);
  const points = [...returnPoints].filter((p) => blockAt.has(p)).sort((a, b) => a - b);
  const otherReturnPoints = [...otherReturns].filter((p) => blockAt.has(p)).sort((a, b) => a - b);
  const ordered = inControlFlowOrder(blocks, blockAt, [head, ...points, ...otherReturnPoints]);
  return {
    head, blocks: ordered, blockAt: blockNumbers(ordered), returnPoints: points, instructions: entries.size, otherPages,
    otherReturnPoints,
  };
}

/**
 * discoverRegion's walk of the head page from `head` (see there): the entries it takes, the block leaders, the return
 * points after its calls, and the targets on other pages (gathered when `farToo`).
 */
function walkPage(
  head: number, read: (index: number) => Entry, headElsewhere: ((index: number) => boolean) | undefined, farToo: boolean,
  returnsElsewhere: ((index: number) => boolean) | undefined,
): { entries: Map<number, Entry>; leaders: Set<number>; returnPoints: Set<number>; farTargets: number[] } {
  const entries = new Map<number, Entry>();
  const leaders = new Set<number>([head, 0, PAGE_ENTRIES]);
  const returnPoints = new Set<number>();
  const farTargets: number[] = [];
  const queue = [head];
  let computedJump = false;
  while (queue.length > 0) {
    const index = queue.pop()!;
    if (entries.has(index) || index < 0 || index >= PAGE_ENTRIES) continue;
    if (index !== head && headElsewhere?.(index)) continue; // an exit that chains to that region
    const e = read(index);
    if (!translatable(e.op) || entries.size >= MAX_REGION_INSTRUCTIONS) continue; // an exit, not part of the region
    entries.set(index, e);
    if (isComputedJump(e)) computedJump = true;
    const after = index + e.length / 2;
    const target = inPageTarget(e);
    if (target !== null) { leaders.add(target); queue.push(target); }
    const far = farTarget(e);
    if (far !== null && farToo) { leaders.add(far); farTargets.push(far); }
    if (endsBlock(e.op)) leaders.add(after);
    if (isCall(e)) {
      // A return lands on whatever translation marked the return point: when that is another region's, this one's
      // copy of the code after the call would never run (the SQLite test translated 1.8 k such instructions of 16.3 k).
      if (after !== head && returnsElsewhere?.(after)) continue;
      returnPoints.add(after);
    }
    if (fallsThrough(e.op) || isCall(e)) queue.push(after);
  }
  if (computedJump) takeJumpTargets(read, entries, leaders, returnPoints, headElsewhere, returnsElsewhere);
  return { entries, leaders, returnPoints, farTargets };
}

/**
 * A jump through a register that is neither a call nor a return through ra (`jr` of a switch's jump table, a tail
 * call). Through t0 it counts: compilers pick t0 for a jump table's target as any temporary (the spec's hint reads it
 * as a return, which GCC's save/restore routines are; taking code for one of those costs a little room, no more).
 */
function isComputedJump(e: Entry): boolean {
  return e.op === O.OP_JALR && !isCall(e) && e.rs1 !== 1;
}

/** At most this many entries of code a computed jump may land on are taken in for each place it may land. */
const TARGET_INSTRUCTIONS = 24;
const AFTER_JUMP = 1, AFTER_OTHER = 2;

/**
 * A region with a computed jump (a `switch` compiled to a jump table) takes in the code it probably lands on: runs of
 * decoded code on the page that start right after a jump (`j`, or the computed jump itself: a case follows the one
 * before it, which ends by jumping on, and the first follows the dispatch), not after a return or a call (a
 * function's start), nor where code falls in or nothing ran, and whose code leads back into the region within
 * TARGET_INSTRUCTIONS (a case ends by jumping back to the loop or the code after the switch). Each run's start is
 * marked as an entry of the region, as a return point is, so the jump lands there inside the function (Gen.ownEntry)
 * where it would leave for the case's own translation (a tail call, the callee's prologue) and that case would leave
 * again for the loop. Code another translation marked, or that the interpreter never ran, is left alone. (Taking
 * runs after code that never ran too, awk's transfers grew 2%: other regions then stopped at the entries taken.)
 */
function takeJumpTargets(
  read: (index: number) => Entry, entries: Map<number, Entry>, leaders: Set<number>, returnPoints: Set<number>,
  headElsewhere: ((index: number) => boolean) | undefined, returnsElsewhere: ((index: number) => boolean) | undefined,
): void {
  const page: Entry[] = [];
  // By entry: what the decoded instruction ending right before it is (0: none the interpreter ran).
  const before = new Uint8Array(PAGE_ENTRIES + 2);
  for (let index = 0; index < PAGE_ENTRIES; index++) {
    const e = read(index);
    if (e.op === O.OP_DECODE) continue;
    page.push(e);
    const plainJump = ((e.op === O.OP_JAL_L || e.op === O.OP_JAL_F) && !isCall(e)) || isComputedJump(e);
    before[index + e.length / 2] = plainJump ? AFTER_JUMP : AFTER_OTHER;
  }
  for (const start of page) {
    const index = start.index;
    if (entries.size >= MAX_REGION_INSTRUCTIONS) return;
    if (before[index] !== AFTER_JUMP || entries.has(index) || headElsewhere?.(index) || returnsElsewhere?.(index)) continue;
    const run = runBackInto(index, read, entries, Math.min(TARGET_INSTRUCTIONS, MAX_REGION_INSTRUCTIONS - entries.size), headElsewhere);
    if (run === null) continue;
    takeIn(run, entries, leaders);
    leaders.add(index);
    returnPoints.add(index);
  }
}

/**
 * The code from `start` (in-page jumps, branches, fall-throughs; no calls) if some of it leads into `entries` and it
 * is at most `room` entries, else null. It stops at another region's head, as walkPage does (a transfer there).
 */
function runBackInto(
  start: number, read: (index: number) => Entry, entries: Map<number, Entry>, room: number,
  headElsewhere: ((index: number) => boolean) | undefined,
): Map<number, Entry> | null {
  const run = new Map<number, Entry>();
  const queue = [start];
  let reaches = false;
  while (queue.length > 0) {
    const index = queue.pop()!;
    if (index < 0 || index >= PAGE_ENTRIES || run.has(index)) continue;
    if (entries.has(index)) { reaches = true; continue; }
    if (index !== start && headElsewhere?.(index)) continue; // an exit that chains to that region
    const e = read(index);
    if (e.op === O.OP_DECODE || !translatable(e.op)) continue; // an exit
    if (isCall(e) || run.size === room) return null;
    run.set(index, e);
    const target = inPageTarget(e);
    if (target !== null) queue.push(target);
    if (fallsThrough(e.op)) queue.push(index + e.length / 2);
  }
  return reaches ? run : null;
}

/** Adds code walked apart from the region's own walk to its entries, with the block leaders its jumps and ends make. */
function takeIn(code: ReadonlyMap<number, Entry>, entries: Map<number, Entry>, leaders: Set<number>): void {
  for (const [index, e] of code) {
    entries.set(index, e);
    const target = inPageTarget(e);
    if (target !== null) leaders.add(target);
    if (endsBlock(e.op)) leaders.add(index + e.length / 2);
  }
}

/** The region's entries cut into basic blocks in address order: a block starts at a leader or after a gap or a jump. */
function basicBlocks(entries: Map<number, Entry>, leaders: Set<number>): { blocks: Block[]; blockAt: Map<number, number> } {
  const blocks: Block[] = [];
  const blockAt = new Map<number, number>();
  let current: Block | null = null;
  for (const index of [...entries.keys()].sort((a, b) => a - b)) {
    const e = entries.get(index)!;
    if (current === null || leaders.has(index) || current.next !== index) {
      current = { start: index, entries: [], next: NO_NEXT };
      blockAt.set(index, blocks.length);
      blocks.push(current);
    }
    current.entries.push(e);
    current.next = fallsThrough(e.op) ? index + e.length / 2 : NO_NEXT;
    if (endsBlock(e.op)) current = null;
  }
  return { blocks, blockAt };
}

/** What takeFromOtherPage adds to: the region's entries and leaders so far, its other pages and their return points. */
interface Taking {
  entries: Map<number, Entry>; leaders: Set<number>; otherPages: OtherPage[]; otherReturns: Set<number>;
  others: OtherPages; limit: number;
}

/**
 * Takes into the region the code from entry `target` on another page: what in-page jumps, branches, calls (the callee
 * and the return point after the call: see Region.otherReturnPoints) and fall-throughs reach there, not another page.
 * All of it or nothing: when it is more than the region has room for (`limit` entries in all), the region leaves for
 * it as before (its code would otherwise leave for the interpreter where the region stopped taking it); when it calls
 * a function on another page or through a register, too: that callee would return to this page outside any
 * translation's entry, and what was a call and a return between translations would become three (measured: Lua's mix
 * left translated code at such return points 7.5 M more times).
 */
function takeFromOtherPage(target: number, t: Taking): void {
  if (t.entries.has(target)) return;
  const page = otherPageOf(t, target) ?? t.others.pageAt(target);
  if (page === null) return;
  const taken = new Map<number, Entry>();
  const returns: number[] = [];
  const queue = [target];
  const room = t.limit - t.entries.size;
  while (queue.length > 0) {
    const index = queue.pop()!;
    if (taken.has(index) || t.entries.has(index) || index < page.first || index >= page.first + PAGE_ENTRIES) continue;
    const e = t.others.read(page, index);
    if (!translatable(e.op)) continue;
    if (taken.size === room) return; // too much: none of it
    if (isCall(e) && e.op !== O.OP_JAL_L) return; // see above
    taken.set(index, e);
    const after = index + e.length / 2;
    const next = inPageTarget(e);
    if (next !== null) queue.push(next);
    if (fallsThrough(e.op) || isCall(e)) queue.push(after);
    if (isCall(e)) returns.push(after);
  }
  if (taken.size === 0) return;
  if (!t.otherPages.includes(page)) t.otherPages.push(page);
  t.leaders.add(target).add(page.first).add(page.first + PAGE_ENTRIES);
  takeIn(taken, t.entries, t.leaders);
  for (const point of returns) t.otherReturns.add(point);
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
  const [word, imm] = decodedWords(view, base + index * 8, originals);
  return entryOfWords(index, word, imm);
}

/** The decoded words of the entry at WASM address `address`; for one marked OP_JIT, those of the entry it replaced. */
export function decodedWords(view: DataView, address: number, originals: number): [word: number, imm: number] {
  const word = view.getUint32(address, true);
  const imm = view.getInt32(address + 4, true);
  if ((word & 0xff) !== O.OP_JIT) return [word, imm];
  // Another region's head: translate the instruction it replaced.
  const original = originals + imm * 8;
  return [view.getUint32(original, true), view.getInt32(original + 4, true)];
}

/** The entry at `index` whose decoded words (assembly/ops.ts) are `word` and `imm`. */
export function entryOfWords(index: number, word: number, imm: number): Entry {
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
