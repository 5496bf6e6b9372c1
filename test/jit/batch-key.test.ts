// A batch's key (src/jit/batch-key.ts): the emitter's input, under which the code cache keeps the batch's bytes
// across processes (machine/wasm-code-cache.ts cachedBatch). Two inputs the emitter could tell apart must never give
// the same key, or a program would run another batch's code: every field changes it, and a field added to what the
// emitter reads fails here until the key writes it.
import { describe, expect, test } from "vitest";
import * as O from "../../assembly/ops.js";
import { batchKey } from "../../src/jit/batch-key.js";
import { NO_NEXT, discoverRegion, type Entry, type Region } from "../../src/jit/region.js";

const BUILD = "0123456789abcdef".repeat(4);

/** A region of a loop and a call's return point on a synthetic page, with a page taken from elsewhere. */
function sampleRegion(): Region {
  const ops: Array<[number, number, number, number, number]> = [
    [O.OP_ADDI, 10, 10, 0, 1], [O.OP_JAL_L, 1, 0, 0, 4 * 8], [O.OP_BNE_L, 0, 10, 11, -4 * 8], [O.OP_JALR, 0, 1, 0, 0],
    [O.OP_ADDI, 11, 11, 2, 0], [O.OP_JALR, 0, 1, 0, 0],
  ];
  const entries = new Map<number, Entry>(ops.map(([op, rd, rs1, rs2, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1, rs2, imm, length: 4 }]));
  const region = discoverRegion(0, (index) => entries.get(index) ?? { index, op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 });
  expect(region.instructions).toBeGreaterThan(3);
  return { ...region, otherPages: [{ first: 2048, slot: 0x40000, generation: 7 }], otherReturnPoints: [2050] };
}

const keyOf = (region: Region, marks = { first: 5, count: 2 }, ramBytes = 64 << 20, checks: "linear" | "full" = "linear", counting = false, build = BUILD) =>
  Buffer.from(batchKey([{ region, marks }], ramBytes, checks, counting, build)).toString("hex");

describe("a batch's key", () => {
  test("is the same for the same input, and a fresh copy each time", () => {
    const a = batchKey([{ region: sampleRegion(), marks: { first: 5, count: 2 } }], 64 << 20, "linear", false, BUILD);
    const b = batchKey([{ region: sampleRegion(), marks: { first: 5, count: 2 } }], 64 << 20, "linear", false, BUILD);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    a[0] ^= 1;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  test("changes with every field the emitter reads", () => {
    const base = keyOf(sampleRegion());
    const changed = (change: (r: Region) => void) => { const r = structuredClone(sampleRegion()); change(r); return keyOf(r); };
    const variants = [
      changed((r) => { r.head = 2; }),
      changed((r) => { r.instructions++; }),
      changed((r) => { r.returnPoints.push(8); }),
      changed((r) => { r.otherReturnPoints = []; }),
      changed((r) => { r.otherPages[0].first = 4096; }),
      changed((r) => { r.otherPages[0].slot += 8; }),
      changed((r) => { r.otherPages[0].generation++; }),
      changed((r) => { r.otherPages = []; }),
      changed((r) => { r.blocks.reverse(); }),
      changed((r) => { r.blocks[0].start++; }),
      changed((r) => { r.blocks[0].next = r.blocks[0].next === NO_NEXT ? 6 : NO_NEXT; }),
      changed((r) => { r.blocks[0].entries.pop(); }),
      ...(["index", "op", "rd", "rs1", "rs2", "imm", "length"] as const).map((field) => changed((r) => { r.blocks[0].entries[0][field]++; })),
      changed((r) => { r.blocks[0].entries[0].upper = 0x1234; }),
      keyOf(sampleRegion(), { first: 6, count: 2 }),
      keyOf(sampleRegion(), { first: 5, count: 3 }),
      keyOf(sampleRegion(), undefined, 128 << 20),
      keyOf(sampleRegion(), undefined, undefined, "full"),
      keyOf(sampleRegion(), undefined, undefined, undefined, true),
      keyOf(sampleRegion(), undefined, undefined, undefined, undefined, "f" + BUILD.slice(1)),
    ];
    variants.forEach((variant, i) => expect(variant, `variant ${i}`).not.toBe(base));
    expect(new Set(variants).size).toBe(variants.length);
  });

  test("keeps apart what the same int32 would blur: no next block and block 1, an immediate read unsigned and signed", () => {
    const withNext = (next: number) => changedBlock((b) => { b.next = next; });
    const changedBlock = (change: (b: Region["blocks"][number]) => void) => { const r = structuredClone(sampleRegion()); change(r.blocks[0]); return keyOf(r); };
    expect(withNext(NO_NEXT)).not.toBe(withNext(1)); // ToInt32(Number.MIN_SAFE_INTEGER) is 1
    expect(changedBlock((b) => { b.entries[0].imm = 0xfffff000; })).not.toBe(changedBlock((b) => { b.entries[0].imm = -4096; }));
    expect(changedBlock((b) => { b.entries[0].upper = undefined; })).not.toBe(changedBlock((b) => { b.entries[0].upper = 0xffff; }));
  });

  test("writes every field of a region, its blocks, entries and other pages (add a new one to batch-key.ts)", () => {
    const region = sampleRegion();
    // blockAt is derived from the blocks' order, which the key writes.
    expect(Object.keys(region).sort()).toEqual(["blockAt", "blocks", "head", "instructions", "otherPages", "otherReturnPoints", "returnPoints"]);
    expect(Object.keys(region.blocks[0]).sort()).toEqual(["entries", "next", "start"]);
    expect(Object.keys(region.otherPages[0]).sort()).toEqual(["first", "generation", "slot"]);
    const entryFields: Array<keyof Entry> = ["imm", "index", "length", "op", "rd", "rs1", "rs2", "upper"];
    expect(Object.keys({ index: 0, op: 0, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4, upper: 0 } satisfies Required<Entry>).sort()).toEqual(entryFields);
  });
});
