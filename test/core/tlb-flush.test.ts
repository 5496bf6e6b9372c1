// A TLB flush (a privilege change, satp, sfence.vma, a page marked missing) invalidates only the entries installed
// since the last one when there were at most TLB_LOG_MAX (assembly/memory.ts flushTlbs), else all of them. Either
// way no entry may survive: here a page the guest has just read is marked missing, and reading it again must exit
// to the host instead of reading through a stale read entry.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TestCore, asm } from "./harness.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, S1, S2, A0, A1] = [5, 9, 18, 10, 11];
const FIRST = 16; // the first data page the guest reads

/** Reads one word from each of `pages` pages from FIRST on, stops (ebreak), then reads page FIRST again and stops. */
function readPages(pages: number): number[] {
  return [
    ...asm.li(S1, BASE + FIRST * 4096), // 0
    ...asm.li(S2, BASE + FIRST * 4096), // 8
    ...asm.li(T0, pages), // 16
    asm.lw(A0, S1, 0), // 24: loop
    ...asm.li(A1, 4096), // 28
    asm.add(S1, S1, A1), // 36
    asm.addi(T0, T0, -1), // 40
    asm.bne(T0, 0, -20), // 44
    asm.ebreak(), // 48
    asm.lw(A1, S2, 0), // 52: page FIRST again
    asm.ebreak(), // 56
  ];
}

describe("a TLB flush leaves no stale entry", () => {
  test.each([
    ["a few entries installed since the last flush (the logged ones are invalidated)", 3],
    ["more than TLB_LOG_MAX (all are)", L.TLB_LOG_MAX + 100],
  ])("%s", (_, pages) => {
    const c = new TestCore();
    c.poke(BASE, readPages(pages));
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    expect(c.run()).toBe(L.EXIT_BREAKPOINT);
    expect(c.x(T0)).toBe(0);
    c.api.setPagePresent(FIRST, 0); // flushes the TLBs: the read entry for page FIRST must go with them
    c.pc = BASE + 52;
    expect(c.run()).toBe(L.EXIT_PAGE_MISSING);
    expect(c.st(L.STATE_EXIT_CAUSE)).toBe(FIRST);
  });
});

// The linear tags beside the read and write TLBs (assembly/layout.ts, LINEAR_READ): an entry's tag when its page sits
// at its linear frame (RAM page = virtual page number modulo the window, the largest power of two of pages RAM holds),
// else invalid; a flush drops them with the entries.
describe("linear tags", () => {
  const entryOf = (va: number) => ((va >>> 12) & (L.TLB_ENTRIES - 1)) * 8;
  const tags = (c: TestCore, va: number) => ({
    read: c.view.getUint32(L.TLB_READ + entryOf(va), true), linearRead: c.view.getUint32(L.LINEAR_READ + entryOf(va), true),
    write: c.view.getUint32(L.TLB_WRITE + entryOf(va), true), linearWrite: c.view.getUint32(L.LINEAR_WRITE + entryOf(va), true),
  });

  test("a page at its linear frame gets a linear tag, one beyond the window does not; a flush drops both", () => {
    const c = new TestCore(3 << 20); // 768 pages: a window of 512
    const inside = BASE + FIRST * 4096, beyond = BASE + 600 * 4096;
    c.poke(BASE, [
      ...asm.li(S1, inside), ...asm.li(S2, beyond),
      asm.lw(A0, S1, 0), asm.sw(A0, S1, 4), asm.lw(A1, S2, 0), asm.sw(A1, S2, 4), asm.ebreak(),
    ]);
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    expect(c.run()).toBe(L.EXIT_BREAKPOINT);
    expect(tags(c, inside)).toEqual({ read: inside, linearRead: inside, write: inside, linearWrite: inside });
    expect(tags(c, beyond)).toEqual({ read: beyond, linearRead: 0xffffffff, write: beyond, linearWrite: 0xffffffff });
    c.api.setPagePresent(FIRST, 0);
    expect(tags(c, inside)).toEqual({ read: 0xffffffff, linearRead: 0xffffffff, write: 0xffffffff, linearWrite: 0xffffffff });
  });

  test("clearing the dirty bits drops the linear write tags with the write entries", () => {
    const c = new TestCore();
    const page = BASE + FIRST * 4096;
    c.poke(BASE, [...asm.li(S1, page), asm.sw(S1, S1, 0), asm.ebreak()]);
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    c.pc = BASE;
    expect(c.run()).toBe(L.EXIT_BREAKPOINT);
    expect(tags(c, page).linearWrite).toBe(page);
    c.api.clearDirty();
    expect(tags(c, page)).toMatchObject({ write: 0xffffffff, linearWrite: 0xffffffff });
  });
});
