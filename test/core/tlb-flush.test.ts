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
