// The core's exported API. The host drives the hart through these functions and
// reads/writes its state directly through the fixed layout in layout.ts.

import {
  STATE_BASE, STATE_SIZE, STATE_PRIV, CSR_MSTATUS, PRESENT_BITMAP, DIRTY_BITMAP, CODE_BITMAP, PAGE_SLOT_MAP,
  BITMAP_BYTES, MAX_RAM_BYTES, MAX_RAM_PAGES, RAM_HOST_BASE, RAM_GUEST_BASE, DECODE_SCRATCH, PRIV_M, WRITTEN_BITMAP,
  HOST_BITMAP, JIT_HOT_AT, JIT_THRESHOLD, JIT_RETIRED, STRADDLE_DECODED, HOST_WORDS, JIT_ORIGINALS, NO_NEXT_WORD,
} from "./layout";
import { OP_DECODE, OP_PAGE_END, OP_JIT } from "./ops";
import {
  setRamBytes, ramPages, flushTlbs, flushTlbPages, flushDecodeCache, clearDirtyAll, hostWrote, bitSet, bitClear,
  invalidateCodePage, decodedPageFor, installFetch,
} from "./memory";
import { decodeEntry } from "./interp";
import { MISA_VALUE } from "./csr";
import { decodeInto } from "./decode";

export { run, mmioFault } from "./interp";
// Exported for the host's code cache alone (src/machine/wasm-code-cache.ts): V8 can be asked to optimise an exported
// function, and the interpreter's loop is the one function a short run waits on (its optimising compile) at exit.
export { fastLoop } from "./fast";

/** Whether init ran before on this memory: until then the bitmaps and maps below are the initial memory's zeros. */
let initializedBefore = false;

/**
 * Sets up a machine with `ramBytes` of guest RAM (a multiple of 4096, at most
 * 1 GiB) and resets the hart: M-mode, pc 0, all RAM pages present and clean.
 */
export function init(ramBytes: u32): void {
  if (ramBytes == 0 || ramBytes > <u32>MAX_RAM_BYTES || (ramBytes & 0xfff) != 0) unreachable();
  const needed = (<u32>RAM_HOST_BASE + ramBytes + 0xffff) >>> 16;
  const have = <u32>memory.size();
  if (needed > have) memory.grow(needed - have);
  // Memory that grow() just added is zero already: clear only what an earlier init used.
  const usedBefore = have << 16;
  memory.fill(STATE_BASE, 0, STATE_SIZE);
  setRamBytes(ramBytes);
  store<u32>(STATE_BASE + STATE_PRIV, PRIV_M);
  // MPP starts at M, as after reset on QEMU.
  store<u32>(STATE_BASE + CSR_MSTATUS, 3 << 11);
  // The first init finds these as the module's initial memory left them, zero: a fill would only touch 176 host
  // pages (each a page fault) to write the zeros they hold.
  if (initializedBefore) {
    memory.fill(DIRTY_BITMAP, 0, BITMAP_BYTES);
    memory.fill(WRITTEN_BITMAP, 0, BITMAP_BYTES);
    memory.fill(CODE_BITMAP, 0, BITMAP_BYTES);
    memory.fill(PRESENT_BITMAP, 0, BITMAP_BYTES);
    memory.fill(PAGE_SLOT_MAP, 0, <usize>MAX_RAM_PAGES * 2);
  }
  for (let p: u32 = 0; p < ramPages; p++) bitSet(PRESENT_BITMAP, p);
  if (usedBefore > <u32>RAM_HOST_BASE) memory.fill(RAM_HOST_BASE, 0, min(ramBytes, usedBefore - <u32>RAM_HOST_BASE));
  store<u32>(DECODE_SCRATCH + 8, OP_PAGE_END);
  store<u32>(DECODE_SCRATCH + 16, OP_PAGE_END);
  flushDecodeCache(initializedBefore);
  flushTlbs();
  initializedBefore = true;
  store<u8>(JIT_HOT_AT, JIT_THRESHOLD);
  store<u64>(JIT_RETIRED, 0);
}

/** Drops every cached translation and decoded page (after the host changed state behind the core's back). */
export function flushCaches(): void {
  flushDecodeCache();
  flushTlbs();
}

/** The host wrote guest physical [paddr, paddr+len): marks it dirty and drops stale decoded code. */
export function hostWroteRam(paddr: u32, len: u32): void {
  hostWrote(paddr - RAM_GUEST_BASE, len);
}

/** Clears every dirty bit; the next write to each page sets it again. */
export function clearDirty(): void {
  clearDirtyAll();
}

/** Marks a RAM page present (its contents are here) or missing (a touch exits to the host). */
export function setPagePresent(page: u32, present: u32): void {
  if (page >= ramPages) return;
  if (present) {
    bitSet(PRESENT_BITMAP, page);
    invalidateCodePage(page);
  } else {
    bitClear(PRESENT_BITMAP, page);
    invalidateCodePage(page);
    flushTlbs();
  }
}

/**
 * Marks missing (not present) every RAM page whose bit is set in the bitmap
 * the host put at HOST_BITMAP (`bytes` long; bits beyond RAM are ignored) and
 * returns how many pages that is. A postcopy arrival does this inside its
 * downtime, for every page of the guest: 32 pages a step here, where the same
 * loop in JavaScript ran cold, bit by bit.
 */
export function markMissing(bytes: u32): u32 {
  const words = min((bytes + 3) >>> 2, (ramPages + 31) >>> 5);
  let count: u32 = 0;
  for (let i: u32 = 0; i < words; i++) {
    let w = load<u32>(HOST_BITMAP + (i << 2));
    if ((i << 2) + 4 > bytes) w &= (<u32>0xffffffff) >>> ((((i << 2) + 4 - bytes) << 3)); // bytes past the bitmap's end
    const firstPage = i << 5;
    if (firstPage + 32 > ramPages) w &= (<u32>1 << (ramPages - firstPage)) - 1; // pages past RAM
    if (w == 0) continue;
    const at = PRESENT_BITMAP + (i << 2);
    store<u32>(at, load<u32>(at) & ~w);
    count += popcnt<u32>(w);
  }
  flushDecodeCache();
  flushTlbs();
  return count;
}

export function misa(): u32 {
  return MISA_VALUE;
}

/**
 * Decodes `raw`, a 4-byte instruction at offset 0xffe of a page, at STRADDLE_DECODED as the interpreter runs one
 * (every branch and jump treated as leaving the page): the translator's copy of a straddling instruction.
 */
export function decodeStraddling(raw: u32): void {
  decodeInto(STRADDLE_DECODED, raw, raw, true, 0xffe, true);
}

/**
 * Checks a region a warm start recorded against the code where it is now (src/jit/warm-regions.ts), ahead of the
 * guest's first fetch there: decodes each of its entries and compares the entry's decoded words and the blocks'
 * shape with the record's, and maps its pages in the fetch TLB as a fetch would. One call where the host made one per
 * entry (~15 k for the SQLite shell's record, all cold JavaScript). At HOST_WORDS the host puts 256 bytes, how each op
 * ends a block (0 it does not, 1 a branch, 2 a jump, after which the next entry does not run), then `pages` pairs: a
 * page's first entry index (a multiple of 2048 from the head page's entry 0, which is at virtual address `headVA`)
 * and the RAM page the page tables map there for execution (the host has checked); then `blocks` triples: a block's
 * first entry index, how many entries it has and the entry after it (NO_NEXT_WORD: none); then the entries, as
 * triples: index, decoded word, immediate. A block's entries follow one another, none but its last ends a block, and
 * its last's next entry is the block's (none after a jump). Each pair's RAM page is replaced by the WASM address of its
 * decoded page's entry 0. Returns how many entries passed before the first that did not (all of them: the record is
 * this code's); an entry on a page not listed does not. Decoded entries are a cache of the page's bytes (a store to the
 * page drops them), so decoding early changes nothing the guest sees.
 */
export function checkRecorded(headVA: u32, pages: u32, blocks: u32): u32 {
  const pairs = HOST_WORDS + 256;
  for (let k: u32 = 0; k < pages; k++) {
    const pair = pairs + (k << 3);
    const base = decodedPageFor(load<u32>(pair, 4));
    installFetch(headVA + (load<u32>(pair) << 1), base);
    store<u32>(pair, base, 4);
  }
  let at = pairs + (pages << 3) + blocks * 12; // the entries
  let passed: u32 = 0;
  for (let b: u32 = 0; b < blocks; b++) {
    const block = pairs + (pages << 3) + b * 12;
    let index = load<i32>(block);
    const count = load<u32>(block, 4);
    for (let j: u32 = 0; j < count; j++, at += 12) {
      if (load<i32>(at) != index) return passed;
      const first = index & ~2047;
      let base: u32 = 0;
      for (let k: u32 = 0; k < pages; k++) {
        if (load<i32>(pairs + (k << 3)) == first) { base = load<u32>(pairs + (k << 3), 4); break; }
      }
      if (base == 0) return passed;
      const ip = base + (<u32>(index - first) << 3);
      if ((load<u32>(ip) & 0xff) == OP_DECODE) decodeEntry(ip, base);
      let word = load<u32>(ip), imm = load<u32>(ip, 4);
      if ((word & 0xff) == OP_JIT) { // another region's head: the instruction it replaced
        word = load<u32>(JIT_ORIGINALS + (imm << 3));
        imm = load<u32>(JIT_ORIGINALS + (imm << 3), 4);
      }
      if (word != load<u32>(at, 4) || imm != load<u32>(at, 8)) return passed;
      index += ((word >> 8) & 3) == 2 ? 2 : 1; // a 4-byte instruction spans two halfword entries
      const ends = <u32>load<u8>(HOST_WORDS + (word & 0xff));
      if (j + 1 < count ? ends != 0 : load<u32>(block, 8) != (ends == 2 ? <u32>NO_NEXT_WORD : <u32>index)) return passed;
      passed++;
    }
  }
  return passed;
}

/** Drops cached translations only (the host changed page tables), keeping decoded code. */
export function flushTranslations(): void {
  flushTlbs();
}

/** Drops the cached translations of `pages` virtual pages from `va` only (the host changed just their entries). */
export function flushTranslationsOf(va: u32, pages: u32): void {
  flushTlbPages(va, pages);
}

/**
 * 1 if RAM page `page` is all zeros. The migration sender asks this of every
 * page it is about to send (zero pages are not sent); here it is one call and
 * a 64-bit scan that stops at the first non-zero word, where JavaScript paid a
 * typed-array view and a native call per page.
 */
export function isZeroPage(page: u32): u32 {
  if (page >= ramPages) return 0;
  const start = <usize>RAM_HOST_BASE + (<usize>page << 12);
  for (let at = start; at < start + 4096; at += 32) {
    if ((load<u64>(at) | load<u64>(at, 8) | load<u64>(at, 16) | load<u64>(at, 24)) != 0) return 0;
  }
  return 1;
}
