// Memory: brk, mmap, munmap, mprotect, mremap, madvise. Pages are still mapped
// on first touch (demand paging); what mmap and brk promise is counted
// (AddressSpace's commit accounting), so a request RAM could not hold fails
// with ENOMEM at once — malloc returns NULL — rather than the process dying
// at a page fault later. The man pages' words for each error.

import { AddressSpace, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, pageUp, type Region } from "../address-space.js";
import { Errno } from "../errno.js";
import type { SyscallContext } from "../syscalls.js";
import { guarded, type Handler } from "./call-args.js";
import { mayMap } from "./limits.js";
import { findFree } from "./placement.js";

const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
const MADV_DONTNEED = 4, MADV_FREE = 8;

/** Whether RAM can hold `pages` more committed pages besides what every process was already promised. */
function mayCommit(c: SyscallContext, pages: number): boolean {
  const spaces = new Set<AddressSpace>([c.space]);
  for (const task of c.kernel.tasks.values()) if (task.status !== "zombie" && !task.away) spaces.add(task.space);
  let promised = 0;
  for (const space of spaces) promised += space.untouchedCommitted;
  const frames = c.space.allocator;
  const tables = 2; // the page tables a new range may need
  return frames.used + promised + pages + tables <= frames.frameCount;
}

const commits = (prot: number) => (prot & PROT_WRITE) !== 0;

/** Whether the process may map `bytes` more under its RLIMIT_AS ("the maximum size of the process's virtual memory"). */
function mayGrow(c: SyscallContext, bytes: number): boolean {
  let mapped = 0;
  const regions = c.space.regions; // indexed: a for-of in this cold code makes a result object per region
  for (let i = 0; i < regions.length; i++) if (regions[i].kind !== "stack") mapped += regions[i].end - regions[i].start; // the stack: 8 MiB reserved, not used
  return mayMap(c.kernel.tasks.get(c.pid), mapped, bytes);
}

/** brk: "on failure, the system call returns the current break" (that is how a program sees ENOMEM). */
function brk(c: SyscallContext, wanted: number): number {
  const space = c.space;
  if (wanted === 0 || wanted < space.brkStart) return space.brk;
  const oldTop = pageUp(space.brk), newTop = pageUp(wanted);
  if (newTop > oldTop) {
    if (space.regions.some((r) => r.start < newTop && oldTop < r.end)) return space.brk; // would collide: refuse
    if (!mayGrow(c, newTop - oldTop) || !mayCommit(c, (newTop - oldTop) / PAGE)) return space.brk;
    space.addRegion({ start: oldTop, end: newTop, prot: PROT_READ | PROT_WRITE, kind: "heap" });
  } else if (newTop < oldTop) {
    space.removeRange(newTop, oldTop);
  }
  space.brk = wanted;
  return wanted;
}

function mmap(c: SyscallContext, addr: number, length: number, prot: number, flags: number, fd: number, pgoff: number): number {
  if (length === 0 || (flags & (MAP_SHARED | MAP_PRIVATE)) === 0) return -Errno.EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -Errno.EINVAL;
  const size = pageUp(length);
  if (size === 0 || size > 0xffffffff) return -Errno.ENOMEM;
  const space = c.space;
  const fixed = (flags & MAP_FIXED) !== 0;
  if (fixed && (addr % PAGE || addr + size > 0x100000000 || addr < PAGE)) return -Errno.EINVAL;
  // "No memory is available": the pages could never all be backed.
  if (commits(prot) && !mayCommit(c, size / PAGE)) return -Errno.ENOMEM;
  if (!mayGrow(c, size)) return -Errno.ENOMEM; // "The process's RLIMIT_AS limit ... would have been exceeded"
  let contents: Uint8Array | undefined;
  if (!(flags & MAP_ANONYMOUS)) {
    if ((flags & MAP_SHARED) && (prot & PROT_WRITE)) return -Errno.ENODEV; // no shared writable file mappings
    const r = guarded(() => {
      const file = c.files.get(fd | 0);
      if (!file || file.kind !== "file") return -Errno.EBADF;
      contents = c.files.pread(fd | 0, pgoff * PAGE, length);
      return 0;
    });
    if (r !== 0) return r;
  }
  let start: number;
  if (fixed) {
    start = addr;
    space.removeRange(start, start + size);
  } else {
    start = findFree(space, size);
    if (start < 0) return -Errno.ENOMEM;
  }
  space.addRegion({ start, end: start + size, prot, kind: "mmap" });
  if (contents) space.loadImage(start, contents, prot);
  return start;
}

/** The one region that holds all of [start, end), or undefined. */
function regionHolding(space: AddressSpace, start: number, end: number): Region | undefined {
  const r = space.regionAt(start);
  if (!r) return undefined;
  // Adjacent regions of one kind and protection count as one mapping (brk and mremap grow by adding them).
  let reach = r.end;
  for (const next of space.regions) if (next.start === reach && next.kind === r.kind && next.prot === r.prot) reach = next.end;
  return reach >= end ? r : undefined;
}

/**
 * mremap: shrinks in place, grows in place when the pages after are free, or (MREMAP_MAYMOVE) moves the mapping
 * where findFree (placement.ts) puts a new one, each page to its linear frame there (a copy of 4 KiB) or, when that is taken, with
 * its frame (no copy). A page kept at the same distance from a window multiple stays linear too, but the part the
 * mapping grows by then wants the places of the mapping that was above it (that is why it had to move): measured,
 * BusyBox sort's translated code left 4.4 M times for pages that were not linear, 5 k with the copies.
 */
function mremap(c: SyscallContext, oldAddress: number, oldLength: number, newLength: number, flags: number, newAddress: number): number {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) return -Errno.EINVAL; // MREMAP_DONTUNMAP is not offered
  if (oldAddress % PAGE || newLength === 0) return -Errno.EINVAL;
  if ((flags & MREMAP_FIXED) && (!(flags & MREMAP_MAYMOVE) || newAddress % PAGE)) return -Errno.EINVAL;
  // "old_size was zero and old_address does not refer to a shareable mapping"
  if (oldLength === 0) return -Errno.EINVAL;
  const space = c.space;
  const oldSize = pageUp(oldLength), newSize = pageUp(newLength);
  if (oldAddress + oldSize > 0x100000000 || newSize > 0xffffffff) return -Errno.EINVAL;
  const region = regionHolding(space, oldAddress, oldAddress + oldSize);
  // "Some address in the range old_address to old_address+old_size is an invalid virtual memory address for this process."
  if (!region || region.kind === "stack") return -Errno.EFAULT;
  const { prot, kind } = region;
  if (!(flags & MREMAP_FIXED)) {
    if (newSize <= oldSize) {
      if (newSize < oldSize) space.removeRange(oldAddress + newSize, oldAddress + oldSize);
      return oldAddress;
    }
    const growStart = oldAddress + oldSize, growEnd = oldAddress + newSize;
    const free = growEnd <= space.mmapTop && !space.regions.some((r) => r.start < growEnd && growStart < r.end);
    if (free) {
      if (commits(prot) && !mayCommit(c, (newSize - oldSize) / PAGE)) return -Errno.ENOMEM;
      if (!mayGrow(c, newSize - oldSize)) return -Errno.ENOMEM;
      space.addRegion({ start: growStart, end: growEnd, prot, kind });
      return oldAddress;
    }
    // "The memory area cannot be expanded at the current virtual address, and the MREMAP_MAYMOVE flag is not set"
    if (!(flags & MREMAP_MAYMOVE)) return -Errno.ENOMEM;
  }
  const kept = Math.min(oldSize, newSize);
  if (commits(prot) && newSize > oldSize && !mayCommit(c, (newSize - oldSize) / PAGE)) return -Errno.ENOMEM;
  if (newSize > oldSize && !mayGrow(c, newSize - oldSize)) return -Errno.ENOMEM;
  let target: number;
  if (flags & MREMAP_FIXED) {
    // "the new address range specified by new_address and new_size overlaps with old_address and old_size": EINVAL
    if (newAddress < oldAddress + oldSize && oldAddress < newAddress + newSize) return -Errno.EINVAL;
    target = newAddress;
    space.removeRange(target, target + newSize);
  } else {
    target = findFree(space, newSize);
    if (target < 0) return -Errno.ENOMEM;
  }
  space.addRegion({ start: target, end: target + newSize, prot, kind: kind === "heap" ? "mmap" : kind });
  space.movePages(oldAddress, target, kept, prot);
  space.removeRange(oldAddress, oldAddress + oldSize);
  return target;
}

/** madvise: MADV_DONTNEED and MADV_FREE give the pages back (they read as zeros next time); other advice is taken and ignored. */
function madvise(c: SyscallContext, addr: number, length: number, advice: number): number {
  if (addr % PAGE) return -Errno.EINVAL; // "addr is not page-aligned"
  const end = addr + pageUp(length);
  for (let va = addr; va < end; va += PAGE) if (!c.space.regionAt(va)) return -Errno.ENOMEM; // "Addresses in the specified range are not currently mapped"
  if (advice === MADV_DONTNEED || advice === MADV_FREE) c.space.discard(addr, end);
  return 0;
}

export const MEMORY_CALLS = new Map<number, [string, Handler]>([
  [214, ["brk", (c, addr) => brk(c, addr)]],
  [222, ["mmap", mmap]],
  [215, ["munmap", (c, addr, length) => {
    if (addr % PAGE || length === 0) return -Errno.EINVAL;
    c.space.removeRange(addr, addr + pageUp(length));
    return 0;
  }]],
  [226, ["mprotect", (c, addr, length, prot) => {
    if (addr % PAGE) return -Errno.EINVAL;
    return c.space.protect(addr, addr + pageUp(length), prot) ? 0 : -Errno.ENOMEM;
  }]],
  [216, ["mremap", mremap]],
  [233, ["madvise", madvise]],
]);
