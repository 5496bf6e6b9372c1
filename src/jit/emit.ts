// Code generation for a region: one WebAssembly function per region, in v86's
// shape. Guest registers used in the region's loops live in locals (loaded at
// entry, stored back once, at the single exit), the others in the state block
// (register-homes.ts); basic blocks sit in a `loop` of nested `block`s and a
// `br_table` picks the block to run, so branches, loops and in-page calls stay
// inside the function. The contract is the fast loop's (assembly/fast.ts):
//   g(entry, budget, page base, page's decoded entry 0, nesting depth, pc
//   expected back) -> the entry to continue at; the budget left is stored at
//   JIT_BUDGET; the page of the entry returned is left at JIT_PAGE_VA/JIT_DECODED.
// A region has several entries: its head and its return points (where a call
// out of it comes back); the function starts at the block its entry's mark names.
// Chaining: an exit that continues at an entry another translation starts (its
// decoded entry is marked OP_JIT) tail-calls that translation's function through
// the core's table with the same arguments while budget is left, so runs of calls
// and returns between pages stay in translated code (see chainOrReturn): the
// registers are in the state block. A call whose return point is the region's
// own calls instead, and waits for the return (Gen.nestedCall).
// Every exit is precise: the registers, the entry returned and the budget
// (hence instret) are those of the interpreter at that instruction.
// This file writes the module and each function around its blocks; the code of
// the blocks comes from the generators, through Gen (gen.ts).

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { MAX_REGION_INSTRUCTIONS, NO_NEXT, PAGE_ENTRIES, type Block, type Entry, type Region } from "./region.js";
import { CodeWriter, Op, REGION_TYPE, Type, batchModule, functionBody, localDeclarations } from "./wasm-writer.js";
import { COMPUTATIONAL, generateAlu } from "./gen-alu.js";
import { MEMORY_ACCESS, generateMemory, linearWindowOf, planAccesses, useLinearWindow, type Checks } from "./gen-memory.js";
import { CONTROL_TRANSFER, generateControl } from "./gen-control.js";
import { loopRegisters, overwrittenInBlock, registerList } from "./register-homes.js";
import { structuredLoops, type StructuredLoop } from "./loops.js";
import { checkUpperHalf } from "./straddle.js";
import { successorTable } from "./block-order.js";
import {
  Exit, G_PARAMS, Gen, L_BASE, L_BLOCK, L_CHAIN, L_ENTRY0, L_EXIT, L_EXIT_DECODED, L_EXIT_PAGE_VA, L_T0, LOCALS, NO_LINK,
  OUTER_FRAMES, P_BUDGET, P_DEPTH, P_ENTRY, P_EXPECT, countExit, countingExits, loadRegisters, loopLabel, overwrittenScratch,
  storeRegisters,
  NO_MARKS, type OwnMarks,
} from "./gen.js";


/**
 * Emits the module of one region whose marked entries get the table indices `marks` (export "g0"), for a core
 * with `ramBytes` of RAM.
 */
export function emitRegion(region: Region, ramBytes: number, marks: OwnMarks = NO_MARKS, checks: Checks = "full"): Uint8Array<ArrayBuffer> {
  return emitBatch([{ region, marks }], ramBytes, checks);
}

/**
 * The writer every batch's module is built in, reused: a module is written once, straight into it, and copied out
 * once (allocating a writer per function and copying bodies between them was a tenth of the emitter's time).
 */
const moduleWriter = new CodeWriter(64 << 10);
const G_LOCALS = localDeclarations(new Array<number>(LOCALS).fill(Type.i32));

/**
 * Emits one module of several regions, each with the table indices its marked entries get: "g<k>" for region
 * k, for a core with `ramBytes` of RAM (its linear window), its loads and stores with `checks` (see gen-memory.ts);
 * `names`, for profiles, name the regions' functions in the module (wasm-writer.ts functionNames).
 */
export function emitBatch(
  regions: ReadonlyArray<{ region: Region; marks: OwnMarks }>, ramBytes: number, checks: Checks, names?: readonly string[],
): Uint8Array<ArrayBuffer> {
  const counting = countingExits(); // read once: process.env is slow to read
  useLinearWindow(linearWindowOf(ramBytes), checks);
  const out = moduleWriter;
  return batchModule(out, regions.length, G_PARAMS, () => {
    for (let k = 0; k < regions.length; k++) {
      const { region, marks } = regions[k];
      functionBody(out, G_LOCALS, () => {
        const successors = successorTable(region.blocks, region.blockAt, successorScratch); // for both analyses
        regionFunction(new Gen(region, marks, counting, loopRegisters(region, successors), out), successors);
      });
    }
  }, names);
}

/** A successorTable for each region in turn (a region has at most MAX_REGION_INSTRUCTIONS blocks). */
const successorScratch = new Int32Array(3 * MAX_REGION_INSTRUCTIONS);

/** The code of a region's function: the prologue, the dispatch, the blocks, the shared exit. `successors`: its successorTable. */
function regionFunction(g: Gen, successors: Int32Array): void {
  const w = g.w;
  const blocks = g.region.blocks;
  const entries = regionEntries(g.region);
  const shape = regionShape(g.region, entries, successors);
  const inLocals = registerList(g.inLocals);
  loadRegisters(w, inLocals);
  enterAtEntry(w, g.region, entries);
  w.blockType(Op.block, Type.void); // the exit
  w.blockType(Op.block, Type.void); // the exit's decoding (Gen.exit)
  w.blockType(Op.loop, Type.void); // the dispatch
  w.bytesIn(shape.dispatch);
  g.frames = OUTER_FRAMES.concat(shape.topBlocks);
  for (let k = 0; k < blocks.length; k++) {
    w.op(Op.end); // closes block b_k: block k's code follows
    if (g.frames.pop() !== k) throw new Error(`translate: block ${k} is not the innermost construct`);
    const loop = shape.loopAt.get(k);
    if (loop) openLoop(g, loop);
    g.enterBlock(k);
    emitBlock(g, blocks[k], k);
    const closing = shape.loopsEndingAt.get(k);
    if (closing !== undefined) closeLoops(g, closing);
  }
  g.frames = [];
  w.op(Op.end); // loop: every block left through a jump or an exit, so this is not reached
  w.op(Op.unreachable);
  w.op(Op.end); // the exit's decoding
  w.bytesIn(sameInEveryRegion.decodeExit ??= bytesOf(decodeExit));
  w.op(Op.end); // exit
  chainOrReturn(g, inLocals.length === 0 ? inLocals : registerList(g.written)); // it writes in locals only those
}

/** How a region's blocks nest in structured loops (loops.ts). Read only: regions without loops share theirs. */
interface RegionShape {
  /** The blocks opened around the whole body (those in no structured loop's body), outermost (last) first. */
  readonly topBlocks: readonly number[];
  readonly loopAt: ReadonlyMap<number, { head: number; body: number[] }>; // by head: the blocks opened inside it, outermost first
  readonly loopsEndingAt: ReadonlyMap<number, StructuredLoop[]>; // by last block: innermost first
  /** The code that opens topBlocks and goes to the block numbered in L_BLOCK through them (dispatchOf). */
  readonly dispatch: Uint8Array;
}

/** The region's shape; `entries` its regionEntries, `successors` its successorTable. */
function regionShape(region: Region, entries: readonly number[], successors: Int32Array): RegionShape {
  const loops = structuredLoops(region, entries.concat(region.otherReturnPoints), successors);
  const n = region.blocks.length;
  // Most regions have no loop: their shape depends on n alone, made once.
  return loops.length === 0 ? (noLoopShapes[n] ??= shapeOf(n, loops)) : shapeOf(n, loops);
}
const noLoopShapes: Array<RegionShape | undefined> = [];

/** The shape of a region of `n` blocks with structured loops `loops` (outer ones first). */
function shapeOf(n: number, loops: readonly StructuredLoop[]): RegionShape {
  // The innermost loop whose body (head excluded) holds block k: loops come outer first, so the last match.
  const owner = new Array<StructuredLoop | null>(n).fill(null);
  for (const loop of loops) for (let k = loop.head + 1; k <= loop.last; k++) owner[k] = loop;
  const topBlocks: number[] = [];
  const topAt = new Int32Array(n).fill(-1); // by block: its place in topBlocks, or -1
  for (let k = n - 1; k >= 0; k--) if (owner[k] === null) { topAt[k] = topBlocks.length; topBlocks.push(k); }
  const loopAt = new Map<number, { head: number; body: number[] }>();
  const loopsEndingAt = new Map<number, StructuredLoop[]>();
  for (const loop of loops) {
    const body: number[] = [];
    for (let k = loop.last; k > loop.head; k--) if (owner[k] === loop) body.push(k);
    loopAt.set(loop.head, { head: loop.head, body });
    loopsEndingAt.set(loop.last, [loop, ...(loopsEndingAt.get(loop.last) ?? [])]);
  }
  return { topBlocks, loopAt, loopsEndingAt, dispatch: dispatchOf(n, topBlocks, topAt) };
}

/** The blocks opened around the body (topBlocks) and the br_table into them (topAt: a block's place there, or -1). */
function dispatchOf(n: number, topBlocks: readonly number[], topAt: Int32Array): Uint8Array {
  const w = new CodeWriter(64);
  for (let i = 0; i < topBlocks.length; i++) w.blockType(Op.block, Type.void);
  // The dispatch goes to blocks outside structured loops' bodies only (their entries and jumps back are, by loops.ts).
  const innermost = topBlocks.length - 1;
  w.localGet(L_BLOCK).op(Op.brTable).u32(n);
  for (let k = 0; k < n; k++) w.u32(topAt[k] >= 0 ? innermost - topAt[k] : 0);
  w.u32(0);
  return w.copy();
}

/** Opens the structured loop headed at the current block, and the blocks of its body around the head's code. */
function openLoop(g: Gen, loop: { head: number; body: number[] }): void {
  g.w.blockType(Op.loop, Type.void);
  g.frames.push(loopLabel(loop.head));
  for (const k of loop.body) { g.w.blockType(Op.block, Type.void); g.frames.push(k); }
}

/** Closes structured loops `closing` (innermost first) after their last block: falling off it leaves them. */
function closeLoops(g: Gen, closing: readonly StructuredLoop[]): void {
  for (const loop of closing) {
    g.w.op(Op.end);
    if (g.frames.pop() !== loopLabel(loop.head)) throw new Error(`translate: loop at block ${loop.head} not innermost`);
  }
}

/**
 * Gen.exit's constant in L_EXIT (entry index << 8 | instructions retired): spends those, and points L_EXIT at the
 * entry, on this page.
 */
function decodeExit(w: CodeWriter): void {
  w.localGet(L_BASE).localSet(L_EXIT_PAGE_VA).localGet(L_ENTRY0).localSet(L_EXIT_DECODED);
  w.localGet(P_BUDGET).localGet(L_EXIT).i32Const(0xff).op(Op.i32And).op(Op.i32Sub).localSet(P_BUDGET);
  w.localGet(L_ENTRY0).localGet(L_EXIT).i32Const(8 - 3).op(Op.i32ShrU).i32Const(~7).op(Op.i32And).op(Op.i32Add).localSet(L_EXIT);
}

/**
 * Code that is the same in every region, written once into a writer of its own and then copied as bytes (a few
 * dozen writer calls per region otherwise, mostly as cold code).
 */
const sameInEveryRegion: { decodeExit?: Uint8Array; exitEnd?: Uint8Array; countingExitEnd?: Uint8Array } = {};
/** The bytes `write` writes. */
function bytesOf(write: (w: CodeWriter) => void): Uint8Array {
  const w = new CodeWriter(128);
  write(w);
  return w.copy();
}

/** The entries a region's function may be called at (each is marked OP_JIT by the translator): head, return points. */
export function regionEntries(region: Region): number[] {
  const entries = [region.head];
  for (let i = 0; i < region.returnPoints.length; i++) if (region.returnPoints[i] !== region.head) entries.push(region.returnPoints[i]);
  return entries;
}


/**
 * The prologue's dispatch: the page's base pc and first entry from the pc and entry it was called with, and
 * the block to start at, from the entry's mark (see entryMark). `entries`: the region's (regionEntries).
 */
function enterAtEntry(w: CodeWriter, region: Region, entries: readonly number[]): void {
  // A region with no return point but its head is entered there alone: its block is known, no mark to read.
  if (entries.length === 1) w.i32Const(region.blockAt.get(region.head)!).localSet(L_BLOCK);
  else w.localGet(P_ENTRY).mem(Op.i32Load, 0).i32Const(8).op(Op.i32ShrU).localSet(L_BLOCK);
}

/**
 * The end of every exit, `written` the registers the region wrote in locals: it stores those to the state block;
 * then, when the exit continues at a control transfer's target, budget is left and the target's decoded entry is a
 * translation's entry (OP_JIT, table index in its immediate), it tail-calls that translation with the
 * target's entry and page; else it stores the budget and returns the entry to the fast loop, telling it whether the entry is a jump's target (then it counts as an arrival, so that code only translated code calls gets hot too). The mark lives in the decoded
 * page, so whatever drops the page (a store to it, fence.i, a flush, a page dropped or remapped: the fetch TLB
 * led here) drops the chain with it. L_EXIT_PAGE_VA/L_EXIT_DECODED hold the target's page here (this page, or the
 * one a jump to another page found): the chained call's pc comes from them, and a return leaves them at
 * JIT_PAGE_VA/JIT_DECODED for the fast loop.
 */
function chainOrReturn(g: Gen, written: number[]): void {
  storeRegisters(g.w, written);
  if (g.counting) g.w.bytesIn(sameInEveryRegion.countingExitEnd ??= bytesOf((w) => exitEnd(w, true)));
  else g.w.bytesIn(sameInEveryRegion.exitEnd ??= bytesOf((w) => exitEnd(w, false)));
}
/** chainOrReturn's code after the stores, in a build that counts exits or not. */
function exitEnd(w: CodeWriter, counting: boolean): void {
  w.localGet(L_CHAIN).localGet(P_BUDGET).i32Const(0).op(Op.i32GtS).op(Op.i32And);
  w.localGet(L_EXIT).mem(Op.i32Load8U, 0).i32Const(O.OP_JIT).op(Op.i32Eq).op(Op.i32And);
  w.blockType(Op.if, Type.void);
  if (counting) countExit(w, Exit.CHAINED);
  w.localGet(L_EXIT).localGet(P_BUDGET).localGet(L_EXIT_PAGE_VA).localGet(L_EXIT_DECODED);
  w.localGet(P_DEPTH).localGet(P_EXPECT); // a tail call: whoever waits for a return still waits (Gen.nestedCall)
  w.localGet(L_EXIT).mem(Op.i32Load, 4);
  w.op(Op.returnCallIndirect).u32(REGION_TYPE).u32(0); // table 0: the core's, imported
  w.op(Op.end);
  w.i32Const(0).localGet(L_EXIT_PAGE_VA).mem(Op.i32Store, L.JIT_PAGE_VA);
  w.i32Const(0).localGet(L_EXIT_DECODED).mem(Op.i32Store, L.JIT_DECODED);
  w.i32Const(0).localGet(P_BUDGET).mem(Op.i32Store, L.JIT_BUDGET);
  w.i32Const(0).localGet(L_CHAIN).mem(Op.i32Store, L.JIT_EXIT_TRANSFER); // the fast loop counts arrivals there
  w.localGet(L_EXIT);
}


function emitBlock(g: Gen, block: Block, k: number): void {
  g.accesses = planAccesses(block);
  g.overwritten = overwrittenInBlock(block, overwrittenScratch);
  let retired = 0;
  const entries = block.entries;
  for (let i = 0; i < entries.length; i++) {
    g.position = i;
    if (!generate(g, entries[i], retired)) return; // it jumped or left
    retired++;
  }
  // Fell off the end: into the next block, or out of the region.
  if (block.next === NO_NEXT) throw new Error(`translate: block at ${block.start} ends without a jump`);
  const next = g.region.blockAt.get(block.next);
  const pageEnd = (g.page === null ? 0 : g.page.first) + PAGE_ENTRIES;
  if (block.next < pageEnd) {
    if (next === k + 1) g.spend(retired); // retired > 0: the block has instructions
    else if (next !== undefined) g.jump(block.next, retired);
    else g.exit(block.next, retired, Exit.IN_PAGE);
    return;
  }
  // Off the end of the page: into the next page's code if the region took it (once checkPage finds it unchanged),
  // else on at the next page's first bytes as a jump there would (a miss leaves at the page-end sentinel with the
  // block done), so a loop or function that crosses a page stays in translated code.
  if (next !== undefined && g.crossInto(block.next, retired, NO_LINK)) return;
  g.pc(block.next).w.localSet(L_T0);
  g.jumpTo(L_T0, block.next, retired, NO_LINK, false, Exit.FAR_DIRECT, 0);
}

/**
 * Emits one instruction; false when control does not reach the next one. The generators' tables of the ops they take
 * pick the one to call (trying each in turn cost a call and a dozen table lookups for most instructions).
 */
function generate(g: Gen, e: Entry, retired: number): boolean {
  if (e.upper !== undefined) checkUpperHalf(g, e, retired);
  const op = e.op;
  if (COMPUTATIONAL[op] && generateAlu(g, e)) return true;
  if (MEMORY_ACCESS[op] && generateMemory(g, e, retired)) return true;
  const control = CONTROL_TRANSFER[op] ? generateControl(g, e, retired) : null;
  if (control !== null) return control;
  throw new Error(`translate: no generator for op ${e.op}`);
}
