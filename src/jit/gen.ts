// What a generator may emit (gen-alu.ts, gen-memory.ts, gen-control.ts, straddle.ts): `Gen`, the state of one
// region's code as it is written (which registers live in locals and which the current block has read, the
// constructs open around the current position), with the pieces every generator shares: register reads and writes,
// the budget, exits, jumps within the region and transfers out of it. A region's function has the locals laid
// out below; emit.ts writes the function around the blocks (prologue, dispatch, loops, the shared exit) and the
// module around the functions.

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { MAX_REGION_INSTRUCTIONS, decodedSlot, otherPageOf, type OtherPage, type Region } from "./region.js";
import { CodeWriter, Op, REGION_TYPE, Type } from "./wasm-writer.js";
import type { SharedCheck } from "./gen-memory.js";
import { loopRegisters, noRegisters, registerList, type RegisterFlags } from "./register-homes.js";

// The parameters: entry, budget, and the entry's page: its virtual base (L_BASE) and its decoded entry 0 (L_ENTRY0),
// which the caller has at hand (a chained exit found them through the fetch TLB; the fast loop keeps them), so
// the callee need not work them out of a pc again; then the nesting (P_DEPTH, P_EXPECT: see Gen.nestedCall). Then
// locals: the registers a region keeps in locals (register r, 1..32 = the sink, is local REGISTER_LOCAL[r] = 5 + r
// when it does), then scratch. Between regions every register is in the state block, so a chained call passes
// nothing else: its six parameters stay in the machine's registers.
export const P_ENTRY = 0, P_BUDGET = 1, L_BASE = 2, L_ENTRY0 = 3;
/**
 * Calls nested in the machine's own calls (Gen.nestedCall): how many translations called out of are waiting for a
 * return (0 from the fast loop), and the pc the innermost waits to be returned to (NOT_EXPECTED, odd, when none
 * waits: a jump's target is always even).
 */
export const P_DEPTH = 4, P_EXPECT = 5;
export const NOT_EXPECTED = 1;
/** Calls nested deeper than this chain as any other transfer (a tail call): each nesting is a frame on the host's stack. */
export const MAX_NESTED_CALLS = 24;
const DROP = 0x1a; // WebAssembly's drop (core spec 5.4.2)
export const G_PARAMS = 6;
export const REGISTER_LOCAL: number[] = Array.from({ length: 33 }, (_, r) => G_PARAMS - 1 + r);
export const L_BLOCK = G_PARAMS + 32, L_EXIT = L_BLOCK + 1;
export const L_ADDR = L_EXIT + 1, L_TLB = L_ADDR + 1, L_T0 = L_TLB + 1, L_T1 = L_T0 + 1;
export const L_CHAIN = L_T1 + 1; // 1 when the exit continues at a control transfer's target: another translation may run it
/** Host addresses that loads and stores sharing a TLB check use (gen-memory.ts, planAccesses): one per open group. */
export const L_GROUPS = L_CHAIN + 1, GROUP_LOCALS = 4;
// The page the exit continues on, its virtual base and decoded entries: the next translation's parameters come from
// them when the exit chains, and the fast loop's JIT_PAGE_VA/JIT_DECODED when it returns (not stored on every transfer).
export const L_EXIT_PAGE_VA = L_GROUPS + GROUP_LOCALS, L_EXIT_DECODED = L_EXIT_PAGE_VA + 1;
export const LOCALS = L_EXIT_DECODED + 1 - G_PARAMS;

/**
 * Why translated code left (counted at JIT_EXIT_COUNTS when ROAM_JIT_COUNT_EXITS=1, to see where time goes):
 * a direct jump or taken branch to another page, an indirect jump (jalr, a return) out of the region, a jump
 * or fall-through to an entry of this page outside the region (code not run yet, a system instruction), the
 * budget, a TLB miss (load, store or fetch: the slow step redoes it). TRANSLATED_TARGET counts the first two
 * whose target entry is a translation's entry, CHAINED the exits of any kind that went on there in translated code
 * (a tail call), RETURNED the returns to a translation that called out and waited (Gen.nestedCall).
 * A const enum, as Op: its values are written where they are used.
 */
export const enum Exit {
  FAR_DIRECT = 0, INDIRECT = 1, IN_PAGE = 2, BUDGET = 3, MISS = 4, TRANSLATED_TARGET = 5, CHAINED = 6, RETURNED = 7,
}
export const EXIT_NAMES = ["far direct", "indirect", "in page", "budget", "tlb miss", "to translated", "chained", "returned to a caller"];

/** Whether the emitted code counts its exits by kind (a measurement build: it costs a memory increment per exit). */
export function countingExits(env = process.env.ROAM_JIT_COUNT_EXITS): boolean { return env === "1"; }

/** overwrittenInBlock's answer for the block being emitted (a block has at most a region's instructions). */
export const overwrittenScratch = new Uint8Array(MAX_REGION_INSTRUCTIONS);
/** Gen's register sets, cleared for each region rather than made afresh (emitBatch makes one Gen at a time). */
const writtenScratch = noRegisters(), cachedScratch = noRegisters(), pendingScratch = noRegisters();

/** Where Gen.beginSet sends a register's new value: dropped (x0), its local, its local alone (overwritten), the state block. */
const enum SetTo { DROPPED = 0, LOCAL = 1, UNSTORED = 2, STATE = 3 }

/** What a generator may emit; `retired` counts the block's instructions before the current one. */
export class Gen {
  readonly w: CodeWriter;
  depth = 0; // `if`s opened by the generator around the current position
  private blockIndex = 0;
  /**
   * The constructs open around the current block, outermost first (see regionFunction): F_EXIT, F_DECODE,
   * F_DISPATCH, then blocks b_k (as k) and structured loops (as loopLabel(head)). `depth` counts the `if`s inside.
   */
  frames: number[] = [];
  /** The registers written in locals (flags by register): stored back at every exit. */
  readonly written: RegisterFlags = writtenScratch.fill(0);
  /** The current block's loads and stores that share a TLB check, by position in the block (see planAccesses). */
  accesses: ReadonlyArray<SharedCheck | undefined> = [];
  /** The current block's entries whose result no exit sees in the state block, by position (see overwrittenInBlock). */
  overwritten: Uint8Array = overwrittenScratch;
  /** The position in its block of the entry being generated. */
  position = -1;

  /**
   * `inLocals`: the registers this region keeps in locals (see register-homes.ts); the others are read and written
   * in the state block. `w`: where the code goes (the batch's module writer: see emitBatch).
   */
  constructor(
    readonly region: Region, readonly marks: OwnMarks = NO_MARKS, readonly counting = countingExits(),
    readonly inLocals: Readonly<RegisterFlags> = loopRegisters(region), w = new CodeWriter(),
  ) {
    this.w = w;
  }

  /** Counts an exit of `kind` (see Exit) in a measurement build. */
  count(kind: number): void {
    if (this.counting) countExit(this.w, kind);
  }

  /**
   * Registers of the state block whose value the current block also holds in the register's local: read or
   * written earlier in the block, outside any `if` (so on every path to here). A later read uses the local, where
   * V8 reloaded the value just stored (writes still go to the state block: an exit needs nothing stored). Each
   * block starts afresh, so these locals are never live across the dispatch. By register: the number of the block
   * that cached it (block k + 1), so that entering a block forgets them all without clearing anything.
   */
  private readonly cachedIn: number[] = cachedScratch.fill(0);
  private cacheMark = -1; // nothing is cached before the first block
  /**
   * Registers of the state block whose newest value the current block holds in its local alone (written UNSTORED:
   * a later instruction of the block writes them again), by register: the block's mark, as cachedIn. A load or store
   * between the two writes may leave at a TLB miss, and that exit stores them first (storePending), so the state
   * block is exact wherever the region leaves.
   */
  private readonly pending: number[] = pendingScratch.fill(0);
  private pendingCount = 0; // how many are pending in the current block: most exits have none to store

  /** The page the current block's code is on: null for the head page (see OtherPage). */
  page: OtherPage | null = null;

  enterBlock(k: number): void {
    this.blockIndex = k;
    this.cacheMark = k + 1;
    this.pendingCount = 0; // the marks of the block before no longer match
    this.page = otherPageOf(this.region, this.region.blocks[k].start);
  }

  /** Pushes register r (0 reads as zero). */
  get(r: number): this {
    if (r === 0) this.w.i32Const(0);
    else if (this.inLocals[r] !== 0 || this.cachedIn[r] === this.cacheMark) this.w.localGet(REGISTER_LOCAL[r]);
    else {
      this.w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + r * 4);
      if (this.depth === 0) { this.w.localTee(REGISTER_LOCAL[r]); this.cachedIn[r] = this.cacheMark; }
    }
    return this;
  }
  /**
   * Writes register r (32 = the sink: stored too, so that a snapshot's state block is the interpreter's) from the
   * value the code between beginSet and endSet pushes (no closure per write: this runs for most instructions).
   * beginSet returns how the write goes, for endSet. An exit inside the value (a load's TLB miss) leaves before
   * the write.
   */
  beginSet(r: number): SetTo {
    if (r === 0) return SetTo.DROPPED; // the decoder gives x0 results the sink instead
    if (this.inLocals[r] !== 0) return SetTo.LOCAL;
    // A later instruction of the block writes r before anything can leave: only its value is stored.
    if (this.depth === 0 && this.overwritten[this.position] !== 0) return SetTo.UNSTORED;
    this.w.i32Const(0);
    return SetTo.STATE;
  }
  endSet(r: number, to: SetTo): void {
    switch (to) {
      case SetTo.DROPPED: this.w.op(DROP); return;
      case SetTo.LOCAL: this.w.localSet(REGISTER_LOCAL[r]); this.written[r] = 1; return;
      case SetTo.UNSTORED:
        this.w.localSet(REGISTER_LOCAL[r]);
        this.cachedIn[r] = this.cacheMark;
        if (this.pending[r] !== this.cacheMark) { this.pending[r] = this.cacheMark; this.pendingCount++; }
        return;
      default:
        if (this.depth === 0) {
          this.w.localTee(REGISTER_LOCAL[r]);
          this.cachedIn[r] = this.cacheMark;
          if (this.pending[r] === this.cacheMark) { this.pending[r] = 0; this.pendingCount--; }
        }
        // Inside an `if`: a pending register's local keeps the newest value on both paths (an exit stores it).
        else if (this.pending[r] === this.cacheMark) this.w.localTee(REGISTER_LOCAL[r]);
        else this.cachedIn[r] = 0;
        this.w.mem(Op.i32Store, L.STATE_BASE + r * 4);
    }
  }
  /** beginSet, the value `value` pushes, endSet: for the rarer instructions. */
  set(r: number, value: () => void): void {
    const to = this.beginSet(r);
    value();
    this.endSet(r, to);
  }
  /** Pushes the pc of entry `index`: the region's pc at its head plus the distance. */
  pc(index: number): this {
    this.w.localGet(L_BASE).i32Const(index * 2).op(Op.i32Add);
    return this;
  }
  /**
   * Code between beginNested and endNested opens a construct of its own (an `if` with a result): reads there cache
   * nothing. (Brackets rather than a closure here and in beginIf: a generator that makes a closure allocates the
   * variables it captures on every call, whatever path it takes.)
   */
  beginNested(): void { this.depth++; }
  endNested(): void { this.depth--; }
  /** Opens an `if` on the condition on the stack, closed by endIf; exits inside it branch one level further. */
  beginIf(): void {
    this.w.blockType(Op.if, Type.void);
    this.depth++;
  }
  endIf(): void {
    this.depth--;
    this.w.op(Op.end);
  }
  /** beginIf, `body`, endIf: for code that runs rarely. */
  ifThen(body: () => void): void {
    this.beginIf();
    body();
    this.endIf();
  }
  /** The `br` depth to the open construct `label` from here. */
  private labelDepth(label: number): number {
    const at = this.frames.lastIndexOf(label);
    if (at < 0) throw new Error(`translate: no open construct ${label} at block ${this.blockIndex}`);
    return this.depth + this.frames.length - 1 - at;
  }
  // The function's outer constructs are always the first three frames (see regionFunction): their depth needs no search
  // (every exit asks; a search of the frames from the end walked past every block open around the code). Their labels
  // are -1, -2, -3 for frames 0, 1, 2.
  private outerDepth(label: typeof F_EXIT | typeof F_DECODE | typeof F_DISPATCH): number {
    const at = -1 - label;
    if (this.frames[at] !== label) throw new Error(`translate: no open construct ${label} at block ${this.blockIndex}`);
    return this.depth + this.frames.length - 1 - at;
  }
  /** Takes `retired` instructions off the budget. */
  spend(retired: number): void {
    if (retired !== 0) this.w.bytesIn(spending(retired));
  }

  /**
   * Continues in this function's own block when the pc in `target` is one of the entries this region marked (its
   * head, its return points: table indices marks.first to first + count - 1) and budget is left: the target is on
   * this page, and its decoded entry's mark names the block (see entryMark). One load and compare, where comparing
   * the target with each return point cost a compare per return point on every return. Else the caller goes on to
   * leave for the target, which chains to whichever translation marked it.
   */
  private ownEntry(target: number, retired: number): void {
    const w = this.w;
    w.localGet(target).i32Const(0xfffff000).op(Op.i32And).localGet(L_BASE).op(Op.i32Eq);
    this.beginIf();
    w.localGet(L_ENTRY0).localGet(target).i32Const(0xfff).op(Op.i32And).i32Const(2).op(Op.i32Shl).op(Op.i32Add).localTee(L_T1);
    w.mem(Op.i32Load, 0).localTee(L_ADDR).i32Const(0xff).op(Op.i32And).i32Const(O.OP_JIT).op(Op.i32Eq);
    w.localGet(L_T1).mem(Op.i32Load, 4).i32Const(this.marks.first).op(Op.i32Sub).i32Const(this.marks.count).op(Op.i32LtU).op(Op.i32And);
    w.localGet(P_BUDGET).i32Const(retired).op(Op.i32GtS).op(Op.i32And);
    this.beginIf();
    this.spend(retired);
    w.localGet(L_ADDR).i32Const(8).op(Op.i32ShrU).localSet(L_BLOCK).br(Op.br, this.outerDepth(F_DISPATCH));
    this.endIf();
    this.endIf();
  }

  /**
   * Continues at the region's return point on another page (Region.otherReturnPoints) whose pc is in local `target`,
   * if any, with `retired` more instructions done; its page is checked first unless the code here is on that page
   * (then it was checked on the way here). The first few return points only: a compare each, on every return.
   */
  private otherReturn(target: number, retired: number): void {
    const w = this.w;
    const points = this.region.otherReturnPoints;
    for (let i = 0; i < points.length && i < MAX_OTHER_RETURNS; i++) {
      const point = points[i], page = otherPageOf(this.region, point)!;
      w.localGet(target).localGet(L_BASE).i32Const(point * 2).op(Op.i32Add).op(Op.i32Eq);
      if (page !== this.page) { this.checkPage(page); w.op(Op.i32And); }
      this.beginIf();
      this.jump(point, retired);
      this.endIf();
    }
  }

  /**
   * Leaves at entry `index` of `page` (by default the current block's; null: the head page's) for the interpreter,
   * with `retired` more instructions done. On the head page both go in one constant to the shared decoding before
   * the exit (see decodeExit): most exits are TLB misses and budget checks that never run, and a smaller function is
   * cheaper for V8 to compile and optimise.
   */
  exit(index: number, retired: number, kind: number, page = this.page): void {
    this.storePending();
    if (this.counting) countExit(this.w, kind);
    if (kind === Exit.IN_PAGE) this.w.i32Const(1).localSet(L_CHAIN); // a jump or fall-through, done
    if (page !== null) { this.exitOnOtherPage(index, retired, page); return; }
    this.w.i32Const((index << 8) | retired).localSet(L_EXIT).br(Op.br, this.outerDepth(F_DECODE));
  }
  /** Stores the registers whose newest value is in their local alone (see pending): on a way out of the region. */
  private storePending(): void {
    if (this.pendingCount === 0) return;
    for (let r = 1; r < this.pending.length; r++) {
      if (this.pending[r] === this.cacheMark) this.w.i32Const(0).localGet(REGISTER_LOCAL[r]).mem(Op.i32Store, L.STATE_BASE + r * 4);
    }
  }
  /**
   * exit's way at entry `index` of another page, whose code runs only once checkPage has found it unchanged: its
   * decoded slot is known, so the exit's entry and page are constants (and its page's pc the head page's plus the
   * distance).
   */
  private exitOnOtherPage(index: number, retired: number, page: OtherPage): void {
    const w = this.w;
    w.i32Const(page.slot + (index - page.first) * 8).localSet(L_EXIT);
    w.localGet(L_BASE).i32Const(page.first * 2).op(Op.i32Add).localSet(L_EXIT_PAGE_VA);
    w.i32Const(page.slot).localSet(L_EXIT_DECODED);
    this.spend(retired);
    w.br(Op.br, this.outerDepth(F_EXIT));
  }

  /** Leaves as exit does if the condition on the stack holds. */
  exitIf(index: number, retired: number, kind: number, page = this.page): void {
    this.w.blockType(Op.if, Type.void); // beginIf and endIf, written out: most instructions have an exit
    this.depth++;
    this.exit(index, retired, kind, page);
    this.depth--;
    this.w.op(Op.end);
  }

  /**
   * Pushes whether other page `page` still holds the code the region took from it: the fetch TLB maps the page (at
   * the head page's pc plus the distance) to the decoded slot it was read from, and the slot's generation has not
   * moved (a store to the page, fence.i, the slot given to another page or dropped all move it). Three loads that do
   * not wait for each other, where leaving for the page's own translation cost a tail call through the core's table and
   * that function's prologue.
   */
  checkPage(page: OtherPage): void {
    const w = this.w;
    // L_T1 and L_ADDR: jumpTo still needs L_TLB, its target's fetch TLB entry, after otherReturn's checks.
    w.localGet(L_BASE).i32Const(page.first * 2).op(Op.i32Add).localTee(L_T1);
    w.i32Const(12 - 3).op(Op.i32ShrU).i32Const((L.TLB_ENTRIES - 1) << 3).op(Op.i32And).localTee(L_ADDR);
    w.mem(Op.i32Load, L.TLB_FETCH).localGet(L_T1).op(Op.i32Eq);
    w.localGet(L_ADDR).mem(Op.i32Load, L.TLB_FETCH + 4).i32Const(page.slot).op(Op.i32Eq).op(Op.i32And);
    w.i32Const(0).mem(Op.i32Load, L.SLOT_GENERATION + decodedSlot(page.slot) * 4).i32Const(page.generation).op(Op.i32Eq);
    w.op(Op.i32And);
  }

  /**
   * The taken side of a jump or branch at entry `at` (`retired` before it) to entry `target` of another page, `link`
   * writing rd: a block of the region when it took that code (on an other page, once checkPage finds the page
   * unchanged), else through the fetch TLB as jumpTo does (a miss leaves at `at`).
   */
  farJump(at: number, target: number, retired: number, link: () => void, kind: number, nesting = NOT_NESTED): void {
    if (this.region.blockAt.has(target) && this.crossInto(target, retired + 1, link)) return;
    this.pc(at).w.i32Const((target - at) * 2).op(Op.i32Add).localSet(L_T0);
    this.jumpTo(L_T0, at, retired, link, false, kind, 1, nesting);
  }

  /**
   * Goes on at the region's block at entry `target`, on another page than the code here: after `link`, at once on the
   * head page (always there while the region runs), else if checkPage finds the page unchanged. True when control
   * never comes back here (the head page's case); otherwise the caller's way out follows, for a page that changed.
   */
  crossInto(target: number, retired: number, link: () => void): boolean {
    const page = otherPageOf(this.region, target);
    if (page === null) { link(); this.jump(target, retired); return true; }
    this.checkPage(page);
    this.beginIf();
    link();
    this.jump(target, retired);
    this.endIf();
    return false;
  }

  /**
   * Continues at entry `index` of this page: its block if the region has one, else an exit. The budget is checked
   * here. A later block is reached by a plain `br` (block k's code follows the end of `block` b_k, and the code
   * of every earlier block sits inside b_k); a jump back to the head of a structured loop around here (loops.ts)
   * by a `br` to that loop; any other jump back goes through the dispatch's `br_table`, an indirect jump.
   */
  jump(index: number, retired: number): void {
    const k = this.region.blockAt.get(index);
    if (k === undefined) { this.exit(index, retired, Exit.IN_PAGE); return; }
    const loop = loopLabel(k), toLoop = this.frames.includes(loop);
    if (!toLoop && this.frames.includes(k)) {
      // Forward: no cycle runs through forward jumps alone, so the budget is spent here and checked at the next jump
      // back, transfer or exit, at most a region's instructions later.
      this.spend(retired);
      this.w.br(Op.br, this.labelDepth(k));
      return;
    }
    this.w.bytesIn(budgetCheck(retired));
    this.exitIf(index, 0, Exit.BUDGET, otherPageOf(this.region, index));
    if (toLoop) this.w.br(Op.br, this.labelDepth(loop));
    else this.w.i32Const(k).localSet(L_BLOCK).br(Op.br, this.outerDepth(F_DISPATCH));
  }

  /**
   * Jumps to the pc in local `target` through the fetch TLB, as the fast loop does:
   * a miss leaves at entry `at` with `retired` done (the interpreter redoes the
   * jump); on a hit `link` runs (writing rd), a target that is one of this region's
   * entries (when `toOwnEntries`: see ownEntry) continues there, and anything else
   * leaves for the target's page. `jumpRetires`: 1 for a jump (it retires on a hit),
   * 0 for straight-line code running off the page's end (the block is all done).
   */
  jumpTo(
    target: number, at: number, retired: number, link: () => void, toOwnEntries: boolean, kind: number, jumpRetires = 1,
    nesting = NOT_NESTED,
  ): void {
    const w = this.w;
    if (nesting === RETURNS) this.returnToCaller(target, retired + jumpRetires);
    w.bytesIn(fetchCheck(target));
    this.exitIf(at, retired, Exit.MISS);
    link();
    if (toOwnEntries && this.marks.count > 0) this.ownEntry(target, retired + jumpRetires);
    if (toOwnEntries && this.region.otherReturnPoints.length > 0) this.otherReturn(target, retired + jumpRetires);
    w.bytesIn(fetchedEntry(target));
    this.count(kind);
    if (this.counting) {
      w.localGet(L_EXIT).mem(Op.i32Load8U, 0).i32Const(O.OP_JIT).op(Op.i32Eq);
      this.ifThen(() => this.count(Exit.TRANSLATED_TARGET));
    }
    this.spend(retired + jumpRetires);
    w.i32Const(1).localSet(L_CHAIN);
    if (nesting >= 0) this.nestedCall(nesting);
    w.br(Op.br, this.outerDepth(F_EXIT));
  }

  /**
   * A call out of the region (its target's entry in L_EXIT, its page in L_EXIT_PAGE_VA/L_EXIT_DECODED, the budget
   * spent) whose return point is the region's block at entry `returnIndex`: when the target is a translation's entry,
   * budget is left and fewer than MAX_NESTED_CALLS wait, the call is the machine's own call of that translation's
   * function, told the pc to return to (P_EXPECT); a return there (returnToCaller) comes back here as the machine's
   * return, and the region goes on at its block. Chained as a tail call instead, the return was another transfer: a
   * table call into this function again and its dispatch, two indirect jumps that real programs, returning to many
   * callers, mostly mispredict, where the machine's return is predicted. Anything else the callee's code does (an
   * exit, the budget gone) returns its next entry, and this function returns it too: every frame that waits goes.
   * No host code runs until then, so nothing the region relies on (its pages, their decoded entries, the TLBs) can
   * have changed when the call returns.
   */
  private nestedCall(returnIndex: number): void {
    const w = this.w;
    w.localGet(P_DEPTH).i32Const(MAX_NESTED_CALLS).op(Op.i32LtU);
    w.localGet(P_BUDGET).i32Const(0).op(Op.i32GtS).op(Op.i32And);
    w.localGet(L_EXIT).mem(Op.i32Load8U, 0).i32Const(O.OP_JIT).op(Op.i32Eq).op(Op.i32And);
    this.beginIf();
    this.storePending();
    this.storeLocals();
    w.localGet(L_EXIT).localGet(P_BUDGET).localGet(L_EXIT_PAGE_VA).localGet(L_EXIT_DECODED);
    w.localGet(P_DEPTH).i32Const(1).op(Op.i32Add);
    this.pc(returnIndex);
    w.localGet(L_EXIT).mem(Op.i32Load, 4);
    w.op(Op.callIndirect).u32(REGION_TYPE).u32(0); // table 0: the core's, imported
    w.localTee(L_T1).op(Op.i32Eqz);
    this.beginIf(); // returned here: the registers and the budget are in the state block
    w.i32Const(0).mem(Op.i32Load, L.JIT_BUDGET).localSet(P_BUDGET);
    this.loadLocals();
    this.jump(returnIndex, 0);
    this.endIf();
    w.localGet(L_T1).op(Op.return); // left further in: its entry, page and budget are the fast loop's now
    this.endIf();
  }

  /**
   * A jump (JALR without a link) to the pc in local `target`, `retired` done with it: when that is the pc the
   * translation that called out waits for (nestedCall), the registers and the budget go to the state block and
   * the function returns RETURNED_HERE to it.
   */
  private returnToCaller(target: number, retired: number): void {
    const w = this.w;
    w.localGet(target).localGet(P_EXPECT).op(Op.i32Eq);
    this.beginIf();
    this.storePending();
    this.count(Exit.RETURNED);
    this.spend(retired);
    this.storeLocals();
    w.i32Const(0).localGet(P_BUDGET).mem(Op.i32Store, L.JIT_BUDGET);
    w.i32Const(RETURNED_HERE).op(Op.return);
    this.endIf();
  }

  /** The registers this region keeps in locals, in order (registerList of inLocals), made once. */
  private localRegisters: number[] | undefined;
  /** Stores every register the region keeps in a local to the state block (a call out reads them there). */
  private storeLocals(): void {
    storeRegisters(this.w, (this.localRegisters ??= registerList(this.inLocals)));
  }
  /** Loads every register the region keeps in a local from the state block (a call out may have written them). */
  private loadLocals(): void {
    loadRegisters(this.w, (this.localRegisters ??= registerList(this.inLocals)));
  }

  /**
   * What a jump out of the region at entry `e` is for nestedCall: a call (rd = ra) whose return point is one of the
   * region's blocks gives that entry; a jump through a register without a link (a return) RETURNS; else NOT_NESTED.
   */
  nesting(e: { index: number; length: number; rd: number; op: number }): number {
    if (e.rd === 1) {
      const back = e.index + e.length / 2;
      return this.region.blockAt.has(back) ? back : NOT_NESTED;
    }
    return (e.rd === SINK || e.rd === 0) && e.op === O.OP_JALR ? RETURNS : NOT_NESTED;
  }
}

/** The decoder's register for rd = x0 on an instruction with effects (a jump's link goes nowhere). */
const SINK = 32;
/** Gen.jumpTo's `nesting` for a jump that neither calls (an entry index, >= 0) nor may return (RETURNS). */
export const NOT_NESTED = -1;
const RETURNS = -2;
/** What a region returns to the caller that waits for it (nestedCall): no entry is at 0, the core's own page. */
const RETURNED_HERE = 0;

/** Return points on other pages a return compares its target with (Gen.otherReturn). */
const MAX_OTHER_RETURNS = 4;

// Labels of the constructs a region's code sits in (Gen.frames): a block b_k is k itself.
const F_EXIT = -1, F_DECODE = -2, F_DISPATCH = -3; // frames 0, 1, 2 (Gen.outerDepth)
/** The constructs around all of a region's blocks, outermost first: Gen.frames starts with them. */
export const OUTER_FRAMES: readonly number[] = [F_EXIT, F_DECODE, F_DISPATCH];
/** The label of the structured loop whose head is block `head` (loops.ts). */
export function loopLabel(head: number): number { return -10 - head; }

/**
 * Gen.jumpTo's fixed parts for a target pc in local `target`, written once and copied as bytes (two dozen writer
 * calls for every jump out of the page and return otherwise). fetchCheck finds the target's fetch TLB entry (its
 * index × 8 in L_TLB) and pushes whether the tag differs; fetchedEntry, after a hit, leaves the target's page in
 * L_EXIT_PAGE_VA, its decoded entries in L_EXIT_DECODED and the target's decoded entry in L_EXIT.
 */
function fetchCheck(target: number): Uint8Array {
  return (fetchChecks[target] ??= new CodeWriter(32)
    .localGet(target).i32Const(12 - 3).op(Op.i32ShrU).i32Const((L.TLB_ENTRIES - 1) << 3).op(Op.i32And).localTee(L_TLB)
    .mem(Op.i32Load, L.TLB_FETCH).localGet(target).i32Const(0xfffff000).op(Op.i32And).op(Op.i32Ne).copy());
}
function fetchedEntry(target: number): Uint8Array {
  return (fetchedEntries[target] ??= new CodeWriter(64)
    .localGet(target).i32Const(0xfffff000).op(Op.i32And).localSet(L_EXIT_PAGE_VA)
    .localGet(L_TLB).mem(Op.i32Load, L.TLB_FETCH + 4).localTee(L_EXIT_DECODED).localSet(L_EXIT)
    .localGet(L_EXIT).localGet(target).i32Const(0xfff).op(Op.i32And).i32Const(2).op(Op.i32Shl).op(Op.i32Add).localSet(L_EXIT)
    .copy());
}
const fetchChecks: Array<Uint8Array | undefined> = [], fetchedEntries: Array<Uint8Array | undefined> = [];

/**
 * The budget's code for `retired` instructions (a block has at most a region's), written once each and copied as
 * bytes (four writer calls at every jump and transfer otherwise, mostly as cold code): spending subtracts them,
 * budgetCheck subtracts them too and pushes whether nothing is left.
 */
function spending(retired: number): Uint8Array {
  return (spendings[retired] ??= new CodeWriter(16).localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).localSet(P_BUDGET).copy());
}
function budgetCheck(retired: number): Uint8Array {
  return (budgetChecks[retired] ??= new CodeWriter(16)
    .localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).localTee(P_BUDGET).i32Const(0).op(Op.i32LeS).copy());
}
const spendings: Array<Uint8Array | undefined> = [], budgetChecks: Array<Uint8Array | undefined> = [];

/** The table indices the translator gives the entries a region marks (see Translator.translate): first, first + 1, ... */
export interface OwnMarks { first: number; count: number }
export const NO_MARKS: OwnMarks = { first: 0, count: 0 };

/** Gen.jumpTo's `link` for a jump that writes no register. */
export const NO_LINK = (): void => {};

/**
 * The decoded entry that sends the fast loop and chaining to the function at table index `index`, entering it
 * at block `block`: OP_JIT, the block above it (the prologue reads it there: one load, however many entries the
 * region has, where comparing the pc with each return point cost a compare per entry), the index as immediate.
 */
export function entryMark(block: number, index: number): [word: number, imm: number] {
  return [((block << 8) | O.OP_JIT) >>> 0, index];
}

/** Stores registers `rs` from their locals to the state block. */
export function storeRegisters(w: CodeWriter, rs: readonly number[]): void {
  for (let i = 0; i < rs.length; i++) w.i32Const(0).localGet(REGISTER_LOCAL[rs[i]]).mem(Op.i32Store, L.STATE_BASE + rs[i] * 4);
}
/** Loads registers `rs` from the state block into their locals. */
export function loadRegisters(w: CodeWriter, rs: readonly number[]): void {
  for (let i = 0; i < rs.length; i++) w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + rs[i] * 4).localSet(REGISTER_LOCAL[rs[i]]);
}

/** Counts an exit of `kind` (see Exit): a measurement build's memory increment. */
export function countExit(w: CodeWriter, kind: number): void {
  const at = L.JIT_EXIT_COUNTS + kind * 4;
  w.i32Const(0).i32Const(0).mem(Op.i32Load, at).i32Const(1).op(Op.i32Add).mem(Op.i32Store, at);
}
