// Chaining (src/jit/emit.ts, chainOrReturn): a translated region that calls or
// returns to another page's translated code goes on there without the fast
// loop. These tests run code whose every call and return crosses a page, and
// check that the transfers chain, that instret and registers stay exact at any
// slice size, and that a chained edge never runs stale code: after the target is
// rewritten (fence.i), or its page remapped or unmapped under Sv32. A region
// that takes the other page's code in (region.ts, OtherPage) has no transfer to
// chain there: each test runs with that off, to see the chain, and on, where
// the same code must give the same state (other-pages.test.ts tests that more).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, TranslatingCore, asm, runPastBudget, expectSameState } from "../core/harness.js";
import { LEAF, P1, P2, PTE_VRWXAD, VF, expectRemapsFollowed, pte, startSv32 } from "./sv32-setup.js";

const BASE = L.RAM_GUEST_BASE;
const [RA, T0, T1, A0, A1, A2, A3, A4, A5, A6] = [1, 5, 6, 10, 11, 12, 13, 14, 15, 16];
const FENCE_I = 0x0000100f;
const SFENCE_VMA = 0x12000073;
const EBREAK = 0x00100073;
const F = BASE + 0x1000; // the called function's page

// Count exits by kind in the regions these tests translate (the measurement build's counters).
let savedCounting: string | undefined;
beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
afterEach(() => {
  if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
});

/** `jal rd, target` placed at `from`. */
function jalTo(rd: number, from: number, target: number): number { return asm.jal(rd, target - from); }

/**
 * Page A: for (t0 = n; t0 != 0; t0--) { f(); a2 += 1 (the return point); if (t0 == 2n/3) { *f = "addi a0, a0, 100"; fence.i } }
 * Page B, f: a0 += 1; if (t0 == n/3) { *returnPoint = "addi a2, a2, 1000"; fence.i } return.
 */
function crossPageCalls(n: number): { a: number[]; b: number[] } {
  const RP = BASE + 44;
  const a = [
    ...asm.li(T0, n), ...asm.li(A3, asm.addi(A0, A0, 100)), ...asm.li(A4, F), ...asm.li(A5, asm.addi(A2, A2, 1000)),
    ...asm.li(A6, RP),
    /* 40 L: */ jalTo(RA, BASE + 40, F),
    /* 44 RP: */ asm.addi(A2, A2, 1), asm.addi(T0, T0, -1), ...asm.li(T1, (2 * n) / 3), asm.bne(T0, T1, 12),
    /* 64 */ asm.sw(A3, A4, 0), FENCE_I, asm.bne(T0, 0, -32), EBREAK,
  ];
  const b = [
    asm.addi(A0, A0, 1), ...asm.li(T1, n / 3), asm.bne(T0, T1, 12), asm.sw(A5, A6, 0), FENCE_I,
    /* 24 */ asm.jalr(0, RA, 0),
  ];
  return { a, b };
}

function start(c: TestCore, pages: { a: number[]; b: number[] }): void {
  c.poke(BASE, pages.a);
  c.poke(F, pages.b);
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.pc = BASE;
}


describe("chaining between translated regions", () => {
  test("calls and returns across pages stay in translated code, and rewriting a chained target (fence.i) runs the new code", () => {
    const plain = new TestCore();
    start(plain, crossPageCalls(6000)); // long enough to re-warm after each rewrite (JIT_THRESHOLD arrivals)
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(plain.x(A0)).toBe(2000 * 1 + 4000 * 100); // f rewritten when t0 was 4000
    expect(plain.x(A2)).toBe(4000 * 1 + 2000 * 1000); // the return point rewritten (from page B) when t0 was 2000
    const chainedWithout = new Map<number, number>(); // by slice size, keeping to its page
    for (const otherPages of [false, true]) {
      for (const [threshold, slice] of [[undefined, 1_000_000], [undefined, 500], [1, 1_000_000], [1, 37], [1, 3]] as const) {
        const c = new TranslatingCore(1 << 20, threshold, otherPages);
        start(c, crossPageCalls(6000));
        expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
        const what = `threshold ${threshold ?? "default"}, slices of ${slice}, other pages ${otherPages}`;
        expectSameState(c, plain, what);
        // Each call and return chains once both sides are translated again after a rewrite (JIT_THRESHOLD arrivals
        // each). With page B's code in page A's region, neither is a transfer until f is rewritten; then the region's
        // check of page B fails and the call goes as before, to f's own translation.
        if (threshold !== undefined) continue;
        if (!otherPages) {
          expect(c.transfersInTranslatedCode(), `${what}: chained transfers`).toBeGreaterThan(slice > 1000 ? 5000 : 1000);
          chainedWithout.set(slice, c.transfersInTranslatedCode());
        } else expect(c.transfersInTranslatedCode(), `${what}: chained transfers`).toBeLessThan(chainedWithout.get(slice)! / 2);
      }
    }
  });

  test.each([false, true])("the budget is checked at each chained entry: slices end near their budget with exact instret (other pages %s)", (otherPages) => {
    const c = new TranslatingCore(1 << 20, undefined, otherPages);
    const plain = new TestCore();
    const endless = crossPageCalls(3_000_000);
    start(c, endless);
    start(plain, endless);
    c.run(20_000); // translated by now (the rewrites come much later)
    plain.run(Number(c.instret));
    const before = c.transfersInTranslatedCode();
    for (let i = 0; i < 20; i++) {
      const at = c.instret;
      expect(c.run(1000)).toBe(L.EXIT_BUDGET);
      const ran = Number(c.instret - at);
      expect(ran).toBeGreaterThanOrEqual(1000);
      expect(ran, "overrun at most one block").toBeLessThan(1010);
      plain.run(ran);
      expectSameState(c, plain, `slice ${i}`);
    }
    if (!otherPages) expect(c.transfersInTranslatedCode() - before, "chained transfers in 20 slices of 1000").toBeGreaterThan(20 * 100);
  });

  test.each([false, true])("a loop made only of jumps between two pages ends each slice at its budget (other pages %s)", (otherPages) => {
    // Page A: a0 += 1; j B.  Page B: a1 += 1; j A.  No jump stays inside a region that keeps to its page: the chain
    // checks the budget. One that takes page B's code loops inside, through its dispatch, which checks it. (Plain
    // jumps count as arrivals only at threshold 1.)
    const pages = { a: [asm.addi(A0, A0, 1), jalTo(0, BASE + 4, F)], b: [asm.addi(A1, A1, 1), jalTo(0, F + 4, BASE)] };
    const c = new TranslatingCore(1 << 20, 1, otherPages);
    const plain = new TestCore();
    start(c, pages);
    start(plain, pages);
    c.run(10_000);
    plain.run(Number(c.instret));
    const before = c.transfersInTranslatedCode();
    for (const slice of [1000, 1, 2, 999, 100_000]) {
      const at = c.instret;
      expect(c.run(slice)).toBe(L.EXIT_BUDGET);
      const ran = Number(c.instret - at);
      expect(ran, `a slice of ${slice}`).toBeGreaterThanOrEqual(slice);
      expect(ran, `a slice of ${slice}: overrun`).toBeLessThan(slice + 4);
      plain.run(ran);
      expectSameState(c, plain, `a slice of ${slice}`);
    }
    if (!otherPages) expect(c.transfersInTranslatedCode() - before, "chained jumps").toBeGreaterThan(50_000);
    else expect(c.transfersInTranslatedCode() - before, "chained jumps").toBeLessThan(100);
  });
});

// ---- Sv32: S-mode code on an identity-mapped megapage calls a function at VA 0x40003000, whose page it remaps
// (to other code) and then unmaps, each followed by sfence.vma. The chained call must follow the new mapping.

function remapProgram(n: number): number[] {
  // for (t0 = n; t0 != 0; t0--) { f(); if (t0 == 2n/3) { leaf[3] = P2; sfence.vma } if (t0 == n/3) { leaf[3] = 0; sfence.vma } }
  return [
    ...asm.li(A1, VF), ...asm.li(A2, LEAF + 3 * 4), ...asm.li(A3, pte(P2, PTE_VRWXAD)), ...asm.li(T0, n),
    /* 32 L: */ asm.jalr(RA, A1, 0), asm.addi(T0, T0, -1),
    /* 40 */ ...asm.li(T1, (2 * n) / 3), asm.bne(T0, T1, 12), asm.sw(A3, A2, 0), SFENCE_VMA,
    /* 60 */ ...asm.li(T1, n / 3), asm.bne(T0, T1, 12), asm.sw(0, A2, 0), SFENCE_VMA,
    /* 80 */ asm.bne(T0, 0, -48), EBREAK,
  ];
}

function startPaged(c: TestCore): void {
  startSv32(c, remapProgram(6000), BASE, [[3, pte(P1, PTE_VRWXAD)]], BASE); // long enough to get hot again after each remap
}

describe("chaining under Sv32", () => {
  test("a chained call into a page that is remapped, then unmapped (sfence.vma) runs the new code, then faults", () => {
    expectRemapsFollowed(startPaged, false, (c, what, threshold) => {
      if (threshold === undefined) expect(c.transfersInTranslatedCode(), `${what}: chained transfers`).toBeGreaterThan(3000);
    });
  });
});
