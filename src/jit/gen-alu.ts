// Generators for the integer computational instructions (RV32I chapter 2.4) and
// the M extension, on registers held in locals. WebAssembly's i32 shifts use the
// low 5 bits of the amount and its comparisons give 0/1, as RISC-V wants.

import * as O from "../../assembly/ops.js";
import type { Entry } from "./region.js";
import type { Gen } from "./gen.js";
import { Op, Type } from "./wasm-writer.js";
import { byOp } from "./ops-table.js";

// ADDI/SLTI/SLTIU/XORI/ORI/ANDI/SLLI/SRLI/SRAI: "rd = rs1 op immediate"
const WITH_IMMEDIATE = byOp<number>([
  [O.OP_ADDI, Op.i32Add], [O.OP_SLTI, Op.i32LtS], [O.OP_SLTIU, Op.i32LtU], [O.OP_XORI, Op.i32Xor],
  [O.OP_ORI, Op.i32Or], [O.OP_ANDI, Op.i32And], [O.OP_SLLI, Op.i32Shl], [O.OP_SRLI, Op.i32ShrU], [O.OP_SRAI, Op.i32ShrS],
], 0);
// ADD/SUB/SLL/SLT/SLTU/XOR/SRL/SRA/OR/AND and MUL ("the lower XLEN bits of the product"): "rd = rs1 op rs2"
const WITH_REGISTER = byOp<number>([
  [O.OP_ADD, Op.i32Add], [O.OP_SUB, Op.i32Sub], [O.OP_SLL, Op.i32Shl], [O.OP_SLT, Op.i32LtS], [O.OP_SLTU, Op.i32LtU],
  [O.OP_XOR, Op.i32Xor], [O.OP_SRL, Op.i32ShrU], [O.OP_SRA, Op.i32ShrS], [O.OP_OR, Op.i32Or], [O.OP_AND, Op.i32And],
  [O.OP_MUL, Op.i32Mul],
], 0);
// MULH/MULHSU/MULHU: "the upper XLEN bits of the full 2×XLEN-bit product" (signed×signed, signed×unsigned, unsigned×unsigned)
const HIGH_PRODUCT = byOp<readonly [number, number] | null>([
  [O.OP_MULH, [Op.i64ExtendI32S, Op.i64ExtendI32S]], [O.OP_MULHSU, [Op.i64ExtendI32S, Op.i64ExtendI32U]],
  [O.OP_MULHU, [Op.i64ExtendI32U, Op.i64ExtendI32U]],
], null);
const DIVIDES = byOp([O.OP_DIV, O.OP_DIVU, O.OP_REM, O.OP_REMU].map((op) => [op, true] as const), false);

/**
 * Whether an op is one generateAlu emits, by op: it only computes a register, and never leaves the region. A table
 * rather than a function: the emitter asks for every instruction, twice, mostly as cold code where a call costs more.
 */
export const COMPUTATIONAL: readonly boolean[] = Array.from({ length: 256 }, (_, op) =>
  op === O.OP_NOP || op === O.OP_FENCE || op === O.OP_FENCE_I || WITH_IMMEDIATE[op] !== 0 || WITH_REGISTER[op] !== 0 ||
  op === O.OP_LUI || op === O.OP_AUIPC || HIGH_PRODUCT[op] !== null || DIVIDES[op]);

/** Emits `e` if it is a computational instruction (or a no-op); false otherwise. */
export function generateAlu(g: Gen, e: Entry): boolean {
  const w = g.w, op = e.op;
  const immediateOp = WITH_IMMEDIATE[op];
  if (immediateOp !== 0) { const to = g.beginSet(e.rd); g.get(e.rs1); w.i32Const(e.imm).op(immediateOp); g.endSet(e.rd, to); return true; }
  const registerOp = WITH_REGISTER[op];
  if (registerOp !== 0) { const to = g.beginSet(e.rd); g.get(e.rs1); g.get(e.rs2); w.op(registerOp); g.endSet(e.rd, to); return true; }
  // NOP (and every hint with rd = x0), FENCE, FENCE.I: nothing to do here — a store to code already left the region.
  if (op === O.OP_NOP || op === O.OP_FENCE || op === O.OP_FENCE_I) return true;
  // LUI: "places the U-immediate value in the top 20 bits of rd, filling the lowest 12 bits with zeros"
  if (op === O.OP_LUI) { const to = g.beginSet(e.rd); w.i32Const(e.imm); g.endSet(e.rd, to); return true; }
  // AUIPC: "adds this offset to the address of the AUIPC instruction"
  if (op === O.OP_AUIPC) { const to = g.beginSet(e.rd); g.pc(e.index); w.i32Const(e.imm).op(Op.i32Add); g.endSet(e.rd, to); return true; }
  const high = HIGH_PRODUCT[op];
  if (high !== null) {
    const to = g.beginSet(e.rd);
    g.get(e.rs1); w.op(high[0]); g.get(e.rs2); w.op(high[1]); w.op(Op.i64Mul);
    w.op(Op.i64Const).op(32).op(Op.i64ShrU).op(Op.i32WrapI64);
    g.endSet(e.rd, to);
    return true;
  }
  if (DIVIDES[op]) {
    const to = g.beginSet(e.rd);
    g.get(e.rs2); g.beginNested(); divide(g, e); g.endNested();
    g.endSet(e.rd, to);
    return true;
  }
  return false;
}

/** DIV/DIVU/REM/REMU with RISC-V's defined results where WebAssembly would trap, from rs2 on the stack. */
function divide(g: Gen, e: Entry): void {
  const w = g.w;
  w.op(Op.i32Eqz);
  w.blockType(Op.if, Type.i32);
  // "The quotient of division by zero has all bits set, and the remainder of division by zero equals the dividend."
  if (e.op === O.OP_DIV || e.op === O.OP_DIVU) w.i32Const(-1); else g.get(e.rs1);
  w.op(Op.else);
  if (e.op === O.OP_DIV) {
    // "Signed division overflow occurs only when the most-negative integer is divided by −1. The quotient ... is
    // equal to the dividend" (WebAssembly's i32.div_s would trap)
    g.get(e.rs1).w.i32Const(-0x80000000).op(Op.i32Eq); g.get(e.rs2).w.i32Const(-1).op(Op.i32Eq).op(Op.i32And);
    w.blockType(Op.if, Type.i32); g.get(e.rs1); w.op(Op.else); g.get(e.rs1); g.get(e.rs2); w.op(Op.i32DivS); w.op(Op.end);
  } else {
    // "... and the remainder is zero": i32.rem_s(-2^31, -1) is 0 in WebAssembly too
    g.get(e.rs1); g.get(e.rs2);
    w.op(e.op === O.OP_DIVU ? Op.i32DivU : e.op === O.OP_REM ? Op.i32RemS : Op.i32RemU);
  }
  w.op(Op.end);
}
