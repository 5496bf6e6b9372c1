// Which loads and stores of a block share one TLB check (src/jit/gen-memory.ts,
// planAccesses): only those through the same base register, not written in
// between, whose alignment the first access's check proves; a group open at
// the same time as another never shares its host-address local.
import { describe, expect, test } from "vitest";
import * as O from "../../assembly/ops.js";
import { planAccesses, type SharedCheck } from "../../src/jit/gen-memory.js";
import type { Block, Entry } from "../../src/jit/region.js";

const [S0, S1, S2, A0, A1, A4, A5] = [8, 9, 18, 10, 11, 14, 15];

function block(...ops: Array<[op: number, rd: number, rs1: number, imm: number]>): Block {
  const entries: Entry[] = ops.map(([op, rd, rs1, imm], k) => ({ index: k * 2, op, rd, rs1, rs2: 0, imm, length: 4 }));
  return { start: 0, entries, next: entries.length * 2 };
}
/** The positions in the block of the accesses that share a check. */
function sharing(plan: ReadonlyArray<SharedCheck | undefined>): number[] {
  return [...plan.keys()].filter((i) => plan[i] !== undefined);
}
const lw = (rd: number, rs1: number, imm: number): [number, number, number, number] => [O.OP_LW, rd, rs1, imm];
const lh = (rd: number, rs1: number, imm: number): [number, number, number, number] => [O.OP_LH, rd, rs1, imm];
const lbu = (rd: number, rs1: number, imm: number): [number, number, number, number] => [O.OP_LBU, rd, rs1, imm];
const sw = (rs1: number, imm: number): [number, number, number, number] => [O.OP_SW, 0, rs1, imm];
const addi = (rd: number, rs1: number, imm: number): [number, number, number, number] => [O.OP_ADDI, rd, rs1, imm];

describe("accesses sharing a TLB check", () => {
  test("loads through one register share a check over the span they touch; a store there checks its own TLB", () => {
    const plan = planAccesses(block(lw(A4, S0, 8), lw(A5, S0, -4), sw(S0, 12)));
    expect(plan[0]).toMatchObject({ first: true, low: -4, high: 11, offset: 12 });
    expect(plan[1]).toMatchObject({ first: false, low: -4, high: 11, offset: 0, slot: plan[0]!.slot });
    expect(plan[2], "a lone store").toBeUndefined();
  });

  test("a load inside bytes a store group spans uses the store's check; one outside it, or a store after loads, does not", () => {
    // A spill and its reload: sw 12(sp), sw 8(sp), lw 12(sp), lw 8(sp): one check, the first store's, in the write TLB.
    const spills = planAccesses(block(sw(S0, 12), sw(S0, 8), lw(A4, S0, 12), lw(A5, S0, 8)));
    expect(sharing(spills)).toEqual([0, 1, 2, 3]);
    expect(spills[0]).toMatchObject({ first: true, low: 8, high: 15 });
    for (const i of [1, 2, 3]) expect(spills[i]).toMatchObject({ first: false, slot: spills[0]!.slot });
    // A word just past what the stores touched could be on a page the guest may only read: its own check.
    const past = planAccesses(block(sw(S0, 8), sw(S0, 12), lw(A4, S0, 16)));
    expect(sharing(past)).toEqual([0, 1]);
    expect(past[2]).toBeUndefined();
    // A byte inside a stored word joins (the store's check proves it aligned); a store never joins loads.
    expect(sharing(planAccesses(block(sw(S0, 8), lbu(A4, S0, 11))))).toEqual([0, 1]);
    const storeAfter = planAccesses(block(lw(A4, S0, 8), lw(A5, S0, 12), sw(S0, 8)));
    expect(sharing(storeAfter)).toEqual([0, 1]);
    expect(storeAfter[2]).toBeUndefined();
  });

  test("a later access joins only if the first one's check proves it aligned", () => {
    const plan = planAccesses(block(lw(A4, S0, 0), lh(A5, S0, 6), lh(A5, S0, 3), lbu(A5, S0, 9)));
    expect(sharing(plan)).toEqual([0, 1, 3]); // lh at 3 is not aligned when the lw's address is
    const bytesFirst = planAccesses(block(lbu(A4, S0, 0), lw(A5, S0, 4)));
    expect(sharing(bytesFirst), "a word after a byte access: its own check").toEqual([]);
  });

  test("writing the base register ends the group, a load into it too (after its own access)", () => {
    expect(sharing(planAccesses(block(lw(A4, S0, 0), addi(S0, S0, 4), lw(A5, S0, 0))))).toEqual([]);
    expect(sharing(planAccesses(block(lw(S0, S0, 0), lw(A5, S0, 4))))).toEqual([]);
    expect(sharing(planAccesses(block(lw(A4, S0, 0), lw(S0, S0, 4), lw(A5, S0, 8))))).toEqual([0, 1]);
  });

  test("groups open at once use different locals, also after one closed early", () => {
    const plan = planAccesses(block(
      lw(A4, S0, 0), lw(A4, S1, 0), lw(A4, S2, 0), lw(A4, A1, 0), addi(S1, S1, 1), lw(A4, A0, 0),
      lw(A5, S0, 4), lw(A5, S2, 4), lw(A5, A1, 4), lw(A5, A0, 4), lw(A5, S1, 4),
    ));
    const slotOf = (position: number) => plan[position]!.slot;
    expect(new Set([0, 2, 3, 5].map(slotOf)).size, "s0, s2, a1, a0 are open together").toBe(4);
    expect(plan[1], "s1's group closed with one access").toBeUndefined();
  });
});
