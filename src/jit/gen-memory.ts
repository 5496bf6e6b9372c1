// Generators for loads, stores (RV32I chapter 2.6) and the A extension, with the
// TLB check inline: the entry's linear tag (a linear page's host address is the
// address's low bits above RAM's base: see hostAddress); with full checks, else as
// in assembly/fast.ts, a tag compare, then the entry's addend (see Checks).
// The TLBs only hold pages whose bookkeeping is done (a read entry for a present
// page; a write entry for a present page already marked dirty that holds no
// decoded code), so a hit needs no dirty, present or code bitmap check. The tag
// keeps the low address bits the access size must leave zero, so a misaligned
// access misses too. A miss leaves the region at the instruction, which the
// interpreter then runs in full (page walk, fault, device, self-modifying code).
// Accesses through one base register in one basic block share one check (see
// planAccesses): the first of them checks that the whole span they touch lies in
// one page the TLB holds (or in two linear pages next to each other: see
// spanReachable), and the others use the host address it found; a load inside
// bytes a store of the block checked uses the store's (writeGroupCovering).

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { MAX_REGION_INSTRUCTIONS, type Block, type Entry } from "./region.js";
import { Exit, L_ADDR, L_GROUPS, GROUP_LOCALS, L_T0, L_T1, L_TLB, type Gen } from "./gen.js";
import { CodeWriter, Op, Type } from "./wasm-writer.js";
import { MEMORY_ACCESS, byOp } from "./ops-table.js";
import { linearWindowPages } from "../machine/linear-window.js";

const WORD = 0xfffff003, HALF = 0xfffff001, BYTE = 0xfffff000;

// LW/LH/LHU/LB/LBU: "loads a 32-bit value ... / a 16-bit value ... then sign-extends (LH) or zero-extends (LHU)"
const LOADS = byOp<readonly [number, number] | null>([
  [O.OP_LW, [WORD, Op.i32Load]], [O.OP_LH, [HALF, Op.i32Load16S]], [O.OP_LHU, [HALF, Op.i32Load16U]],
  [O.OP_LB, [BYTE, Op.i32Load8S]], [O.OP_LBU, [BYTE, Op.i32Load8U]],
], null);
// SW/SH/SB: "store 32-bit, 16-bit, and 8-bit values from the low bits of register rs2 to memory"
const STORES = byOp<readonly [number, number] | null>([
  [O.OP_SW, [WORD, Op.i32Store]], [O.OP_SH, [HALF, Op.i32Store16]], [O.OP_SB, [BYTE, Op.i32Store8]],
], null);
// AMO*.W: "atomically load a data value from the address in rs1, place the value into register rd, apply a binary
// operator to the loaded value and the original value in rs2, then store the result back to the address in rs1"
const AMOS = byOp([
  O.OP_AMOSWAP_W, O.OP_AMOADD_W, O.OP_AMOXOR_W, O.OP_AMOAND_W, O.OP_AMOOR_W, O.OP_AMOMIN_W, O.OP_AMOMAX_W,
  O.OP_AMOMINU_W, O.OP_AMOMAXU_W,
].map((op) => [op, true] as const), false);

/** The ops generateMemory emits (ops-table.ts): re-exported for emit.ts, which picks a generator by them. */
export { MEMORY_ACCESS };

/**
 * How one load or store of a block finds its host address when it shares a TLB check with others (planAccesses):
 * `slot` is the local that holds the host address of rs1 + `low` once the group's first access has checked the
 * span [rs1 + low, rs1 + high] (lowest and highest byte any of them touches); the access itself is at `offset`
 * bytes from there. `first` marks the access that does the check.
 */
export interface SharedCheck {
  slot: number; low: number; high: number; offset: number; first: boolean;
  /** Every access of the group is at a multiple of its size from the base register (see stackBlock). */
  aligned: boolean;
}

/** Bytes a load or store touches; 0 for other ops. */
const SIZE = byOp([
  [O.OP_LW, 4], [O.OP_LH, 2], [O.OP_LHU, 2], [O.OP_LB, 1], [O.OP_LBU, 1], [O.OP_SW, 4], [O.OP_SH, 2], [O.OP_SB, 1],
], 0);

/**
 * Which loads and stores of a block share a TLB check: those through the same base register, not written in
 * between, into the same TLB (loads the read one, stores the write one; a load inside bytes a store group already
 * spans joins that: writeGroupCovering). The group's first access checks its
 * own address as before (the tag compare also rejects a misaligned one) and that one host address reaches the span
 * every access of the group touches (spanReachable); it leaves the region at itself if not, before any access of
 * the group is done, so the exit stays exact. A later access joins only if that first check proves it aligned: no larger
 * than the first, at a multiple of its size from it. Nothing inside a block changes a TLB (only the host and
 * the slow step do, outside translated code), so the check holds for the rest of the block. At most
 * GROUP_LOCALS groups are open at once; the oldest closes for a new one. The plan is by position in the block.
 */
export function planAccesses(block: Block): ReadonlyArray<SharedCheck | undefined> {
  const entries = block.entries;
  let accesses = 0;
  for (let i = 0; i < entries.length; i++) if (SIZE[entries[i].op] !== 0) accesses++;
  if (accesses < 2) return NOTHING_SHARED; // most blocks: nothing to plan
  const groups = formGroups(entries);
  for (let k = 0; k < groups; k++) if (groupMembers[k] > 1) return planOf(entries);
  return NOTHING_SHARED;
}
const NOTHING_SHARED: ReadonlyArray<SharedCheck | undefined> = [];

// planAccesses' groups, in working arrays kept from block to block (a block has at most MAX_REGION_INSTRUCTIONS
// entries). By position: its group (-1: none). By group k: its base register and TLB (key: rs1 × 2 + 1 for stores), its
// first access's position, size and offset, how many accesses it has, its local, its span (lowest and highest byte
// from rs1). The open groups, oldest first: at most GROUP_LOCALS are.
// Module constants, not an object's fields (a field is one more load on each use), and plain arrays of small integers,
// not typed ones: this runs mostly as cold code, whose typed-array loads cost ~3 times as much (V8's baseline tier).
const groupOf = scratch(), groupBase = scratch(), groupKey = scratch(), groupFirst = scratch(), groupMembers = scratch();
const groupSize = scratch(), groupImm = scratch(), groupSlot = scratch(), groupLow = scratch(), groupHigh = scratch();
const groupAligned = scratch(); // 1 while every access of the group is at a multiple of its size from the base
const openGroups = scratch();
function scratch(): number[] { return new Array<number>(MAX_REGION_INSTRUCTIONS).fill(0); }

/** Puts the block's loads and stores in groups (see planAccesses and the arrays above); returns how many there are. */
function formGroups(entries: readonly Entry[]): number {
  if (entries.length > groupOf.length) throw new Error(`planAccesses: a block of ${entries.length} entries`);
  let groups = 0, open = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i], size = SIZE[e.op];
    groupOf[i] = -1;
    if (size !== 0) {
      const key = e.rs1 * 2 + (e.op >= O.OP_SB ? 1 : 0);
      let k = -1;
      for (let j = 0; j < open; j++) if (groupKey[openGroups[j]] === key) { k = openGroups[j]; break; }
      if ((key & 1) === 0) { // a load may use a store group's check instead: see writeGroupCovering
        const w = writeGroupCovering(open, key + 1, e.imm, size);
        if (w >= 0) k = w;
      }
      if (k >= 0) {
        if (size <= groupSize[k] && (e.imm - groupImm[k]) % size === 0) {
          groupOf[i] = k;
          groupMembers[k]++;
          if (e.imm % size !== 0) groupAligned[k] = 0;
          if (e.imm < groupLow[k]) groupLow[k] = e.imm;
          if (e.imm + size - 1 > groupHigh[k]) groupHigh[k] = e.imm + size - 1;
        }
      } else if (e.rs1 !== 0) {
        if (open === GROUP_LOCALS) { for (let j = 1; j < open; j++) openGroups[j - 1] = openGroups[j]; open--; } // the oldest closes
        k = groups++;
        groupBase[k] = e.rs1; groupKey[k] = key; groupFirst[k] = i; groupSize[k] = size; groupImm[k] = e.imm;
        groupMembers[k] = 1; groupSlot[k] = freeSlot(open); groupLow[k] = e.imm; groupHigh[k] = e.imm + size - 1;
        groupAligned[k] = e.imm % size === 0 ? 1 : 0;
        groupOf[i] = k;
        openGroups[open++] = k;
      }
    }
    if (e.rd !== 0) { // writing a base register closes its group
      let kept = 0;
      for (let j = 0; j < open; j++) if (groupBase[openGroups[j]] !== e.rd) openGroups[kept++] = openGroups[j];
      open = kept;
    }
  }
  return groups;
}

/**
 * The open store group through the same base (`writeKey`) whose span so far holds the load's bytes [imm, imm + size),
 * or -1. A write TLB entry is for a page the guest may store to, which it may read too (a PTE with W but not R is
 * reserved: assembly/mmu.ts faults on it) and which is present, so a load inside bytes a store of this block checked
 * needs no check of its own: a function's spills and reloads, a store and the load that reads it back. Only inside the
 * span, so that the store's check covers no byte it did not already (a load just past a store could be on a page the
 * guest may read and not write, and would leave the region at every pass).
 */
function writeGroupCovering(open: number, writeKey: number, imm: number, size: number): number {
  for (let j = 0; j < open; j++) {
    const k = openGroups[j];
    if (groupKey[k] === writeKey && imm >= groupLow[k] && imm + size - 1 <= groupHigh[k]) return k;
  }
  return -1;
}

/** The first group local no open group uses: a closed group's slot is free, its accesses all came before. */
function freeSlot(open: number): number {
  let slot = L_GROUPS;
  for (let j = 0; j < open; j++) if (groupSlot[openGroups[j]] === slot) { slot++; j = -1; }
  return slot;
}

/** The plan from the groups formGroups found: the accesses of every group of several share its check. */
function planOf(entries: readonly Entry[]): Array<SharedCheck | undefined> {
  const plan: Array<SharedCheck | undefined> = [];
  for (let i = 0; i < entries.length; i++) {
    const k = groupOf[i];
    plan.push(k < 0 || groupMembers[k] < 2 ? undefined : {
      slot: groupSlot[k], low: groupLow[k], high: groupHigh[k], offset: entries[i].imm - groupLow[k], first: groupFirst[k] === i,
      aligned: groupAligned[k] === 1,
    });
  }
  return plan;
}

/**
 * The fixed part of a TLB check through `tlb` with tag mask `mask`: keeps the address on the stack in L_ADDR, finds
 * its TLB entry (its index × 8, kept in L_TLB) and pushes whether the entry's linear tag (see L.LINEAR_READ) matches.
 * Written once per kind and then copied as bytes: it is most of a memory access's code, a dozen writer calls each time.
 */
function linearCheck(tlb: number, mask: number): Uint8Array {
  const kind = (tlb === L.TLB_READ ? 0 : 16) + (mask & 15);
  return (linearChecks[kind] ??= new CodeWriter(32).localSet(L_ADDR)
    .localGet(L_ADDR).i32Const(12 - 3).op(Op.i32ShrU).i32Const((L.TLB_ENTRIES - 1) << 3).op(Op.i32And).localTee(L_TLB)
    .mem(Op.i32Load, linearTags(tlb)).localGet(L_ADDR).i32Const(mask).op(Op.i32And).op(Op.i32Eq).copy());
}
/** linearCheck, then whether the linear tag did not match (with linear checks, a miss). */
function linearMiss(tlb: number, mask: number): Uint8Array {
  const kind = (tlb === L.TLB_READ ? 0 : 16) + (mask & 15);
  return (linearMisses[kind] ??= new CodeWriter(32).bytesIn(linearCheck(tlb, mask)).op(Op.i32Eqz).copy());
}
/** After the linear tag did not match: pushes whether the entry's own tag differs too (a miss). */
function tagCheck(tlb: number, mask: number): Uint8Array {
  const kind = (tlb === L.TLB_READ ? 0 : 16) + (mask & 15);
  return (tagChecks[kind] ??= new CodeWriter(16)
    .localGet(L_TLB).mem(Op.i32Load, tlb).localGet(L_ADDR).i32Const(mask).op(Op.i32And).op(Op.i32Ne).copy());
}
/** After a hit in `tlb`: pushes the RAM offset of L_ADDR (its host address less RAM_HOST_BASE), from the entry's addend. */
function tlbHit(tlb: number): Uint8Array {
  const kind = tlb === L.TLB_READ ? 0 : 1;
  return (tlbHits[kind] ??= new CodeWriter(16).localGet(L_TLB).mem(Op.i32Load, tlb + 4).localGet(L_ADDR).op(Op.i32Add)
    .i32Const(-L.RAM_HOST_BASE).op(Op.i32Add).copy());
}
const linearTags = (tlb: number) => (tlb === L.TLB_READ ? L.LINEAR_READ : L.LINEAR_WRITE);
// Built on first use: a kind no batch asks for is never written.
const linearChecks: Array<Uint8Array | undefined> = [], linearMisses: Array<Uint8Array | undefined> = [];
const tagChecks: Array<Uint8Array | undefined> = [];
const tlbHits: Array<Uint8Array | undefined> = [];

/**
 * Pushes the RAM offset of the access at rs1 + `offset` and returns the memarg offset to access it with (RAM_HOST_BASE
 * and, in a group, the access's distance from the group's start), leaving the region at `e` on a TLB miss. An access
 * that shares a check (planAccesses) uses its group's RAM offset.
 *
 * A linear page (its entry's linear tag matches: see L.LINEAR_READ) has its RAM offset in the address's low bits, so
 * the access does not wait for the entry's addend: on a pointer chase through linear pages a step costs ~2.8 ns
 * against ~5 ns through the addend (a hand-written WebAssembly loop on this machine). With full checks any other page
 * takes the entry's addend; with linear checks it leaves as a miss (see Checks).
 */
function hostAddress(g: Gen, e: Entry, retired: number, tlb: number, mask: number, offset: number): number {
  const w = g.w;
  const shared = g.accesses[g.position];
  if (shared && !shared.first) { w.localGet(shared.slot); return L.RAM_HOST_BASE + shared.offset; }
  const block = shared && shared.low !== shared.high ? stackBlock(e, shared) : -1;
  if (block > 0) { // checked at the block's start, which holds the span (see stackBlock)
    offset = shared!.low & -block;
    mask = 0xfffff000 | (block - 1);
  }
  g.get(e.rs1); if (offset !== 0) w.i32Const(offset).op(Op.i32Add);
  if (shared && shared.low !== shared.high && block < 0) spanReachable(g, e, retired, shared, tlb);
  if (checks === "linear") { // any other page leaves as a miss
    w.bytesIn(linearMiss(tlb, mask));
    if (block > 0) stackMiss(g, e, retired); else g.exitIf(e.index, retired, Exit.MISS);
    w.bytesIn(linearOffset);
  } else {
    w.bytesIn(linearCheck(tlb, mask));
    w.blockType(Op.if, Type.i32); g.beginNested();
    w.bytesIn(linearOffset);
    w.op(Op.else);
    w.bytesIn(tagCheck(tlb, mask));
    if (block > 0) stackMiss(g, e, retired); else g.exitIf(e.index, retired, Exit.MISS);
    w.bytesIn(tlbHit(tlb));
    g.endNested(); w.op(Op.end);
  }
  if (!shared) return L.RAM_HOST_BASE;
  w.i32Const(shared.low - offset).op(Op.i32Add).localTee(shared.slot);
  return L.RAM_HOST_BASE + shared.offset;
}

/** A stack block's check failed (the condition on the stack): counts it at JIT_STACK_MISSES and leaves as a miss. */
function stackMiss(g: Gen, e: Entry, retired: number): void {
  g.beginIf();
  g.w.i32Const(0).i32Const(0).mem(Op.i32Load, L.JIT_STACK_MISSES).i32Const(1).op(Op.i32Add).mem(Op.i32Store, L.JIT_STACK_MISSES);
  g.exit(e.index, retired, Exit.MISS);
  g.endIf();
}

/**
 * For a group through sp (x2) whose span lies within one aligned block of at most 16 bytes, that block's size, else -1.
 * The ABI keeps sp 16-byte aligned ("the stack pointer shall be aligned to a 128-bit boundary upon procedure entry"),
 * so such a block is aligned whenever the guest keeps to it, and an aligned block of 16 bytes or less never crosses a
 * page: the group's check is then the TLB check of the block's start, under a mask that also asks for its alignment,
 * in place of the span's page test and the first access's own check (each access's alignment follows from the
 * block's, as each is at a multiple of its size from sp). A function's spills and reloads of two to four registers
 * are such groups, at every call and return. A guest whose sp is not aligned so leaves the region there, and the
 * interpreter does the accesses; each such miss is counted (JIT_STACK_MISSES, with genuine TLB misses of these
 * groups), and when they come often the translator goes over to "full-any-sp" checks, which never take this way.
 */
function stackBlock(e: Entry, shared: SharedCheck): number {
  if (e.rs1 !== 2 || !shared.aligned || checks === "full-any-sp") return -1;
  for (let block = 4; block <= 16; block *= 2) {
    if (shared.high < (shared.low & -block) + block) return block;
  }
  return -1;
}

/**
 * How translated loads and stores check the TLB: "full", the linear tag, else the entry's tag and addend, so that
 * every page the TLB holds is reached inside the region; "linear", the linear tag alone, every other page leaving
 * the region as a miss (where the interpreter does the access). The linear way's code is a third smaller: measured
 * with every page of the process linear (the kernel places mappings so: src/kernel/calls/memory.ts), Lua's objects
 * ran 8% faster, the SQLite test 7%, awk 5%, sort 3%. A page that is not linear then costs an exit per access, and
 * the interpreter fills its TLB entry again each time: the translator watches those fills (JIT_NONLINEAR_FILLS) and
 * goes over to full checks when they come often (translator.ts). "full-any-sp": full checks, none relying on the
 * ABI's 16-byte sp (stackBlock), for a guest whose sp is not kept so: the translator goes over to it when such checks
 * fail often (JIT_STACK_MISSES).
 */
export type Checks = "full" | "linear" | "full-any-sp";

/**
 * Leaves the region at `e` unless every byte of `shared`'s group is reached from one host address: the span lies in
 * one page (whose TLB check follows), or it crosses into the next page and both pages are linear in `tlb` and next to
 * each other in the linear window (a linear page's host address is its address's low bits, so one base serves both).
 * A stack frame or a record that straddles a page boundary is the second case. Leaving there cost an exit, the
 * interpreter up to the next entry and a re-entry at every pass: a loop whose head is such a group ran wholly
 * interpreted (16x slower), and the SQLite test left so 364 k times (of its 378 k TLB-miss exits). The address
 * stays on the stack.
 */
function spanReachable(g: Gen, e: Entry, retired: number, shared: SharedCheck, tlb: number): void {
  const w = g.w;
  w.localSet(L_ADDR);
  // Its lowest byte's offset in its page leaves less room than the span: two pages, if it spans at most a page's bytes
  // (a wider span, from 12-bit offsets of both signs, could touch a third between them: it leaves, as before). One
  // address and a mask, where comparing the lowest and highest bytes' pages took both addresses (and a register more
  // in every function's spills and reloads).
  g.get(e.rs1).w.i32Const(shared.low).op(Op.i32Add).i32Const(0xfff).op(Op.i32And).i32Const(0xfff - (shared.high - shared.low)).op(Op.i32GtS);
  if (shared.high - shared.low >= 4096) { g.exitIf(e.index, retired, Exit.MISS); w.localGet(L_ADDR); return; }
  g.beginIf();
  notLinear(g, e, shared.low, tlb);
  notLinear(g, e, shared.high, tlb); // leaves rs1 + high in L_T1
  w.op(Op.i32Or);
  // The window wraps between them: the high byte's offset in it is then below the span's length.
  w.localGet(L_T1).i32Const(linearWindowMask).op(Op.i32And).i32Const(shared.high - shared.low).op(Op.i32LtU).op(Op.i32Or);
  g.exitIf(e.index, retired, Exit.MISS);
  g.endIf();
  w.localGet(L_ADDR);
}

/** Pushes whether the page of rs1 + `displacement` (left in L_T1) has no linear entry in `tlb`. */
function notLinear(g: Gen, e: Entry, displacement: number, tlb: number): void {
  g.get(e.rs1).w.i32Const(displacement).op(Op.i32Add).localTee(L_T1);
  g.w.i32Const(12 - 3).op(Op.i32ShrU).i32Const((L.TLB_ENTRIES - 1) << 3).op(Op.i32And).mem(Op.i32Load, linearTags(tlb));
  g.w.localGet(L_T1).i32Const(BYTE | 0).op(Op.i32And).op(Op.i32Ne);
}

/**
 * The byte mask of the linear window (see L.LINEAR_READ) and the checks of the core whose regions are being emitted:
 * emitBatch sets them for each batch (a process may run cores with different RAM, and a batch is emitted in one
 * synchronous call).
 */
let linearWindowMask = -1; // none yet
let checks: Checks = "full";
/** A linear page's RAM offset from the address in L_ADDR: its bits in the window (written once for each mask). */
let linearOffset = new Uint8Array(0);
export function useLinearWindow(mask: number, use: Checks): void {
  if (mask !== linearWindowMask) linearOffset = new CodeWriter(16).localGet(L_ADDR).i32Const(mask).op(Op.i32And).copy();
  linearWindowMask = mask;
  checks = use;
}

/** The linear window's byte mask for `ramBytes` of RAM (src/machine/linear-window.ts). */
export function linearWindowOf(ramBytes: number): number {
  return linearWindowPages(Math.floor(ramBytes / 4096)) * 4096 - 1;
}

/** Emits `e` if it is a load, store or atomic; false otherwise. */
export function generateMemory(g: Gen, e: Entry, retired: number): boolean {
  const w = g.w, op = e.op;
  const load = LOADS[op];
  if (load !== null) {
    const to = g.beginSet(e.rd);
    w.mem(load[1], hostAddress(g, e, retired, L.TLB_READ, load[0], e.imm));
    g.endSet(e.rd, to);
    return true;
  }
  const store = STORES[op];
  if (store !== null) {
    const at = hostAddress(g, e, retired, L.TLB_WRITE, store[0], e.imm);
    g.get(e.rs2); w.mem(store[1], at);
    return true;
  }
  return op === O.OP_LR_W || op === O.OP_SC_W || AMOS[op] ? generateAtomic(g, e, retired) : false;
}

/**
 * LR.W, SC.W and the AMOs: apart from loads and stores, whose generator then needs no closure (it would allocate
 * the variables a closure captures on every call).
 */
function generateAtomic(g: Gen, e: Entry, retired: number): boolean {
  const w = g.w;
  if (e.op === O.OP_LR_W) {
    // LR.W: "loads a word from the address in rs1, places the sign-extended value in rd, and registers a reservation set"
    g.set(e.rd, () => {
      w.mem(Op.i32Load, hostAddress(g, e, retired, L.TLB_READ, WORD, 0));
      w.i32Const(0).localGet(L_ADDR).mem(Op.i32Store, L.STATE_BASE + L.STATE_RESERVATION);
      w.i32Const(0).i32Const(1).mem(Op.i32Store, L.STATE_BASE + L.STATE_RESERVATION_VALID);
    });
    return true;
  }
  if (e.op === O.OP_SC_W) {
    // SC.W: "writes a word in rs2 to the address in rs1, provided a valid reservation still exists on that address";
    // "SC.W writes zero to rd on success or a nonzero code on failure"; "regardless of success or failure, executing an
    // SC.W instruction invalidates any reservation held by this hart"
    const at = hostAddress(g, e, retired, L.TLB_WRITE, WORD, 0);
    w.localSet(L_T1);
    w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + L.STATE_RESERVATION_VALID).i32Const(0).op(Op.i32Ne);
    w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + L.STATE_RESERVATION).localGet(L_ADDR).op(Op.i32Eq).op(Op.i32And).localSet(L_T0);
    w.i32Const(0).i32Const(0).mem(Op.i32Store, L.STATE_BASE + L.STATE_RESERVATION_VALID);
    w.localGet(L_T0);
    g.ifThen(() => { w.localGet(L_T1); g.get(e.rs2); w.mem(Op.i32Store, at); });
    g.set(e.rd, () => w.localGet(L_T0).i32Const(1).op(Op.i32Xor));
    return true;
  }
  if (AMOS[e.op]) {
    const at = hostAddress(g, e, retired, L.TLB_WRITE, WORD, 0);
    w.localTee(L_ADDR); // now the RAM offset
    w.mem(Op.i32Load, at).localSet(L_T0); // the old value
    g.get(e.rs2); w.localSet(L_T1);
    w.localGet(L_ADDR);
    amoValue(g, e.op);
    w.mem(Op.i32Store, at);
    g.set(e.rd, () => w.localGet(L_T0));
    return true;
  }
  return false;
}

/** Pushes the value an AMO stores, from the old value (L_T0) and rs2 (L_T1). */
function amoValue(g: Gen, op: number): void {
  const w = g.w;
  const both = (code: number) => w.localGet(L_T0).localGet(L_T1).op(code);
  // MIN/MAX (signed) and MINU/MAXU (unsigned): the smaller or larger of the two
  const pick = (compare: number) => { w.localGet(L_T0).localGet(L_T1); both(compare); w.op(Op.select); };
  switch (op) {
    case O.OP_AMOSWAP_W: w.localGet(L_T1); return;
    case O.OP_AMOADD_W: both(Op.i32Add); return;
    case O.OP_AMOXOR_W: both(Op.i32Xor); return;
    case O.OP_AMOAND_W: both(Op.i32And); return;
    case O.OP_AMOOR_W: both(Op.i32Or); return;
    case O.OP_AMOMIN_W: pick(Op.i32LtS); return;
    case O.OP_AMOMAX_W: pick(Op.i32GtS); return;
    case O.OP_AMOMINU_W: pick(Op.i32LtU); return;
    default: pick(Op.i32GtU); return;
  }
}
