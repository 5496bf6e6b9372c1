// Pages on the wire and the dirty bitmap. A page batch carries the numbers of
// the pages it sends with their bytes, plus the numbers of pages that are now
// all zeros (4 bytes each instead of 4096).

import { DIRTY_BITMAP, WRITTEN_BITMAP } from "../../assembly/layout.js";
import type { Core } from "../machine/core.js";
import { ProtocolError } from "../net/protocol.js";
import { nowMs } from "../machine/host-clock.js";

export const PAGE = 4096;
export const BATCH_PAGES = 256; // 1 MiB of page data per frame

/** Tells whether a RAM page is all zeros (the core answers it: `core.exports.isZeroPage`). */
export type ZeroTest = (page: number) => boolean;

export function coreZeroTest(core: Core): ZeroTest {
  const isZeroPage = core.exports.isZeroPage;
  return (page) => isZeroPage(page) === 1;
}

/** A batch as it arrives: page numbers, their bytes, and pages now all zeros. */
export interface PageBatch {
  indices: Uint32Array; // pages with data, in order
  data: Uint8Array; // indices.length * PAGE
  zero: Uint32Array; // pages that are all zeros
}

/** A batch to send: which pages, whose bytes are still in RAM until the frame is encoded. */
export interface OutgoingBatch {
  indices: Uint32Array; // pages with data
  zero: Uint32Array; // pages that are all zeros
}

/** The bytes encodePageBatch needs for a batch of `pages` pages. */
export function pageFrameBytes(pages: number): number {
  return pages * (PAGE + 8) + 64;
}

/**
 * Encodes {v, t: "mig-pages", round, indices, data, zero} as msgpack by hand
 * into `out` (which must hold pageFrameBytes(pages) bytes) and returns its
 * length. The pages' bytes go from RAM straight into the frame, one copy per
 * run of consecutive pages: no buffer in between, and `out` is reused. The
 * receiver decodes it with the ordinary msgpack decoder.
 */
export function encodePageBatch(version: number, round: number, batch: OutgoingBatch, ram: Uint8Array, out: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  const str = (s: string) => { out[at++] = 0xa0 | s.length; for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i); };
  const u32 = (v: number) => { out[at++] = 0xce; view.setUint32(at, v >>> 0); at += 4; };
  const binHeader = (length: number) => { out[at++] = 0xc6; view.setUint32(at, length); at += 4; };
  const pageNumbers = (list: Uint32Array) => {
    binHeader(list.byteLength);
    out.set(new Uint8Array(list.buffer, list.byteOffset, list.byteLength), at);
    at += list.byteLength;
  };
  out[at++] = 0x86; // a map of 6
  str("v"); u32(version);
  str("t"); str("mig-pages");
  str("round"); u32(round);
  str("indices"); pageNumbers(batch.indices);
  str("data"); binHeader(batch.indices.length * PAGE);
  const dataAt = at;
  forEachRun(batch.indices, (page, index, count) => out.set(ram.subarray(page * PAGE, (page + count) * PAGE), dataAt + index * PAGE));
  at += batch.indices.length * PAGE;
  str("zero"); pageNumbers(batch.zero);
  return at;
}

/** Decodes a batch's fields, checking sizes and page numbers against `pageCount` (a bad one is the sender's fault: a ProtocolError). */
export function readBatch(indices: Uint8Array, data: Uint8Array, zero: Uint8Array, pageCount: number): PageBatch {
  if (indices.length % 4 || zero.length % 4) throw new ProtocolError("page numbers are not whole u32s");
  const idx = new Uint32Array(Uint8Array.from(indices).buffer);
  const zer = new Uint32Array(Uint8Array.from(zero).buffer);
  if (data.length !== idx.length * PAGE) throw new ProtocolError(`page data is ${data.length} bytes for ${idx.length} pages`);
  for (const p of idx) if (p >= pageCount) throw new ProtocolError(`page ${p} is beyond ${pageCount} pages of RAM`);
  for (const p of zer) if (p >= pageCount) throw new ProtocolError(`page ${p} is beyond ${pageCount} pages of RAM`);
  return { indices: idx, data, zero: zer };
}

/**
 * Sorts pages[from, to) into a batch: pages with data, and zero pages as notes
 * (or nothing, when `skipZero`). The bytes stay in RAM until the batch is
 * encoded. (A write after that sets the page's dirty bit, and the page goes
 * again in the next round.)
 */
export function packPages(
  pages: ArrayLike<number>, from: number, to: number, isZero: ZeroTest, skipZero: (page: number) => boolean,
): { batch: OutgoingBatch; skipped: number } {
  const withData = new Uint32Array(to - from);
  const zero: number[] = [];
  let n = 0;
  let skipped = 0;
  for (let i = from; i < to; i++) {
    const page = pages[i];
    if (isZero(page)) {
      if (skipZero(page)) skipped++;
      else zero.push(page);
    } else withData[n++] = page;
  }
  return { batch: { indices: withData.subarray(0, n), zero: Uint32Array.from(zero) }, skipped };
}

/** Calls `copy(firstPage, firstIndex, count)` for each run of consecutive page numbers in `indices`. */
export function forEachRun(indices: Uint32Array, copy: (firstPage: number, firstIndex: number, count: number) => void): void {
  for (let i = 0; i < indices.length; ) {
    let j = i + 1;
    while (j < indices.length && indices[j] === indices[j - 1] + 1) j++;
    copy(indices[i], i, j - i);
    i = j;
  }
}

/** The pages whose bit is set in `bitmap` (bit per page, LSB first), ascending, below `pageCount`. */
export function pagesOf(bitmap: Uint8Array, pageCount: number): number[] {
  const pages: number[] = [];
  for (let i = 0; i < bitmap.length; i++) {
    const b = bitmap[i];
    if (b === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (b & (1 << bit) && i * 8 + bit < pageCount) pages.push(i * 8 + bit);
  }
  return pages;
}

/** How many bits of `bitmap` are set below `pageCount` (32 pages a step). */
export function countPages(bitmap: Uint8Array, pageCount: number): number {
  let count = 0;
  const whole = Math.min(bitmap.length, pageCount >>> 3);
  let i = 0;
  for (; i + 4 <= whole; i += 4) {
    let v = (bitmap[i] | (bitmap[i + 1] << 8) | (bitmap[i + 2] << 16) | (bitmap[i + 3] << 24)) >>> 0;
    if (v === 0) continue;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    count += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  for (let page = i * 8; page < Math.min(bitmap.length * 8, pageCount); page++) if (bitmap[page >>> 3] & (1 << (page & 7))) count++;
  return count;
}

/** Pages written since the core was initialised (by the guest, the host, or an arriving migration): every other page is zero. */
export function writtenPages(core: Core, pageCount: number): number[] {
  return pagesOf(core.memoryBytes.subarray(WRITTEN_BITMAP, WRITTEN_BITMAP + Math.ceil(pageCount / 8)), pageCount);
}

/** A copy of the written-pages bitmap (bit per page; pages never written are zero). */
export function writtenBitmap(core: Core, pageCount: number): Uint8Array {
  const bytes = Math.ceil(pageCount / 8);
  return core.memoryBytes.slice(WRITTEN_BITMAP, WRITTEN_BITMAP + bytes);
}

/**
 * Faults in the memory of the pages set in `bitmap` of a fresh (all-zero) RAM,
 * so pages arriving later land in memory that is already mapped. One write of
 * a zero per page: reading first would map the shared zero page and then
 * fault again on the write, twice the cost.
 */
export async function prefault(ram: Uint8Array, bitmap: Uint8Array, stillWanted: () => boolean = () => true): Promise<void> {
  // A first touch costs ~1.7 us a page here: 1 GiB is ~0.45 s, far too long to
  // hold the event loop every other guest on this host runs on. Touch a few
  // milliseconds' worth, then let them run.
  let turnStart = nowMs();
  const pages = pagesOf(bitmap, ram.length / PAGE);
  for (let i = 0; i < pages.length; i++) {
    ram[pages[i] * PAGE] = 0;
    if ((i & 255) === 255 && nowMs() - turnStart >= PREFAULT_TURN_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!stillWanted()) return;
      turnStart = nowMs();
    }
  }
}
const PREFAULT_TURN_MS = 4;

/** Records that pages were written behind the core's back (arrived by migration or from a snapshot). */
export function markWritten(core: Core, pages: Iterable<number>): void {
  const bytes = core.memoryBytes;
  for (const page of pages) bytes[WRITTEN_BITMAP + (page >>> 3)] |= 1 << (page & 7);
}

/**
 * Dirty bits a rate count cleared in the core that no transfer has taken yet,
 * per core: counting must never hide a page from a migration round or a
 * replication epoch, so what it clears it keeps for the next take.
 */
const countedNotTaken = new WeakMap<Core, Uint8Array>();

/** The pages whose dirty bit is set (or was, when a count cleared it), then clears the bitmap (the next write to each sets it again). */
export function takeDirtyPages(core: Core, pageCount: number): number[] {
  const bitmap = core.memoryBytes.subarray(DIRTY_BITMAP, DIRTY_BITMAP + Math.ceil(pageCount / 8));
  const counted = countedNotTaken.get(core);
  countedNotTaken.delete(core);
  if (counted) for (let i = 0; i < bitmap.length; i++) counted[i] |= bitmap[i];
  const pages = pagesOf(counted ?? bitmap, pageCount);
  core.exports.clearDirty();
  return pages;
}

/**
 * How many pages were first written since the last count or take (their dirty
 * bits), for a dirty rate measured all the time, not only inside a migration;
 * clears the bits and keeps them for the next takeDirtyPages.
 */
export function countDirtiedPages(core: Core, pageCount: number): number {
  const bitmap = core.memoryBytes.subarray(DIRTY_BITMAP, DIRTY_BITMAP + Math.ceil(pageCount / 8));
  let counted = countedNotTaken.get(core);
  if (!counted) countedNotTaken.set(core, (counted = new Uint8Array(bitmap.length)));
  let pages = 0;
  for (let i = 0; i < bitmap.length; i++) {
    let byte = bitmap[i];
    if (byte === 0) continue;
    counted[i] |= byte;
    for (; byte; byte &= byte - 1) pages++;
  }
  core.exports.clearDirty();
  return pages;
}
