// Linear checks (src/jit/gen-memory.ts, Checks): translated loads and stores reach linear pages from the address
// alone, and leave for the interpreter at any other page, which fills its TLB entry again; the translator counts
// those fills (JIT_NONLINEAR_FILLS) and, when they come often, drops every translation and goes over to full checks
// (translator.ts watchNonlinearFills). Here a
// loop reads a data page under Sv32 mapped at its linear frame, or elsewhere: either way the registers and instret
// are the interpreter's, at slices of 1 M and of 333; only the page elsewhere makes the translator go over.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, TranslatingCore, asm, expectSameState, runPastBudget } from "../core/harness.js";
import { PTE_VRWXAD, pte, startSv32 } from "./sv32-setup.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, T1, T2, A0] = [5, 6, 7, 10];
const CODE = BASE + 0x1000; // in the identity-mapped megapage
const DATA = BASE + 0x32000; // RAM page 0x32: 1 MiB of RAM makes a window of 256 pages
const LINEAR_VA = 0x40032000; // virtual page 0x40032: 0x40032 & 0xff = 0x32, DATA's own page
const ELSEWHERE_VA = 0x40005000; // virtual page 0x40005: its linear frame would be RAM page 5
const N = 400_000; // 1.6 M instructions: more than a slice of 1 M

/** S-mode under Sv32: for (t1 = N; t1 != 0; t1--) a0 += *(t0 = va); ebreak; DATA's first word is 3. */
function readLoop(c: TestCore, va: number): void {
  const code = [...asm.li(T0, va), ...asm.li(T1, N), asm.lw(T2, T0, 0), asm.add(A0, A0, T2), asm.addi(T1, T1, -1),
    asm.bne(T1, 0, -12), asm.ebreak()];
  startSv32(c, code, CODE, [[(va >>> 12) & 0x3ff, pte(DATA, PTE_VRWXAD)]], CODE);
  c.poke(DATA, [3]);
}

function runBoth(va: number, slice: number) {
  const plain = new TestCore();
  readLoop(plain, va);
  const plainExit = runPastBudget(plain, 1_000_000);
  expect(plain.x(A0)).toBe(3 * N);
  const c = new TranslatingCore(1 << 20, 1);
  readLoop(c, va);
  const what = `data at ${va.toString(16)}, slices of ${slice}`;
  expect(runPastBudget(c, slice), what).toBe(plainExit);
  expectSameState(c, plain, what);
  return c;
}

describe("linear checks", () => {
  test("a loop over a page at its linear frame runs translated throughout, with linear checks kept", () => {
    for (const slice of [1_000_000, 333]) {
      const c = runBoth(LINEAR_VA, slice);
      expect(c.translator.stats.fullChecksAt).toBe(-1);
      expect(fills(c)).toBe(0);
      expect(c.translator.translatedRetired()).toBeGreaterThan(0.99 * Number(c.instret));
    }
  });

  test("a loop over a page elsewhere makes the translator go over to full checks, and then runs translated", () => {
    for (const slice of [1_000_000, 333]) {
      const c = runBoth(ELSEWHERE_VA, slice);
      const what = `slices of ${slice}`;
      expect(c.translator.stats.fullChecksAt, what).toBeGreaterThanOrEqual(0);
      // Left at every access, the entry filled again, until the first slice boundary after 10 k of them; not after.
      expect(fills(c), what).toBeGreaterThanOrEqual(10_000);
      expect(fills(c), what).toBeLessThanOrEqual(10_000 + slice / 4 + 10);
      expect(c.translator.translatedRetired(), what).toBeGreaterThan(0.3 * Number(c.instret));
    }
  });
});

/** TLB entries the core filled for pages that are not linear (JIT_NONLINEAR_FILLS). */
function fills(c: TestCore): number {
  return c.view.getUint32(L.JIT_NONLINEAR_FILLS, true);
}
