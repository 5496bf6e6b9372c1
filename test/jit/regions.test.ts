// Regions (src/jit): code with calls, returns and both sides of branches runs
// translated and leaves exactly the interpreter's state; self-modifying code,
// a fault inside a region and a snapshot taken mid-run stay exact.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, TranslatingCore, asm, runPastBudget, expectSameState } from "../core/harness.js";

const BASE = L.RAM_GUEST_BASE;
const [RA, T0, T1, A0, A1, A2, A3] = [1, 5, 6, 10, 11, 12, 13];
const R = (f7: number, rs2: number, rs1: number, f3: number, rd: number) =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33) >>> 0;
const xor = (rd: number, rs1: number, rs2: number) => R(0, rs2, rs1, 4, rd);
const mul = (rd: number, rs1: number, rs2: number) => R(1, rs2, rs1, 0, rd);
const andi = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (7 << 12) | (rd << 7) | 0x13) >>> 0;
const beq = (rs1: number, rs2: number, off: number) =>
  ((((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (((off >> 1) & 0xf) << 8) |
    (((off >> 11) & 1) << 7) | 0x63) >>> 0;
const FENCE_I = 0x0000100f;
const EBREAK = 0x00100073;

// for (t0 = n; t0 != 0; t0--) { a2 = f(t0); a0 += a2; if (t0 & 1) a0 += 3; else a0 ^= t0; }
// f(a2): a[a2] = a2; return a[a2 - 1] + &a[a2]   (a at 0x80010000)
function callsAndBranches(n: number): number[] {
  return [
    ...asm.li(T0, n), ...asm.li(A1, 0x80010000), asm.addi(A0, 0, 0),
    /* 20 loop: */ asm.addi(A2, T0, 0), asm.jal(RA, 40), asm.add(A0, A0, A2), andi(T1, T0, 1),
    /* 36 */ beq(T1, 0, 12), asm.addi(A0, A0, 3), asm.jal(0, 8),
    /* 48 even: */ xor(A0, A0, T0),
    /* 52 join: */ asm.addi(T0, T0, -1), asm.bne(T0, 0, -36), EBREAK,
    /* 64 f: */ asm.add(A3, A2, A2), asm.add(A3, A3, A3), asm.add(A3, A3, A1), asm.sw(A2, A3, 0), asm.lw(A2, A3, -4),
    mul(A2, A2, T0), asm.add(A2, A2, A3), asm.jalr(0, RA, 0),
  ];
}

function start(c: TestCore, program: number[]): void {
  c.poke(BASE, program);
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.pc = BASE;
}

describe("regions", () => {
  for (const [threshold, slice] of [[undefined, 1_000_000], [1, 1_000_000], [1, 37], [undefined, 1000]] as const) {
    test(`a loop with a call, a return and both sides of a branch (threshold ${threshold ?? "default"}, slices of ${slice})`, () => {
      const plain = new TestCore();
      const c = new TranslatingCore(1 << 20, threshold);
      start(plain, callsAndBranches(3000));
      start(c, callsAndBranches(3000));
      expect(runPastBudget(plain, slice)).toBe(L.EXIT_BREAKPOINT);
      expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
      expectSameState(c, plain, "at the ebreak");
      for (let i = 0; i <= 3000; i += 7) expect(c.peek(0x80010000 + i * 4)).toBe(plain.peek(0x80010000 + i * 4));
      // One region from the loop head holds the loop, both sides of the branch and the function.
      expect(c.translator.stats.instructions).toBeGreaterThanOrEqual(19);
    });
  }

  test("the budget is checked inside a region: a slice ends near its budget and instret stays exact", () => {
    const c = new TranslatingCore(1 << 20, 1);
    const plain = new TestCore();
    start(c, callsAndBranches(100_000));
    start(plain, callsAndBranches(100_000));
    c.run(1000); // translated by now
    plain.run(Number(c.instret));
    for (let i = 0; i < 20; i++) {
      const before = c.instret;
      expect(c.run(5000)).toBe(L.EXIT_BUDGET);
      const ran = Number(c.instret - before);
      expect(ran).toBeGreaterThanOrEqual(5000);
      expect(ran, "overrun at most one block").toBeLessThan(5020);
      plain.run(ran);
      expectSameState(c, plain, `slice ${i}`);
    }
  });

  test("code that rewrites itself inside a hot region (then fence.i) runs the new instruction", () => {
    // for (t0 = 1200; t0 != 0; t0--) { X: a0 += 1; if (t0 == 600) { *X = "addi a0, a0, 2"; fence.i } } (hot well before 600)
    const X = BASE + 28;
    const program = [
      ...asm.li(T0, 1200), ...asm.li(T1, asm.addi(A0, A0, 2)), ...asm.li(A1, X), asm.addi(A2, 0, 600),
      /* 28 X: */ asm.addi(A0, A0, 1), asm.addi(T0, T0, -1), asm.bne(T0, A2, 12), asm.sw(T1, A1, 0), FENCE_I,
      /* 48 */ asm.bne(T0, 0, -20), EBREAK,
    ];
    const plain = new TestCore();
    start(plain, program);
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(plain.x(A0)).toBe(600 * 1 + 600 * 2);
    for (const threshold of [undefined, 1]) {
      const c = new TranslatingCore(1 << 20, threshold);
      start(c, program);
      expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
      expectSameState(c, plain, `threshold ${threshold ?? "default"}`);
      expect(c.translator.stats.translated, "translations").toBeGreaterThanOrEqual(1);
    }
  });

  test("a fault inside a region stops at the faulting load with the interpreter's registers and instret", () => {
    // for (;;) { a0 += *a1; a1 += 4; t0++ } from the last page of RAM on: the load past RAM's end is a device access
    const ramEnd = BASE + (1 << 20);
    const program = [...asm.li(A1, ramEnd - 4096), /* 8: */ asm.lw(A2, A1, 0), asm.add(A0, A0, A2), asm.addi(A1, A1, 4),
      asm.addi(T0, T0, 1), asm.jal(0, -16)];
    const plain = new TestCore();
    start(plain, program);
    for (let i = 0; i < 1024; i++) plain.poke(ramEnd - 4096 + i * 4, [i * 3 + 1]);
    const c = new TranslatingCore(1 << 20, 1);
    start(c, program);
    for (let i = 0; i < 1024; i++) c.poke(ramEnd - 4096 + i * 4, [i * 3 + 1]);
    expect(plain.run(1_000_000)).toBe(L.EXIT_MMIO);
    expect(c.run(1_000_000)).toBe(L.EXIT_MMIO);
    expect(c.translator.stats.translated).toBeGreaterThan(0);
    expect(c.st(L.STATE_EXIT_PC).toString(16)).toBe((BASE + 8).toString(16));
    expect(c.st(L.STATE_EXIT_CAUSE).toString(16)).toBe(ramEnd.toString(16));
    expectSameState(c, plain, "at the fault");
    expect(c.x(T0)).toBe(1024);
  });

  // Accesses through one base register in a block share one TLB check (gen-memory.ts, planAccesses): the check covers
  // every access of the group, so the second one, one step past either end of RAM, must still stop there exactly.
  const lbu = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (4 << 12) | (rd << 7) | 0x03) >>> 0;
  const ramEnd = BASE + (1 << 20);
  const groups = [
    { name: "two word loads", from: ramEnd - 4096, step: 4, first: asm.lw(A2, A1, 0), second: asm.lw(A3, A1, 4) },
    { name: "two byte loads", from: ramEnd - 4096, step: 1, first: lbu(A2, A1, 0), second: lbu(A3, A1, 1) },
    { name: "a word load and a byte load after it", from: ramEnd - 4096, step: 4, first: asm.lw(A2, A1, 0), second: lbu(A3, A1, 7) },
    { name: "two word stores", from: ramEnd - 4096, step: 4, first: asm.sw(T0, A1, 0), second: asm.sw(A0, A1, 4) },
    // the load reads back what the store wrote, under the store's check: the store is the one that stops
    { name: "a word store and the load that reads it back", from: ramEnd - 4096, step: 4, first: asm.sw(T0, A1, 0), second: asm.lw(A3, A1, 0), stopsAtFirst: true },
    // downwards from the third page, over the code's page, to the byte below RAM
    { name: "two byte loads, the lower one second", from: BASE + 8192, step: -1, first: lbu(A3, A1, 1), second: lbu(A2, A1, 0) },
  ];
  for (const { name, from, step, first, second, stopsAtFirst } of groups as Array<(typeof groups)[number] & { stopsAtFirst?: boolean }>) {
    test(`${name} through one register share a TLB check and still stop at the one that leaves RAM`, () => {
      // for (;;) { first; second; a0 += a2 + a3; a1 += step; t0++ }
      const program = [...asm.li(A1, from), /* 8: */ first, /* 12: */ second, asm.add(A0, A0, A2), asm.add(A0, A0, A3),
        asm.addi(A1, A1, step), asm.addi(T0, T0, 1), asm.jal(0, -24)];
      const plain = new TestCore();
      const c = new TranslatingCore(1 << 20, 1);
      for (const core of [plain, c]) {
        start(core, program);
        for (let i = 0; i < 1024; i++) core.poke(ramEnd - 4096 + i * 4, [(i * 2654435761) >>> 0]);
        for (let i = 0; i < 1024; i++) core.poke(BASE + 4096 + i * 4, [(i * 40503) >>> 0]);
      }
      expect(plain.run(1_000_000)).toBe(L.EXIT_MMIO);
      expect(c.run(1_000_000)).toBe(L.EXIT_MMIO);
      expect(c.translator.stats.translated).toBeGreaterThan(0);
      const stop = BASE + (stopsAtFirst ? 8 : 12);
      expect(plain.st(L.STATE_EXIT_PC).toString(16)).toBe(stop.toString(16));
      expect(c.st(L.STATE_EXIT_PC).toString(16)).toBe(stop.toString(16));
      expect(c.st(L.STATE_EXIT_CAUSE).toString(16)).toBe(plain.st(L.STATE_EXIT_CAUSE).toString(16));
      expectSameState(c, plain, "at the fault");
      for (let i = 0; i < 1024; i++) expect(c.peek(ramEnd - 4096 + i * 4)).toBe(plain.peek(ramEnd - 4096 + i * 4));
    });
  }

  test("a snapshot taken mid-run holds no translation and resumes identically on a fresh core", () => {
    const plain = new TestCore();
    const c = new TranslatingCore(1 << 20, 1);
    start(plain, callsAndBranches(5000));
    start(c, callsAndBranches(5000));
    expect(c.run(30_000)).toBe(L.EXIT_BUDGET);
    expect(c.translator.stats.translated).toBeGreaterThan(0);
    plain.run(Number(c.instret));
    // What a snapshot carries: the state block's used part and RAM. Equal to the interpreter's but for the JIT flag.
    const state = (core: TestCore) => {
      const s = core.bytes.slice(L.STATE_BASE, L.STATE_BASE + L.STATE_USED);
      new DataView(s.buffer).setUint32(L.STATE_FLAGS, 0, true);
      return s;
    };
    const ram = (core: TestCore) => core.bytes.slice(L.RAM_HOST_BASE, L.RAM_HOST_BASE + (1 << 20));
    const differs = [...state(c)].flatMap((b, i) => (b === state(plain)[i] ? [] : [i]));
    expect(differs, "state block bytes that differ").toEqual([]);
    expect(Buffer.from(ram(c)).equals(Buffer.from(ram(plain))), "RAM").toBe(true);
    for (const fresh of [new TestCore(), new TranslatingCore(1 << 20, 1)]) {
      fresh.bytes.set(c.bytes.subarray(L.STATE_BASE, L.STATE_BASE + L.STATE_USED), L.STATE_BASE);
      fresh.bytes.set(ram(c), L.RAM_HOST_BASE);
      fresh.setSt(L.STATE_FLAGS, fresh instanceof TranslatingCore ? L.FLAG_EBREAK_EXITS | L.FLAG_JIT : L.FLAG_EBREAK_EXITS);
      expect(runPastBudget(fresh, 10_000)).toBe(L.EXIT_BREAKPOINT);
      if (plain.pc !== fresh.pc) expect(runPastBudget(plain, 10_000)).toBe(L.EXIT_BREAKPOINT);
      expectSameState(fresh, plain, fresh.constructor.name);
    }
  });
});

describe("a region stops at another region's head", () => {
  // main: for (s0 = 3000; s0; s0--) f();   f: t1 = 3; do { a0 += 1 (x 60) } while (--t1); return
  // The loop in f gets hot first (two jumps back a call), f itself later: f's region must chain to the loop's region,
  // not translate its 62 instructions again. A loop of fewer than SMALL_REGION (translator.ts) would be copied.
  function loopInFunction(): number[] {
    const S0 = 8;
    const body = Array.from({ length: 60 }, () => asm.addi(A0, A0, 1));
    return [
      ...asm.li(S0, 3000), asm.addi(A0, 0, 0),
      /* 12 main loop: */ asm.jal(RA, 16), asm.addi(S0, S0, -1), asm.bne(S0, 0, -8), EBREAK,
      /* 28 f: */ asm.addi(T1, 0, 3),
      /* 32 loop: */ ...body, asm.addi(T1, T1, -1), asm.bne(T1, 0, -4 * 61), asm.jalr(0, RA, 0),
    ];
  }

  test("the loop's instructions are translated once, and the run ends as the interpreter's", () => {
    const plain = new TestCore();
    start(plain, loopInFunction());
    expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expect(plain.x(A0)).toBe(3000 * 3 * 60);
    const saved = process.env.ROAM_JIT_COMPILE;
    process.env.ROAM_JIT_COMPILE = "sync"; // compiled at the request, so the order of requests decides what is translated
    const c = new TranslatingCore();
    if (saved === undefined) delete process.env.ROAM_JIT_COMPILE; else process.env.ROAM_JIT_COMPILE = saved;
    start(c, loopInFunction());
    expect(runPastBudget(c, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
    expectSameState(c, plain, "translated");
    expect(c.translator.stats.translated, "the loop's region, then f's and main's").toBeGreaterThanOrEqual(2);
    expect(c.translator.stats.instructions, "the loop's 62 instructions once, f's entry and main's few").toBeLessThan(62 + 20);
  });
});
