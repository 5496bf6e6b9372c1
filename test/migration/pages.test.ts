// Page frames on the wire: what the source encodes by hand must decode with the
// ordinary msgpack decoder into the right pages, whatever runs the pages form.

import { unpack } from "msgpackr";
import { describe, expect, test } from "vitest";
import { RAM_GUEST_BASE } from "../../assembly/layout.js";
import { Core } from "../../src/machine/core.js";
import { PROTOCOL_VERSION } from "../../src/net/protocol.js";
import {
  PAGE, coreZeroTest, countDirtiedPages, countPages, encodePageBatch, packPages, pageFrameBytes, pagesOf, prefault, readBatch, takeDirtyPages,
} from "../../src/migration/pages.js";

const RAM_PAGES = 64;

/** A core whose RAM page p holds bytes (p * 7 + i) & 0xff, except the listed zero pages. */
async function filledCore(zeroPages: number[]): Promise<Core> {
  const core = await Core.load();
  core.init(RAM_PAGES * PAGE);
  const ram = core.ram;
  for (let p = 0; p < RAM_PAGES; p++) {
    if (zeroPages.includes(p)) continue;
    for (let i = 0; i < PAGE; i++) ram[p * PAGE + i] = (p * 7 + i) & 0xff || 1;
  }
  return core;
}

describe("page frames", () => {
  test("the core tells zero pages from pages with one non-zero byte anywhere", async () => {
    const core = await filledCore([]);
    const isZero = coreZeroTest(core);
    const ram = core.ram;
    ram.fill(0, 5 * PAGE, 6 * PAGE);
    expect(isZero(5)).toBe(true);
    for (const at of [0, 1, 7, 8, 31, 32, 2048, 4095]) {
      ram[5 * PAGE + at] = 9;
      expect(isZero(5), `byte ${at} set`).toBe(false);
      ram[5 * PAGE + at] = 0;
    }
    expect(isZero(4)).toBe(false);
    expect(isZero(RAM_PAGES), "a page beyond RAM is not called zero").toBe(false);
  });

  test("a batch of scattered pages, zero ones as notes, decodes to the same bytes", async () => {
    const zeroPages = [3, 10, 11];
    const core = await filledCore(zeroPages);
    const ram = core.ram;
    const pages = [1, 2, 3, 4, 9, 10, 11, 12, 40, 63];
    const { batch, skipped } = packPages(pages, 0, pages.length, coreZeroTest(core), () => false);
    expect(skipped).toBe(0);
    expect([...batch.indices]).toEqual([1, 2, 4, 9, 12, 40, 63]);
    expect([...batch.zero]).toEqual(zeroPages);

    const frame = new Uint8Array(pageFrameBytes(pages.length));
    const length = encodePageBatch(PROTOCOL_VERSION, 3, batch, ram, frame);
    const m = unpack(frame.subarray(0, length)) as Record<string, unknown>;
    expect(m).toMatchObject({ v: PROTOCOL_VERSION, t: "mig-pages", round: 3 });
    const got = readBatch(m.indices as Uint8Array, m.data as Uint8Array, m.zero as Uint8Array, RAM_PAGES);
    expect([...got.indices]).toEqual([1, 2, 4, 9, 12, 40, 63]);
    expect([...got.zero]).toEqual(zeroPages);
    got.indices.forEach((page, k) => {
      expect(Buffer.from(got.data.subarray(k * PAGE, (k + 1) * PAGE)).equals(ram.subarray(page * PAGE, (page + 1) * PAGE)), `page ${page}`).toBe(true);
    });
  });

  test("zero pages that never crossed are skipped, and counted", async () => {
    const core = await filledCore([0, 1]);
    const { batch, skipped } = packPages([0, 1, 2], 0, 3, coreZeroTest(core), (page) => page === 0);
    expect(skipped).toBe(1);
    expect([...batch.zero]).toEqual([1]);
    expect([...batch.indices]).toEqual([2]);
  });

  test("a decoder refuses pages beyond RAM and data that does not match the page count", () => {
    const u32 = (...v: number[]) => new Uint8Array(Uint32Array.from(v).buffer);
    expect(() => readBatch(u32(RAM_PAGES), new Uint8Array(PAGE), u32(), RAM_PAGES)).toThrow(/beyond/);
    expect(() => readBatch(u32(1, 2), new Uint8Array(PAGE), u32(), RAM_PAGES)).toThrow(/4096 bytes for 2 pages/);
    expect(() => readBatch(new Uint8Array(3), new Uint8Array(0), u32(), RAM_PAGES)).toThrow(/whole u32s/);
  });

  test("countPages counts the set bits below the page count, as pagesOf lists them", () => {
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (const pageCount of [1, 7, 8, 31, 32, 33, 100, 1000, 4099]) {
      const bitmap = Uint8Array.from({ length: Math.ceil(pageCount / 8) + 2 }, random);
      expect(countPages(bitmap, pageCount), `${pageCount} pages`).toBe(pagesOf(bitmap, pageCount).length);
    }
    expect(countPages(new Uint8Array(16).fill(0xff), 128)).toBe(128);
  });

  test("prefault of 1 GiB lets the event loop in while it works (it took ~0.5 s in one go, stalling every guest)", async () => {
    const core = await Core.load();
    core.init(1 << 30);
    let ranMeanwhile = false;
    setImmediate(() => (ranMeanwhile = true));
    const done = prefault(core.ram, new Uint8Array((1 << 30) / PAGE / 8).fill(0xff));
    expect(ranMeanwhile).toBe(false);
    await done;
    expect(ranMeanwhile).toBe(true);
    }, 60_000);

  test("bitmaps: pagesOf lists set bits below the page count; prefault leaves a fresh RAM all zeros", async () => {
    const bitmap = new Uint8Array([0b1000_0101, 0, 0b1000_0000]);
    expect(pagesOf(bitmap, 24)).toEqual([0, 2, 7, 23]);
    expect(pagesOf(bitmap, 20)).toEqual([0, 2, 7]);
    const core = await Core.load();
    core.init(RAM_PAGES * PAGE);
    await prefault(core.ram, new Uint8Array(RAM_PAGES / 8).fill(0xff));
    expect(core.ram.every((b) => b === 0)).toBe(true);
  });

  test("counting dirtied pages for the dirty rate hides none from the next take", async () => {
    const core = await Core.load();
    core.init(RAM_PAGES * PAGE);
    const write = (page: number) => core.exports.hostWroteRam(RAM_GUEST_BASE + page * PAGE, 1);
    takeDirtyPages(core, RAM_PAGES); // a transfer starts tracking
    for (const p of [3, 9, 40]) write(p);
    expect(countDirtiedPages(core, RAM_PAGES)).toBe(3);
    write(9); // written again: one page, counted again
    write(63);
    expect(countDirtiedPages(core, RAM_PAGES)).toBe(2);
    expect(countDirtiedPages(core, RAM_PAGES)).toBe(0);
    // The transfer's next take still sees every page written since its last one.
    write(5);
    expect(takeDirtyPages(core, RAM_PAGES)).toEqual([3, 5, 9, 40, 63]);
    expect(takeDirtyPages(core, RAM_PAGES)).toEqual([]);
    write(7);
    expect(countDirtiedPages(core, RAM_PAGES)).toBe(1);
  });
});
