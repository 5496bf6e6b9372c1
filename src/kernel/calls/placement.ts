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
function mmapFloor(space: AddressSpace): number {
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
  // Places in pages, each one number (start * PLACE_SHIFT + end) so that a typed array sorts them by start without a
  // comparator: this runs at every mmap, as cold code, where objects per place were half a megabyte of garbage.
  const windowPages = window / PAGE, sizePages = size / PAGE;
  if (placeScratch.length < 2 * taken.length) placeScratch = new Float64Array(4 * taken.length);
  const places = placeScratch;
  let n = 0;
  for (let i = 0; i < taken.length; i++) {
    const at = (((taken[i].start % window) + window) % window) / PAGE, end = at + (taken[i].end - taken[i].start) / PAGE;
    if (end <= windowPages) places[n++] = at * PLACE_SHIFT + end;
    else { places[n++] = at * PLACE_SHIFT + windowPages; places[n++] = end - windowPages; } // wraps: two
  }
  const sorted = places.subarray(0, n).sort();
  let best = -Infinity, first = -1, end = -1;
  for (let i = 0; i < n; i++) {
    const placeStart = Math.floor(sorted[i] / PLACE_SHIFT), placeEnd = sorted[i] % PLACE_SHIFT;
    if (first < 0) first = placeStart;
    else if (placeStart > end) best = Math.max(best, startInGap(highest, end, placeStart, sizePages, window));
    end = Math.max(end, placeEnd);
  }
  // The gap after the last place, around the circle to the first one's start.
  return Math.max(best, startInGap(highest, end, first + windowPages, sizePages, window));
}

/** linearStart's places, kept from call to call (mmap is single-threaded; the array is read only within a call). */
let placeScratch = new Float64Array(256);

/** A page count above any place's end in the window (2^20 pages: a 32-bit address space). */
const PLACE_SHIFT = 1 << 21;

/** The highest start at or below `highest` of `sizePages` pages in the gap of pages [gapStart, gapEnd) of the window. */
function startInGap(highest: number, gapStart: number, gapEnd: number, sizePages: number, window: number): number {
  if (gapEnd - gapStart < sizePages) return -Infinity;
  return highestAt(highest, gapStart * PAGE, (gapEnd - sizePages) * PAGE, window);
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
