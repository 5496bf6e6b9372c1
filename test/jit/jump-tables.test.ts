// A `switch` compiled to a jump table: a computed jump (`jr` through a register, neither a call nor a return) whose
// targets are the cases, each jumping back into the loop. Region discovery (src/jit/region.ts, takeJumpTargets)
// takes the cases into the loop's region and marks their starts as entries, so the jump lands inside the function
// (Gen.ownEntry) instead of leaving for each case's own translation and coming back: before, every pass made one
// chained transfer (a switch of 11 cases ran 3x slower than it does now).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { Exit } from "../../src/jit/gen.js";
import { discoverRegion, type Entry, type Region } from "../../src/jit/region.js";
import { asm, expectTranslatedAsInterpreted, interpretedIn, type TestCore } from "../core/harness.js";

const [RA, T0, T1, A0, A1, A2, A3, A4] = [1, 5, 6, 10, 11, 12, 13, 14];

describe("discovery: the code a computed jump lands on", () => {
  const UNDECODED: Omit<Entry, "index"> = { op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 };
  type Op4 = [op: number, rd: number, rs1: number, rs2: number, imm: number];
  const addi = (rd: number, rs1: number, imm: number): Op4 => [O.OP_ADDI, rd, rs1, 0, imm];
  /** An in-page jump (rd = 0) or call (rd = ra) from entry `from` to entry `to` (the immediate is an entry-pointer delta). */
  const jal = (rd: number, from: number, to: number): Op4 => [O.OP_JAL_L, rd, 0, 0, (to - from) * 8];
  const jr = (rs1: number): Op4 => [O.OP_JALR, 0, rs1, 0, 0];

  /** The region from entry 0 of a page holding `ops` (4 bytes each: entry 2k); `owned`: entries another translation marks. */
  function regionOf(ops: Op4[], owned: number[] = []): Region {
    const entries = new Map<number, Entry>(ops.map(([op, rd, rs1, rs2, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1, rs2, imm, length: 4 }]));
    return discoverRegion(0, (index) => entries.get(index) ?? { index, ...UNDECODED }, undefined, undefined, (index) => owned.includes(index));
  }
  const entriesOf = (region: Region) => region.blocks.flatMap((b) => b.entries.map((e) => e.index)).sort((a, b) => a - b);

  // 0: the loop   2: jr t1   4-6: case A, back to 0   8-10: case B, back to 0   12: ret   14-16: a function after the
  // return, jumping to 0 too   18-20: code after a jump that calls 24 before jumping back   22: -   24: ret
  const program: Op4[] = [
    addi(A0, A0, 1), jr(T1),
    addi(A1, A1, 1), jal(0, 6, 0),
    addi(A2, A2, 1), jal(0, 10, 0),
    jr(RA),
    addi(A3, A3, 1), jal(0, 16, 0),
    jal(RA, 18, 24), jal(0, 20, 0),
    addi(A4, A4, 1), jr(RA),
  ];

  test("takes the cases after the jump and after each other, and marks their starts as entries", () => {
    const region = regionOf(program);
    expect(entriesOf(region)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(region.returnPoints).toEqual([4, 8]);
  });

  test("leaves code after a return (a function's start), code that calls, and code another translation marked", () => {
    const region = regionOf(program, [8]);
    expect(entriesOf(region)).toEqual([0, 2, 4, 6]);
    expect(region.returnPoints).toEqual([4]);
  });

  test("a region without a computed jump takes nothing of the kind", () => {
    const region = regionOf([addi(A0, A0, 1), jal(0, 2, 6), addi(A1, A1, 1), addi(A2, A2, 1), jal(0, 8, 0)]);
    expect(entriesOf(region)).toEqual([0, 2, 6, 8]);
    expect(region.returnPoints).toEqual([]);
  });
});

describe("a switch through a jump table, on the core", () => {
  const BASE = L.RAM_GUEST_BASE;
  // The cases right after the dispatch's jump, as compilers lay them out, then the loop's end.
  const LOOP = BASE + 0x100, CASES = LOOP + 20, NEXT = CASES + 32, TABLE = BASE + 0x800;
  const N = 20_000;
  // andi and slli, which the harness's assembler lacks: I-type, funct3 7 and 1.
  const andi = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (7 << 12) | (rd << 7) | 0x13) >>> 0;
  const slli = (rd: number, rs1: number, shamt: number) => ((shamt << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x13) >>> 0;
  let savedCounting: string | undefined;
  beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
  afterEach(() => {
    if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
  });

  /** t0 = N; loop: jump to case t0 % 4 through the table; each case changes a0 or a2 and jumps to t0--, back. */
  function start(c: TestCore): void {
    const setUp = [...asm.li(T0, N), ...asm.li(A1, TABLE)];
    c.poke(BASE, [...setUp, asm.jal(0, LOOP - (BASE + 4 * setUp.length))]);
    c.poke(LOOP, [andi(T1, T0, 3), slli(T1, T1, 2), asm.add(T1, T1, A1), asm.lw(T1, T1, 0), asm.jalr(0, T1, 0)]);
    const cases = [asm.addi(A0, A0, 1), asm.addi(A2, A2, 3), asm.add(A0, A0, A2), asm.addi(A2, A2, -1)];
    cases.forEach((op, k) => c.poke(CASES + 8 * k, [op, asm.jal(0, NEXT - (CASES + 8 * k + 4))]));
    c.poke(NEXT, [asm.addi(T0, T0, -1), asm.bne(T0, 0, LOOP - (NEXT + 4)), asm.ebreak()]);
    c.poke(TABLE, cases.map((_, k) => (CASES + 8 * k) >>> 0));
    c.pc = BASE;
  }

  test("its cases run inside the loop's translation, the state exact at any slice size", () => {
    expectTranslatedAsInterpreted(start, (c) => {
      expect(interpretedIn(c), "instructions interpreted").toBeLessThan(N / 4);
      expect(c.translator.exitCounts()[Exit.INDIRECT], "computed jumps that left the translation").toBeLessThan(N / 20);
    });
  });
});
