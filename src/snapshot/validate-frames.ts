// The kernel's frame allocator in a snapshot, checked against the page tables
// that hold its frames. Each frame is held once per root table, level-0 table
// and mapped page of every address space that refers to it, and the
// allocator's counts must say the same: a frame below the high-water mark,
// neither free nor listed as shared, is held once. Otherwise the kernel frees a
// frame still mapped (or frees one twice) when a process exits or writes to a
// copy-on-write page.
//
// A migration's final state is checked inside the downtime: the counts of the
// state it follows are kept, and only what changed is counted again (a journal
// that only grew: its new entries).

import type { AddressSpaceState } from "../kernel/address-space.js";
import type { FramesState } from "../kernel/frames.js";
import type { TaskState } from "../kernel/task.js";
import { bad, int, own, packedU32s, record, schemaVersion } from "./schema.js";

const UNMAPPED = 0xffffffff; // a removal in the page journal

/** The allocator's own rules: a frame is free once at most, counted among the shared once at most, and not both. */
export function checkFrames(value: unknown, at: string, frames: number): FramesState {
  const m = record(value, at);
  schemaVersion(m, at, 1);
  const nextFrame = int(own(m, "nextFrame"), `${at}.nextFrame`, 0, frames);
  const free = new Set<number>();
  packedU32s(own(m, "freeFrames"), `${at}.freeFrames`).forEach((f, i) => {
    if (f >= nextFrame) bad(`${at}.freeFrames[${i}]`, `frame ${f} is beyond the ${nextFrame} frames handed out`);
    if (free.has(f)) bad(`${at}.freeFrames[${i}]`, `frame ${f} is free twice`);
    free.add(f);
  });
  const shared = packedU32s(own(m, "shared"), `${at}.shared`, 2);
  const counted = new Set<number>();
  for (let i = 0; i < shared.length; i += 2) {
    const [frame, count, p] = [shared[i], shared[i + 1], `${at}.shared[${i / 2}]`];
    if (frame >= nextFrame) bad(p, `frame ${frame} is beyond the ${nextFrame} frames handed out`);
    if (count < 2 || count > 0xffff) bad(p, `a count of ${count} holders`);
    if (counted.has(frame)) bad(p, `frame ${frame} is counted twice`);
    if (free.has(frame)) bad(p, `frame ${frame} is free`);
    counted.add(frame);
  }
  return { schemaVersion: 1, nextFrame, freeFrames: own(m, "freeFrames") as Uint8Array, shared: own(m, "shared") as Uint8Array };
}

/** The allocator's counts and the page tables' holders agree, frame by frame. `previous`: the checked tasks this state follows. */
export function checkFrameHolders(frames: FramesState, tasks: TaskState[], ramFrames: number, at: string, previous?: TaskState[]): void {
  const holders = holdersOf(tasks, ramFrames, previous);
  if (agreed.get(frames) === holders) return; // these counts were found to agree with these holders already
  const counts = new Int32Array(ramFrames);
  counts.fill(1, 0, frames.nextFrame);
  for (const f of packedU32s(frames.freeFrames, `${at}.freeFrames`)) counts[f] = 0;
  const shared = packedU32s(frames.shared, `${at}.shared`, 2);
  for (let i = 0; i < shared.length; i += 2) counts[shared[i]] = shared[i + 1];
  for (let frame = 0; frame < ramFrames; frame++) {
    const n = holders[frame], c = counts[frame];
    if (n === c) continue;
    bad(at, n ? `frame ${frame} has ${n} holder${n === 1 ? "" : "s"} in the page tables, but the allocator counts ${c}` : `frame ${frame} has no holder in the page tables, but the allocator counts ${c}`);
  }
  agreed.set(frames, holders);
}

/** The holder counts each checked allocator state agreed with. */
const agreed = new WeakMap<FramesState, Int32Array>();

/** Holders per frame of these tasks' spaces (kept with the checked tasks list, so the next state counts only its changes). */
const holderCounts = new WeakMap<TaskState[], Int32Array>();

function holdersOf(tasks: TaskState[], ramFrames: number, previous?: TaskState[]): Int32Array {
  const known = holderCounts.get(tasks);
  if (known) return known;
  const before = previous && holderCounts.get(previous);
  const byPid = new Map((before ? previous! : []).map((t) => [t.pid, t]));
  const unchanged = before && tasks.length === previous!.length &&
    tasks.every((t) => sameSpace(t.addressSpace, byPid.get(t.pid)?.addressSpace));
  if (unchanged) { holderCounts.set(tasks, before); return before; } // the same counts (the same object: agreed stays known)
  const holders = before ? before.slice() : new Int32Array(ramFrames);
  const carriedOn = new Set<TaskState>();
  for (const t of tasks) {
    if (!t.addressSpace) continue;
    const old = byPid.get(t.pid);
    if (old?.addressSpace && grownFrom(t.addressSpace, old.addressSpace)) {
      countGrowth(holders, t.addressSpace, old.addressSpace);
      carriedOn.add(old);
    } else countSpace(holders, t.addressSpace, 1);
  }
  for (const old of byPid.values()) if (old.addressSpace && !carriedOn.has(old)) countSpace(holders, old.addressSpace, -1);
  holderCounts.set(tasks, holders);
  return holders;
}

/** Both without a space, or the same root, tables and journal. */
function sameSpace(a: AddressSpaceState | null | undefined, b: AddressSpaceState | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.rootFrame === b.rootFrame && a.pages.length === b.pages.length && a.tableFrames.length === b.tableFrames.length && grownFrom(a, b);
}

/** The same root, and tables and journal that only grew (both are appended to). */
export function grownFrom(space: AddressSpaceState, old: AddressSpaceState): boolean {
  return space.rootFrame === old.rootFrame && startsWith(space.tableFrames, old.tableFrames) && startsWith(space.pages, old.pages);
}

function countSpace(holders: Int32Array, space: AddressSpaceState, by: number): void {
  holders[space.rootFrame] += by;
  const tables = words(space.tableFrames);
  for (let i = 1; i < tables.length; i += 2) holders[tables[i]] += by;
  for (const frame of pageMapOf(space).values()) holders[frame] += by;
}

/** What `space` adds to `old`: its new tables, and its new journal entries (each replacing what its page held). */
function countGrowth(holders: Int32Array, space: AddressSpaceState, old: AddressSpaceState): void {
  const tables = words(space.tableFrames);
  for (let i = old.tableFrames.length / 4 + 1; i < tables.length; i += 2) holders[tables[i]]++;
  if (space.pages.length === old.pages.length) return;
  const oldPages = pageMapOf(old);
  const changed = new Map<number, number>();
  const journal = words(space.pages);
  for (let i = old.pages.length / 4; i < journal.length; i += 2) {
    const vpn = journal[i], frame = journal[i + 1];
    const was = changed.get(vpn) ?? oldPages.get(vpn) ?? UNMAPPED;
    if (was !== UNMAPPED) holders[was]--;
    if (frame !== UNMAPPED) holders[frame]++;
    changed.set(vpn, frame);
  }
}

/** Each checked journal's pages as the kernel will hold them (later entries win), worked out when first needed. */
const pageMaps = new WeakMap<Uint8Array, Map<number, number>>();

function pageMapOf(space: AddressSpaceState): Map<number, number> {
  const known = pageMaps.get(space.pages);
  if (known) return known;
  const map = new Map<number, number>();
  const journal = words(space.pages);
  for (let i = 0; i < journal.length; i += 2) {
    if (journal[i + 1] === UNMAPPED) map.delete(journal[i]);
    else map.set(journal[i], journal[i + 1]);
  }
  pageMaps.set(space.pages, map);
  return map;
}

/** Checked u32 words (little-endian, as every host Roam runs on), copied only when not aligned. */
function words(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Uint32Array(Uint8Array.from(bytes).buffer);
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && Buffer.from(bytes.buffer, bytes.byteOffset, prefix.length).equals(prefix);
}
