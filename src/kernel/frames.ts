// Guest RAM as the kernel hands it out: 4 KiB frames, each with a count of the
// page-table entries (and tables) that hold it. Every process's address space
// takes its frames here, so after a fork parent and child share a frame until
// one of them writes to it (copy-on-write): fork copies page tables, not pages.
//
// As data (for a snapshot): the free list, the high-water mark, and the frames
// held more than once. A frame below the mark and not free is held once.

import type { PhysicalMemory } from "./address-space.js";

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

export class Frames {
  private free: number[] = [];
  private next = 0;
  private readonly counts: Uint16Array;
  /** Frames held more than once, kept as counts change: state() must not scan all of RAM inside a downtime. */
  private readonly sharedFrames = new Set<number>();

  constructor(readonly memory: PhysicalMemory, readonly frameCount: number) {
    this.counts = new Uint16Array(frameCount);
  }

  /** Frames in use (held at least once). */
  get used(): number {
    return this.next - this.free.length;
  }

  /** The most frames ever in use at once (page tables included): a guest's high-water mark, for stats. */
  get peak(): number {
    return this.next;
  }

  /** Whether a frame is here to be touched (postcopy: throws MissingPage until it arrives). */
  present(frame: number): number {
    if (this.memory.isMissing?.(frame)) throw new MissingPage(frame);
    return frame;
  }

  /** A zeroed frame, held once. */
  allocate(): number {
    const candidate = this.free.length ? this.free[this.free.length - 1] : this.next < this.frameCount ? this.next : -1;
    if (candidate < 0) throw new OutOfMemory("out of guest memory");
    this.present(candidate); // before taking it, so a retry finds the allocator unchanged
    const frame = this.free.pop() ?? this.next++;
    this.counts[frame] = 1;
    this.memory.ram().fill(0, frame * PAGE, frame * PAGE + PAGE);
    this.memory.wrote(frame * PAGE, PAGE);
    return frame;
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
    else if (left === 0) this.free.push(frame);
  }

  holders(frame: number): number {
    return this.counts[frame];
  }

  /** A copy of `frame` in a new frame (held once): a write broke a copy-on-write share. */
  copy(frame: number): number {
    this.present(frame);
    const fresh = this.allocate();
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
      freeFrames: u32Bytes(Uint32Array.from(this.free)),
      nextFrame: this.next,
      shared: u32Bytes(Uint32Array.from(shared)),
    };
  }

  static restore(memory: PhysicalMemory, frameCount: number, s: FramesState): Frames {
    if (s.schemaVersion !== 1) throw new Error(`frames: unknown schema version ${s.schemaVersion}`);
    const frames = new Frames(memory, frameCount);
    frames.next = s.nextFrame;
    frames.free = Array.from(u32s(s.freeFrames));
    frames.counts.fill(1, 0, s.nextFrame);
    for (const f of frames.free) frames.counts[f] = 0;
    const shared = u32s(s.shared);
    for (let i = 0; i < shared.length; i += 2) {
      frames.counts[shared[i]] = shared[i + 1];
      if (shared[i + 1] > 1) frames.sharedFrames.add(shared[i]);
    }
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
