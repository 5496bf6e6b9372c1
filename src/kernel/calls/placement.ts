// Where the kernel places a mapping that mmap or mremap may put anywhere: below the mmap top, above the heap's room,
// and where its pages can sit at their linear frames (frames.ts: a page's frame is its page number modulo the linear
// window, unless another page holds that frame already).
//
// Two ranges a multiple of the window apart want the same frames, and only the first to touch a page gets its
// linear frame: the other's pages land elsewhere, where translated code reaches them through the TLB's addend
// rather than from the address alone (src/jit/gen-memory.ts). That happened as soon as a program moved a mapping
// (mremap once kept its pages' frames at the same distance from a window multiple) and mapped again where it had
// been: BusyBox sort's buffers, SQLite's. So a range also keeps clear of every mapping's places in the window (the
// heap's with room to grow), when the window has room for it; mremap moves a mapping there too, its pages copied to
// their linear frames (AddressSpace.movePages).

import { type AddressSpace, PAGE, pageUp } from "../address-space.js";

interface Span { start: number; end: number }

/** Room above the break that findFree keeps the heap's places in the linear window for (brk grows there). */
const HEAP_ROOM = 8 << 20;
/** Mappings beyond which findFree settles for any free range at once (its sort and merge are per mapping). */
const MAX_PLACED_AMONG = 1024;

/** The lowest address a mapping placed by the kernel may start at: room is kept above the break for the heap to grow. */
export function mmapFloor(space: AddressSpace): number {
  return pageUp(space.brk) + 64 * PAGE * 256;
}

/**
 * Where the kernel places a mapping of `size` bytes: the highest range below the mmap top that meets none of the
 * mappings' places in the linear window (linearStart), else the highest free range (findFreeAnywhere); -1 if none.
 */
export function findFree(space: AddressSpace, size: number): number {
  const window = (space.allocator.linearMask + 1) * PAGE;
  const floor = mmapFloor(space);
  const taken = linearPlaces(space);
  // A range as large as the window meets every mapping's places, and any range meets those of a mapping that large.
  const hopeless = size >= window || taken.length > MAX_PLACED_AMONG || taken.some((r) => r.end - r.start >= window);
  const start = hopeless ? -1 : linearStart(taken, space.mmapTop - size, size, window);
  return start >= floor ? start : findFreeAnywhere(space, size);
}

/** The ranges whose places in the linear window findFree keeps clear of: every mapping's, the heap's with room to grow. */
function linearPlaces(space: AddressSpace): Span[] {
  return space.regions.map((r) => (r.kind === "heap" ? { start: r.start, end: r.end + HEAP_ROOM } : r));
}

/**
 * The highest start at or below `highest` of a range of `size` bytes that meets none of `taken` nor any copy of one a
 * multiple of `window` away (-Infinity if there is none). Each of `taken`, and `size`, is smaller than the window.
 *
 * Folded onto one window the ranges' places are a few intervals on a circle; a start is good when its range, folded
 * too, lies in one of the gaps between them. So: fold, sort and merge the places, and for each gap long enough take
 * the highest start at or below `highest` whose place in the window falls where the range fits in that gap. (A search
 * down from `highest`, moving below each alias met, finds the same start with a pass over the mappings per step: cold
 * code, ~50 us a call for BusyBox sort's 150 mmaps.)
 */
export function linearStart(taken: ReadonlyArray<Span>, highest: number, size: number, window: number): number {
  if (taken.length === 0) return highest;
  const folded: Span[] = [];
  for (const r of taken) {
    const at = ((r.start % window) + window) % window, end = at + (r.end - r.start);
    if (end <= window) folded.push({ start: at, end });
    else folded.push({ start: at, end: window }, { start: 0, end: end - window });
  }
  folded.sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const r of folded) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  let best = -Infinity;
  for (let i = 0; i < merged.length; i++) {
    // The gap after interval i: to the next one's start, or around the circle to the first's.
    const gapStart = merged[i].end, gapEnd = i + 1 < merged.length ? merged[i + 1].start : merged[0].start + window;
    if (gapEnd - gapStart < size) continue;
    best = Math.max(best, highestAt(highest, gapStart, gapEnd - size, window));
  }
  return best;
}

/** The highest address at or below `highest` whose place in the window, counted from `low`, is at most `high` - `low`. */
function highestAt(highest: number, low: number, high: number, window: number): number {
  const block = Math.floor((highest - low) / window) * window;
  return Math.min(highest, block + high);
}

/** A free range of `size` bytes below the mmap top, searching down; -1 if none above the floor. */
function findFreeAnywhere(space: AddressSpace, size: number): number {
  let top = space.mmapTop;
  const floor = mmapFloor(space);
  for (const r of [...space.regions].sort((x, y) => y.start - x.start)) {
    if (r.start >= top) continue;
    if (r.end <= top - size) break;
    top = Math.min(top, r.start);
  }
  const start = top - size;
  return start >= floor ? start : -1;
}
