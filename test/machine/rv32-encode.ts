// Just enough of an RV32I encoder to write tiny test guests inline, so the
// end-to-end tests need no cross toolchain. Registers are numbers (x0..x31).

export const ZERO = 0, RA = 1, SP = 2, T0 = 5, T1 = 6, T2 = 7, A0 = 10, A1 = 11, T3 = 28;

export const CSR = { mstatus: 0x300, mie: 0x304, mtvec: 0x305, mepc: 0x341, mcause: 0x342 } as const;

const r = (funct7: number, rs2: number, rs1: number, funct3: number, rd: number, opcode: number) =>
  ((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
const i = (imm: number, rs1: number, funct3: number, rd: number, opcode: number) =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;

export const lui = (rd: number, upper20: number) => (((upper20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0;
export const addi = (rd: number, rs1: number, imm: number) => i(imm, rs1, 0, rd, 0x13);
export const slli = (rd: number, rs1: number, shamt: number) => i(shamt, rs1, 1, rd, 0x13);
export const add = (rd: number, rs1: number, rs2: number) => r(0, rs2, rs1, 0, rd, 0x33);
export const or = (rd: number, rs1: number, rs2: number) => r(0, rs2, rs1, 6, rd, 0x33);
export const lw = (rd: number, rs1: number, imm: number) => i(imm, rs1, 2, rd, 0x03);
export const lbu = (rd: number, rs1: number, imm: number) => i(imm, rs1, 4, rd, 0x03);
export const sw = (rs2: number, rs1: number, imm: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 0x1f) << 7) | 0x23) >>> 0;
export const sb = (rs2: number, rs1: number, imm: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (0 << 12) | ((imm & 0x1f) << 7) | 0x23) >>> 0;
export const csrw = (csr: number, rs1: number) => i(csr, rs1, 1, 0, 0x73);
export const csrr = (rd: number, csr: number) => i(csr, 0, 2, rd, 0x73);
export const csrsi = (csr: number, uimm: number) => i(csr, uimm, 6, 0, 0x73);
export const wfi = () => 0x10500073;

// jal rd, offset (bytes, relative to this instruction)
export const jal = (rd: number, offset: number) =>
  ((((offset >> 20) & 1) << 31) |
    (((offset >> 1) & 0x3ff) << 21) |
    (((offset >> 11) & 1) << 20) |
    (((offset >> 12) & 0xff) << 12) |
    (rd << 7) |
    0x6f) >>>
  0;

// li rd, value as lui + addi (always two instructions, so addresses are predictable).
export function li(rd: number, value: number): number[] {
  const lower = (value << 20) >> 20; // low 12 bits, sign-extended as addi will
  const upper = ((value - lower) >>> 12) & 0xfffff;
  return [lui(rd, upper), addi(rd, rd, lower)];
}

export type Code = number | Code[];

export function words(...parts: Code[]): Uint8Array {
  const flat = (parts.flat(Infinity as 1) as number[]);
  const bytes = new Uint8Array(flat.length * 4);
  const view = new DataView(bytes.buffer);
  flat.forEach((word, index) => view.setUint32(index * 4, word, true));
  return bytes;
}
