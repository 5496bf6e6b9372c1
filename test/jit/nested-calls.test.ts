// Calls between translations nested in the machine's own calls (src/jit/gen.ts, Gen.nestedCall): a region that
// calls out waits for the callee's return to its return point, which comes back as a WebAssembly return. These tests
// run calls across three pages — recursion deeper than MAX_NESTED_CALLS, and a callee that returns somewhere else
// than where it was called from — at slice sizes that end slices inside nested calls, and check the state against the
// interpreter's: registers, pc, instret. Regions keep to their pages here (no code taken from other pages), so every
// call and return between pages is a transfer.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { Exit, MAX_NESTED_CALLS } from "../../src/jit/gen.js";
import { TestCore, TranslatingCore, asm, runPastBudget, expectSameState } from "../core/harness.js";

const BASE = L.RAM_GUEST_BASE;
const [RA, SP, T0, T1, A0, A1, A2, A3] = [1, 2, 5, 6, 10, 11, 12, 13];
const F = BASE + 0x1000, G = BASE + 0x2000, STACK = BASE + 0x8000;

let savedCounting: string | undefined;
beforeEach(() => { savedCounting = process.env.ROAM_JIT_COUNT_EXITS; process.env.ROAM_JIT_COUNT_EXITS = "1"; });
afterEach(() => {
  if (savedCounting === undefined) delete process.env.ROAM_JIT_COUNT_EXITS; else process.env.ROAM_JIT_COUNT_EXITS = savedCounting;
});

const returned = (c: TranslatingCore) => c.translator.exitCounts()[Exit.RETURNED];

/**
 * A function at `at` that, while a0 != 0, decrements a0, calls `other` and adds 1 to a1 after it returns; it adds 2 to
 * a3 each time, a register the caller's loop keeps in a local (register-homes.ts): the caller must store it before
 * the call and read it again after.
 */
function recursing(at: number, other: number): number[] {
  return [
    /* 0 */ asm.bne(A0, 0, 8), /* 4 */ asm.jalr(0, RA, 0),
    /* 8 */ asm.addi(SP, SP, -16), asm.sw(RA, SP, 12), asm.addi(A0, A0, -1), asm.addi(A3, A3, 2),
    /* 24 */ asm.jal(RA, other - (at + 24)),
    /* 28 */ asm.lw(RA, SP, 12), asm.addi(SP, SP, 16), asm.addi(A1, A1, 1),
    /* 40 */ asm.jalr(0, RA, 0),
  ];
}

/**
 * Page BASE: n times, an inner loop that adds 3 to a3 (its registers, a3 and t1, in locals), then a0 = depth and a
 * call of F; F and G call each other until a0 is 0.
 */
function program(c: TestCore, n: number, depth: number): void {
  c.poke(BASE, [
    ...asm.li(T0, n), ...asm.li(SP, STACK),
    /* 16 */ asm.addi(T1, 0, 3), /* 20 */ asm.addi(A3, A3, 1), asm.addi(T1, T1, -1), /* 28 */ asm.bne(T1, 0, -8),
    /* 32 */ asm.addi(A0, 0, depth), /* 36 */ asm.jal(RA, F - (BASE + 36)),
    /* 40 */ asm.addi(T0, T0, -1), /* 44 */ asm.bne(T0, 0, -28), /* 48 */ asm.ebreak(),
  ]);
  c.poke(F, recursing(F, G));
  c.poke(G, recursing(G, F));
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.pc = BASE;
}

describe("calls nested in the machine's own calls", () => {
  test.each([3, MAX_NESTED_CALLS + 40])("recursion %i deep across two pages: the same state at any slice size", (depth) => {
    const n = 3000;
    const plain = new TestCore();
    program(plain, n, depth);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect([plain.x(A1), plain.x(A3)]).toEqual([n * depth, n * (3 + 2 * depth)]);
    for (const [threshold, slice] of [[undefined, 1_000_000], [undefined, 1000], [undefined, 37], [1, 1_000_000], [1, 3]] as const) {
      const c = new TranslatingCore(1 << 20, threshold, false);
      program(c, n, depth);
      expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
      const what = `depth ${depth}, threshold ${threshold ?? "default"}, slices of ${slice}`;
      expectSameState(c, plain, what);
      // Most returns come back to a caller that waits; past the limit the deeper ones chain as tail calls instead.
      if (slice === 1_000_000) expect(returned(c), `${what}: returns to a waiting caller`).toBeGreaterThan((n * Math.min(depth, MAX_NESTED_CALLS)) / 2);
    }
  });

  test("a callee that returns past its return point: the caller does not resume there", () => {
    // f adds 4 to ra and returns: the instruction after each call (a2 += 1) never runs.
    const n = 5000;
    const load = (c: TestCore) => {
      c.poke(BASE, [
        ...asm.li(T0, n),
        /* 8 */ asm.jal(RA, F - (BASE + 8)), /* 12 */ asm.addi(A2, A2, 1), /* 16 */ asm.addi(A3, A3, 1),
        /* 20 */ asm.addi(T0, T0, -1), /* 24 */ asm.bne(T0, 0, -16), /* 28 */ asm.ebreak(),
      ]);
      c.poke(F, [asm.addi(RA, RA, 4), asm.jalr(0, RA, 0)]);
      c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
      c.pc = BASE;
    };
    const plain = new TestCore();
    load(plain);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect([plain.x(A2), plain.x(A3)]).toEqual([0, n]);
    for (const [threshold, slice] of [[undefined, 1_000_000], [1, 1_000_000], [1, 5]] as const) {
      const c = new TranslatingCore(1 << 20, threshold, false);
      load(c);
      expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
      expectSameState(c, plain, `threshold ${threshold ?? "default"}, slices of ${slice}`);
      expect(returned(c), "no return came back to the call").toBe(0);
    }
  });
});
