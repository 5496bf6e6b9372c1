// Regions that take code from other pages (src/jit/region.ts, OtherPage): a call
// from the head page to a function on another page runs inside the caller's
// region, and its return comes back through the region's own return point, so
// neither is a transfer between translations. The code taken in runs only after
// a check that its page still holds it (Gen.checkPage); a function taken in may call
// another on its page, whose return comes back to a return point there. These tests
// run such code at any slice size against the interpreter (instret and registers exact), with
// exits inside the taken code (a load the host must do), with the function's page before
// the head's (negative entry indices), and under Sv32 with the function's page
// remapped to other code and then unmapped.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, TranslatingCore, asm, runPastBudget, expectSameState } from "../core/harness.js";
import { LEAF, P1, P2, PTE_VRWXAD, VF, expectRemapsFollowed, pte, startSv32 } from "./sv32-setup.js";

const BASE = L.RAM_GUEST_BASE;
const [RA, T0, T1, A0, A1] = [1, 5, 6, 10, 11];

let savedCounting: string | undefined;
beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
afterEach(() => {
  if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
});

/**
 * Code at `code`: for (t0 = n; t0 != 0; t0--) a0 += f(); ebreak. The function at `f` (another page): t1 = *a1;
 * a1 += 4; a0 += t1; return. a1 walks words from `data`.
 */
function callsAcrossPages(c: TestCore, code: number, f: number, data: number, n: number): void {
  const loop = code + 24;
  const setUp = [...asm.li(T0, n), ...asm.li(A1, data)];
  while (setUp.length < 6) setUp.push(asm.addi(0, 0, 0));
  c.poke(code, setUp);
  c.poke(loop, [asm.jal(RA, f - loop), asm.addi(T0, T0, -1), asm.bne(T0, 0, -8), asm.ebreak()]);
  c.poke(f, [asm.lw(T1, A1, 0), asm.addi(A1, A1, 4), asm.add(A0, A0, T1), asm.jalr(0, RA, 0)]);
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.pc = code;
}

function fillData(c: TestCore, data: number, words: number): void {
  c.poke(data, Array.from({ length: words }, (_, k) => (k * 7 + 3) >>> 0));
}


describe("a region that takes a function from another page", () => {
  const N = 20_000;
  for (const [where, code, f] of [["the next page", BASE, BASE + 0x1000], ["the page before", BASE + 0x2000, BASE + 0x1000]] as const) {
    test(`calls to ${where} and their returns run inside the caller's region; state exact at any slice size`, () => {
      const data = BASE + 0x10000;
      const plain = new TestCore();
      callsAcrossPages(plain, code, f, data, N);
      fillData(plain, data, N);
      expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
      for (const [threshold, slice] of [[undefined, 1_000_000], [undefined, 333], [1, 1_000_000], [1, 7], [1, 1]] as const) {
        const c = new TranslatingCore(1 << 20, threshold, true);
        callsAcrossPages(c, code, f, data, N);
        fillData(c, data, N);
        const what = `threshold ${threshold ?? "default"}, slices of ${slice}`;
        expect(runPastBudget(c, slice), what).toBe(L.EXIT_BREAKPOINT);
        expectSameState(c, plain, what);
        if (slice < 1000) continue;
        // Kept to its page, each pass chained twice (the call, the return): 2 N.
        expect(c.transfersInTranslatedCode(), `${what}: chained transfers`).toBeLessThan(N / 10);
        expect(Number(c.instret) - c.translator.translatedRetired(), `${what}: interpreted`).toBeLessThan(N / 4);
      }
    });
  }

  test("a function taken in that calls another on its page returns there inside the region too", () => {
    // f (page B): t1 = g(); a0 += t1; return, with g (page B): t1 = *a1; a1 += 4; return. f keeps ra in a2.
    const [A2] = [12];
    const code = BASE, f = BASE + 0x1000, g = BASE + 0x1100, data = BASE + 0x10000;
    const set = (c: TestCore) => {
      callsAcrossPages(c, code, f, data, N);
      c.poke(f, [asm.addi(A2, RA, 0), asm.jal(RA, g - (f + 4)), asm.add(A0, A0, T1), asm.jalr(0, A2, 0)]);
      c.poke(g, [asm.lw(T1, A1, 0), asm.addi(A1, A1, 4), asm.jalr(0, RA, 0)]);
      fillData(c, data, N);
    };
    const plain = new TestCore();
    set(plain);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    for (const [threshold, slice] of [[undefined, 1_000_000], [undefined, 333], [1, 1_000_000], [1, 5]] as const) {
      const c = new TranslatingCore(1 << 20, threshold, true);
      set(c);
      const what = `threshold ${threshold ?? "default"}, slices of ${slice}`;
      expect(runPastBudget(c, slice), what).toBe(L.EXIT_BREAKPOINT);
      expectSameState(c, plain, what);
      // Kept to their pages, each pass chained twice (f's call and return; g is in f's region): 2 N.
      if (slice > 1000) expect(c.transfersInTranslatedCode(), `${what}: chained transfers`).toBeLessThan(N / 10);
    }
  });

  test("a load in the function's code that leaves (MMIO: past RAM's end) leaves at that load, the state exact", () => {
    // a1 runs off the end of RAM on the 5000th call: f's first instruction is then a load the host must do.
    const data = BASE + (1 << 20) - 4 * 4999;
    const plain = new TestCore();
    callsAcrossPages(plain, BASE, BASE + 0x1000, data, N);
    fillData(plain, data, 4999);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_MMIO);
    expect(plain.st(L.STATE_EXIT_CAUSE).toString(16)).toBe((BASE + (1 << 20)).toString(16)); // the address
    for (const [threshold, slice] of [[undefined, 1_000_000], [1, 1_000_000], [1, 13]] as const) {
      const c = new TranslatingCore(1 << 20, threshold, true);
      callsAcrossPages(c, BASE, BASE + 0x1000, data, N);
      fillData(c, data, 4999);
      const what = `threshold ${threshold ?? "default"}, slices of ${slice}`;
      expect(runPastBudget(c, slice), what).toBe(L.EXIT_MMIO);
      expect(c.st(L.STATE_EXIT_CAUSE).toString(16), what).toBe(plain.st(L.STATE_EXIT_CAUSE).toString(16));
      expectSameState(c, plain, what);
    }
  });

  test("a store that rewrites the function runs the new code: the caller's region, its own page untouched, checks", () => {
    // After the first run, code on a third page stores "addi a0, a0, 1000" over f's "add a0, a0, t1" and goes back to
    // the loop, whose region (page A's, still translated) took f's old code.
    const data = BASE + 0x10000, f = BASE + 0x1000, rewrite = BASE + 0x3000;
    const run = (c: TestCore) => {
      callsAcrossPages(c, BASE, f, data, N);
      fillData(c, data, 2 * N);
      expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
      const code = [...asm.li(A2, asm.addi(A0, A0, 1000)), ...asm.li(A3, f + 8), asm.sw(A2, A3, 0)];
      c.poke(rewrite, [...code, asm.jal(0, BASE + 24 - (rewrite + 4 * code.length))]);
      c.setX(T0, N);
      c.pc = rewrite;
      expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    };
    const plain = new TestCore();
    run(plain);
    const before = plain.x(A0);
    expect(plain.x(A0)).toBeGreaterThan(1000 * N);
    for (const slice of [1_000_000, 17]) {
      const c = new TranslatingCore(1 << 20, undefined, true);
      callsAcrossPages(c, BASE, f, data, N);
      fillData(c, data, 2 * N);
      expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
      const chainedBefore = c.transfersInTranslatedCode();
      const code = [...asm.li(A2, asm.addi(A0, A0, 1000)), ...asm.li(A3, f + 8), asm.sw(A2, A3, 0)];
      c.poke(rewrite, [...code, asm.jal(0, BASE + 24 - (rewrite + 4 * code.length))]);
      c.setX(T0, N);
      c.pc = rewrite;
      expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
      expectSameState(c, plain, `slices of ${slice}, after the rewrite`);
      // The region's check of f's page fails from then on: its calls go to f's own translation, as across pages before.
      if (slice > 1000) expect(c.transfersInTranslatedCode() - chainedBefore, "chained transfers after the rewrite").toBeGreaterThan(N);
    }
    expect(before).toBe(plain.x(A0));
  });
});

// ---- Sv32: the loop's code at VA 0x40002000 calls f at VA 0x40003000 (a direct call), whose page it remaps to other
// code and then unmaps, each followed by sfence.vma. The taken code must follow the mapping.
const CODE = BASE + 0x2f000, VCODE = 0x40002000; // the loop's page, mapped through the leaf table as f's is
const SFENCE_VMA = 0x12000073;
const [A2, A3] = [12, 13];

function remapProgram(n: number): number[] {
  // for (t0 = n; t0 != 0; t0--) { f(); if (t0 == 2n/3) { leaf[3] = P2; sfence.vma } if (t0 == n/3) { leaf[3] = 0; sfence.vma } }
  const loop = VCODE + 24;
  return [
    ...asm.li(A2, LEAF + 3 * 4), ...asm.li(A3, pte(P2, PTE_VRWXAD)), ...asm.li(T0, n),
    /* 24 L: */ asm.jal(RA, VF - loop), asm.addi(T0, T0, -1),
    /* 32 */ ...asm.li(T1, (2 * n) / 3), asm.bne(T0, T1, 12), asm.sw(A3, A2, 0), SFENCE_VMA,
    /* 52 */ ...asm.li(T1, n / 3), asm.bne(T0, T1, 12), asm.sw(0, A2, 0), SFENCE_VMA,
    /* 72 */ asm.bne(T0, 0, -48), asm.ebreak(),
  ];
}

function startPaged(c: TestCore): void {
  startSv32(c, remapProgram(6000), CODE, [[2, pte(CODE, PTE_VRWXAD)], [3, pte(P1, PTE_VRWXAD)]], VCODE);
}

describe("taken code under Sv32", () => {
  test("a direct call into a page that is remapped, then unmapped (sfence.vma), runs the new code, then faults", () => {
    expectRemapsFollowed(startPaged, true, (c, what) => {
      expect(c.st(L.STATE_EXIT_PC).toString(16), what).toBe(VF.toString(16));
    });
  });
});
