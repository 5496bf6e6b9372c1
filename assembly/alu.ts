// Instruction semantics of the integer operations, apart from dispatch (interp.ts).
// Each is a one-liner with the spec's words; all are inlined into the dispatch loop.

// ---- RV32I ----------------------------------------------------------------------------
/** ADD: "performs the addition of rs1 and rs2; overflows are ignored". */
@inline export function add(a: u32, b: u32): u32 { return a + b; }
/** SUB: "performs the subtraction of rs2 from rs1". */
@inline export function sub(a: u32, b: u32): u32 { return a - b; }
/** SLT: "writes 1 to rd if rs1 < rs2 (signed), 0 otherwise". */
@inline export function slt(a: u32, b: u32): u32 { return <u32>(<i32>a < <i32>b); }
/** SLTU: "writes 1 to rd if rs1 < rs2 (unsigned), 0 otherwise". */
@inline export function sltu(a: u32, b: u32): u32 { return <u32>(a < b); }
/** SLL: "logical left shift on the value in rs1 by the shift amount held in the lower 5 bits of rs2". */
@inline export function sll(a: u32, b: u32): u32 { return a << (b & 31); }
/** SRL: "logical right shift ... by the lower 5 bits of rs2". */
@inline export function srl(a: u32, b: u32): u32 { return a >>> (b & 31); }
/** SRA: "arithmetic right shift ... by the lower 5 bits of rs2". */
@inline export function sra(a: u32, b: u32): u32 { return <u32>(<i32>a >> (b & 31)); }

// ---- Branch conditions -----------------------------------------------------------------
/** BLT: "take the branch if rs1 is less than rs2, using signed comparison". */
@inline export function lt(a: u32, b: u32): bool { return <i32>a < <i32>b; }
/** BGE: "take the branch if rs1 is greater than or equal to rs2, using signed comparison". */
@inline export function ge(a: u32, b: u32): bool { return <i32>a >= <i32>b; }

// ---- M --------------------------------------------------------------------------------
/** MUL: "performs an XLEN-bit×XLEN-bit multiplication ... and places the lower XLEN bits in rd". */
@inline export function mul(a: u32, b: u32): u32 { return a * b; }
/** MULH: upper XLEN bits of the signed×signed product. */
@inline export function mulh(a: u32, b: u32): u32 { return <u32>((<i64><i32>a * <i64><i32>b) >> 32); }
/** MULHSU: upper XLEN bits of the signed rs1 × unsigned rs2 product. */
@inline export function mulhsu(a: u32, b: u32): u32 { return <u32>((<i64><i32>a * <i64><u64>b) >> 32); }
/** MULHU: upper XLEN bits of the unsigned×unsigned product. */
@inline export function mulhu(a: u32, b: u32): u32 { return <u32>((<u64>a * <u64>b) >> 32); }
/** DIV: signed division rounding toward zero; "division by zero: -1"; "overflow (−2^31 / −1): −2^31". */
@inline export function div(a: u32, b: u32): u32 {
  if (b == 0) return 0xffffffff;
  if (a == 0x80000000 && b == 0xffffffff) return a;
  return <u32>(<i32>a / <i32>b);
}
/** DIVU: unsigned division; "division by zero: 2^XLEN − 1". */
@inline export function divu(a: u32, b: u32): u32 { return b == 0 ? 0xffffffff : a / b; }
/** REM: signed remainder, "the sign of the result equals the sign of the dividend"; by zero: the dividend; overflow: 0. */
@inline export function rem(a: u32, b: u32): u32 {
  if (b == 0) return a;
  if (a == 0x80000000 && b == 0xffffffff) return 0;
  return <u32>(<i32>a % <i32>b);
}
/** REMU: unsigned remainder; by zero: the dividend. */
@inline export function remu(a: u32, b: u32): u32 { return b == 0 ? a : a % b; }

// ---- A (the read-modify-write of each AMO) -------------------------------------------------
/** AMOMIN.W: "the signed minimum of the loaded value and rs2". */
@inline export function smin(a: u32, b: u32): u32 { return <i32>a < <i32>b ? a : b; }
/** AMOMAX.W: "the signed maximum". */
@inline export function smax(a: u32, b: u32): u32 { return <i32>a > <i32>b ? a : b; }
/** AMOMINU.W: "the unsigned minimum". */
@inline export function umin(a: u32, b: u32): u32 { return a < b ? a : b; }
/** AMOMAXU.W: "the unsigned maximum". */
@inline export function umax(a: u32, b: u32): u32 { return a > b ? a : b; }
