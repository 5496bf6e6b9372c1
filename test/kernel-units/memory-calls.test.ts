// Memory calls on their own: mremap (in place, moved to linear frames),
// madvise, and commit accounting — mmap and brk say ENOMEM when RAM could not
// hold what they would promise, while pages are still mapped on first touch.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import type { SyscallContext } from "../../src/kernel/syscalls.js";
import { spaceOver, unitContext, callIn, quietConsole } from "./unit-context.js";

const MiB = 1 << 20;
let ram: Uint8Array;
let dir: string;
let c: SyscallContext;
beforeEach(() => {
  ram = new Uint8Array(4 * MiB); // 1024 frames
  dir = mkdtempSync(join(tmpdir(), "roam-mem-"));
  const space = spaceOver(ram);
  space.brkStart = space.brk = 0x100000;
  space.mmapTop = 0x70000000;
  c = unitContext(space, dir, { monotonicNs: () => 0n, realtimeNs: () => 0n }, quietConsole());
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const call = (n: number, ...args: number[]) => callIn(c, n, ...args) >>> 0;
const failed = (v: number) => v | 0;
const RW = PROT_READ | PROT_WRITE, PRIVATE_ANON = 0x22, MAYMOVE = 1, FIXED = 2;
const mmap = (length: number) => call(222, 0, length, RW, PRIVATE_ANON, -1, 0);
/** Whether the page at `va` sits at its linear frame: its page number modulo the linear window (frames.ts). */
const isLinear = (va: number) => c.space.ramOffset(va, 0) / 4096 === ((va >>> 12) & c.space.allocator.linearMask);

describe("commit accounting", () => {
  test("mmap fails with ENOMEM once RAM could not back what was promised; munmap gives it back", () => {
    const maps: number[] = [];
    for (;;) {
      const at = mmap(256 * 1024);
      if (failed(at) === -Errno.ENOMEM) break;
      expect(failed(at)).toBeGreaterThan(0);
      maps.push(at);
      expect(maps.length).toBeLessThan(100);
    }
    expect(maps.length).toBeGreaterThanOrEqual(14); // 4 MiB of RAM, 256 KiB each, less the tables
    expect(maps.length).toBeLessThanOrEqual(16);
    // every promised page can really be touched: no OutOfMemory at a fault
    for (const at of maps) for (let p = 0; p < 256 * 1024; p += 4096) expect(c.space.write(at + p, Uint8Array.of(1))).toBe(true);
    expect(call(215, maps[0], 256 * 1024)).toBe(0);
    expect(failed(mmap(256 * 1024))).toBeGreaterThan(0);
    expect(call(222, 0, 64 * MiB, PROT_READ, PRIVATE_ANON, -1, 0)).toBeGreaterThan(0); // read-only: nothing promised
  });

  test("brk returns the old break when the heap could not be backed", () => {
    const start = call(214, 0);
    expect(call(214, start + 2 * MiB)).toBe(start + 2 * MiB);
    expect(call(214, start + 6 * MiB)).toBe(start + 2 * MiB); // refused
    expect(call(214, start + 3 * MiB)).toBe(start + 3 * MiB);
  });
});

describe("mremap and madvise", () => {
  test("mremap grows in place when the pages after are free, else moves the frames (MREMAP_MAYMOVE)", () => {
    const above = mmap(8192);
    const a = mmap(8192);
    expect(a).toBe(above - 8192);
    c.space.write(a, Buffer.from("first page"));
    c.space.write(a + 4096, Buffer.from("second page"));
    expect(failed(call(216, a, 8192, 16384, 0))).toBe(-Errno.ENOMEM); // "cannot be expanded at the current virtual address"
    expect(call(215, above, 8192)).toBe(0);
    expect(call(216, a, 8192, 16384, 0)).toBe(a); // grown in place
    expect(c.space.regionAt(a + 12288)).toBeDefined();
    const b = mmap(4096);
    c.space.write(b, Buffer.from("to move"));
    expect(isLinear(b)).toBe(true);
    expect(failed(call(216, b, 4096, 3 * 4096, 0))).toBe(-Errno.ENOMEM); // b has a neighbour above, no MAYMOVE
    const used = c.space.allocator.used;
    const moved = call(216, b, 4096, 64 * 4096, MAYMOVE);
    expect(moved).not.toBe(b);
    expect(Buffer.from(c.space.read(moved, 7)!).toString()).toBe("to move");
    expect(c.space.regionAt(b)).toBeUndefined();
    // Its page copied to its linear frame at the new place (the linear window is RAM's 4 MiB here), the old freed.
    expect(isLinear(moved)).toBe(true);
    expect(c.space.allocator.used).toBe(used);
    expect(Buffer.from(c.space.read(a + 4096, 11)!).toString()).toBe("second page");
    expect(call(216, moved, 64 * 4096, 4096, 0)).toBe(moved); // shrink in place
    expect(c.space.regionAt(moved + 4096)).toBeUndefined();
    expect(failed(call(216, 0x5000_0000, 4096, 8192, MAYMOVE))).toBe(-Errno.EFAULT);
    expect(failed(call(216, a + 1, 4096, 8192, MAYMOVE))).toBe(-Errno.EINVAL);
    expect(failed(call(216, a, 4096, 8192, 2))).toBe(-Errno.EINVAL); // MREMAP_FIXED without MAYMOVE
  });

  test("a new mapping keeps off the places in the linear window that another mapping holds", () => {
    const x = mmap(8 * 4096);
    for (let p = 0; p < 8; p++) c.space.write(x + p * 4096, Uint8Array.of(p + 1));
    const away = x - 4 * MiB; // a window below: the same places, so its pages keep their frames and stay linear
    expect(call(216, x, 8 * 4096, 8 * 4096, MAYMOVE | FIXED, away)).toBe(away);
    for (let p = 0; p < 8; p++) expect([isLinear(away + p * 4096), c.space.read(away + p * 4096, 1)![0]]).toEqual([true, p + 1]);
    const y = mmap(8 * 4096);
    expect(y, "x's old range has the places away holds").not.toBe(x);
    for (let p = 0; p < 8; p++) { c.space.write(y + p * 4096, Uint8Array.of(9)); expect(isLinear(y + p * 4096)).toBe(true); }
    // A mapping as large as the window cannot keep off anything: it goes below the others, as before.
    const z = call(222, 0, 6 * MiB, PROT_READ, PRIVATE_ANON, -1, 0);
    expect(z + 6 * MiB).toBeLessThanOrEqual(Math.min(away, y));
  });

  test("madvise(MADV_DONTNEED) gives pages back; they read as zeros", () => {
    const a = mmap(4 * 4096);
    c.space.write(a, Buffer.from("data"));
    const used = c.space.allocator.used;
    expect(call(233, a, 4 * 4096, 4)).toBe(0);
    expect(c.space.allocator.used).toBe(used - 1);
    expect([...c.space.read(a, 4)!]).toEqual([0, 0, 0, 0]);
    expect(failed(call(233, 0x5000_0000, 4096, 4))).toBe(-Errno.ENOMEM);
  });
});
