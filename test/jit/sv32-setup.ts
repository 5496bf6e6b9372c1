// The Sv32 set-up the chaining and other-pages tests share: S-mode code that calls a function on a page of its own
// at VA 0x40003000, which the code remaps to other code and then unmaps (each followed by sfence.vma), so that a
// translation must follow the mapping. RAM's first 4 MiB are identity-mapped (a megapage: the page-table stores go
// there); VA 0x40000000's 4 MiB go through one leaf table.
import * as L from "../../assembly/layout.js";
import { expect } from "vitest";
import { TestCore, TranslatingCore, runPastBudget, expectSameState } from "../core/harness.js";

const BASE = L.RAM_GUEST_BASE;
export const ROOT = BASE + 0x20000, LEAF = BASE + 0x21000, P1 = BASE + 0x30000, P2 = BASE + 0x31000;
export const VF = 0x40003000; // not 0x40000000: that shares a (direct-mapped) fetch TLB entry with BASE's page
export const PTE_VRWXAD = 0xcf;
export const pte = (pa: number, flags: number) => (((pa >>> 12) << 10) | flags) >>> 0;

/**
 * Starts `c` in S-mode at `pc` under Sv32 with the mappings above and leaf entries `leaves` ([index, pte] pairs; VF's
 * is index 3), `code` written at physical `codeAt`, the function at P1 (a0 += 1) and the other code at P2 (a0 += 100).
 * Fetch page faults and ebreak exit to the host.
 */
export function startSv32(c: TestCore, code: number[], codeAt: number, leaves: Array<[number, number]>, pc: number): void {
  const [RA, A0] = [1, 10];
  const addi = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13) >>> 0;
  const ret = ((RA << 15) | 0x67) >>> 0; // jalr x0, ra, 0
  c.poke(codeAt, code);
  c.poke(P1, [addi(A0, A0, 1), ret]);
  c.poke(P2, [addi(A0, A0, 100), ret]);
  c.poke(ROOT + (BASE >>> 22) * 4, [pte(BASE, PTE_VRWXAD)]);
  c.poke(ROOT + (VF >>> 22) * 4, [pte(LEAF, 1)]);
  for (const [index, entry] of leaves) c.poke(LEAF + index * 4, [entry]);
  c.setSt(L.CSR_SATP, (0x80000000 | (ROOT >>> 12)) >>> 0);
  c.setSt(L.STATE_PRIV, L.PRIV_S);
  c.setSt(L.STATE_HOST_TRAPS, 1 << L.CAUSE_FETCH_PAGE_FAULT);
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.api.flushCaches();
  c.pc = pc;
}

/**
 * The remap test both files run: `start` (a startSv32 call) run by the interpreter, then translated at the default
 * threshold and at the first arrival, in slices of 1 M and of 29, each ending in the fetch page fault at the unmapped
 * page with the interpreter's state; `more` adds a file's own checks of each translated run.
 */
export function expectRemapsFollowed(
  start: (c: TestCore) => void, otherPages: boolean,
  more: (c: TranslatingCore, what: string, threshold: number | undefined) => void = () => {},
): void {
  const plain = new TestCore();
  start(plain);
  expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_HOST_TRAP);
  expect(plain.st(L.STATE_EXIT_CAUSE)).toBe(L.CAUSE_FETCH_PAGE_FAULT);
  expect(plain.x(10)).toBe(2000 * 1 + 2000 * 100); // a0: f ran 2000 times at P1, 2000 at P2
  for (const [threshold, slice] of [[undefined, 1_000_000], [1, 1_000_000], [1, 29]] as const) {
    const c = new TranslatingCore(1 << 20, threshold, otherPages);
    start(c);
    const what = `threshold ${threshold ?? "default"}, slices of ${slice}`;
    expect(runPastBudget(c, slice), what).toBe(L.EXIT_HOST_TRAP);
    expect(c.st(L.STATE_EXIT_CAUSE), what).toBe(L.CAUSE_FETCH_PAGE_FAULT);
    expect(c.st(L.STATE_EXIT_PC).toString(16), what).toBe(plain.st(L.STATE_EXIT_PC).toString(16));
    expectSameState(c, plain, what);
    more(c, what, threshold);
  }
}
