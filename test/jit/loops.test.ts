// The order a region's blocks are emitted in (src/jit/block-order.ts) and which
// of its loops become WebAssembly loops (src/jit/loops.ts). Regions are built
// from decoded entries directly; what they compute is checked elsewhere
// (regions.test.ts, the ISA suites and the real programs run translated).
import { describe, expect, test } from "vitest";
import * as O from "../../assembly/ops.js";
import { loopOrder } from "../../src/jit/block-order.js";
import { regionEntries } from "../../src/jit/emit.js";
import { structuredLoops } from "../../src/jit/loops.js";
import { discoverRegion, type Entry, type Region } from "../../src/jit/region.js";

const [RA, T0, A0, A1] = [1, 5, 10, 11];
const UNDECODED: Omit<Entry, "index"> = { op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 };
type Op4 = [op: number, rd: number, rs1: number, rs2: number, imm: number];

/** The region from entry 0 of a page holding `ops` (4 bytes each, so entry 2k) and nothing decoded after them. */
function regionOf(...ops: Op4[]): Region {
  const entries = new Map<number, Entry>(ops.map(([op, rd, rs1, rs2, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1, rs2, imm, length: 4 }]));
  return discoverRegion(0, (index) => entries.get(index) ?? { index, ...UNDECODED });
}
const addi = (rd: number, rs1: number, imm: number): Op4 => [O.OP_ADDI, rd, rs1, 0, imm];
/** Branches and jumps within the page, `words` instructions away (the decoded immediate is an entry-pointer delta: 2 entries a word). */
const bne = (rs1: number, rs2: number, words: number): Op4 => [O.OP_BNE_L, 0, rs1, rs2, words * 16];
const beq = (rs1: number, rs2: number, words: number): Op4 => [O.OP_BEQ_L, 0, rs1, rs2, words * 16];
const j = (words: number): Op4 => [O.OP_JAL_L, 0, 0, 0, words * 16];
const call = (words: number): Op4 => [O.OP_JAL_L, RA, 0, 0, words * 16];
const ret: Op4 = [O.OP_JALR, 0, RA, 0, 0];
const EXIT: Op4 = [O.OP_JAL_F, 0, 0, 0, 0x4000]; // a jump to another page: leaves the region

const starts = (region: Region) => region.blocks.map((b) => b.start);
const loopsOf = (region: Region) => structuredLoops(region, regionEntries(region)).map(({ head, last }) => [starts(region)[head], starts(region)[last]]);

describe("block order", () => {
  test("a loop whose test sits after its body comes out together, its exit after it", () => {
    // 0: j 6 (to the test)   2: addi a0 (the body)   4: addi t0   6: bne t0, x0, -2 (back to the body)   8: exit
    // In address order the jump to the test is forward and the back edge skips nothing; here the body's blocks follow
    // the jump into the loop: entry 0, then the test's block (6) heads the loop, then the body (2), then the exit.
    const region = regionOf(j(3), addi(A0, A0, 1), addi(T0, T0, -1), bne(T0, 0, -2), EXIT);
    expect(starts(region)).toEqual([0, 6, 2, 8]);
    expect(loopsOf(region), "the test's block heads a loop that holds the body").toEqual([[6, 2]]);
  });

  test("a region without loops keeps address order, even where a jump goes back", () => {
    // 0: beq a0, x0, 3 (to 6)   2: j 2 (to 6)... 4: exit   6: j -1 (back to 4): no cycle
    const region = regionOf(beq(A0, 0, 3), j(2), EXIT, j(-1));
    expect(starts(region)).toEqual([0, 2, 4, 6]);
    expect(loopsOf(region)).toEqual([]);
  });

  test("an irreducible loop (entered in two places) gives no order", () => {
    // Blocks 0 -> 1, 0 -> 2, 1 -> 2, 2 -> 1: the cycle 1 <-> 2 is entered at both.
    expect(loopOrder([[1, 2], [2], [1]], [0])).toBeNull();
    expect(loopOrder([[1], [2, 3], [1], []], [0]), "a loop 1 <-> 2 entered at 1 only").toEqual([0, 1, 2, 3]);
  });
});

describe("structured loops", () => {
  test("nested loops each get one", () => {
    // 0: addi t0   2: addi a1 (outer head)   4: addi a0 (inner head)   6: bne a0, a1, -1 (inner)   8: bne t0, x0, -3 (outer)   10: exit
    const region = regionOf(addi(T0, T0, 3), addi(A1, A1, 2), addi(A0, A0, 1), bne(A0, A1, -1), bne(T0, 0, -3), EXIT);
    expect(loopsOf(region), "(the inner loop is one block, 4-6, that jumps to itself)").toEqual([[2, 8], [4, 4]]);
  });

  test("a loop with a return point in its body (control enters there too) is left to the dispatch", () => {
    // 0: addi a0 (head)   2: call 4 (to 10)   4: addi t0 (return point)   6: bne t0, x0, -3   8: exit   10: ret
    const region = regionOf(addi(A0, A0, 1), call(4), addi(T0, T0, -1), bne(T0, 0, -3), EXIT, ret);
    expect(region.returnPoints).toEqual([4]);
    expect(loopsOf(region)).toEqual([]);
  });
});
