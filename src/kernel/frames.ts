// Guest RAM as the kernel hands it out: 4 KiB frames, each with a count of the
// page-table entries (and tables) that hold it. Every process's address space
// takes its frames here, so after a fork parent and child share a frame until
// one of them writes to it (copy-on-write): fork copies page tables, not pages.
//
// As data (for a snapshot): the free list, the high-water mark, and the frames
// held more than once. A frame below the mark and not free is held once.
//
// A page is given its linear frame when that one is free: the frame its virtual page number names modulo the linear
// window, the largest power of two of frames RAM holds (so the stack, near the top of the address space, lands near
// the top of RAM, and the image and heap near the bottom). The core's TLB marks such a page linear, and translated
// code reaches it at RAM_HOST_BASE + (address & window) without waiting for its TLB entry's addend (assembly/layout.ts,
// LINEAR_READ). Page tables, which no virtual page names, take the frames below the first page a process maps.

import type { PhysicalMemory } from "./address-space.js";
import { linearWindowPages } from "../machine/linear-window.js";

export const PAGE = 4096;

export class OutOfMemory extends Error {}

/** The kernel touched a RAM page that has not arrived yet (postcopy): fetch it, then run the system call again. */
export class MissingPage extends Error {
  constructor(readonly frame: number) {
    super(`RAM page ${frame} has not arrived yet`);
  }
}

export interface FramesState {
  schemaVersion: 1;
  freeFrames: Uint8Array; // u32 list
  nextFrame: number;
  shared: Uint8Array; // u32 pairs: frame, count (only counts above 1)
}

/** Frames below the first virtual page a process maps (0x10000): no page is linear there, so page tables go there first. */
const UNNAMED_FRAMES = 16;

/** freeAt's mark for a free frame in one of the gaps (frames below `next` never handed out). */
const IN_GAP = -2;

export class Frames {
  /** Frames freed below `next`, each once; freeAt holds each one's place in the list, to take it from anywhere. */
  private free: number[] = [];
  /**
   * Runs of frames below `next` never handed out: [start, end) pairs in increasing order. A page's linear frame is
   * often far above the others handed out (the stack's, near the top of RAM, comes second), and listing each frame it
   * skips one by one cost `roam run hello` ~3 ms of start-up.
   */
  private gaps: number[] = [];
  private gapFrames = 0;
  /** Per frame: its place in `free`, IN_GAP, or -1 (held, or never handed out at or above `next`). */
  private readonly freeAt: Int32Array;
  private next = 0;
  private highWater = 0;
  private readonly counts: Uint16Array;
  /** Frames held more than once, kept as counts change: state() must not scan all of RAM inside a downtime. */
  private readonly sharedFrames = new Set<number>();
  /** The linear window less one, in frames (see the top of this file). */
  readonly linearMask: number;

  constructor(readonly memory: PhysicalMemory, readonly frameCount: number) {
    this.counts = new Uint16Array(frameCount);
    this.freeAt = new Int32Array(frameCount).fill(-1);
    this.linearMask = linearWindowPages(frameCount) - 1;
  }

  /** Frames in use (held at least once). */
  get used(): number {
    return this.next - this.free.length - this.gapFrames;
  }

  /** The most frames in use at once (page tables included) since this allocator was made: for stats. */
  get peak(): number {
    return this.highWater;
  }

  /** Whether a frame is here to be touched (postcopy: throws MissingPage until it arrives). */
  present(frame: number): number {
    if (this.memory.isMissing?.(frame)) throw new MissingPage(frame);
    return frame;
  }

  /**
   * A zeroed frame, held once: the linear frame of virtual page `vpn` if it is free, else any. Without a page (a page
   * table), one of the frames no page is linear in if one is free.
   */
  allocate(vpn?: number): number {
    const frame = this.claim(vpn);
    this.memory.ram().fill(0, frame * PAGE, frame * PAGE + PAGE);
    this.memory.wrote(frame * PAGE, PAGE);
    return frame;
  }

  /** A frame taken for `vpn` as allocate takes it, its bytes left as they are: the caller writes all of them. */
  private claim(vpn: number | undefined): number {
    const frame = this.choose(vpn);
    this.present(frame); // before taking it, so a retry finds the allocator unchanged
    this.take(frame);
    return frame;
  }

  /** Whether `frame` may be taken: free below `next`, or not handed out yet. */
  private isFree(frame: number): boolean {
    return frame >= this.next ? frame < this.frameCount : this.freeAt[frame] !== -1;
  }

  /** The frame allocate takes (nothing changes). */
  private choose(vpn: number | undefined): number {
    if (vpn !== undefined) {
      if (this.isFree(vpn & this.linearMask)) return vpn & this.linearMask;
    } else {
      for (let f = 0; f < UNNAMED_FRAMES; f++) if (this.isFree(f)) return f;
    }
    if (this.free.length > 0) return this.free[this.free.length - 1];
    if (this.gaps.length > 0) return this.gaps[this.gaps.length - 1] - 1;
    if (this.next < this.frameCount) return this.next;
    throw new OutOfMemory("out of guest memory");
  }

  /** Marks free frame `frame` held once; frames skipped below it (first use beyond `next`) make a gap. */
  private take(frame: number): void {
    if (frame >= this.next) {
      if (frame > this.next) {
        this.freeAt.fill(IN_GAP, this.next, frame);
        this.gaps.push(this.next, frame);
        this.gapFrames += frame - this.next;
      }
      this.next = frame + 1;
    } else if (this.freeAt[frame] === IN_GAP) {
      this.takeFromGap(frame);
    } else {
      const at = this.freeAt[frame], last = this.free.pop()!;
      if (last !== frame) { this.free[at] = last; this.freeAt[last] = at; }
    }
    this.freeAt[frame] = -1;
    this.counts[frame] = 1;
    this.highWater = Math.max(this.highWater, this.used);
  }

  /** Takes `frame` out of the gap that holds it, splitting the gap around it. */
  private takeFromGap(frame: number): void {
    const gaps = this.gaps;
    let low = 0, high = gaps.length / 2 - 1; // the last gap starting at or below `frame`
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (gaps[2 * mid] <= frame) low = mid; else high = mid - 1;
    }
    const start = gaps[2 * low], end = gaps[2 * low + 1];
    // Pages mostly take the frames at a gap's ends (a region's pages in order): those shrink it in place.
    if (start + 1 === end) gaps.splice(2 * low, 2);
    else if (frame === start) gaps[2 * low] = frame + 1;
    else if (frame === end - 1) gaps[2 * low + 1] = frame;
    else gaps.splice(2 * low, 2, start, frame, frame + 1, end);
    this.gapFrames--;
  }

  private listFree(frame: number): void {
    this.freeAt[frame] = this.free.length;
    this.free.push(frame);
  }

  /** One more holder of `frame` (a forked page-table entry). */
  retain(frame: number): void {
    if (this.counts[frame] === 0xffff) throw new OutOfMemory("a frame is shared by too many processes");
    if (++this.counts[frame] === 2) this.sharedFrames.add(frame);
  }

  /** One holder fewer; the frame is free when none is left. */
  release(frame: number): void {
    if (this.counts[frame] === 0) throw new Error(`frame ${frame} released more often than held`);
    const left = --this.counts[frame];
    if (left === 1) this.sharedFrames.delete(frame);
    else if (left === 0) this.listFree(frame);
  }

  holders(frame: number): number {
    return this.counts[frame];
  }

  /**
   * Whether a page in `frame` that moves to virtual page `vpn` may be copied to its linear frame there: the frame is
   * held once and here (postcopy), and the linear frame is another and free.
   */
  mayMoveToLinear(frame: number, vpn: number): boolean {
    const linear = vpn & this.linearMask;
    return linear !== frame && this.isFree(linear) && this.counts[frame] === 1 && !this.memory.isMissing?.(frame);
  }

  /** A copy of `frame` in a new frame (held once) for virtual page `vpn`: a write broke a copy-on-write share. */
  copy(frame: number, vpn?: number): number {
    this.present(frame);
    const fresh = this.claim(vpn); // not zeroed first: the copy writes every byte (mremap moves pages by copies)
    const ram = this.memory.ram();
    ram.copyWithin(fresh * PAGE, frame * PAGE, frame * PAGE + PAGE);
    this.memory.wrote(fresh * PAGE, PAGE);
    return fresh;
  }

  state(): FramesState {
    const shared: number[] = [];
    for (const f of this.sharedFrames) shared.push(f, this.counts[f]);
    return {
      schemaVersion: 1,
      freeFrames: u32Bytes(this.freeList()),
      nextFrame: this.next,
      shared: u32Bytes(Uint32Array.from(shared)),
    };
  }

  /** Every free frame below `next`, once: those freed, then the gaps'. */
  private freeList(): Uint32Array {
    const list = new Uint32Array(this.free.length + this.gapFrames);
    list.set(this.free);
    let at = this.free.length;
    for (let g = 0; g < this.gaps.length; g += 2) for (let f = this.gaps[g]; f < this.gaps[g + 1]; f++) list[at++] = f;
    return list;
  }

  static restore(memory: PhysicalMemory, frameCount: number, s: FramesState): Frames {
    if (s.schemaVersion !== 1) throw new Error(`frames: unknown schema version ${s.schemaVersion}`);
    const frames = new Frames(memory, frameCount);
    frames.next = s.nextFrame;
    frames.counts.fill(1, 0, s.nextFrame);
    for (const f of u32s(s.freeFrames)) { frames.counts[f] = 0; frames.listFree(f); }
    const shared = u32s(s.shared);
    for (let i = 0; i < shared.length; i += 2) {
      frames.counts[shared[i]] = shared[i + 1];
      if (shared[i + 1] > 1) frames.sharedFrames.add(shared[i]);
    }
    frames.highWater = frames.used;
    return frames;
  }
}

export function u32Bytes(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

export function u32s(bytes: Uint8Array): Uint32Array {
  if (!(bytes instanceof Uint8Array) || bytes.length % 4) throw new Error("a packed list is not whole u32s");
  return new Uint32Array(Uint8Array.from(bytes).buffer);
}
