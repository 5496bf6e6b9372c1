// Translates a hot loop of decoded instructions into a WebAssembly function.
//
// The core counts taken backward branches; when a loop head gets hot it exits
// with EXIT_JIT_REQUEST and the entry's address. We read the decoded entries
// from there on (straight-line code, through not-taken branches, to the first
// instruction we do not translate or the end of the page) and emit a function
// with the fast loop's contract (assembly/fast.ts):
//   f(entry, budget, pc) -> next entry; the budget left is stored at JIT_BUDGET.
// A branch back to the head becomes a real WebAssembly loop, so a hot loop runs
// without any dispatch. Anything uncommon (a TLB miss, a branch elsewhere)
// returns to the interpreter at that instruction, which finishes it.
// Guest registers stay in the state block, so every exit leaves exact state.

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { CodeWriter, Op, Type, singleFunctionModule } from "./wasm-writer.js";

export interface DecodedEntry {
  offset: number; // bytes from the head entry (8 per guest halfword)
  op: number;
  rd: number; // register byte offsets (x * 4), 128 = sink
  rs1: number;
  rs2: number;
  imm: number;
  length: number; // guest bytes: 2 or 4
}

const MAX_TRACE = 160;

const ALU_IMM = new Map<number, number>([
  [O.OP_ADDI, Op.i32Add], [O.OP_SLTI, Op.i32LtS], [O.OP_SLTIU, Op.i32LtU], [O.OP_XORI, Op.i32Xor],
  [O.OP_ORI, Op.i32Or], [O.OP_ANDI, Op.i32And], [O.OP_SLLI, Op.i32Shl], [O.OP_SRLI, Op.i32ShrU], [O.OP_SRAI, Op.i32ShrS],
]);
const ALU_REG = new Map<number, number>([
  [O.OP_ADD, Op.i32Add], [O.OP_SUB, Op.i32Sub], [O.OP_SLL, Op.i32Shl], [O.OP_SLT, Op.i32LtS], [O.OP_SLTU, Op.i32LtU],
  [O.OP_XOR, Op.i32Xor], [O.OP_SRL, Op.i32ShrU], [O.OP_SRA, Op.i32ShrS], [O.OP_OR, Op.i32Or], [O.OP_AND, Op.i32And],
  [O.OP_MUL, Op.i32Mul],
]);
// [size mask for the TLB tag check, load opcode]
const LOADS = new Map<number, [number, number]>([
  [O.OP_LW, [0xfffff003, Op.i32Load]], [O.OP_LH, [0xfffff001, Op.i32Load16S]], [O.OP_LHU, [0xfffff001, Op.i32Load16U]],
  [O.OP_LB, [0xfffff000, Op.i32Load8S]], [O.OP_LBU, [0xfffff000, Op.i32Load8U]],
]);
const STORES = new Map<number, [number, number]>([
  [O.OP_SW, [0xfffff003, Op.i32Store]], [O.OP_SH, [0xfffff001, Op.i32Store16]], [O.OP_SB, [0xfffff000, Op.i32Store8]],
]);
// Branch conditions: "take the branch if ..."
const BRANCHES = new Map<number, number>([
  [O.OP_BEQ_L, Op.i32Eq], [O.OP_BNE_L, Op.i32Ne], [O.OP_BLT_L, Op.i32LtS], [O.OP_BGE_L, Op.i32GeS],
  [O.OP_BLTU_L, Op.i32LtU], [O.OP_BGEU_L, Op.i32GeU],
]);
const MULH = new Map<number, [number, number]>([
  [O.OP_MULH, [Op.i64ExtendI32S, Op.i64ExtendI32S]], [O.OP_MULHSU, [Op.i64ExtendI32S, Op.i64ExtendI32U]],
  [O.OP_MULHU, [Op.i64ExtendI32U, Op.i64ExtendI32U]],
]);
const NOPS = new Set<number>([O.OP_NOP, O.OP_FENCE, O.OP_FENCE_I]);
const DIVS = new Set<number>([O.OP_DIV, O.OP_DIVU, O.OP_REM, O.OP_REMU]);

export function translatable(op: number): boolean {
  return ALU_IMM.has(op) || ALU_REG.has(op) || LOADS.has(op) || STORES.has(op) || BRANCHES.has(op) || MULH.has(op) ||
    NOPS.has(op) || DIVS.has(op) || op === O.OP_LUI || op === O.OP_AUIPC || op === O.OP_JAL_L;
}

/** The straight-line run of translatable entries from the head (the first entry is the head). */
export function collectTrace(read: (offset: number) => DecodedEntry): DecodedEntry[] {
  const trace: DecodedEntry[] = [];
  let offset = 0;
  while (trace.length < MAX_TRACE) {
    const e = read(offset);
    if (!translatable(e.op)) break;
    trace.push(e);
    if (e.op === O.OP_JAL_L) break; // an unconditional jump ends the straight line
    offset += e.length * 4;
  }
  return trace;
}

// Parameters and locals of the emitted function
const P_ENTRY = 0, P_BUDGET = 1, P_PC = 2, L_ADDR = 3, L_TLB = 4;

/** Emits the module for a trace. */
export function emitTrace(trace: DecodedEntry[]): Uint8Array<ArrayBuffer> {
  const w = new CodeWriter();
  const reg = (r: number) => w.i32Const(0).mem(Op.i32Load, L.STATE_BASE + r);
  const setReg = (rd: number, value: () => void) => { w.i32Const(0); value(); w.mem(Op.i32Store, L.STATE_BASE + rd); };
  // Leave: the budget left is budget - retired; continue at entry `offset`.
  const exit = (offset: number, retired: number) => {
    w.i32Const(0).localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).mem(Op.i32Store, L.JIT_BUDGET);
    w.localGet(P_ENTRY).i32Const(offset).op(Op.i32Add).op(Op.return);
  };
  // Jump to an entry of this page: back to the head loops; anywhere else leaves.
  let depth = 0; // blocks between the current position and the loop
  const jump = (target: number, retired: number) => {
    if (target !== 0) { exit(target, retired); return; }
    w.localGet(P_BUDGET).i32Const(retired).op(Op.i32Sub).localTee(P_BUDGET).i32Const(0).op(Op.i32LeS);
    w.blockType(Op.if, Type.void); exit(0, 0); w.op(Op.end);
    w.br(Op.br, depth);
  };
  const tlbCheck = (e: DecodedEntry, k: number, tlb: number, mask: number) => {
    w.localGet(L_ADDR).i32Const(12).op(Op.i32ShrU).i32Const(L.TLB_ENTRIES - 1).op(Op.i32And).i32Const(3).op(Op.i32Shl).localTee(L_TLB);
    w.mem(Op.i32Load, tlb).localGet(L_ADDR).i32Const(mask).op(Op.i32And).op(Op.i32Ne);
    w.blockType(Op.if, Type.void); exit(e.offset, k); w.op(Op.end);
  };

  w.blockType(Op.loop, Type.void);
  trace.forEach((e, k) => {
    const alu = ALU_IMM.get(e.op) ?? ALU_REG.get(e.op);
    if (NOPS.has(e.op)) return;
    if (ALU_IMM.has(e.op)) { setReg(e.rd, () => { reg(e.rs1); w.i32Const(e.imm).op(alu!); }); return; }
    if (ALU_REG.has(e.op)) { setReg(e.rd, () => { reg(e.rs1); reg(e.rs2); w.op(alu!); }); return; }
    if (e.op === O.OP_LUI) { setReg(e.rd, () => w.i32Const(e.imm)); return; }
    // AUIPC: "adds this offset to the address of the AUIPC instruction"
    if (e.op === O.OP_AUIPC) { setReg(e.rd, () => w.localGet(P_PC).i32Const((e.offset >> 2) + e.imm).op(Op.i32Add)); return; }
    const mulh = MULH.get(e.op);
    if (mulh) {
      // MULH[S][U]: the upper 32 bits of the 64-bit product
      setReg(e.rd, () => {
        reg(e.rs1); w.op(mulh[0]); reg(e.rs2); w.op(mulh[1]); w.op(Op.i64Mul);
        w.op(Op.i64Const).op(32).op(Op.i64ShrU).op(Op.i32WrapI64);
      });
      return;
    }
    if (DIVS.has(e.op)) { setReg(e.rd, () => emitDivide(w, e, reg)); return; }
    const load = LOADS.get(e.op);
    if (load) {
      reg(e.rs1); w.i32Const(e.imm).op(Op.i32Add).localSet(L_ADDR);
      tlbCheck(e, k, L.TLB_READ, load[0]);
      setReg(e.rd, () => { w.localGet(L_TLB).mem(Op.i32Load, L.TLB_READ + 4).localGet(L_ADDR).op(Op.i32Add).mem(load[1], 0); });
      return;
    }
    const store = STORES.get(e.op);
    if (store) {
      reg(e.rs1); w.i32Const(e.imm).op(Op.i32Add).localSet(L_ADDR);
      tlbCheck(e, k, L.TLB_WRITE, store[0]);
      w.localGet(L_TLB).mem(Op.i32Load, L.TLB_WRITE + 4).localGet(L_ADDR).op(Op.i32Add);
      reg(e.rs2);
      w.mem(store[1], 0);
      return;
    }
    const cond = BRANCHES.get(e.op);
    if (cond !== undefined) {
      reg(e.rs1); reg(e.rs2); w.op(cond);
      w.blockType(Op.if, Type.void); depth++;
      jump(e.offset + e.imm, k + 1);
      w.op(Op.end); depth--;
      return;
    }
    if (e.op === O.OP_JAL_L) {
      // JAL: "stores the address of the instruction following the jump into register rd"
      setReg(e.rd, () => w.localGet(P_PC).i32Const((e.offset >> 2) + e.length).op(Op.i32Add));
      jump(e.offset + e.imm, k + 1);
      return;
    }
    throw new Error(`translate: op ${e.op} is not translatable`);
  });
  const last = trace[trace.length - 1];
  if (last.op !== O.OP_JAL_L) exit(last.offset + last.length * 4, trace.length);
  w.op(Op.end); // loop
  w.op(0x00); // unreachable: every path above returns
  return singleFunctionModule(w, [Type.i32, Type.i32]);
}

/** DIV/DIVU/REM/REMU with RISC-V's defined results for division by zero and overflow. */
function emitDivide(w: CodeWriter, e: DecodedEntry, reg: (r: number) => CodeWriter): void {
  reg(e.rs2).op(Op.i32Eqz);
  w.blockType(Op.if, Type.i32);
  // "division by zero": DIV/DIVU give all ones, REM/REMU give the dividend
  if (e.op === O.OP_DIV || e.op === O.OP_DIVU) w.i32Const(-1); else reg(e.rs1);
  w.op(Op.else);
  if (e.op === O.OP_DIV) {
    // "overflow (-2^31 / -1)": the quotient is -2^31 (WebAssembly would trap)
    reg(e.rs1).i32Const(-0x80000000).op(Op.i32Eq); reg(e.rs2).i32Const(-1).op(Op.i32Eq).op(Op.i32And);
    w.blockType(Op.if, Type.i32); reg(e.rs1); w.op(Op.else); reg(e.rs1); reg(e.rs2); w.op(Op.i32DivS); w.op(Op.end);
  } else {
    // i32.rem_s(-2^31, -1) is 0 in WebAssembly, as RISC-V wants
    reg(e.rs1); reg(e.rs2);
    w.op(e.op === O.OP_DIVU ? Op.i32DivU : e.op === O.OP_REM ? Op.i32RemS : Op.i32RemU);
  }
  w.op(Op.end);
}
