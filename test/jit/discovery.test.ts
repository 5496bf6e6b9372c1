// What region discovery (src/jit/region.ts) takes in after a call: the return point and the code after it, unless
// another translation owns the return point, whose copy is where every return lands.
import { describe, expect, test } from "vitest";
import * as O from "../../assembly/ops.js";
import { discoverRegion, type Entry, type Region } from "../../src/jit/region.js";

const [RA, A0] = [1, 10];
const UNDECODED: Omit<Entry, "index"> = { op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 };
type Op4 = [op: number, rd: number, rs1: number, rs2: number, imm: number];
const addi = (rd: number, rs1: number, imm: number): Op4 => [O.OP_ADDI, rd, rs1, 0, imm];
/** A jump or call within the page, `words` instructions away (the decoded immediate is an entry-pointer delta). */
const call = (words: number): Op4 => [O.OP_JAL_L, RA, 0, 0, words * 16];
const ret: Op4 = [O.OP_JALR, 0, RA, 0, 0];
const EXIT: Op4 = [O.OP_JAL_F, 0, 0, 0, 0x4000]; // a jump to another page: leaves the region

/** The region from entry 0 of a page holding `ops` (4 bytes each, so entry 2k); `owned`: entries another translation marks. */
function regionOf(ops: Op4[], owned: number[] = []): Region {
  const entries = new Map<number, Entry>(ops.map(([op, rd, rs1, rs2, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1, rs2, imm, length: 4 }]));
  return discoverRegion(0, (index) => entries.get(index) ?? { index, ...UNDECODED }, undefined, undefined, (index) => owned.includes(index));
}
const entriesOf = (region: Region) => region.blocks.flatMap((b) => b.entries.map((e) => e.index));

describe("region discovery after a call", () => {
  // 0: call 8   2: addi (the return point)   4: addi   6: exit   8: addi (the callee)   10: ret
  const program = [call(4), addi(A0, A0, 1), addi(A0, A0, 2), EXIT, addi(A0, A0, 3), ret];

  test("takes the return point and what follows it when no other translation owns it", () => {
    const region = regionOf(program);
    expect(entriesOf(region)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(region.returnPoints).toEqual([2]);
  });

  test("stops at a return point another translation owns: every return lands there, so a copy here would never run", () => {
    const region = regionOf(program, [2]);
    expect(entriesOf(region), "the call and the callee, not the code after the call").toEqual([0, 8, 10]);
    expect(region.returnPoints).toEqual([]);
  });

  test("still takes code another translation owns when a jump or branch of its own reaches it", () => {
    // 0: call 10   2: exit (the return point, owned elsewhere)   4: addi (owned elsewhere too, but reached here by
    // the callee's jump, so this copy runs)   6: exit   8: (not reached)   10: jump 4
    const jumpBack: Op4 = [O.OP_JAL_L, 0, 0, 0, -3 * 16];
    const region = regionOf([call(5), EXIT, addi(A0, A0, 1), EXIT, addi(A0, A0, 9), jumpBack], [2, 4]);
    expect(entriesOf(region)).toEqual([0, 4, 6, 10]);
  });
});
