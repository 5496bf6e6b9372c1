// Guest RAM bookkeeping: the per-page bitmaps (dirty, present, code), the TLBs
// and the cache of decoded code pages.
//
// The fast paths never look at a bitmap. A TLB entry for a page exists only when
// the slow path has already done the page's bookkeeping: a read entry only for a
// present page, a write entry only for a present page that is marked dirty and
// holds no decoded code. So dirty and present tracking cost nothing per access;
// clearing the dirty bits (or dropping a page) just drops the TLB entries.

import {
  TLB_ENTRIES, TLB_READ, TLB_WRITE, TLB_FETCH, TLB_WRITE_PPN, DIRTY_BITMAP, PRESENT_BITMAP, CODE_BITMAP,
  PAGE_SLOT_MAP, SLOT_PPN, SLOT_GENERATION, STRADDLE_UPPER, STRADDLE_GENERATION, DECODE_BASE, DECODE_SLOTS, DECODE_SLOT_BYTES, RAM_HOST_BASE, STATE_BASE, STATE_RAM_BYTES,
  BITMAP_BYTES, WRITTEN_BITMAP, HOT_COUNTERS, HOT_COUNTER_MASK, TLB_LOG, TLB_LOG_MAX, LINEAR_READ, LINEAR_WRITE, JIT_NONLINEAR_FILLS,
} from "./layout";
import { OP_PAGE_END } from "./ops";

/** Number of 4 KiB pages of guest RAM. */
export let ramPages: u32 = 0;

/** The linear window less one, in pages: a RAM page p is linear for virtual page v when p == v & linearPageMask. */
export let linearPageMask: u32 = 0;

export function setRamBytes(bytes: u32): void {
  ramPages = bytes >>> 12;
  linearPageMask = ramPages == 0 ? 0 : (<u32>1 << (31 - <u32>clz(ramPages))) - 1;
  store<u32>(STATE_BASE + STATE_RAM_BYTES, bytes);
}

// ---- Bitmaps ------------------------------------------------------------------

@inline export function bitGet(map: usize, page: u32): bool {
  return ((load<u8>(map + (page >>> 3)) >> (page & 7)) & 1) != 0;
}
@inline export function bitSet(map: usize, page: u32): void {
  const a = map + (page >>> 3);
  store<u8>(a, load<u8>(a) | <u8>(<u32>1 << (page & 7)));
}
@inline export function bitClear(map: usize, page: u32): void {
  const a = map + (page >>> 3);
  store<u8>(a, load<u8>(a) & ~<u8>(<u32>1 << (page & 7)));
}

@inline export function isPresent(page: u32): bool { return bitGet(PRESENT_BITMAP, page); }
@inline export function ramHost(page: u32): u32 { return RAM_HOST_BASE + (page << 12); }

// ---- TLBs -----------------------------------------------------------------------

const TLB_INVALID: u32 = 0xffffffff;

/**
 * Entries installed since the last flushTlbs, their indices at TLB_LOG; TLB_LOG_MAX + 1 once there were more (or
 * before the first flush, when the TLBs hold whatever memory held): then a flush fills them all.
 */
let installedSinceFlush: u32 = TLB_LOG_MAX + 1;

/** Notes that entry `i` (index × 8) of a TLB was installed: the next flush invalidates it. */
@inline function logInstall(i: u32): void {
  const k = installedSinceFlush;
  if (k < <u32>TLB_LOG_MAX) store<u16>(TLB_LOG + (k << 1), <u16>(i >> 3));
  if (k <= <u32>TLB_LOG_MAX) installedSinceFlush = k + 1;
}

export function flushTlbs(): void {
  const n = installedSinceFlush;
  installedSinceFlush = 0;
  if (n > <u32>TLB_LOG_MAX) {
    memory.fill(TLB_READ, 0xff, TLB_ENTRIES * 8);
    memory.fill(TLB_WRITE, 0xff, TLB_ENTRIES * 8);
    memory.fill(TLB_FETCH, 0xff, TLB_ENTRIES * 8);
    memory.fill(LINEAR_READ, 0xff, TLB_ENTRIES * 8);
    memory.fill(LINEAR_WRITE, 0xff, TLB_ENTRIES * 8);
    return;
  }
  for (let k: u32 = 0; k < n; k++) { // every valid entry was installed since the last flush, so is among these
    const i = <u32>load<u16>(TLB_LOG + (k << 1)) << 3;
    dropRead(i);
    dropWrite(i);
    store<u32>(TLB_FETCH + i, TLB_INVALID);
  }
}

// A read or write entry (index × 8) and its linear tag go together: whatever drops one drops the other.
@inline function dropRead(i: u32): void {
  store<u32>(TLB_READ + i, TLB_INVALID);
  store<u32>(LINEAR_READ + i, TLB_INVALID);
}
@inline function dropWrite(i: u32): void {
  store<u32>(TLB_WRITE + i, TLB_INVALID);
  store<u32>(LINEAR_WRITE + i, TLB_INVALID);
  store<u32>(TLB_WRITE_PPN + (i >> 1), TLB_INVALID);
}

export function flushWriteTlb(): void {
  memory.fill(TLB_WRITE, 0xff, TLB_ENTRIES * 8);
  memory.fill(LINEAR_WRITE, 0xff, TLB_ENTRIES * 8);
}

/** Drops the write entries that reach RAM page `page` (through any virtual address). */
export function flushWriteTlbFor(page: u32): void {
  for (let i: u32 = 0; i < <u32>TLB_ENTRIES; i++) {
    if (load<u32>(TLB_WRITE_PPN + (i << 2)) == page) dropWrite(i << 3);
  }
}

@inline export function tlbIndex(va: u32): u32 { return ((va >>> 12) & (TLB_ENTRIES - 1)) << 3; }

/**
 * Drops the TLB entries of the `pages` virtual pages from `va` (the host changed their page-table entries: an
 * unmap, a protection change, a copy-on-write page copied), keeping every other page's. Each page has one place in
 * each TLB; a span as large as a TLB flushes all of it.
 */
export function flushTlbPages(va: u32, pages: u32): void {
  if (pages >= <u32>TLB_ENTRIES) { flushTlbs(); return; }
  let page = va & 0xfffff000;
  for (let k: u32 = 0; k < pages; k++, page += 0x1000) {
    const i = tlbIndex(page);
    if ((load<u32>(TLB_READ + i) & 0xfffff000) == page) dropRead(i);
    if ((load<u32>(TLB_WRITE + i) & 0xfffff000) == page) dropWrite(i);
    if ((load<u32>(TLB_FETCH + i) & 0xfffff000) == page) store<u32>(TLB_FETCH + i, TLB_INVALID);
  }
}

export function installRead(va: u32, page: u32): void {
  const i = tlbIndex(va);
  logInstall(i);
  store<u32>(TLB_READ + i, va & 0xfffff000);
  store<u32>(TLB_READ + i + 4, ramHost(page) - (va & 0xfffff000));
  store<u32>(LINEAR_READ + i, linearTag(va, page));
}

/**
 * The linear tag of an entry for `va` in RAM page `page`: its tag if the page is linear (see LINEAR_READ), else
 * invalid, and the entry counted at JIT_NONLINEAR_FILLS.
 */
@inline function linearTag(va: u32, page: u32): u32 {
  if (page == ((va >>> 12) & linearPageMask)) return va & 0xfffff000;
  store<u32>(JIT_NONLINEAR_FILLS, load<u32>(JIT_NONLINEAR_FILLS) + 1);
  return TLB_INVALID;
}

export function installWrite(va: u32, page: u32): void {
  const i = tlbIndex(va);
  logInstall(i);
  store<u32>(TLB_WRITE + i, va & 0xfffff000);
  store<u32>(TLB_WRITE + i + 4, ramHost(page) - (va & 0xfffff000));
  store<u32>(TLB_WRITE_PPN + (i >> 1), page);
  store<u32>(LINEAR_WRITE + i, linearTag(va, page));
}

export function installFetch(va: u32, decodedPage: u32): void {
  const i = tlbIndex(va);
  logInstall(i);
  store<u32>(TLB_FETCH + i, va & 0xfffff000);
  store<u32>(TLB_FETCH + i + 4, decodedPage);
}

// ---- Dirty tracking -------------------------------------------------------------

/** Marks a page written: sets its dirty bit and drops any decoded copy of its code. */
export function noteWrite(page: u32): void {
  bitSet(DIRTY_BITMAP, page);
  bitSet(WRITTEN_BITMAP, page);
  if (bitGet(CODE_BITMAP, page)) invalidateCodePage(page);
}

export function clearDirtyAll(): void {
  memory.fill(DIRTY_BITMAP, 0, BITMAP_BYTES);
  flushWriteTlb();
}

// ---- Decoded code pages -----------------------------------------------------------

let nextSlot: u32 = 0;
/**
 * Slots below this have held a page since the memory was made; the others are still as grow() or the module's
 * initial memory left them, all zero (nothing else writes there), so handing one out needs no fill: the fill was
 * four host pages touched per decoded page, where decoding touches only what runs (each first touch is a host page
 * fault, ~1-10 us).
 */
let slotsEverUsed: u32 = 0;

@inline function slotBase(slot: u32): u32 { return DECODE_BASE + slot * DECODE_SLOT_BYTES; }
/** The decoded slot whose entries start at `base` (slotBase's inverse). */
@inline function slotOf(base: u32): u32 { return (base - DECODE_BASE) / DECODE_SLOT_BYTES; }

/**
 * The slot's entries are no longer what anything read from them before (see SLOT_GENERATION), nor what arrived at
 * them: their hot counters start again from 0, which also ends a request still pending for one of them (fast.ts
 * becameHot: the host drops a region whose generation moved, and the new code asks again when it gets hot).
 */
@inline function bumpGeneration(slot: u32): void {
  const at = SLOT_GENERATION + (slot << 2);
  store<u32>(at, load<u32>(at) + 1);
  forgetHotness(slot);
}

/** Zeroes the hashed hot counters of a slot's entries (shared with other slots' entries: those only count again). */
function forgetHotness(slot: u32): void {
  const entries: u32 = DECODE_SLOT_BYTES >> 3;
  const first = (slotBase(slot) >> 3) & HOT_COUNTER_MASK;
  const untilEnd = min(entries, HOT_COUNTER_MASK + 1 - first);
  memory.fill(HOT_COUNTERS + first, 0, untilEnd);
  if (untilEnd < entries) memory.fill(HOT_COUNTERS, 0, entries - untilEnd); // the hash wrapped
}

/** Returns the decoded page for RAM page `page`, allocating (and zeroing) a slot when it has none. */
export function decodedPageFor(page: u32): u32 {
  const s = <u32>load<u16>(PAGE_SLOT_MAP + (page << 1));
  if (s != 0) return slotBase(s - 1);
  if (nextSlot == <u32>DECODE_SLOTS) flushDecodeCache();
  const slot = nextSlot++;
  bumpGeneration(slot);
  store<u32>(SLOT_PPN + (slot << 2), page);
  store<u16>(PAGE_SLOT_MAP + (page << 1), <u16>(slot + 1));
  const base = slotBase(slot);
  if (slot < slotsEverUsed) memory.fill(base, 0, 2048 * 8);
  else slotsEverUsed = slot + 1;
  // Two sentinels: a 2-byte instruction at 0xffe ends at entry 2048, a 4-byte one at 2049.
  store<u32>(base + 2048 * 8, OP_PAGE_END);
  store<u32>(base + 2049 * 8, OP_PAGE_END);
  return base;
}

/** The RAM page a decoded page holds. */
export function pageOfDecoded(base: u32): u32 {
  return load<u32>(SLOT_PPN + (slotOf(base) << 2));
}

/** The upper half `upper` of the instruction straddling the end of the decoded page at `base`, for the translator. */
export function noteStraddle(base: u32, upper: u32): void {
  const at = slotOf(base) << 2;
  store<u32>(STRADDLE_UPPER + at, upper);
  store<u32>(STRADDLE_GENERATION + at, load<u32>(SLOT_GENERATION + at));
}

/** Called when an entry of `page` is decoded: from now on stores to it must take the slow path. */
export function noteCodePage(page: u32): void {
  if (!bitGet(CODE_BITMAP, page)) {
    bitSet(CODE_BITMAP, page);
    flushWriteTlbFor(page);
  }
}

/** The page was written: its decoded entries go back to "not decoded". */
export function invalidateCodePage(page: u32): void {
  bitClear(CODE_BITMAP, page);
  const s = <u32>load<u16>(PAGE_SLOT_MAP + (page << 1));
  if (s == 0) return;
  memory.fill(slotBase(s - 1), 0, 2048 * 8);
  bumpGeneration(s - 1);
}

/**
 * Drops every decoded page (the cache is full, or the host reset the machine). `countersUsed` false: the hot
 * counters are still the initial memory's zeros (init on a new memory), and need no fill.
 */
export function flushDecodeCache(countersUsed: bool = true): void {
  for (let s: u32 = 0; s < nextSlot; s++) {
    const page = load<u32>(SLOT_PPN + (s << 2));
    store<u16>(PAGE_SLOT_MAP + (page << 1), 0);
    bitClear(CODE_BITMAP, page);
    const at = SLOT_GENERATION + (s << 2);
    store<u32>(at, load<u32>(at) + 1); // bumpGeneration, without a counter fill per slot: all of them go below
  }
  nextSlot = 0;
  if (countersUsed) memory.fill(HOT_COUNTERS, 0, HOT_COUNTER_MASK + 1);
  memory.fill(TLB_FETCH, 0xff, TLB_ENTRIES * 8);
}

/** The host wrote guest RAM [paddrOffset, +len): mark dirty and drop stale code. */
export function hostWrote(ramOffset: u32, len: u32): void {
  if (len == 0) return;
  const first = ramOffset >>> 12;
  const last = (ramOffset + len - 1) >>> 12;
  for (let p = first; p <= last && p < ramPages; p++) noteWrite(p);
}
