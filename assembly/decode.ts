// Instruction decoding, driven by one table of (mask, match, op, format) rows in
// the style of riscv-opcodes. Compressed instructions are first expanded to
// their 32-bit equivalents (RVC spec, chapter "C" Standard Extension) and then
// decoded by the same table, so there is one place that knows each encoding.
//
// Decoding is lazy and cached: the interpreter keeps a decoded copy of every
// code page it runs (see memory.ts); an entry is decoded the first time the
// interpreter reaches it.

import * as O from "./ops";

// Operand formats
const F_R: u32 = 0; // rd, rs1, rs2
const F_I: u32 = 1; // rd, rs1, imm[11:0]
const F_S: u32 = 2; // rs1, rs2, store offset
const F_B: u32 = 3; // rs1, rs2, branch offset
const F_U: u32 = 4; // rd, imm[31:12]
const F_J: u32 = 5; // rd, jump offset
const F_SH: u32 = 6; // rd, rs1, shamt
const F_CSR: u32 = 7; // rd, rs1, csr
const F_CSRI: u32 = 8; // rd, zimm (in the rs2 byte), csr
const F_NONE: u32 = 9;
const F_RS: u32 = 10; // rs1, rs2 only (sfence.vma)

// One row per instruction: mask, match, op | format << 8.
// prettier-ignore
const TABLE: StaticArray<u32> = [
  // RV32I
  0x0000007f, 0x00000037, O.OP_LUI | F_U << 8,
  0x0000007f, 0x00000017, O.OP_AUIPC | F_U << 8,
  0x0000007f, 0x0000006f, O.OP_JAL_L | F_J << 8,
  0x0000707f, 0x00000067, O.OP_JALR | F_I << 8,
  0x0000707f, 0x00000063, O.OP_BEQ_L | F_B << 8,
  0x0000707f, 0x00001063, O.OP_BNE_L | F_B << 8,
  0x0000707f, 0x00004063, O.OP_BLT_L | F_B << 8,
  0x0000707f, 0x00005063, O.OP_BGE_L | F_B << 8,
  0x0000707f, 0x00006063, O.OP_BLTU_L | F_B << 8,
  0x0000707f, 0x00007063, O.OP_BGEU_L | F_B << 8,
  0x0000707f, 0x00000003, O.OP_LB | F_I << 8,
  0x0000707f, 0x00001003, O.OP_LH | F_I << 8,
  0x0000707f, 0x00002003, O.OP_LW | F_I << 8,
  0x0000707f, 0x00004003, O.OP_LBU | F_I << 8,
  0x0000707f, 0x00005003, O.OP_LHU | F_I << 8,
  0x0000707f, 0x00000023, O.OP_SB | F_S << 8,
  0x0000707f, 0x00001023, O.OP_SH | F_S << 8,
  0x0000707f, 0x00002023, O.OP_SW | F_S << 8,
  0x0000707f, 0x00000013, O.OP_ADDI | F_I << 8,
  0x0000707f, 0x00002013, O.OP_SLTI | F_I << 8,
  0x0000707f, 0x00003013, O.OP_SLTIU | F_I << 8,
  0x0000707f, 0x00004013, O.OP_XORI | F_I << 8,
  0x0000707f, 0x00006013, O.OP_ORI | F_I << 8,
  0x0000707f, 0x00007013, O.OP_ANDI | F_I << 8,
  0xfe00707f, 0x00001013, O.OP_SLLI | F_SH << 8,
  0xfe00707f, 0x00005013, O.OP_SRLI | F_SH << 8,
  0xfe00707f, 0x40005013, O.OP_SRAI | F_SH << 8,
  0xfe00707f, 0x00000033, O.OP_ADD | F_R << 8,
  0xfe00707f, 0x40000033, O.OP_SUB | F_R << 8,
  0xfe00707f, 0x00001033, O.OP_SLL | F_R << 8,
  0xfe00707f, 0x00002033, O.OP_SLT | F_R << 8,
  0xfe00707f, 0x00003033, O.OP_SLTU | F_R << 8,
  0xfe00707f, 0x00004033, O.OP_XOR | F_R << 8,
  0xfe00707f, 0x00005033, O.OP_SRL | F_R << 8,
  0xfe00707f, 0x40005033, O.OP_SRA | F_R << 8,
  0xfe00707f, 0x00006033, O.OP_OR | F_R << 8,
  0xfe00707f, 0x00007033, O.OP_AND | F_R << 8,
  0x0000707f, 0x0000000f, O.OP_FENCE | F_NONE << 8,
  0xffffffff, 0x00000073, O.OP_ECALL | F_NONE << 8,
  0xffffffff, 0x00100073, O.OP_EBREAK | F_NONE << 8,
  // Zifencei
  0x0000707f, 0x0000100f, O.OP_FENCE_I | F_NONE << 8,
  // Privileged
  0xffffffff, 0x30200073, O.OP_MRET | F_NONE << 8,
  0xffffffff, 0x10200073, O.OP_SRET | F_NONE << 8,
  0xffffffff, 0x10500073, O.OP_WFI | F_NONE << 8,
  0xfe007fff, 0x12000073, O.OP_SFENCE_VMA | F_RS << 8,
  // Zicsr
  0x0000707f, 0x00001073, O.OP_CSRRW | F_CSR << 8,
  0x0000707f, 0x00002073, O.OP_CSRRS | F_CSR << 8,
  0x0000707f, 0x00003073, O.OP_CSRRC | F_CSR << 8,
  0x0000707f, 0x00005073, O.OP_CSRRWI | F_CSRI << 8,
  0x0000707f, 0x00006073, O.OP_CSRRSI | F_CSRI << 8,
  0x0000707f, 0x00007073, O.OP_CSRRCI | F_CSRI << 8,
  // M
  0xfe00707f, 0x02000033, O.OP_MUL | F_R << 8,
  0xfe00707f, 0x02001033, O.OP_MULH | F_R << 8,
  0xfe00707f, 0x02002033, O.OP_MULHSU | F_R << 8,
  0xfe00707f, 0x02003033, O.OP_MULHU | F_R << 8,
  0xfe00707f, 0x02004033, O.OP_DIV | F_R << 8,
  0xfe00707f, 0x02005033, O.OP_DIVU | F_R << 8,
  0xfe00707f, 0x02006033, O.OP_REM | F_R << 8,
  0xfe00707f, 0x02007033, O.OP_REMU | F_R << 8,
  // A (aq/rl bits 26:25 are ignored: one hart, sequentially consistent)
  0xf9f0707f, 0x1000202f, O.OP_LR_W | F_R << 8,
  0xf800707f, 0x1800202f, O.OP_SC_W | F_R << 8,
  0xf800707f, 0x0800202f, O.OP_AMOSWAP_W | F_R << 8,
  0xf800707f, 0x0000202f, O.OP_AMOADD_W | F_R << 8,
  0xf800707f, 0x2000202f, O.OP_AMOXOR_W | F_R << 8,
  0xf800707f, 0x6000202f, O.OP_AMOAND_W | F_R << 8,
  0xf800707f, 0x4000202f, O.OP_AMOOR_W | F_R << 8,
  0xf800707f, 0x8000202f, O.OP_AMOMIN_W | F_R << 8,
  0xf800707f, 0xa000202f, O.OP_AMOMAX_W | F_R << 8,
  0xf800707f, 0xc000202f, O.OP_AMOMINU_W | F_R << 8,
  0xf800707f, 0xe000202f, O.OP_AMOMAXU_W | F_R << 8,
];

/** The register-file byte offset that receives writes to x0 on instructions with side effects. */
export const SINK: u32 = 128;

// Instructions whose only effect is writing rd: with rd = x0 they are NOPs (hints).
@inline function isPureAlu(op: u32): bool {
  return (op >= O.OP_ADDI && op <= O.OP_AND) || (op >= O.OP_MUL && op <= O.OP_REMU);
}

@inline function immI(raw: u32): i32 { return (<i32>raw) >> 20; }
@inline function immS(raw: u32): i32 { return (((<i32>raw) >> 25) << 5) | <i32>((raw >> 7) & 31); }
@inline function immB(raw: u32): i32 {
  return (((<i32>raw) >> 31) << 12) | <i32>(((raw >> 7) & 1) << 11) | <i32>(((raw >> 25) & 0x3f) << 5) | <i32>(((raw >> 8) & 0xf) << 1);
}
@inline function immJ(raw: u32): i32 {
  return (((<i32>raw) >> 31) << 20) | <i32>(raw & 0xff000) | <i32>(((raw >> 20) & 1) << 11) | <i32>(((raw >> 21) & 0x3ff) << 1);
}

@inline function writeEntry(entry: usize, op: u32, rd: u32, rs1: u32, rs2: u32, len4: bool, imm: i32): void {
  store<u32>(entry, op | ((rd | (len4 ? 2 : 1)) << 8) | (rs1 << 16) | (rs2 << 24));
  store<i32>(entry, imm, 4);
}

/** Writes an entry that raises illegal-instruction with `bits` as tval. */
export function writeIllegal(entry: usize, bits: u32, len4: bool): void {
  writeEntry(entry, O.OP_ILLEGAL, 0, 0, 0, len4, <i32>bits);
}

/**
 * Decodes one instruction into the 8-byte entry at `entry`.
 * `raw` is the 32-bit instruction (compressed ones expanded), `original` the bits
 * as fetched (the tval of an illegal instruction), `pageOffset` its offset in the
 * page (to tell in-page branch targets), `len4` whether it is 4 bytes long.
 * `forceFar` disables in-page branch shortcuts (for the straddle scratch page).
 */
export function decodeInto(entry: usize, raw: u32, original: u32, len4: bool, pageOffset: u32, forceFar: bool): void {
  let row: i32 = -1;
  for (let i = 0; i < TABLE.length; i += 3) {
    if ((raw & unchecked(TABLE[i])) == unchecked(TABLE[i + 1])) { row = i; break; }
  }
  if (row < 0) { writeIllegal(entry, original, len4); return; }
  const opf = unchecked(TABLE[row + 2]);
  let op = opf & 0xff;
  const fmt = opf >> 8;
  const rd = ((raw >> 7) & 31) << 2;
  const rs1 = ((raw >> 15) & 31) << 2;
  const rs2 = ((raw >> 20) & 31) << 2;
  let dest = rd;
  if (rd == 0) {
    if (isPureAlu(op) || op == O.OP_LUI || op == O.OP_AUIPC) { writeEntry(entry, O.OP_NOP, 0, 0, 0, len4, 0); return; }
    dest = SINK;
  }
  switch (fmt) {
    case F_R: writeEntry(entry, op, dest, rs1, rs2, len4, 0); break;
    case F_I: writeEntry(entry, op, dest, rs1, 0, len4, immI(raw)); break;
    case F_S: writeEntry(entry, op, 0, rs1, rs2, len4, immS(raw)); break;
    case F_SH: writeEntry(entry, op, dest, rs1, 0, len4, <i32>((raw >> 20) & 31)); break;
    case F_U: writeEntry(entry, op, dest, 0, 0, len4, <i32>(raw & 0xfffff000)); break;
    case F_CSR: writeEntry(entry, op, dest, rs1, 0, len4, <i32>(raw >> 20)); break;
    case F_CSRI: writeEntry(entry, op, dest, 0, (raw >> 15) & 31, len4, <i32>(raw >> 20)); break;
    case F_NONE: writeEntry(entry, op, 0, 0, 0, len4, 0); break;
    case F_RS: writeEntry(entry, op, 0, rs1, rs2, len4, 0); break;
    case F_B: {
      const off = immB(raw);
      const target = <i32>pageOffset + off;
      if (!forceFar && target >= 0 && target < 4096) writeEntry(entry, op, 0, rs1, rs2, len4, off << 2);
      else writeEntry(entry, op + (O.OP_BEQ_F - O.OP_BEQ_L), 0, rs1, rs2, len4, off);
      break;
    }
    case F_J: {
      const off = immJ(raw);
      const target = <i32>pageOffset + off;
      if (!forceFar && target >= 0 && target < 4096) writeEntry(entry, O.OP_JAL_L, dest, 0, 0, len4, off << 2);
      else writeEntry(entry, O.OP_JAL_F, dest, 0, 0, len4, off);
      break;
    }
    default: writeIllegal(entry, original, len4);
  }
}

// ---- RVC expansion -----------------------------------------------------------

@inline function encI(opc: u32, rd: u32, f3: u32, rs1: u32, imm: i32): u32 {
  return ((<u32>imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
@inline function encS(opc: u32, f3: u32, rs1: u32, rs2: u32, imm: i32): u32 {
  const u = <u32>imm;
  return (((u >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | opc;
}
@inline function encR(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32): u32 {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33;
}
@inline function encB(f3: u32, rs1: u32, rs2: u32, imm: i32): u32 {
  const u = <u32>imm;
  return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
@inline function encJ(rd: u32, imm: i32): u32 {
  const u = <u32>imm;
  return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) | (u & 0xff000) | (rd << 7) | 0x6f;
}
@inline function bit(h: u32, from: u32, to: u32): u32 { return ((h >> from) & 1) << to; }
@inline function sext(v: u32, bits: u32): i32 { return (<i32>(v << (32 - bits))) >> (32 - bits); }

/** The CJ-format jump offset of c.j / c.jal: imm[11|4|9:8|10|6|7|3:1|5]. */
@inline function cjOffset(h: u32): i32 {
  const v = bit(h, 12, 11) | bit(h, 11, 4) | bit(h, 10, 9) | bit(h, 9, 8) | bit(h, 8, 10) | bit(h, 7, 6) |
    bit(h, 6, 7) | bit(h, 5, 3) | bit(h, 4, 2) | bit(h, 3, 1) | bit(h, 2, 5);
  return sext(v, 12);
}
/** The CB-format branch offset of c.beqz / c.bnez: offset[8|4:3] and [7:6|2:1|5]. */
@inline function cbOffset(h: u32): i32 {
  const v = bit(h, 12, 8) | bit(h, 11, 4) | bit(h, 10, 3) | bit(h, 6, 7) | bit(h, 5, 6) | bit(h, 4, 2) | bit(h, 3, 1) | bit(h, 2, 5);
  return sext(v, 9);
}

const ILLEGAL: u32 = 0; // 0 is never a valid 32-bit encoding (its low bits say "compressed")

/** Expands a 16-bit instruction to its 32-bit equivalent, or returns 0 when it is illegal on RV32IMAC. */
export function expandCompressed(h: u32): u32 {
  const quadrant = h & 3;
  const f3 = (h >> 13) & 7;
  const rdFull = (h >> 7) & 31; // rd/rs1 in CI/CR formats
  const rs2Full = (h >> 2) & 31;
  const rdP = ((h >> 2) & 7) + 8; // rd' / rs2'
  const rs1P = ((h >> 7) & 7) + 8; // rs1' / rd'
  const imm6 = sext(bit(h, 12, 5) | ((h >> 2) & 31), 6); // CI immediate
  if (quadrant == 0) {
    if (f3 == 0) {
      // C.ADDI4SPN: "addi rd', x2, nzuimm[9:2]"; nzuimm = 0 is reserved
      const nzuimm = ((h >> 7) & 0x30) | ((h >> 1) & 0x3c0) | bit(h, 6, 2) | bit(h, 5, 3);
      if (nzuimm == 0) return ILLEGAL;
      return encI(0x13, rdP, 0, 2, <i32>nzuimm);
    }
    const uimm = ((h >> 7) & 0x38) | bit(h, 6, 2) | bit(h, 5, 6);
    if (f3 == 2) return encI(0x03, rdP, 2, rs1P, <i32>uimm); // C.LW: "lw rd', offset(rs1')"
    if (f3 == 6) return encS(0x23, 2, rs1P, rdP, <i32>uimm); // C.SW: "sw rs2', offset(rs1')"
    return ILLEGAL; // C.FLD/C.FLW/C.FSD/C.FSW (no F/D) and the reserved slot
  }
  if (quadrant == 1) {
    switch (f3) {
      case 0: return encI(0x13, rdFull, 0, rdFull, imm6); // C.ADDI (C.NOP when rd = 0): "addi rd, rd, nzimm"
      case 1: return encJ(1, cjOffset(h)); // C.JAL (RV32): "jal x1, offset"
      case 2: return encI(0x13, rdFull, 0, 0, imm6); // C.LI: "addi rd, x0, imm"
      case 3: {
        if (rdFull == 2) {
          // C.ADDI16SP: "addi x2, x2, nzimm[9:4]"; nzimm = 0 is reserved
          const v = bit(h, 12, 9) | bit(h, 6, 4) | bit(h, 5, 6) | bit(h, 4, 8) | bit(h, 3, 7) | bit(h, 2, 5);
          if (v == 0) return ILLEGAL;
          return encI(0x13, 2, 0, 2, sext(v, 10));
        }
        // C.LUI: "lui rd, nzimm[17:12]"; nzimm = 0 is reserved
        if (imm6 == 0) return ILLEGAL;
        return ((<u32>imm6 << 12) & 0xfffff000) | (rdFull << 7) | 0x37;
      }
      case 4: {
        const f2 = (h >> 10) & 3;
        if (f2 < 2) {
          // C.SRLI / C.SRAI: shamt[5] must be 0 on RV32
          if (h & 0x1000) return ILLEGAL;
          return encI(0x13, rs1P, 5, rs1P, <i32>(((h >> 2) & 31) | (f2 == 1 ? 0x400 : 0)));
        }
        if (f2 == 2) return encI(0x13, rs1P, 7, rs1P, imm6); // C.ANDI: "andi rd', rd', imm"
        if (h & 0x1000) return ILLEGAL; // C.SUBW/C.ADDW are RV64 only
        switch ((h >> 5) & 3) {
          case 0: return encR(0x20, rdP, rs1P, 0, rs1P); // C.SUB
          case 1: return encR(0, rdP, rs1P, 4, rs1P); // C.XOR
          case 2: return encR(0, rdP, rs1P, 6, rs1P); // C.OR
          default: return encR(0, rdP, rs1P, 7, rs1P); // C.AND
        }
      }
      case 5: return encJ(0, cjOffset(h)); // C.J: "jal x0, offset"
      case 6: return encB(0, rs1P, 0, cbOffset(h)); // C.BEQZ: "beq rs1', x0, offset"
      default: return encB(1, rs1P, 0, cbOffset(h)); // C.BNEZ: "bne rs1', x0, offset"
    }
  }
  if (quadrant == 2) {
    switch (f3) {
      case 0: {
        if (h & 0x1000) return ILLEGAL; // C.SLLI shamt[5] must be 0 on RV32
        return encI(0x13, rdFull, 1, rdFull, <i32>rs2Full); // C.SLLI: "slli rd, rd, shamt"
      }
      case 2: {
        // C.LWSP: "lw rd, offset(x2)"; rd = 0 is reserved
        if (rdFull == 0) return ILLEGAL;
        const off = bit(h, 12, 5) | ((h >> 2) & 0x1c) | ((h << 4) & 0xc0);
        return encI(0x03, rdFull, 2, 2, <i32>off);
      }
      case 4: {
        if ((h & 0x1000) == 0) {
          if (rs2Full == 0) {
            if (rdFull == 0) return ILLEGAL; // C.JR with rs1 = 0 is reserved
            return encI(0x67, 0, 0, rdFull, 0); // C.JR: "jalr x0, 0(rs1)"
          }
          return encR(0, rs2Full, 0, 0, rdFull); // C.MV: "add rd, x0, rs2"
        }
        if (rs2Full == 0) {
          if (rdFull == 0) return 0x00100073; // C.EBREAK
          return encI(0x67, 1, 0, rdFull, 0); // C.JALR: "jalr x1, 0(rs1)"
        }
        return encR(0, rs2Full, rdFull, 0, rdFull); // C.ADD: "add rd, rd, rs2"
      }
      case 6: {
        // C.SWSP: "sw rs2, offset(x2)"
        const off = ((h >> 7) & 0x3c) | ((h >> 1) & 0xc0);
        return encS(0x23, 2, 2, rs2Full, <i32>off);
      }
      default: return ILLEGAL; // floating-point loads/stores
    }
  }
  return ILLEGAL;
}
