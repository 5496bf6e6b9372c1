// Translated loads and stores through linear pages (src/jit/gen-memory.ts): when a TLB entry's linear tag matches,
// the access goes to RAM_HOST_BASE + (address & window) without reading the entry's addend; otherwise, with full
// checks, through the addend as before, and a miss in both leaves the region at the access; with linear checks, any
// page that is not linear leaves the region at the access. The regions are built from decoded entries
// and run against a memory of their own whose TLB entries the test writes (the core writes linear tags only for
// pages at their linear frame: test/machine tests run the core itself).
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { emitRegion } from "../../src/jit/emit.js";
import type { Checks } from "../../src/jit/gen-memory.js";
import { discoverRegion, type Entry, type Region } from "../../src/jit/region.js";

const [A0, A1, A2, A3, A4] = [10, 11, 12, 13, 14];
const PAGE_VA = 0x80000000; // the region's own code page (never read: the region has no jumps)
const DECODED = 0x10000;
const RAM_BYTES = 16 * 4096; // a window of 16 frames: address & 0xffff
const DATA_VA = 0x00012000; // virtual page 0x12: linear frame 2
const UNDECODED: Omit<Entry, "index"> = { op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 };
const INVALID = 0xffffffff;

type Op4 = [op: number, rd: number, rs1: number, rs2: number, imm: number];
function regionOf(...ops: Op4[]): Region {
  const entries = new Map<number, Entry>(ops.map(([op, rd, rs1, rs2, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1, rs2, imm, length: 4 }]));
  return discoverRegion(0, (index) => entries.get(index) ?? { index, ...UNDECODED });
}
const lw = (rd: number, rs1: number, imm: number): Op4 => [O.OP_LW, rd, rs1, 0, imm];
const sw = (rs2: number, rs1: number, imm: number): Op4 => [O.OP_SW, 0, rs1, rs2, imm];

// lw a0, 0(a1); lw a4, 4(a1) (one shared check); sw a2, 8(a1); then undecoded: back to the fast loop at entry 6.
const REGION = regionOf(lw(A0, A1, 0), lw(A4, A1, 4), sw(A2, A1, 8));

interface Entries { frame: number; linear: boolean }

/** Runs REGION with a1 = DATA_VA, the data page's read and write entries pointing at `entries.frame`. */
function run(entries: Entries | null, checks: Checks = "full") {
  const memory = new WebAssembly.Memory({ initial: (L.RAM_HOST_BASE + RAM_BYTES) / 65536 + 1 });
  const table = new WebAssembly.Table({ element: "anyfunc", initial: 1 });
  const { g0: g } = new WebAssembly.Instance(new WebAssembly.Module(emitRegion(REGION, RAM_BYTES, undefined, checks)), { env: { memory, table } })
    .exports as { g0: (...args: number[]) => number };
  const view = new DataView(memory.buffer);
  for (const tlb of [L.TLB_READ, L.TLB_WRITE, L.LINEAR_READ, L.LINEAR_WRITE]) {
    for (let i = 0; i < L.TLB_ENTRIES; i++) view.setUint32(tlb + 8 * i, INVALID, true);
  }
  const at = ((DATA_VA >>> 12) & (L.TLB_ENTRIES - 1)) * 8;
  if (entries) {
    for (const [tlb, linear] of [[L.TLB_READ, L.LINEAR_READ], [L.TLB_WRITE, L.LINEAR_WRITE]]) {
      view.setUint32(tlb + at, DATA_VA, true);
      view.setUint32(tlb + at + 4, (L.RAM_HOST_BASE + entries.frame * 4096 - DATA_VA) >>> 0, true);
      view.setUint32(linear + at, entries.linear ? DATA_VA : INVALID, true);
    }
  }
  // Each frame says which it is: word 0 = 100 + frame, word 1 = 200 + frame.
  for (let frame = 0; frame < RAM_BYTES / 4096; frame++) {
    view.setUint32(L.RAM_HOST_BASE + frame * 4096, 100 + frame, true);
    view.setUint32(L.RAM_HOST_BASE + frame * 4096 + 4, 200 + frame, true);
  }
  view.setUint32(L.STATE_BASE + A1 * 4, DATA_VA, true);
  view.setUint32(L.STATE_BASE + A2 * 4, 0xabcd, true);
  view.setUint32(L.STATE_BASE + A0 * 4, 0, true);
  view.setUint32(L.STATE_BASE + A4 * 4, 0, true);
  const returned = g(DECODED, 100, PAGE_VA, DECODED);
  return {
    left: (returned - DECODED) / 8, // the entry the fast loop goes on at
    x: (r: number) => view.getUint32(L.STATE_BASE + r * 4, true),
    stored: (frame: number) => view.getUint32(L.RAM_HOST_BASE + frame * 4096 + 8, true),
  };
}

describe("loads and stores through linear pages", () => {
  test("a page at its linear frame is read and written there", () => {
    const r = run({ frame: 2, linear: true });
    expect(r.left).toBe(6);
    expect([r.x(A0), r.x(A4)]).toEqual([102, 202]);
    expect(r.stored(2)).toBe(0xabcd);
  });

  test("a page elsewhere goes through its entry's addend", () => {
    const r = run({ frame: 5, linear: false });
    expect(r.left).toBe(6);
    expect([r.x(A0), r.x(A4)]).toEqual([105, 205]);
    expect(r.stored(5)).toBe(0xabcd);
    expect(r.stored(2)).toBe(0);
  });

  test("a matching linear tag is taken without the addend (which the core never lets disagree)", () => {
    const r = run({ frame: 5, linear: true });
    expect([r.x(A0), r.x(A4)]).toEqual([102, 202]);
    expect(r.stored(2)).toBe(0xabcd);
    expect(r.stored(5)).toBe(0);
  });

  test("a page in neither leaves the region at the first access, nothing done", () => {
    const r = run(null);
    expect(r.left).toBe(0);
    expect([r.x(A0), r.x(A4), r.stored(2)]).toEqual([0, 0, 0]);
  });
});

describe("linear checks", () => {
  test("a page at its linear frame is read and written there", () => {
    const r = run({ frame: 2, linear: true }, "linear");
    expect(r.left).toBe(6);
    expect([r.x(A0), r.x(A4)]).toEqual([102, 202]);
    expect(r.stored(2)).toBe(0xabcd);
  });

  test("a page the TLB holds elsewhere leaves the region at the first access, nothing done", () => {
    const r = run({ frame: 5, linear: false }, "linear");
    expect(r.left).toBe(0);
    expect([r.x(A0), r.x(A4), r.stored(5), r.stored(2)]).toEqual([0, 0, 0, 0]);
  });

  test("so does a page in neither", () => {
    const r = run(null, "linear");
    expect([r.left, r.x(A0), r.x(A4)]).toEqual([0, 0, 0]);
  });
});
