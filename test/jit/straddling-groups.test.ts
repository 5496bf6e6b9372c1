// Loads and stores that share a TLB check (src/jit/gen-memory.ts, planAccesses) while their span crosses a page
// boundary: a word pair or a stack frame that straddles two pages. The group's one host address serves both pages when
// both are linear and next to each other in the linear window (a linear page's host address is its address's low
// bits); otherwise the group leaves the region at its first access, nothing done. Before, any crossing left: a loop
// whose first instruction was such a group ran wholly in the interpreter (every pass left at the region's head).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { emitRegion } from "../../src/jit/emit.js";
import { Exit } from "../../src/jit/gen.js";
import type { Checks } from "../../src/jit/gen-memory.js";
import { discoverRegion, type Entry, type Region } from "../../src/jit/region.js";
import { asm, expectTranslatedAsInterpreted, interpretedIn, type TestCore } from "../core/harness.js";

const [T0, A0, A1, A2, A3, A4, A5] = [5, 10, 11, 12, 13, 14, 15];

describe("a group whose span crosses a page, emitted alone", () => {
  const RAM_BYTES = 16 * 4096; // a window of 16 frames: address & 0xffff
  const UNDECODED: Omit<Entry, "index"> = { op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 };
  const INVALID = 0xffffffff;

  // lw a0, -4(a1); lw a4, 0(a1): one check over [a1 - 4, a1 + 3], a1 at a page boundary. Then undecoded: entry 4.
  function region(): Region {
    const ops: Array<[number, number, number]> = [[O.OP_LW, A0, -4], [O.OP_LW, A4, 0]];
    const entries = new Map<number, Entry>(ops.map(([op, rd, imm], k) => [2 * k, { index: 2 * k, op, rd, rs1: A1, rs2: 0, imm, length: 4 }]));
    return discoverRegion(0, (index) => entries.get(index) ?? { index, ...UNDECODED });
  }

  interface PageEntry { va: number; frame: number; linear: boolean }

  /** Runs the region with a1 = `boundary`, the read TLB holding `pages`; every frame's words say which frame they are. */
  function run(boundary: number, pages: PageEntry[], checks: Checks) {
    const memory = new WebAssembly.Memory({ initial: (L.RAM_HOST_BASE + RAM_BYTES) / 65536 + 1 });
    const table = new WebAssembly.Table({ element: "anyfunc", initial: 1 });
    const { g0: g } = new WebAssembly.Instance(new WebAssembly.Module(emitRegion(region(), RAM_BYTES, undefined, checks)), { env: { memory, table } })
      .exports as { g0: (...args: number[]) => number };
    const view = new DataView(memory.buffer);
    for (const tlb of [L.TLB_READ, L.TLB_WRITE, L.LINEAR_READ, L.LINEAR_WRITE]) {
      for (let i = 0; i < L.TLB_ENTRIES; i++) view.setUint32(tlb + 8 * i, INVALID, true);
    }
    for (const { va, frame, linear } of pages) {
      const at = ((va >>> 12) & (L.TLB_ENTRIES - 1)) * 8;
      view.setUint32(L.TLB_READ + at, va, true);
      view.setUint32(L.TLB_READ + at + 4, (L.RAM_HOST_BASE + frame * 4096 - va) >>> 0, true);
      view.setUint32(L.LINEAR_READ + at, linear ? va : INVALID, true);
    }
    for (let frame = 0; frame < RAM_BYTES / 4096; frame++) {
      view.setUint32(L.RAM_HOST_BASE + frame * 4096, 100 + frame, true); // the first word
      view.setUint32(L.RAM_HOST_BASE + frame * 4096 + 4092, 200 + frame, true); // the last
    }
    view.setUint32(L.STATE_BASE + A1 * 4, boundary, true);
    const left = (g(0x10000, 100, 0x80000000, 0x10000) - 0x10000) / 8;
    return { left, a0: view.getUint32(L.STATE_BASE + A0 * 4, true), a4: view.getUint32(L.STATE_BASE + A4 * 4, true) };
  }

  for (const checks of ["full", "linear"] as const) {
    test(`${checks} checks: two linear pages next to each other are read in place, the region runs through`, () => {
      // Virtual pages 0x12 and 0x13: linear frames 2 and 3.
      const r = run(0x13000, [{ va: 0x12000, frame: 2, linear: true }, { va: 0x13000, frame: 3, linear: true }], checks);
      expect(r).toEqual({ left: 4, a0: 202, a4: 103 });
    });

    test(`${checks} checks: a span that ends at its page's last byte is on one page, and runs through on that page alone`, () => {
      // [a1 - 4, a1 + 3] = [0x12ff8, 0x12fff]: the page after it is not in the TLB, and not needed; with full checks
      // the page is not even linear (taken as two pages, it would leave: the two-page way needs linear pages).
      const page = checks === "full" ? { va: 0x12000, frame: 9, linear: false } : { va: 0x12000, frame: 2, linear: true };
      const r = run(0x12ffc, [page], checks);
      expect(r).toEqual({ left: 4, a0: 0, a4: 200 + page.frame });
    });

    test(`${checks} checks: the next page missing from the TLB leaves at the group's first access, nothing done`, () => {
      const r = run(0x13000, [{ va: 0x12000, frame: 2, linear: true }], checks);
      expect(r).toEqual({ left: 0, a0: 0, a4: 0 });
    });

    test(`${checks} checks: either page held elsewhere than its linear frame leaves too`, () => {
      expect(run(0x13000, [{ va: 0x12000, frame: 2, linear: true }, { va: 0x13000, frame: 7, linear: false }], checks))
        .toEqual({ left: 0, a0: 0, a4: 0 });
      expect(run(0x13000, [{ va: 0x12000, frame: 9, linear: false }, { va: 0x13000, frame: 3, linear: true }], checks))
        .toEqual({ left: 0, a0: 0, a4: 0 });
    });

    test(`${checks} checks: two linear pages at the window's two ends (it wraps between them) leave too`, () => {
      // Virtual pages 0x1f and 0x20: linear frames 15 and 0, not next to each other in RAM.
      const r = run(0x20000, [{ va: 0x1f000, frame: 15, linear: true }, { va: 0x20000, frame: 0, linear: true }], checks);
      expect(r).toEqual({ left: 0, a0: 0, a4: 0 });
    });
  }
});

describe("a loop through a word pair that straddles a page, on the core", () => {
  const BASE = L.RAM_GUEST_BASE;
  const DATA = BASE + 0x3000; // a1 = DATA: words at DATA - 4 (page 2) and DATA (page 3)
  const N = 20_000;
  let savedCounting: string | undefined;
  beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
  afterEach(() => {
    if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
  });

  /**
   * t0 = N; a1 = DATA; loop: a2 = [a1 - 4]; a3 = [a1]; a4 += a2 + a3; [a1 - 4] = a4; [a1] = t0; t0--; while (t0).
   * The loop's head is the group's first load: leaving there made every pass interpreted.
   */
  function start(c: TestCore): void {
    const loop = BASE + 0x100;
    const setUp = [...asm.li(T0, N), ...asm.li(A1, DATA)];
    c.poke(BASE, [...setUp, asm.jal(0, loop - (BASE + 4 * setUp.length))]);
    c.poke(loop, [
      asm.lw(A2, A1, -4), asm.lw(A3, A1, 0), asm.add(A5, A2, A3), asm.add(A4, A4, A5),
      asm.sw(A4, A1, -4), asm.sw(T0, A1, 0), asm.addi(T0, T0, -1), asm.bne(T0, 0, -28), asm.ebreak(),
    ]);
    c.poke(DATA - 4, [7, 11]);
    c.pc = BASE;
  }

  test("runs translated, its state exact at any slice size", () => {
    expectTranslatedAsInterpreted(start, (c, plain) => {
      expect([c.peek(DATA - 4), c.peek(DATA)]).toEqual([plain.peek(DATA - 4), plain.peek(DATA)]);
      expect(interpretedIn(c), "instructions interpreted").toBeLessThan(N / 4);
      expect(c.translator.exitCounts()[Exit.MISS], "TLB-miss exits").toBeLessThan(10);
    });
  });
});

describe("spills and reloads through sp in one aligned block of up to 16 bytes, on the core", () => {
  const BASE = L.RAM_GUEST_BASE;
  const N = 20_000;
  const SP = 2;
  let savedCounting: string | undefined;
  beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
  afterEach(() => {
    if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
  });

  /**
   * t0 = N; sp = `sp`; loop: [sp + 12] = a4; [sp + 8] = t0; a2 = [sp + 12]; a3 = [sp + 8]; a4 += a2 + a3 + 1; t0--;
   * while (t0). The group [sp + 8, sp + 15] is checked once, as the aligned 8-byte block at sp + 8, whose alignment the
   * ABI's 16-byte sp gives.
   */
  function starter(sp: number, n = N) {
    return (c: TestCore): void => {
      const loop = BASE + 0x100;
      const setUp = [...asm.li(T0, n), ...asm.li(SP, sp)];
      c.poke(BASE, [...setUp, asm.jal(0, loop - (BASE + 4 * setUp.length))]);
      c.poke(loop, [
        asm.sw(A4, SP, 12), asm.sw(T0, SP, 8), asm.lw(A2, SP, 12), asm.lw(A3, SP, 8), asm.add(A5, A2, A3),
        asm.addi(A5, A5, 1), asm.add(A4, A4, A5), asm.addi(T0, T0, -1), asm.bne(T0, 0, -32), asm.ebreak(),
      ]);
      c.pc = BASE;
    };
  }

  test("sp aligned as the ABI keeps it, at a page's last 16 bytes too: runs translated, its state exact", () => {
    for (const sp of [BASE + 0x3000, BASE + 0x3ff0]) {
      expectTranslatedAsInterpreted(starter(sp), (c, plain) => {
        expect([c.peek(sp + 8), c.peek(sp + 12)]).toEqual([plain.peek(sp + 8), plain.peek(sp + 12)]);
        expect(interpretedIn(c), "instructions interpreted").toBeLessThan(N / 4);
        expect(c.translator.exitCounts()[Exit.MISS], "TLB-miss exits").toBeLessThan(10);
        expect(c.translator.stats.anySpAt, "it keeps relying on sp's alignment").toBe(-1);
      });
    }
  });

  test("sp off the ABI's alignment: the group leaves at its first access, exactly, until the translator stops relying on sp", () => {
    const sp = BASE + 0x3004; // sp + 8 is not 8-byte aligned
    const n = 250_000; // ~2.5 M instructions: slices of 1 M, between which the translator looks
    expectTranslatedAsInterpreted(starter(sp, n), (c, plain) => {
      expect([c.peek(sp + 8), c.peek(sp + 12)]).toEqual([plain.peek(sp + 8), plain.peek(sp + 12)]);
      // Each pass left at the group until the first slice boundary at which 10 k or more such misses had come at over
      // one per 1,000 translated instructions; then every translation was dropped and the loop translated again
      // without the sp block: the rest ran translated.
      const misses = c.translator.exitCounts()[Exit.MISS];
      expect(misses, "TLB-miss exits").toBeGreaterThanOrEqual(10_000);
      expect(misses, "TLB-miss exits").toBeLessThan(n / 2);
      expect(c.translator.stats.anySpAt, "when it stopped relying on sp's alignment").toBeGreaterThanOrEqual(0);
      expect(interpretedIn(c), "instructions interpreted").toBeLessThan(9 * n / 2);
    });
  });
});
