// The core's migration-facing mechanisms, tested on the WASM core alone:
// dirty and present bitmaps, exits to the host, code invalidation, exact
// instruction counts across slices, and instructions that straddle pages.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, asm, PARK } from "./harness.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, T1, A0, A1, A7] = [5, 6, 10, 11, 17];

describe("dirty tracking", () => {
  test("guest stores set the dirty bit of exactly the pages they touch, again after clearDirty", () => {
    const c = new TestCore();
    c.poke(BASE, [...asm.li(T0, 0x80010000), ...asm.li(T1, 0x80023000), asm.sw(T1, T0, 0), asm.sw(T1, T1, 8), PARK]);
    c.api.clearDirty();
    c.pc = BASE;
    expect(c.run(200)).toBe(L.EXIT_BUDGET);
    expect([c.dirty(0x10), c.dirty(0x23), c.dirty(0x11), c.dirty(0)]).toEqual([true, true, false, false]);
    expect(c.peek(0x80010000)).toBe(0x80023000);
    c.api.clearDirty();
    expect(c.dirty(0x10)).toBe(false);
    c.pc = BASE + 16; // the two stores again: their TLB entries must have been dropped
    c.run(200);
    expect([c.dirty(0x10), c.dirty(0x23)]).toEqual([true, true]);
  });

  test("the written bitmap records every page ever written and survives clearDirty", () => {
    const c = new TestCore();
    c.poke(BASE, [...asm.li(T0, 0x80030000), asm.sw(T0, T0, 0), PARK]);
    c.pc = BASE;
    c.run(100);
    c.api.clearDirty();
    const written = (page: number) => c.bit(L.WRITTEN_BITMAP, page);
    expect([written(0), written(0x30), written(0x31)]).toEqual([true, true, false]); // code poked by the host, data by the guest
    expect(c.dirty(0x30)).toBe(false);
  });

  test("host writes mark pages dirty too", () => {
    const c = new TestCore();
    c.api.clearDirty();
    c.poke(0x80042000, [1]);
    expect(c.dirty(0x42)).toBe(true);
  });
});

describe("present bits", () => {
  test("markMissing clears the present bits of a bitmap's pages, counts them, ignores bits past RAM and past the bitmap", () => {
    const c = new TestCore(100 * 4096); // 100 pages: the last bitmap word is partly beyond RAM
    const pages = [0, 5, 31, 32, 63, 99];
    const bitmap = new Uint8Array(13);
    for (const p of [...pages, 100, 101, 103]) bitmap[p >>> 3] |= 1 << (p & 7);
    c.bytes.set(bitmap, L.HOST_BITMAP);
    c.bytes[L.HOST_BITMAP + 13] = 0xff; // beyond the 13 bytes handed over: not a page to mark
    c.bytes[L.HOST_BITMAP + 14] = 0xff;
    expect(c.api.markMissing(13)).toBe(pages.length);
    for (let p = 0; p < 100; p++) expect(c.bit(L.PRESENT_BITMAP, p), `page ${p}`).toBe(!pages.includes(p));
    // And a missing page then exits when touched, as one marked by setPagePresent does.
    c.poke(0x80010000, [...asm.li(T0, 0x80005000), asm.lw(A0, T0, 0), PARK]);
    c.pc = 0x80010000;
    expect(c.run(100)).toBe(L.EXIT_PAGE_MISSING);
    expect(c.st(L.STATE_EXIT_CAUSE)).toBe(5);
  });

  test("a load from a missing page exits with its number and restarts after the host fills it", () => {
    const c = new TestCore();
    c.poke(BASE, [...asm.li(T0, 0x80005000), asm.lw(A0, T0, 4), PARK]);
    c.api.setPagePresent(5, 0);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_PAGE_MISSING);
    expect(c.st(L.STATE_EXIT_CAUSE)).toBe(5);
    expect(c.pc).toBe(BASE + 8); // the lw, not retired
    expect(c.instret).toBe(2n);
    c.poke(0x80005004, [0x1234abcd]);
    c.api.setPagePresent(5, 1);
    c.run(100);
    expect(c.x(A0)).toBe(0x1234abcd);
  });

  test("a store to a missing page does not write, then completes after the fill", () => {
    const c = new TestCore();
    c.poke(BASE, [...asm.li(T0, 0x80007000), ...asm.li(T1, 77), asm.sw(T1, T0, 0), PARK]);
    c.api.setPagePresent(7, 0);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_PAGE_MISSING);
    expect(c.st(L.STATE_EXIT_CAUSE)).toBe(7);
    c.poke(0x80007000, [5]);
    c.api.setPagePresent(7, 1);
    c.run(100);
    expect(c.peek(0x80007000)).toBe(77);
  });

  test("fetching from a missing page exits before executing anything there", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.jal(0, 0x6000)]);
    c.poke(0x80006000, [asm.addi(A0, 0, 9), PARK]);
    c.api.setPagePresent(6, 0);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_PAGE_MISSING);
    expect([c.st(L.STATE_EXIT_CAUSE), c.pc, c.x(A0)]).toEqual([6, 0x80006000, 0]);
    c.api.setPagePresent(6, 1);
    c.run(100);
    expect(c.x(A0)).toBe(9);
  });
});

describe("exits", () => {
  test("an ecall whose cause the host claims exits with cause and pc, unretired", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.addi(A7, 0, 93), asm.ecall(), PARK]);
    c.setSt(L.STATE_HOST_TRAPS, 1 << L.CAUSE_ECALL_M);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_HOST_TRAP);
    expect([c.st(L.STATE_EXIT_CAUSE), c.st(L.STATE_EXIT_PC), c.pc]).toEqual([L.CAUSE_ECALL_M, BASE + 4, BASE + 4]);
    expect(c.instret).toBe(1n);
  });

  test("a device load exits; the host's value lands in rd, sign-extended", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.lui(T0, 0x10000), asm.lb(A0, T0, 5), PARK]);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_MMIO);
    expect(c.st(L.STATE_EXIT_CAUSE)).toBe(0x10000005);
    expect(c.st(L.STATE_EXIT_SIZE)).toBe(1);
    expect(c.st(L.STATE_EXIT_KIND) & 0xff).toBe(L.MMIO_LOAD_SIGNED);
    c.setSt(L.STATE_MMIO_VALUE, 0xf0);
    c.run(100);
    expect(c.x(A0)).toBe(0xfffffff0);
  });

  test("a device store exits after retiring, with address, size and value", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.lui(T0, 0x100), ...asm.li(T1, 0x5555), asm.sw(T1, T0, 0), PARK]);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_MMIO);
    expect([c.st(L.STATE_EXIT_CAUSE), c.st(L.STATE_EXIT_SIZE), c.st(L.STATE_EXIT_TVAL)]).toEqual([0x100000, 4, 0x5555]);
    expect(c.st(L.STATE_EXIT_KIND) & 0xff).toBe(L.MMIO_STORE);
    expect(c.pc).toBe(BASE + 16);
  });

  test("a refused device access becomes a load access fault at that instruction", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.lui(T0, 0x30000), asm.lw(A0, T0, 0), PARK]);
    c.poke(0x80000100, [PARK]);
    c.setSt(L.CSR_MTVEC, 0x80000100);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_MMIO);
    c.api.mmioFault(L.CAUSE_LOAD_ACCESS);
    expect([c.st(L.CSR_MCAUSE), c.st(L.CSR_MEPC), c.st(L.CSR_MTVAL), c.pc]).toEqual([L.CAUSE_LOAD_ACCESS, BASE + 4, 0x30000000, 0x80000100]);
    expect(c.instret).toBe(1n);
  });

  test("wfi with nothing pending exits; a timer interrupt then enters the handler", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.wfi(), PARK]);
    c.poke(0x80000200, [PARK]);
    c.setSt(L.CSR_MTVEC, 0x80000200);
    c.setSt(L.CSR_MIE, 1 << L.IRQ_MTI);
    c.setSt(L.CSR_MSTATUS, c.st(L.CSR_MSTATUS) | 8);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_WFI);
    expect(c.pc).toBe(BASE + 4);
    c.setSt(L.CSR_MIP, 1 << L.IRQ_MTI);
    c.run(10);
    expect([c.st(L.CSR_MCAUSE) >>> 0, c.st(L.CSR_MEPC)]).toEqual([0x80000007, BASE + 4]);
  });
});

describe("decoded code", () => {
  test("a store over already-run code takes effect at once (self-modifying code)", () => {
    const c = new TestCore();
    const patched = asm.addi(A0, A0, 100);
    c.poke(BASE, [
      asm.addi(A1, 0, 2), // 0x00
      asm.addi(A0, A0, 1), // 0x04: patched below
      asm.lui(T0, 0x80000), asm.addi(T0, T0, 4), // 0x08
      ...asm.li(T1, patched), // 0x10
      asm.sw(T1, T0, 0), // 0x18
      asm.addi(A1, A1, -1), // 0x1c
      asm.bne(A1, 0, -0x1c), // 0x20 -> 0x04
      PARK,
    ]);
    c.pc = BASE;
    c.run(1000);
    expect(c.x(A0)).toBe(101);
  });

  test("host writes over decoded code are seen (hostWroteRam)", () => {
    const c = new TestCore();
    c.poke(BASE, [asm.addi(A0, A0, 1), asm.ebreak()]);
    c.setSt(L.STATE_FLAGS, L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_BREAKPOINT);
    c.poke(BASE, [asm.addi(A0, A0, 40)]);
    c.pc = BASE;
    c.run(100);
    expect(c.x(A0)).toBe(41);
  });

  test("init on a used memory starts clean: no page dirty, written or code, no decoded page kept, slots cleared when handed out again", () => {
    // The first init skips these fills (the memory is new, all zeros) and a slot's first use skips its own: a second
    // init must not, or the second program would run the first one's decoded entries.
    const c = new TestCore();
    c.setSt(L.STATE_FLAGS, L.FLAG_EBREAK_EXITS);
    // A store to a page, and a loop of three turns (its head's hot counter counts the jumps back).
    c.poke(BASE, [...asm.li(T0, 0x80030000), asm.sw(T0, T0, 0), asm.addi(T1, 0, 3), asm.addi(T1, T1, -1), asm.bne(T1, 0, -4),
      asm.addi(A0, A0, 7), asm.ebreak()]);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_BREAKPOINT);
    const counters = () => c.bytes.subarray(L.HOT_COUNTERS, L.HOT_COUNTERS + L.HOT_COUNTER_MASK + 1);
    expect([c.dirty(0x30), c.bit(L.WRITTEN_BITMAP, 0x30), c.bit(L.CODE_BITMAP, 0)]).toEqual([true, true, true]);
    expect(c.view.getUint16(L.PAGE_SLOT_MAP, true)).toBe(1); // page 0 in slot 0
    expect(counters().some((b) => b !== 0)).toBe(true);

    c.api.init(c.ramBytes);
    expect([c.dirty(0x30), c.bit(L.WRITTEN_BITMAP, 0x30), c.bit(L.CODE_BITMAP, 0)]).toEqual([false, false, false]);
    expect(c.view.getUint16(L.PAGE_SLOT_MAP, true)).toBe(0);
    expect(counters().every((b) => b === 0)).toBe(true);
    c.setSt(L.STATE_FLAGS, L.FLAG_EBREAK_EXITS);
    // Same page, other code; init left RAM as it was, so the host writes it as a loader would.
    c.poke(BASE, [asm.addi(A1, A1, 5), asm.addi(A1, A1, 5), asm.addi(A1, A1, 5), asm.addi(A0, A0, 40), asm.ebreak()]);
    c.pc = BASE;
    expect(c.run(100)).toBe(L.EXIT_BREAKPOINT);
    expect([c.x(A0), c.x(A1)]).toEqual([40, 15]);
  });

  test("a 4-byte instruction straddling a page boundary runs", () => {
    const c = new TestCore();
    const insn = asm.addi(A0, A0, 5);
    c.pokeHalf(0x80000ffe, insn & 0xffff);
    c.pokeHalf(0x80001000, insn >>> 16);
    c.poke(0x80001002 - 2, [(asm.ebreak() & 0xffff) << 16 | (insn >>> 16)]);
    c.pokeHalf(0x80001004, asm.ebreak() >>> 16);
    c.setSt(L.STATE_FLAGS, L.FLAG_EBREAK_EXITS);
    c.setX(A0, 1);
    c.pc = 0x80000ffe;
    expect(c.run(100)).toBe(L.EXIT_BREAKPOINT);
    expect([c.x(A0), c.pc]).toEqual([6, 0x80001002]);
  });

  test("a misaligned word load across a page boundary reads both pages", () => {
    const c = new TestCore();
    c.poke(0x80002ffc, [0x44332211, 0x88776655]);
    c.poke(BASE, [...asm.li(T0, 0x80002ffe), asm.lw(A0, T0, 0), PARK]);
    c.pc = BASE;
    c.run(50);
    expect(c.x(A0)).toBe(0x66554433);
  });
});

describe("budget and instruction count", () => {
  // li t0, 1000; loop: addi a0, a0, 3; addi t0, t0, -1; bne t0, x0, loop; ebreak
  const program = [...asm.li(T0, 1000), asm.addi(A0, A0, 3), asm.addi(T0, T0, -1), asm.bne(T0, 0, -8), asm.ebreak()];
  const expected = 2n + 3n * 1000n;

  for (const slice of [1, 7, 1000, 1_000_000]) {
    test(`instret is exact with slices of ${slice}`, () => {
      const c = new TestCore();
      c.poke(BASE, program);
      c.setSt(L.STATE_FLAGS, L.FLAG_EBREAK_EXITS);
      c.pc = BASE;
      let exits = 0;
      while (c.run(slice) === L.EXIT_BUDGET) exits++;
      expect(c.st(L.STATE_EXIT_REASON)).toBe(L.EXIT_BREAKPOINT);
      expect(c.instret).toBe(expected);
      expect(c.x(A0)).toBe(3000);
      if (slice < 1000) expect(exits).toBeGreaterThan(Number(expected) / (slice + 2048) - 1);
    });
  }
});
