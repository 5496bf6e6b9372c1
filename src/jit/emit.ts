// Code generation for a region: one WebAssembly function per region, in v86's
// shape. Guest registers live in locals (loaded at entry, stored back once, at
// the single exit); basic blocks sit in a `loop` of nested `block`s and a
// `br_table` picks the block to run, so branches, loops and in-page calls stay
// inside the function. The contract is the fast loop's (assembly/fast.ts):
//   f(entry, budget, pc) -> the entry to continue at; the budget left is stored
//   at JIT_BUDGET; a jump to another page leaves that page at JIT_PAGE_VA/JIT_DECODED.
// Every exit is precise: the registers, the entry returned and the budget
// (hence instret) are those of the interpreter at that instruction.

import * as L from "../../assembly/layout.js";
import type { Block, Entry, Region } from "./region.js";
import { CodeWriter, Op, Type, singleFunctionModule } from "./wasm-writer.js";
import { generateAlu } from "./gen-alu.js";
import { generateMemory } from "./gen-memory.js";
import { generateControl } from "./gen-control.js";

// Parameters, then locals: x1..x31 and the sink at 2 + r, then scratch.
const P_ENTRY = 0, P_BUDGET = 1, P_PC = 2;
const L_BLOCK = 35, L_EXIT = 36, L_BASE = 37;
export const L_ADDR = 38, L_TLB = 39, L_T0 = 40, L_T1 = 41;
const LOCALS = 42 - 3;

/** What a generator may emit; `retired` counts the block's instructions before the current one. */
export class Gen {
  readonly w = new CodeWriter();
  depth = 0; // `if`s opened by the generator around the current position
  private blockIndex = 0;
  readonly written = new Set<number>();

  constructor(readonly region: Region) {}

  enterBlock(k: number): void { this.blockIndex = k; }

  /** Pushes register r (0 reads as zero). */
  get(r: number): this {
    if (r === 0) this.w.i32Const(0); else this.w.localGet(2 + r);
    return this;
  }
  /** Writes register r (32 = the sink) from the value `value` pushes. */
  set(r: number, value: () => void): void {
    value();
    this.w.localSet(2 + r);
    if (r !== 0) this.written.add(r); // the sink too: a snapshot's state block is then the interpreter's
  }
  /** Pushes the pc of entry `index`: the region's pc at its head plus the distance. */
  pc(index: number): this {
    this.w.localGet(L_BASE).i32Const(index * 2).op(Op.i32Add);
    return this;
  }
  /** Opens an `if` on the condition on the stack; exits inside it branch one level further. */
  ifThen(body: () => void, otherwise?: () => void): void {
    this.w.blockType(Op.if, Type.void);
    this.depth++;
    body();
    if (otherwise) { this.w.op(Op.else); otherwise(); }
    this.depth--;
    this.w.op(Op.end);
  }
  private toLoop(): number { return this.region.blocks.length - 1 - this.blockIndex + this.depth; }
  private toExit(): number { return this.toLoop() + 1; }
  private spend(retired: number): void {
    if (retired !== 0) this.w.localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).localSet(P_BUDGET);
  }

  /** Leaves at entry `index` of this page (the interpreter runs it next) with `retired` more instructions done. */
  exit(index: number, retired: number): void {
    this.spend(retired);
    this.w.localGet(P_ENTRY).i32Const((index - this.region.head) * 8).op(Op.i32Add).localSet(L_EXIT);
    this.w.br(Op.br, this.toExit());
  }

  /** Continues at entry `index` of this page: its block if the region has one, else an exit. The budget is checked here. */
  jump(index: number, retired: number): void {
    const k = this.region.blockAt.get(index);
    if (k === undefined) { this.exit(index, retired); return; }
    this.w.localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).localTee(P_BUDGET).i32Const(0).op(Op.i32LeS);
    this.ifThen(() => this.exit(index, 0));
    this.w.i32Const(k).localSet(L_BLOCK).br(Op.br, this.toLoop());
  }

  /**
   * Jumps to the pc in local `target` through the fetch TLB, as the fast loop does:
   * a miss leaves at entry `at` with `retired` done (the interpreter redoes the
   * jump); on a hit `link` runs (writing rd), a target that starts one of
   * `inRegion` continues there, and anything else leaves for the target's page.
   */
  jumpTo(target: number, at: number, retired: number, link: () => void, inRegion: number[]): void {
    const w = this.w;
    w.localGet(target).i32Const(12).op(Op.i32ShrU).i32Const(L.TLB_ENTRIES - 1).op(Op.i32And).i32Const(3).op(Op.i32Shl).localTee(L_TLB);
    w.mem(Op.i32Load, L.TLB_FETCH).localGet(target).i32Const(0xfffff000).op(Op.i32And).op(Op.i32Ne);
    this.ifThen(() => this.exit(at, retired));
    link();
    for (const index of inRegion) {
      w.localGet(target).localGet(L_BASE).i32Const(index * 2).op(Op.i32Add).op(Op.i32Eq);
      this.ifThen(() => this.jump(index, retired + 1));
    }
    w.i32Const(0).localGet(target).i32Const(0xfffff000).op(Op.i32And).mem(Op.i32Store, L.JIT_PAGE_VA);
    w.i32Const(0).localGet(L_TLB).mem(Op.i32Load, L.TLB_FETCH + 4).localTee(L_EXIT).mem(Op.i32Store, L.JIT_DECODED);
    w.localGet(L_EXIT).localGet(target).i32Const(0xfff).op(Op.i32And).i32Const(2).op(Op.i32Shl).op(Op.i32Add).localSet(L_EXIT);
    this.spend(retired + 1);
    w.br(Op.br, this.toExit());
  }
}

/** Emits the module of a region. */
export function emitRegion(region: Region): Uint8Array<ArrayBuffer> {
  const g = new Gen(region);
  const body = new Gen(region); // the blocks, emitted first to learn which registers they use
  const blocks = region.blocks;
  for (let k = 0; k < blocks.length; k++) {
    body.w.op(Op.end); // closes block b_k: block k's code follows
    body.enterBlock(k);
    emitBlock(body, blocks[k], k);
  }
  const used = usedRegisters(region);
  const w = g.w;
  for (const r of used) w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + r * 4).localSet(2 + r);
  w.localGet(P_PC).i32Const(region.head * 2).op(Op.i32Sub).localSet(L_BASE);
  w.i32Const(region.blockAt.get(region.head)!).localSet(L_BLOCK);
  w.blockType(Op.block, Type.void); // the exit
  w.blockType(Op.loop, Type.void); // the dispatch
  for (let k = 0; k < blocks.length; k++) w.blockType(Op.block, Type.void);
  w.localGet(L_BLOCK).op(Op.brTable).u32(blocks.length);
  for (let k = 0; k < blocks.length; k++) w.u32(k);
  w.u32(0);
  w.append(body.w);
  w.op(Op.end); // loop: every block left through a jump or an exit, so this is not reached
  w.op(Op.unreachable);
  w.op(Op.end); // exit: store back what the region wrote
  for (const r of body.written) w.i32Const(0).localGet(2 + r).mem(Op.i32Store, L.STATE_BASE + r * 4);
  w.i32Const(0).localGet(P_BUDGET).mem(Op.i32Store, L.JIT_BUDGET);
  w.localGet(L_EXIT);
  return singleFunctionModule(w, new Array<number>(LOCALS).fill(Type.i32));
}

function emitBlock(g: Gen, block: Block, k: number): void {
  let retired = 0;
  for (const e of block.entries) {
    if (!generate(g, e, retired)) return; // it jumped or left
    retired++;
  }
  // Fell off the end: into the next block, or out of the region.
  if (block.next < 0) throw new Error(`translate: block at ${block.start} ends without a jump`);
  const next = g.region.blockAt.get(block.next);
  if (next === k + 1) {
    g.w.localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).localSet(P_BUDGET);
    return;
  }
  if (next !== undefined) { g.jump(block.next, retired); return; }
  g.exit(block.next, retired);
}

/** Emits one instruction; false when control does not reach the next one. */
function generate(g: Gen, e: Entry, retired: number): boolean {
  if (generateAlu(g, e)) return true;
  const memory = generateMemory(g, e, retired);
  if (memory) return true;
  const control = generateControl(g, e, retired);
  if (control !== null) return control;
  throw new Error(`translate: no generator for op ${e.op}`);
}

function usedRegisters(region: Region): number[] {
  const used = new Set<number>();
  for (const b of region.blocks) {
    for (const e of b.entries) for (const r of [e.rd, e.rs1, e.rs2]) if (r !== 0) used.add(r);
  }
  return [...used].sort((a, b) => a - b);
}
