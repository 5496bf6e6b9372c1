// Generators for control transfer (RV32I chapter 2.5). A branch or jump within
// the page continues in the region's own blocks; a jump elsewhere goes through
// the fetch TLB as the fast loop does, and an indirect jump (a return) that lands
// on one of the region's return points or its head stays in the function (Gen.ownEntry).

import * as O from "../../assembly/ops.js";
import type { Entry } from "./region.js";
import { Exit, L_T0, NO_LINK, type Gen } from "./gen.js";
import { byOp } from "./ops-table.js";
import { Op } from "./wasm-writer.js";

// BEQ/BNE: "take the branch if registers rs1 and rs2 are equal or unequal"; BLT/BLTU: "if rs1 is less than rs2,
// using signed and unsigned comparison"; BGE/BGEU: "if rs1 is greater than or equal to rs2"
const CONDITIONS = byOp<number>([
  [O.OP_BEQ_L, Op.i32Eq], [O.OP_BNE_L, Op.i32Ne], [O.OP_BLT_L, Op.i32LtS], [O.OP_BGE_L, Op.i32GeS],
  [O.OP_BLTU_L, Op.i32LtU], [O.OP_BGEU_L, Op.i32GeU],
  [O.OP_BEQ_F, Op.i32Eq], [O.OP_BNE_F, Op.i32Ne], [O.OP_BLT_F, Op.i32LtS], [O.OP_BGE_F, Op.i32GeS],
  [O.OP_BLTU_F, Op.i32LtU], [O.OP_BGEU_F, Op.i32GeU],
], 0);

/** The ops generateControl emits, by op: branches, JAL, JALR. */
export const CONTROL_TRANSFER: readonly boolean[] = Array.from({ length: 256 }, (_, op) =>
  CONDITIONS[op] !== 0 || op === O.OP_JAL_L || op === O.OP_JAL_F || op === O.OP_JALR);

/**
 * Emits `e` if it is a branch or jump: true if control may go on to the next
 * instruction (a branch not taken), false if it never does; null if `e` is not
 * a control transfer.
 */
export function generateControl(g: Gen, e: Entry, retired: number): boolean | null {
  const w = g.w;
  const condition = CONDITIONS[e.op];
  if (condition !== 0) {
    g.get(e.rs1); g.get(e.rs2); w.op(condition);
    g.beginIf();
    if (e.op <= O.OP_BGEU_L) g.jump(e.index + e.imm / 8, retired + 1);
    // "The 12-bit B-immediate encodes signed offsets in multiples of 2 bytes. The offset is sign-extended and added
    // to the address of the branch instruction to give the target address."
    else g.farJump(e.index, e.index + e.imm / 2, retired, NO_LINK, Exit.FAR_DIRECT);
    g.endIf();
    return true;
  }
  // JAL: "The offset is sign-extended and added to the address of the jump instruction to form the jump target
  // address ... JAL stores the address of the instruction following the jump (pc+4) into register rd."
  if (e.op === O.OP_JAL_L) {
    const target = e.index + e.imm / 8, nesting = g.nesting(e);
    // A call to code on this page outside the region: through the fetch TLB, as a jump elsewhere, so that it nests.
    if (nesting >= 0 && !g.region.blockAt.has(target)) {
      g.pc(target).w.localSet(L_T0);
      g.jumpTo(L_T0, e.index, retired, () => link(g, e), false, Exit.IN_PAGE, 1, nesting);
      return false;
    }
    link(g, e);
    g.jump(target, retired + 1);
    return false;
  }
  if (e.op === O.OP_JAL_F) {
    farJumpAndLink(g, e, retired);
    return false;
  }
  // JALR: "The target address is obtained by adding the sign-extended 12-bit I-immediate to the register rs1, then
  // setting the least-significant bit of the result to zero. The address of the instruction following the jump
  // (pc+4) is written to register rd." The target is taken before rd is written (rd may be rs1).
  if (e.op === O.OP_JALR) {
    g.get(e.rs1).w.i32Const(e.imm).op(Op.i32Add).i32Const(-2).op(Op.i32And).localSet(L_T0);
    jumpAndLink(g, e, retired, true, Exit.INDIRECT); // a return to this region stays in it
    return false;
  }
  return null;
}

/** JAL's and JALR's link: rd = the address of the instruction following the jump. */
function link(g: Gen, e: Entry): void {
  const to = g.beginSet(e.rd);
  g.pc(e.index + e.length / 2);
  g.endSet(e.rd, to);
}

/** JAL to another page (Gen.farJump), linking; its own function for the same reason as jumpAndLink's. */
function farJumpAndLink(g: Gen, e: Entry, retired: number): void {
  g.farJump(e.index, e.index + e.imm / 2, retired, () => link(g, e), Exit.FAR_DIRECT, g.nesting(e));
}

/**
 * A jump through the fetch TLB to the pc in L_T0 that links on a hit (Gen.jumpTo). Its own function: the closure
 * would make generateControl allocate its captured variables on every call, branches and all.
 */
function jumpAndLink(g: Gen, e: Entry, retired: number, toOwnEntries: boolean, kind: number): void {
  g.jumpTo(L_T0, e.index, retired, () => link(g, e), toOwnEntries, kind, 1, g.nesting(e));
}
