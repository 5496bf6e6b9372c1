// Operation ids of decoded instructions: the values of byte 0 of a decoded entry.
//
// A decoded entry is 8 bytes, one per guest halfword of a code page:
//   byte 0  op id (below)
//   byte 1  rd * 4 (a byte offset into the register file; 128 = the sink for
//           rd = x0 on instructions with side effects); bits 0..1 give the
//           instruction's length: 1 = 2 bytes, 2 = 4 bytes, so that
//           (entry >> 5) & 24 is the distance to the next entry
//   byte 2  rs1 * 4
//   byte 3  rs2 * 4 (or a CSR zimm / AMO flags, see decode.ts)
//   bytes 4..7  immediate (i32): for in-page branches already scaled to an
//               entry-pointer delta (byte offset * 4).
// Entry 0 means "not decoded yet", so a zero-filled page decodes lazily.

export const OP_DECODE: u32 = 0; // not decoded yet: decode in place and dispatch again
export const OP_PAGE_END: u32 = 1; // sentinel after the last entry: continue on the next page
export const OP_STRADDLE: u32 = 2; // a 4-byte instruction at offset 0xffe: fetch its upper half from the next page
export const OP_ILLEGAL: u32 = 3; // imm = the instruction bits (tval)
export const OP_NOP: u32 = 4; // includes every side-effect-free instruction with rd = x0

// RV32I register-immediate
export const OP_ADDI: u32 = 5;
export const OP_SLTI: u32 = 6;
export const OP_SLTIU: u32 = 7;
export const OP_XORI: u32 = 8;
export const OP_ORI: u32 = 9;
export const OP_ANDI: u32 = 10;
export const OP_SLLI: u32 = 11;
export const OP_SRLI: u32 = 12;
export const OP_SRAI: u32 = 13;
export const OP_LUI: u32 = 14;
export const OP_AUIPC: u32 = 15;
// RV32I register-register
export const OP_ADD: u32 = 16;
export const OP_SUB: u32 = 17;
export const OP_SLL: u32 = 18;
export const OP_SLT: u32 = 19;
export const OP_SLTU: u32 = 20;
export const OP_XOR: u32 = 21;
export const OP_SRL: u32 = 22;
export const OP_SRA: u32 = 23;
export const OP_OR: u32 = 24;
export const OP_AND: u32 = 25;
// Jumps and branches: _L = target on the same page (imm is an entry delta), _F = elsewhere
export const OP_JAL_L: u32 = 26;
export const OP_JAL_F: u32 = 27;
export const OP_JALR: u32 = 28;
export const OP_BEQ_L: u32 = 29;
export const OP_BNE_L: u32 = 30;
export const OP_BLT_L: u32 = 31;
export const OP_BGE_L: u32 = 32;
export const OP_BLTU_L: u32 = 33;
export const OP_BGEU_L: u32 = 34;
export const OP_BEQ_F: u32 = 35;
export const OP_BNE_F: u32 = 36;
export const OP_BLT_F: u32 = 37;
export const OP_BGE_F: u32 = 38;
export const OP_BLTU_F: u32 = 39;
export const OP_BGEU_F: u32 = 40;
// Loads and stores
export const OP_LB: u32 = 41;
export const OP_LH: u32 = 42;
export const OP_LW: u32 = 43;
export const OP_LBU: u32 = 44;
export const OP_LHU: u32 = 45;
export const OP_SB: u32 = 46;
export const OP_SH: u32 = 47;
export const OP_SW: u32 = 48;
// M
export const OP_MUL: u32 = 49;
export const OP_MULH: u32 = 50;
export const OP_MULHSU: u32 = 51;
export const OP_MULHU: u32 = 52;
export const OP_DIV: u32 = 53;
export const OP_DIVU: u32 = 54;
export const OP_REM: u32 = 55;
export const OP_REMU: u32 = 56;
// A
export const OP_LR_W: u32 = 57;
export const OP_SC_W: u32 = 58;
export const OP_AMOSWAP_W: u32 = 59;
export const OP_AMOADD_W: u32 = 60;
export const OP_AMOXOR_W: u32 = 61;
export const OP_AMOAND_W: u32 = 62;
export const OP_AMOOR_W: u32 = 63;
export const OP_AMOMIN_W: u32 = 64;
export const OP_AMOMAX_W: u32 = 65;
export const OP_AMOMINU_W: u32 = 66;
export const OP_AMOMAXU_W: u32 = 67;
// System
export const OP_FENCE: u32 = 68;
export const OP_FENCE_I: u32 = 69;
export const OP_ECALL: u32 = 70;
export const OP_EBREAK: u32 = 71;
export const OP_MRET: u32 = 72;
export const OP_SRET: u32 = 73;
export const OP_WFI: u32 = 74;
export const OP_SFENCE_VMA: u32 = 75;
export const OP_CSRRW: u32 = 76;
export const OP_CSRRS: u32 = 77;
export const OP_CSRRC: u32 = 78;
export const OP_CSRRWI: u32 = 79;
export const OP_CSRRSI: u32 = 80;
export const OP_CSRRCI: u32 = 81;
// Translated code: imm = the WASM table index of a function compiled from the
// instructions starting here (src/jit). The original entry is kept at
// JIT_ORIGINALS + index * 8 for the slow step.
export const OP_JIT: u32 = 82;
export const OP_COUNT: u32 = 83;
