// Where a region keeps guest registers (src/jit/register-homes.ts): those of its
// loops in locals, loaded at entry and stored back at every exit, the others in
// the state block. A chained transfer hands the next translation only (entry,
// budget, pc): whatever the region wrote must be in the state block when the next
// one runs, and when it returns to the fast loop. The regions here are built
// from decoded entries directly and run against a memory of their own, with a
// probe in the chain table that records what it is given and what the state
// block holds when it runs.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { emitRegion } from "../../src/jit/emit.js";
import { discoverRegion, type Entry, type Region } from "../../src/jit/region.js";
import { loopRegisters, overwrittenInBlock, registerList } from "../../src/jit/register-homes.js";
import { CodeWriter, Op, regionModule } from "../../src/jit/wasm-writer.js";
import { G_PARAMS, NOT_EXPECTED } from "../../src/jit/gen.js";

const [T0, S2, A0, A1, A2, A3] = [5, 18, 10, 11, 12, 13];
const PAGE_VA = 0x80000000;
const DECODED = 0x10000; // the page's decoded entries (8 bytes per halfword)
const PROBE_AT = 0x9000; // the probe stores its parameters here (entry, budget, page, decoded page), then the state block's x1..x31
const UNDECODED: Omit<Entry, "index"> = { op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 };

type Call = (...args: number[]) => number;
type Op4 = [op: number, rd: number, rs1: number, rs2: number, imm: number];

/** The region from entry 0 of a page holding `ops` (4 bytes each, so entry 2k) and nothing decoded after them. */
function regionOf(...ops: Op4[]): Region {
  const entries = new Map<number, Entry>(ops.map(([op, rd, rs1, rs2, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1, rs2, imm, length: 4 }]));
  return discoverRegion(0, (index) => entries.get(index) ?? { index, ...UNDECODED });
}
const addi = (rd: number, rs1: number, imm: number): Op4 => [O.OP_ADDI, rd, rs1, 0, imm];
const add = (rd: number, rs1: number, rs2: number): Op4 => [O.OP_ADD, rd, rs1, rs2, 0];
const div = (rd: number, rs1: number, rs2: number): Op4 => [O.OP_DIV, rd, rs1, rs2, 0];
const lw = (rd: number, rs1: number, imm: number): Op4 => [O.OP_LW, rd, rs1, 0, imm];
const sw = (rs2: number, rs1: number, imm: number): Op4 => [O.OP_SW, 0, rs1, rs2, imm];
/** bne within the page, `entries` entries away (the decoded immediate is an entry-pointer delta). */
const bne = (rs1: number, rs2: number, entries: number): Op4 => [O.OP_BNE_L, 0, rs1, rs2, entries * 8];

/** A translation that records its parameters and the state block's registers, and returns the entry it was given. */
function probeModule(): Uint8Array<ArrayBuffer> {
  const g = new CodeWriter();
  for (let p = 0; p < G_PARAMS; p++) g.i32Const(0).localGet(p).mem(Op.i32Store, PROBE_AT + 4 * p);
  for (let r = 1; r < 32; r++) g.i32Const(0).i32Const(0).mem(Op.i32Load, L.STATE_BASE + 4 * r).mem(Op.i32Store, PROBE_AT + 32 + 4 * r);
  g.localGet(0);
  return regionModule(g, G_PARAMS, []);
}

/** Runs `region` entered at entry 0 with `budget`; its exit at entry `exitAt` chains to the probe when `chain`. */
function run(region: Region, exitAt: number, budget: number, chain: boolean, tlbMisses = false) {
  const memory = new WebAssembly.Memory({ initial: 16 }); // up to the TLBs
  const table = new WebAssembly.Table({ element: "anyfunc", initial: 1 });
  const env = { env: { memory, table } };
  const { g0: g } = new WebAssembly.Instance(new WebAssembly.Module(emitRegion(region, 64 << 20)), env).exports as { g0: Call };
  table.set(0, (new WebAssembly.Instance(new WebAssembly.Module(probeModule()), env).exports as { g0: Call }).g0);
  const view = new DataView(memory.buffer);
  for (let r = 1; r < 32; r++) view.setUint32(L.STATE_BASE + r * 4, 1000 + r, true);
  view.setUint32(L.STATE_BASE + T0 * 4, 3, true); // the loops below count t0 down to 0
  if (tlbMisses) {
    for (let i = 0; i < L.TLB_ENTRIES; i++) {
      for (const tlb of [L.TLB_READ, L.LINEAR_READ, L.TLB_WRITE, L.LINEAR_WRITE]) view.setUint32(tlb + 8 * i, 0xffffffff, true);
    }
  }
  const target = DECODED + exitAt * 8;
  if (chain) { view.setUint8(target, O.OP_JIT); view.setInt32(target + 4, 0, true); } // translation 0: the probe
  view.setUint32(PROBE_AT, 0xdead, true);
  const returned = g(DECODED, budget, PAGE_VA, DECODED, 0, NOT_EXPECTED); // as the fast loop calls: no call waits
  return {
    returned, target,
    chained: view.getUint32(PROBE_AT, true) !== 0xdead,
    x: (r: number) => view.getUint32(L.STATE_BASE + r * 4, true),
    seen: (r: number) => view.getUint32(PROBE_AT + 32 + 4 * r, true),
    param: (p: number) => view.getInt32(PROBE_AT + 4 * p, true),
    budgetLeft: view.getInt32(L.JIT_BUDGET, true),
  };
}

describe("where a region keeps the guest registers", () => {
  test("registers of a loop's blocks live in locals; code that runs once per entry uses the state block", () => {
    // 0: add s2, a1, a2   2: addi a0, a0, 1   4: addi t0, t0, -1   6: bne t0, x0, 2 (back to entry 2)   8: addi a2, a0, 0
    const region = regionOf(add(S2, A1, A2), addi(A0, A0, 1), addi(T0, T0, -1), bne(T0, 0, -4), addi(A2, A0, 0));
    expect(registerList(loopRegisters(region))).toEqual([T0, A0]);
    expect(registerList(loopRegisters(regionOf(add(S2, A1, A2), addi(A0, A0, 1)))), "no back edge").toEqual([]);
  });

  test("a block between a loop's blocks that is not on the cycle keeps its registers in the state block", () => {
    const beq = (rs1: number, rs2: number, entries: number): Op4 => [O.OP_BEQ_L, 0, rs1, rs2, entries * 8];
    const j = (entries: number): Op4 => [O.OP_JAL_L, 0, 0, 0, entries * 8];
    // 0: addi t0, t0, -1   2: beq t0, x0, 8   4: addi a0, a0, 1   6: j 12   8: addi s2, s2, 1   10: j 40 (not decoded:
    // an exit)   12: j 0. The cycle is 0 -> 4 -> 12 -> 0; the block at 8 lies between but leaves the region.
    const region = regionOf(addi(T0, T0, -1), beq(T0, 0, 6), addi(A0, A0, 1), j(6), addi(S2, S2, 1), j(30), j(-12));
    expect(region.blocks.map((b) => b.start), "control-flow order: the loop's blocks together").toEqual([0, 4, 12, 8]);
    expect(registerList(loopRegisters(region))).toEqual([T0, A0]);
  });

  test("a chained transfer passes (entry, budget, page, decoded page, nesting) and finds every register the region wrote in the state block", () => {
    // The loop's a0 and t0 are in locals, s2 and a2 in the state block; entry 10 (after them) is the probe's.
    const region = regionOf(add(S2, A1, A2), addi(A0, A0, 1), addi(T0, T0, -1), bne(T0, 0, -4), addi(A2, A0, 0));
    const r = run(region, 10, 100, true);
    expect(r.chained).toBe(true);
    expect(r.returned).toBe(r.target); // the probe's answer
    expect([r.param(0), r.param(1), r.param(2), r.param(3)], "entry, budget (1 + 3 x 3 + 1 done), the target's page and its decoded entry 0")
      .toEqual([r.target, 89, PAGE_VA | 0, DECODED]);
    expect([r.param(4), r.param(5)], "a tail call: the nesting it was given (none)").toEqual([0, NOT_EXPECTED]);
    expect(r.seen(S2), "s2, written in the state block").toBe(1000 + A1 + 1000 + A2);
    expect(r.seen(A0), "a0, written in a local").toBe(1000 + A0 + 3);
    expect(r.seen(T0), "t0, written in a local").toBe(0);
    expect(r.seen(A2), "a2 = a0").toBe(1000 + A0 + 3);
    expect(r.seen(A1), "a1, untouched").toBe(1000 + A1);
  });

  test("a return to the fast loop leaves every register and the budget in the state block", () => {
    const region = regionOf(add(S2, A1, A2), addi(A0, A0, 1), addi(T0, T0, -1), bne(T0, 0, -4), addi(A2, A0, 0));
    const r = run(region, 10, 100, false);
    expect(r.chained).toBe(false);
    expect(r.returned).toBe(r.target);
    expect([r.x(S2), r.x(A0), r.x(T0), r.x(A2)]).toEqual([1000 + A1 + 1000 + A2, 1000 + A0 + 3, 0, 1000 + A0 + 3]);
    expect(r.budgetLeft).toBe(89);
  });

  test("the budget running out inside the loop leaves the loop's registers exact", () => {
    const region = regionOf(add(S2, A1, A2), addi(A0, A0, 1), addi(T0, T0, -1), bne(T0, 0, -4), addi(A2, A0, 0));
    // 1 + 3 instructions, then the jump back finds the budget spent: the exit is at entry 2, one time round done.
    const r = run(region, 10, 4, true);
    expect(r.chained, "not a control transfer's target").toBe(false);
    expect(r.returned).toBe(DECODED + 2 * 8);
    expect([r.x(S2), r.x(A0), r.x(T0), r.x(A2)]).toEqual([1000 + A1 + 1000 + A2, 1000 + A0 + 1, 2, 1000 + A2]);
    expect(r.budgetLeft).toBe(0);
  });

  test("in code that runs once, a block reads back what it wrote, and a load's miss leaves the writes before it stored", () => {
    // 0: addi a0, a0, 5   2: add a1, a0, a0   4: lw a2, 0(a1): the TLB holds nothing, so the region leaves at entry 4
    const r = run(regionOf(addi(A0, A0, 5), add(A1, A0, A0), lw(A2, A1, 0)), 6, 100, true, true);
    expect(r.chained).toBe(false);
    expect(r.returned).toBe(DECODED + 4 * 8);
    expect([r.x(A0), r.x(A1), r.x(A2)]).toEqual([1000 + A0 + 5, 2 * (1000 + A0 + 5), 1000 + A2]);
    expect(r.budgetLeft).toBe(98);
  });

  test("a register first read inside one arm of a division is read afresh after it", () => {
    // 0: addi a2, x0, 0   2: div a0, a1, a2 (by zero: -1, without reading a1)   4: add a3, a1, a1
    const r = run(regionOf(addi(A2, 0, 0), div(A0, A1, A2), add(A3, A1, A1)), 6, 100, false);
    expect([r.x(A0), r.x(A3)]).toEqual([0xffffffff, 2 * (1000 + A1)]);
  });

  test("a result the block overwrites is not stored; a load or store that leaves at a miss stores it first", () => {
    const A4 = 14, S1 = 9;
    // 0: andi a4, a1, 127   2: slli a4, a4, 2   4: add a4, a4, s1   6: lw a4, 0(a4)   8: addi a4, a4, 1
    const dispatch = regionOf([O.OP_ANDI, A4, A1, 0, 127], [O.OP_SLLI, A4, A4, 0, 2], add(A4, A4, S1), lw(A4, A4, 0), addi(A4, A4, 1));
    expect([...overwrittenInBlock(dispatch.blocks[0])], "by position").toEqual([1, 1, 1, 1, 0]);
    // Its load misses: the region leaves there, with a4 as the add left it (held in its local alone till then).
    const atLoad = run(dispatch, 10, 100, true, true);
    expect(atLoad.returned).toBe(DECODED + 6 * 8);
    expect(atLoad.x(A4), "a4 stored on the way out").toBe((((1000 + A1) & 127) << 2) + 1000 + S1);
    // 0: addi a0, a0, 1   2: addi a1, a0, 0   4: addi a0, a0, 5   6: lw a2, 0(a1): a miss, so the region leaves there
    const r = run(regionOf(addi(A0, A0, 1), addi(A1, A0, 0), addi(A0, A0, 5), lw(A2, A1, 0)), 8, 100, true, true);
    expect(r.returned).toBe(DECODED + 6 * 8);
    expect([r.x(A0), r.x(A1), r.x(A2)], "a1 read the first a0 from its local").toEqual([1000 + A0 + 6, 1000 + A0 + 1, 1000 + A2]);
    // 0: addi a0, a0, 1   2: lw a2, 0(a1): a miss   4: addi a0, a0, 5: the first a0 is stored only if the load leaves
    const load = regionOf(addi(A0, A0, 1), lw(A2, A1, 0), addi(A0, A0, 5));
    expect([...overwrittenInBlock(load.blocks[0])]).toEqual([1, 0, 0]);
    const missed = run(load, 6, 100, true, true);
    expect(missed.returned).toBe(DECODED + 2 * 8);
    expect(missed.x(A0)).toBe(1000 + A0 + 1);
    // The same with a store between the writes, which leaves at its miss before it writes memory.
    const store = regionOf(addi(A0, A0, 1), sw(A0, A1, 0), addi(A0, A0, 5));
    expect([...overwrittenInBlock(store.blocks[0])]).toEqual([1, 0, 0]);
    const stored = run(store, 6, 100, true, true);
    expect(stored.returned).toBe(DECODED + 2 * 8);
    expect(stored.x(A0)).toBe(1000 + A0 + 1);
  });
});
