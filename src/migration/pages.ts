// Pages on the wire and the dirty bitmap. A page batch carries the numbers of
// the pages it sends with their bytes, plus the numbers of pages that are now
// all zeros (4 bytes each instead of 4096).

import { DIRTY_BITMAP } from "../../assembly/layout.js";
import type { Core } from "../machine/core.js";

export const PAGE = 4096;
export const BATCH_PAGES = 256; // 1 MiB of page data per frame

const ZERO_PAGE = Buffer.alloc(PAGE);

/** memcmp against a page of zeros: several GB/s, where a word loop in JS is not. */
export function isZeroPage(ram: Uint8Array, page: number): boolean {
  return ZERO_PAGE.equals(new Uint8Array(ram.buffer, ram.byteOffset + page * PAGE, PAGE));
}

export interface PageBatch {
  indices: Uint32Array; // pages with data, in order
  data: Uint8Array; // indices.length * PAGE
  zero: Uint32Array; // pages that are all zeros
}

export function batchFields(batch: PageBatch): Record<string, Uint8Array> {
  const asBytes = (a: Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { indices: asBytes(batch.indices), data: batch.data, zero: asBytes(batch.zero) };
}

/** Decodes a batch's fields, checking sizes and page numbers against `pageCount`. */
export function readBatch(indices: Uint8Array, data: Uint8Array, zero: Uint8Array, pageCount: number): PageBatch {
  if (indices.length % 4 || zero.length % 4) throw new Error("page numbers are not whole u32s");
  const idx = new Uint32Array(Uint8Array.from(indices).buffer);
  const zer = new Uint32Array(Uint8Array.from(zero).buffer);
  if (data.length !== idx.length * PAGE) throw new Error(`page data is ${data.length} bytes for ${idx.length} pages`);
  for (const p of idx) if (p >= pageCount) throw new Error(`page ${p} is beyond ${pageCount} pages of RAM`);
  for (const p of zer) if (p >= pageCount) throw new Error(`page ${p} is beyond ${pageCount} pages of RAM`);
  return { indices: idx, data, zero: zer };
}

/** Copies pages out of RAM into a batch: zero pages become notes (or nothing, when `skipZero`). */
export function packPages(ram: Uint8Array, pages: number[], skipZero: (page: number) => boolean): { batch: PageBatch; skipped: number } {
  const withData: number[] = [];
  const zero: number[] = [];
  let skipped = 0;
  for (const page of pages) {
    if (isZeroPage(ram, page)) {
      if (skipZero(page)) skipped++;
      else zero.push(page);
    } else withData.push(page);
  }
  const data = new Uint8Array(withData.length * PAGE);
  withData.forEach((page, k) => data.set(ram.subarray(page * PAGE, page * PAGE + PAGE), k * PAGE));
  return { batch: { indices: Uint32Array.from(withData), data, zero: Uint32Array.from(zero) }, skipped };
}

/** The pages whose dirty bit is set, then clears the bitmap (the next write to each sets it again). */
export function takeDirtyPages(core: Core, pageCount: number): number[] {
  const bitmap = core.memoryBytes.subarray(DIRTY_BITMAP, DIRTY_BITMAP + Math.ceil(pageCount / 8));
  const pages: number[] = [];
  for (let i = 0; i < bitmap.length; i++) {
    const b = bitmap[i];
    if (b === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) pages.push(i * 8 + bit);
  }
  core.exports.clearDirty();
  return pages.filter((p) => p < pageCount);
}
