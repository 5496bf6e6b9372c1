// What the translator reads of the core's decoded pages and fetch TLB (translator.ts): which virtual page a decoded
// slot holds, the other pages a region may take code from, a region's name for profiles, an entry's hot counter.
// The core writes all of these (assembly/layout.ts); nothing here writes.

import * as L from "../../assembly/layout.js";
import { PAGE_ENTRIES, decodedSlot, readEntry, type OtherPage, type OtherPages } from "./region.js";

/** The end of the decoded slots: an address at or past it is no slot's (the straddle scratch, say). */
export const SLOTS_END = L.DECODE_BASE + L.DECODE_SLOTS * L.DECODE_SLOT_BYTES;

/**
 * How a region from the decoded page at `base` reaches code on other pages (region.ts, OtherPages): through the fetch
 * TLB, at the page's pc as the TLB maps it now. Undefined when the TLB holds no entry for that page (the region keeps
 * to its page). The translated code checks each other page again before it runs code from it (Gen.checkPage), so
 * what the TLB says here only decides what is worth translating.
 */
export function otherPagesFrom(view: DataView, base: number): OtherPages | undefined {
  const headPage = pageOfSlot(view, base);
  if (headPage < 0) return undefined;
  const pages = new Map<number, OtherPage | null>();
  return {
    pageAt(index: number): OtherPage | null {
      const pageVA = ((headPage + index * 2) & 0xfffff000) >>> 0;
      const first = (pageVA - headPage) / 2;
      if (pages.has(first)) return pages.get(first)!;
      const at = L.TLB_FETCH + ((pageVA >>> 12) & (L.TLB_ENTRIES - 1)) * 8;
      const slot = view.getUint32(at + 4, true);
      const mapped = view.getUint32(at, true) === pageVA && slot !== base && slot >= L.DECODE_BASE && slot < SLOTS_END &&
        (slot - L.DECODE_BASE) % L.DECODE_SLOT_BYTES === 0;
      const page = mapped && first !== 0 && first % PAGE_ENTRIES === 0
        ? { first, slot, generation: view.getUint32(L.SLOT_GENERATION + decodedSlot(slot) * 4, true) } : null;
      pages.set(first, page);
      return page;
    },
    read: (page, index) => readEntry(view, page.slot - page.first * 8, index, L.JIT_ORIGINALS),
  };
}

/** The virtual page the fetch TLB maps to the decoded slot at `base` (a valid entry's tag), or -1 if none does. */
export function pageOfSlot(view: DataView, base: number): number {
  for (let at = L.TLB_FETCH; at < L.TLB_FETCH + L.TLB_ENTRIES * 8; at += 8) {
    const tag = view.getUint32(at, true);
    if (view.getUint32(at + 4, true) === base && (tag & 0xfff) === 0) return tag;
  }
  return -1;
}

/**
 * A region's name in profiles (ROAM_JIT_NAMES=1): "guest_" and its head's pc in hex, from the fetch TLB (a region is
 * planned from a page the guest has just run, so the TLB holds it), else its decoded slot and entry.
 */
export function regionName(view: DataView, base: number, head: number): string {
  const page = pageOfSlot(view, base);
  return page >= 0 ? `guest_${(page + head * 2).toString(16)}` : `slot${decodedSlot(base)}_${head}`;
}

/** The WASM address of the hashed hot counter of the decoded entry at `at` (as fast.ts becameHot finds it). */
export function hotCounter(at: number): number {
  return L.HOT_COUNTERS + ((at >>> 3) & L.HOT_COUNTER_MASK);
}
