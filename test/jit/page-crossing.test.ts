// Loops whose body crosses a page boundary by straight-line code, not by a jump:
// the part on the second page is reached only by falling off the first page's
// end (or by a 4-byte instruction that straddles the two). That part must be
// translated too, and transfers across the boundary must chain, with instret
// and registers exact at any slice size. (Before, falling onto a page never
// counted as an arrival: the Dhrystone loop of the compute guest ran its second
// page in the interpreter on every pass.) With regions that take code from
// other pages (region.ts, OtherPage), the crossing is inside one region instead.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { Exit } from "../../src/jit/gen.js";
import { TestCore, TranslatingCore, asm, runPastBudget, expectSameState } from "../core/harness.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, A0, A1, A2, A3, A4] = [5, 10, 11, 12, 13, 14];
const LOOP = BASE + 0xff0; // 16 bytes before page B
const C_ADDI_A0_1 = 0x0505; // c.addi a0, 1

let savedCounting: string | undefined;
beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
afterEach(() => {
  if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
});

/** t0 = n; do { a0++; a1 += 3; a2 += a0; a3++ (the last word of page A) ; t0--; a4 += a1 } while (t0) */
function fallsOffThePage(c: TestCore, n: number): void {
  c.poke(BASE, [...asm.li(T0, n), asm.jal(0, LOOP - (BASE + 8))]);
  c.poke(LOOP, [asm.addi(A0, A0, 1), asm.addi(A1, A1, 3), asm.add(A2, A2, A0), asm.addi(A3, A3, 1)]);
  c.poke(BASE + 0x1000, [asm.addi(T0, T0, -1), asm.add(A4, A4, A1), asm.bne(T0, 0, LOOP - (BASE + 0x1008)), asm.ebreak()]);
}

/** The same loop with "a3++" a 4-byte instruction at 0xffe, its upper half on page B (after a c.addi at 0xffc). */
function straddles(c: TestCore, n: number): void {
  c.poke(BASE, [...asm.li(T0, n), asm.jal(0, LOOP - (BASE + 8))]);
  c.poke(LOOP, [asm.addi(A0, A0, 1), asm.addi(A1, A1, 3), asm.add(A2, A2, A0)]);
  c.pokeHalf(LOOP + 12, C_ADDI_A0_1);
  const a3 = asm.addi(A3, A3, 1);
  c.pokeHalf(BASE + 0xffe, a3 & 0xffff);
  c.pokeHalf(BASE + 0x1000, a3 >>> 16);
  const b = BASE + 0x1002;
  for (const [k, word] of [asm.addi(T0, T0, -1), asm.add(A4, A4, A1), asm.bne(T0, 0, LOOP - (b + 8)), asm.ebreak()].entries()) {
    c.pokeHalf(b + 4 * k, word & 0xffff);
    c.pokeHalf(b + 4 * k + 2, word >>> 16);
  }
}

function start(c: TestCore, program: (c: TestCore, n: number) => void, n: number): void {
  program(c, n);
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.pc = BASE;
}

describe("a loop that crosses a page without a jump", () => {
  const N = 20_000;
  for (const [name, program, chainsPerPass] of [["falls off page A's end", fallsOffThePage, 2], ["straddles the two pages", straddles, 1]] as const) {
    test(`${name}: the second page is translated too and the crossings chain; state exact at any slice size`, () => {
      const plain = new TestCore();
      start(plain, program, N);
      expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
      // a2 sums a0 = 1, 2, 3 ...; with the c.addi after the add, a0 = 1, 3, 5 ...
      expect(plain.x(A2)).toBe(program === straddles ? N * N : (N * (N + 1)) / 2);
      expect(plain.x(A3)).toBe(N);
      for (const otherPages of [false, true]) {
        for (const [threshold, slice] of [[undefined, 1_000_000], [undefined, 333], [1, 1_000_000], [1, 7]] as const) {
          const c = new TranslatingCore(1 << 20, threshold, otherPages);
          start(c, program, N);
          expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
          const what = `threshold ${threshold ?? "default"}, slices of ${slice}, other pages ${otherPages}`;
          expectSameState(c, plain, what);
          if (slice < 1000) continue;
          // Page B's part is entered by chaining from page A's region (falling off its end) or, after a straddler the
          // interpreter runs, is a region of its own; its branch back to page A chains. Most passes chain so. A
          // region that took the other page's part in runs the pass inside: it neither chains nor interprets.
          const chained = c.translator.exitCounts()[Exit.CHAINED];
          const interpreted = Number(c.instret) - c.translator.translatedRetired();
          if (!otherPages) expect(chained, `${what}: chained transfers`).toBeGreaterThan(chainsPerPass * N * 0.9);
          else expect(interpreted, `${what}: instructions interpreted`).toBeLessThan(N / 4);
        }
      }
    });
  }
});

describe("a 4-byte instruction straddling two pages", () => {
  const N = 20_000;

  test("is translated with the region that reaches it: the loop no longer leaves for the interpreter on each pass", () => {
    const plain = new TestCore();
    start(plain, straddles, N);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    const c = new TranslatingCore(1 << 20);
    start(c, straddles, N);
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expectSameState(c, plain, "translated");
    // Each pass is 8 instructions; before, the straddler and what followed it up to a translated entry ran
    // interpreted on every pass (at least N instructions). Now only the passes before the region was hot do.
    const interpreted = Number(c.instret) - c.translator.translatedRetired();
    expect(interpreted).toBeLessThan(N / 4);
  });

  test("runs what the next page holds now: a changed upper half is seen, though the region's own page did not change", () => {
    const c = new TranslatingCore(1 << 20);
    start(c, straddles, N);
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(c.x(A3)).toBe(N);
    // "addi a3, a3, 1" becomes "addi a3, a3, 5": imm[11:0] is bits 31..20, all in the upper half on page B.
    c.pokeHalf(BASE + 0x1000, asm.addi(A3, A3, 5) >>> 16);
    const before = Number(c.instret) - c.translator.translatedRetired();
    c.setX(T0, N);
    c.pc = LOOP;
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(c.x(A3)).toBe(N + 5 * N);
    // Page B was written, so its own region is dropped and compiled again; page A's keeps running, its check
    // leaving for the interpreter at the straddler until that notes the new half and the region is made again.
    const plain = new TestCore();
    start(plain, straddles, N);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    plain.pokeHalf(BASE + 0x1000, asm.addi(A3, A3, 5) >>> 16);
    plain.setX(T0, N);
    plain.pc = LOOP;
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expectSameState(c, plain, "after the upper half changed");
    expect(Number(c.instret) - c.translator.translatedRetired() - before).toBeGreaterThan(0);
  });
});
