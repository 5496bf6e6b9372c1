// Translated hot loops must behave exactly as the interpreter: same registers,
// memory, instruction counts, exits and faults.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, TranslatingCore, asm, PARK, runPastBudget } from "./harness.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, T1, T2, A0, A1, A2] = [5, 6, 7, 10, 11, 12];

// sum = 0; for (i = n; i != 0; i--) { a[i] = sum; sum += a[i-1] * 3 + i / 7; } ; ebreak
function loopProgram(n: number): number[] {
  return [
    ...asm.li(T0, n), // i
    ...asm.li(A1, 0x80010000), // a
    asm.addi(A0, 0, 0), // sum
    // loop (offset 20):
    asm.add(T1, T0, T0), asm.add(T1, T1, T1), asm.add(T1, T1, A1), // t1 = &a[i]
    asm.sw(A0, T1, 0),
    asm.lw(T2, T1, -4),
    asm.add(A2, T2, T2), asm.add(A2, A2, T2), // a2 = a[i-1]*3
    asm.add(A0, A0, A2),
    0x0072c633 /* xor a2, t0, t2 */,
    asm.add(A0, A0, A2),
    asm.addi(T0, T0, -1),
    asm.bne(T0, 0, -44),
    asm.ebreak(),
  ];
}

describe("translation", () => {
  for (const slice of [97, 100_000]) {
    test(`a hot loop gives the interpreter's registers, memory and instret (slices of ${slice})`, () => {
      const plain = new TestCore();
      const fast = new TranslatingCore();
      for (const c of [plain, fast]) {
        c.poke(BASE, loopProgram(5000));
        c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
        c.pc = BASE;
        expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
      }
      expect(fast.translator.stats.translated).toBeGreaterThan(0);
      for (let r = 1; r < 32; r++) expect(fast.x(r)).toBe(plain.x(r));
      expect(fast.instret).toBe(plain.instret);
      expect(fast.pc).toBe(plain.pc);
      for (let i = 0; i < 5001; i += 97) expect(fast.peek(0x80010000 + i * 4)).toBe(plain.peek(0x80010000 + i * 4));
    });
  }

  test("a TLB miss or missing page inside translated code exits at the right instruction", () => {
    const c = new TranslatingCore();
    c.poke(BASE, loopProgram(3000));
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    c.run(20_000); // hot and translated by now
    expect(c.translator.stats.translated).toBeGreaterThan(0);
    c.api.setPagePresent(0x10, 0); // the array's page goes away mid-loop
    expect(c.run(1_000_000)).toBe(L.EXIT_PAGE_MISSING);
    expect(c.st(L.STATE_EXIT_CAUSE)).toBe(0x10);
    expect(c.pc).toBe(BASE + 36); // the lw of a[i-1]: a[1023] is the first word on page 0x10
    c.api.setPagePresent(0x10, 1);
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    const plain = new TestCore();
    plain.poke(BASE, loopProgram(3000));
    plain.setSt(L.STATE_FLAGS, L.FLAG_EBREAK_EXITS);
    plain.pc = BASE;
    runPastBudget(plain, 1_000_000);
    expect(c.x(A0)).toBe(plain.x(A0));
    expect(c.instret).toBe(plain.instret);
  });

  test("overwriting translated code drops the translation", () => {
    const c = new TranslatingCore();
    // loop: addi a0, a0, 1; addi t0, t0, -1; bne t0, x0, loop; ebreak
    c.poke(BASE, [...asm.li(T0, 1000), asm.addi(A0, A0, 1), asm.addi(T0, T0, -1), asm.bne(T0, 0, -8), asm.ebreak()]);
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(c.translator.stats.translated).toBe(1);
    expect(c.x(A0)).toBe(1000);
    c.poke(BASE + 8, [asm.addi(A0, A0, 2)]);
    c.setX(T0, 1000);
    c.setX(A0, 0);
    c.pc = BASE + 8;
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(c.x(A0)).toBe(2000);
  });

  test("division corner cases match in translated code", () => {
    const c = new TranslatingCore();
    // t0 = 1000 iterations (hot after JIT_THRESHOLD) of: a0 = INT_MIN / -1; a1 = 7 / 0; a2 = INT_MIN % -1; t2 = 7 % 0
    const div = (rd: number, rs1: number, rs2: number, f3: number) => ((1 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33) >>> 0;
    c.poke(BASE, [
      ...asm.li(T0, 1000), ...asm.li(T1, 0x80000000), asm.addi(A2, 0, -1), asm.addi(A1, 0, 7),
      div(A0, T1, A2, 4), div(T2, A1, 0, 5), div(A2 + 1, T1, A2, 6), div(A2 + 2, A1, 0, 6),
      asm.addi(T0, T0, -1), asm.bne(T0, 0, -20), asm.ebreak(),
    ]);
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(c.translator.stats.translated).toBe(1);
    expect([c.x(A0), c.x(T2), c.x(A2 + 1), c.x(A2 + 2)]).toEqual([0x80000000, 0xffffffff, 0, 7]);
  });
});
