// Generators for loads, stores (RV32I chapter 2.6) and the A extension, with the
// TLB check inline as in assembly/fast.ts: a tag compare, then the entry's addend.
// The TLBs only hold pages whose bookkeeping is done (a read entry for a present
// page; a write entry for a present page already marked dirty that holds no
// decoded code), so a hit needs no dirty, present or code bitmap check. The tag
// keeps the low address bits the access size must leave zero, so a misaligned
// access misses too. A miss leaves the region at the instruction, which the
// interpreter then runs in full (page walk, fault, device, self-modifying code).

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import type { Entry } from "./region.js";
import { Exit, L_ADDR, L_T0, L_T1, L_TLB, type Gen } from "./emit.js";
import { Op } from "./wasm-writer.js";

const WORD = 0xfffff003, HALF = 0xfffff001, BYTE = 0xfffff000;

// LW/LH/LHU/LB/LBU: "loads a 32-bit value ... / a 16-bit value ... then sign-extends (LH) or zero-extends (LHU)"
const LOADS = new Map<number, [number, number]>([
  [O.OP_LW, [WORD, Op.i32Load]], [O.OP_LH, [HALF, Op.i32Load16S]], [O.OP_LHU, [HALF, Op.i32Load16U]],
  [O.OP_LB, [BYTE, Op.i32Load8S]], [O.OP_LBU, [BYTE, Op.i32Load8U]],
]);
// SW/SH/SB: "store 32-bit, 16-bit, and 8-bit values from the low bits of register rs2 to memory"
const STORES = new Map<number, [number, number]>([
  [O.OP_SW, [WORD, Op.i32Store]], [O.OP_SH, [HALF, Op.i32Store16]], [O.OP_SB, [BYTE, Op.i32Store8]],
]);
// AMO*.W: "atomically load a data value from the address in rs1, place the value into register rd, apply a binary
// operator to the loaded value and the original value in rs2, then store the result back to the address in rs1"
const AMOS = new Set([
  O.OP_AMOSWAP_W, O.OP_AMOADD_W, O.OP_AMOXOR_W, O.OP_AMOAND_W, O.OP_AMOOR_W, O.OP_AMOMIN_W, O.OP_AMOMAX_W,
  O.OP_AMOMINU_W, O.OP_AMOMAXU_W,
]);

/** Pushes the host address of the access at rs1 + `offset`, leaving the region at `e` on a TLB miss. */
function hostAddress(g: Gen, e: Entry, retired: number, tlb: number, mask: number, offset: number): void {
  const w = g.w;
  g.get(e.rs1); if (offset !== 0) w.i32Const(offset).op(Op.i32Add); w.localSet(L_ADDR);
  w.localGet(L_ADDR).i32Const(12).op(Op.i32ShrU).i32Const(L.TLB_ENTRIES - 1).op(Op.i32And).i32Const(3).op(Op.i32Shl).localTee(L_TLB);
  w.mem(Op.i32Load, tlb).localGet(L_ADDR).i32Const(mask).op(Op.i32And).op(Op.i32Ne);
  g.ifThen(() => g.exit(e.index, retired, Exit.MISS));
  w.localGet(L_TLB).mem(Op.i32Load, tlb + 4).localGet(L_ADDR).op(Op.i32Add);
}

/** Emits `e` if it is a load, store or atomic; false otherwise. */
export function generateMemory(g: Gen, e: Entry, retired: number): boolean {
  const w = g.w;
  const load = LOADS.get(e.op);
  if (load) {
    g.set(e.rd, () => { hostAddress(g, e, retired, L.TLB_READ, load[0], e.imm); w.mem(load[1], 0); });
    return true;
  }
  const store = STORES.get(e.op);
  if (store) {
    hostAddress(g, e, retired, L.TLB_WRITE, store[0], e.imm);
    g.get(e.rs2); w.mem(store[1], 0);
    return true;
  }
  if (e.op === O.OP_LR_W) {
    // LR.W: "loads a word from the address in rs1, places the sign-extended value in rd, and registers a reservation set"
    g.set(e.rd, () => {
      hostAddress(g, e, retired, L.TLB_READ, WORD, 0);
      w.mem(Op.i32Load, 0);
      w.i32Const(0).localGet(L_ADDR).mem(Op.i32Store, L.STATE_BASE + L.STATE_RESERVATION);
      w.i32Const(0).i32Const(1).mem(Op.i32Store, L.STATE_BASE + L.STATE_RESERVATION_VALID);
    });
    return true;
  }
  if (e.op === O.OP_SC_W) {
    // SC.W: "writes a word in rs2 to the address in rs1, provided a valid reservation still exists on that address";
    // "SC.W writes zero to rd on success or a nonzero code on failure"; "regardless of success or failure, executing an
    // SC.W instruction invalidates any reservation held by this hart"
    hostAddress(g, e, retired, L.TLB_WRITE, WORD, 0);
    w.localSet(L_T1);
    w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + L.STATE_RESERVATION_VALID).i32Const(0).op(Op.i32Ne);
    w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + L.STATE_RESERVATION).localGet(L_ADDR).op(Op.i32Eq).op(Op.i32And).localSet(L_T0);
    w.i32Const(0).i32Const(0).mem(Op.i32Store, L.STATE_BASE + L.STATE_RESERVATION_VALID);
    w.localGet(L_T0);
    g.ifThen(() => { w.localGet(L_T1); g.get(e.rs2); w.mem(Op.i32Store, 0); });
    g.set(e.rd, () => w.localGet(L_T0).i32Const(1).op(Op.i32Xor));
    return true;
  }
  if (AMOS.has(e.op)) {
    hostAddress(g, e, retired, L.TLB_WRITE, WORD, 0);
    w.localTee(L_ADDR); // now the host address
    w.mem(Op.i32Load, 0).localSet(L_T0); // the old value
    g.get(e.rs2); w.localSet(L_T1);
    w.localGet(L_ADDR);
    amoValue(g, e.op);
    w.mem(Op.i32Store, 0);
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
