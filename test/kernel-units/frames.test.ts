// The kernel's frame allocator (src/kernel/frames.ts): a page gets its linear
// frame (its virtual page number modulo the linear window) when that one is
// free, page tables take the frames no page is linear in, and the state a
// snapshot carries lists every free frame once, whatever order frames were
// taken in.
import { describe, expect, test } from "vitest";
import { Frames, OutOfMemory, u32s } from "../../src/kernel/frames.js";
import type { PhysicalMemory } from "../../src/kernel/address-space.js";

const PAGE = 4096;

function framesOver(count: number): Frames {
  const ram = new Uint8Array(count * PAGE);
  const memory = { ram: () => ram, wrote: () => {}, ramGuestBase: 0x80000000 } as unknown as PhysicalMemory;
  return new Frames(memory, count);
}

describe("linear frames", () => {
  test("the window is the largest power of two of frames RAM holds", () => {
    expect(framesOver(1024).linearMask).toBe(1023);
    expect(framesOver(1536).linearMask).toBe(1023);
    expect(framesOver(1).linearMask).toBe(0);
  });

  test("a page gets the frame its virtual page number names in the window, a page table one below the first page", () => {
    const frames = framesOver(1024);
    expect(frames.allocate(), "a page table").toBe(0);
    expect(frames.allocate(0x10), "the first page of an image at 0x10000").toBe(0x10);
    expect(frames.allocate(0x7ffef), "a stack page near 0x7fff0000").toBe(0x7ffef & 1023);
    expect(frames.allocate(0x7ffee)).toBe(0x7ffee & 1023);
    expect(frames.allocate(), "another page table").toBe(1);
    expect(frames.used).toBe(5);
    expect(frames.peak).toBe(5);
  });

  test("when the linear frame is held, a page gets any free frame; a freed linear frame is given to its page again", () => {
    const frames = framesOver(64);
    const first = frames.allocate(0x40 + 20); // frame 20 (the window is 64 frames)
    expect(first).toBe(20);
    const clash = frames.allocate(0x80 + 20); // the same linear frame, held: any other
    expect(clash).not.toBe(20);
    expect(frames.holders(clash)).toBe(1);
    frames.release(first);
    expect(frames.allocate(0xc0 + 20)).toBe(20);
    expect(frames.used).toBe(2);
  });

  test("frames skipped below a linear frame are free; taking one of them from the middle of the list keeps the counts", () => {
    const frames = framesOver(64);
    frames.allocate(50); // frames 0..49 skipped: free
    expect(frames.used).toBe(1);
    expect(frames.allocate(30), "a free frame in the middle of the free list").toBe(30);
    expect(frames.used).toBe(2);
    const state = frames.state();
    const free = [...u32s(state.freeFrames)];
    expect(free).toHaveLength(49);
    expect(new Set(free).size, "each free frame once").toBe(49);
    expect(free).not.toContain(30);
    expect(free).not.toContain(50);
    expect(state.nextFrame).toBe(51);
    // Plain allocations pass over the frame taken from the middle of the list.
    const plain = Array.from({ length: 49 }, () => frames.allocate(50)); // its linear frame is held: any other
    expect(new Set(plain).size).toBe(49);
    expect(plain).not.toContain(30);
    expect(plain).not.toContain(50);
  });

  test("a frame freed, taken by its page and freed again is listed once; the state restores to the same allocator", () => {
    const frames = framesOver(32);
    const a = frames.allocate(5), b = frames.allocate(9);
    frames.release(a);
    expect(frames.allocate(5)).toBe(5); // off the free list's top
    frames.release(b);
    frames.release(a);
    frames.allocate(9);
    frames.release(9);
    const state = frames.state();
    expect([...u32s(state.freeFrames)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const restored = Frames.restore(frames.memory, 32, state);
    expect(restored.used).toBe(0);
    expect(restored.allocate(3)).toBe(3);
    expect(restored.used).toBe(1);
  });

  test("RAM full: OutOfMemory, and the allocator is unchanged", () => {
    const frames = framesOver(4);
    for (let i = 0; i < 4; i++) frames.allocate(i);
    expect(() => frames.allocate(2)).toThrow(OutOfMemory);
    expect(() => frames.allocate()).toThrow(OutOfMemory);
    expect(frames.used).toBe(4);
  });

  test("against a model: random allocations (with and without a page) and releases never hand out a held frame", () => {
    let seed = 12345;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
    const count = 200;
    const frames = framesOver(count); // a window of 128 frames, 72 beyond it
    const held = new Set<number>();
    for (let step = 0; step < 3000; step++) {
      // Now and then a run of pages in order, up or down, as a region's pages come (their frames leave a gap at an end).
      if (step % 500 === 250 && held.size < count / 2) {
        const base = random(1 << 19), up = random(2) === 0;
        for (let k = 0; k < 20 && held.size < count; k++) {
          const f = frames.allocate(up ? base + k : base - k);
          expect(held.has(f), `step ${step}: frame ${f} handed out twice`).toBe(false);
          held.add(f);
        }
      }
      if (held.size > 0 && (held.size >= count || random(3) === 0)) {
        const f = [...held][random(held.size)];
        frames.release(f);
        held.delete(f);
      } else {
        const vpn = random(4) === 0 ? undefined : random(1 << 19);
        const f = frames.allocate(vpn);
        expect(held.has(f), `step ${step}: frame ${f} handed out twice`).toBe(false);
        if (vpn !== undefined && !held.has(vpn & 127) && f !== (vpn & 127)) throw new Error(`step ${step}: linear frame ${vpn & 127} was free`);
        held.add(f);
      }
      expect(frames.used).toBe(held.size);
    }
    const state = frames.state();
    const free = [...u32s(state.freeFrames)];
    expect(new Set(free).size, "each free frame listed once").toBe(free.length);
    for (const f of free) expect(held.has(f), `frame ${f} listed free while held`).toBe(false);
    expect(free.length + held.size, "every frame below the mark is free or held").toBe(state.nextFrame);
    const restored = Frames.restore(frames.memory, count, state);
    expect(restored.used).toBe(held.size);
  });
});
