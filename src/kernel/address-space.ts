// A process's address space: the regions it may touch, the frames of guest RAM
// that back its pages, and the Sv32 page tables (in guest RAM) that the hart
// walks. The kernel's map (regions + page → frame) is the source of truth and is
// plain data, so it migrates; the page tables are rebuilt from it as pages are
// mapped, and travel anyway as ordinary RAM pages.
//
// Pages of heap, stack and anonymous mappings are allocated on first touch
// (demand paging): the hart's page fault comes to the kernel, which maps a
// zeroed frame and restarts the instruction. Untouched memory costs nothing and
// is never sent when the process migrates.
//
// Frames come from the kernel's Frames (frames.ts), shared by every process. A
// fork gives the child the parent's frames; a frame held more than once is
// mapped read-only with the copy-on-write mark, and the first write to it (by
// the process, or by the kernel on its behalf) copies it.

import { Frames, MissingPage, OutOfMemory, u32Bytes, u32s } from "./frames.js";

export { MissingPage, OutOfMemory } from "./frames.js";

export const PAGE = 4096;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

// Sv32 PTE bits
const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;
/** "The RSW field is reserved for use by supervisor software": ours marks a copy-on-write page. */
const PTE_COW = 1 << 8;

export type RegionKind = "image" | "heap" | "stack" | "mmap" | "vdso";

export interface Region {
  start: number; // page-aligned virtual address
  end: number; // exclusive, page-aligned
  prot: number; // PROT_* bits
  kind: RegionKind;
}

/** What the address space needs from the machine: RAM and a way to drop stale translations. */
export interface PhysicalMemory {
  ram(): Uint8Array; // guest RAM; index 0 = guest physical RAM_GUEST_BASE
  ramGuestBase: number;
  wrote(ramOffset: number, length: number): void; // tell the core the host wrote RAM
  flushTranslations(): void;
  /** Drops the cached translations of `pages` virtual pages from `va` only; without it, flushTranslations. */
  flushTranslationsOf?(va: number, pages: number): void;
  /** Postcopy: whether a RAM page has not arrived yet (the kernel must not touch it until it has). */
  isMissing?(frame: number): boolean;
}

export interface AddressSpaceState {
  schemaVersion: 2; // 1 also had the frame allocator (freeFrames, nextFrame): now the kernel's Frames
  regions: Region[];
  pages: Uint8Array; // u32 pairs (little-endian): virtual page number, RAM frame
  tableFrames: Uint8Array; // u32 pairs: level-1 index, RAM frame of its level-0 table
  rootFrame: number;
  brkStart: number;
  brk: number;
  mmapTop: number;
}

export class AddressSpace {
  regions: Region[] = [];
  private pageMap: Map<number, number> | undefined = new Map(); // vpn -> frame
  // Every change to the map, as (vpn, frame) pairs, frame UNMAPPED for a removal.
  // A snapshot copies it as it is (a freeze must not spend time building the
  // map's list); a restore replays it on first use. It is compacted as it grows.
  private journal = new Uint32Array(2048);
  private journalLength = 0; // u32s used
  private journalCopy: Uint8Array | undefined; // the journal's bytes as state() last gave them, until record() changes it
  private readonly tables = new Map<number, number>(); // level-1 index -> frame of the level-0 table
  /** The RAM offset of each view the last viewsOf made (a scratch list, so that a read(2) makes none). */
  private readonly viewOffsets: number[] = [];
  private readonly memory: PhysicalMemory;
  readonly rootFrame: number;
  brkStart = 0;
  brk = 0;
  mmapTop = 0;
  /** Resident pages in committed regions (see committedPages); undefined until counted (after a restore). */
  private committedResident: number | undefined = 0;

  constructor(private readonly frames: Frames) {
    this.memory = frames.memory;
    this.rootFrame = frames.allocate();
  }

  /** satp for this space: Sv32 mode with the root table's physical page number. */
  get satp(): number {
    return (0x80000000 | ((this.memory.ramGuestBase >>> 12) + this.rootFrame)) >>> 0;
  }

  private get pages(): Map<number, number> {
    if (!this.pageMap) {
      const map = new Map<number, number>();
      const j = this.journal;
      for (let i = 0; i < this.journalLength; i += 2) {
        if (j[i + 1] === UNMAPPED) map.delete(j[i]);
        else map.set(j[i], j[i + 1]);
      }
      this.pageMap = map;
    }
    return this.pageMap;
  }

  private record(vpn: number, frame: number): void {
    this.journalCopy = undefined;
    if (this.journalLength + 2 > this.journal.length) {
      const grown = new Uint32Array(this.journal.length * 2);
      grown.set(this.journal.subarray(0, this.journalLength));
      this.journal = grown;
    }
    this.journal[this.journalLength++] = vpn;
    this.journal[this.journalLength++] = frame;
    // Keep it at most about twice the map: rewrite it from the map when it grows past that.
    if (this.journalLength > 4 * this.pages.size + 4096) {
      this.journalLength = 0;
      for (const [v, f] of this.pages) { this.journal[this.journalLength++] = v; this.journal[this.journalLength++] = f; }
    }
  }

  private setPage(vpn: number, frame: number): void {
    this.pages.set(vpn, frame);
    this.record(vpn, frame);
  }

  private deletePage(vpn: number): void {
    this.pages.delete(vpn);
    this.record(vpn, UNMAPPED);
  }

  get residentPages(): number {
    return this.pages.size;
  }

  // ---- Frames ----------------------------------------------------------------

  private present(frame: number): number {
    return this.frames.present(frame);
  }

  /** A zeroed frame: for virtual page `vpn`, its linear frame if free (see frames.ts); without one, a page table's. */
  private allocateFrame(vpn?: number): number {
    return this.frames.allocate(vpn);
  }

  private readWord(ramOffset: number): number {
    this.present(ramOffset >>> 12);
    return this.words().getUint32(ramOffset, true);
  }

  private writeWord(ramOffset: number, value: number): void {
    this.present(ramOffset >>> 12);
    this.words().setUint32(ramOffset, value >>> 0, true);
    this.memory.wrote(ramOffset, 4);
  }

  /**
   * A view of RAM for page-table words, made again only when the RAM view changes: a write into the guest checks a
   * page-table entry per page (isCopyOnWrite), and a DataView made for each showed in profiles of reads (~1 µs each).
   */
  private words(): DataView {
    const ram = this.memory.ram();
    if (ram !== this.wordsOf) {
      this.wordsOf = ram;
      this.wordView = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    }
    return this.wordView!;
  }
  private wordsOf: Uint8Array | undefined;
  private wordView: DataView | undefined;

  // ---- Commit accounting ----------------------------------------------------------
  //
  // Writable heap and anonymous or private mappings are committed: mmap and brk
  // promise their pages, so they are refused (ENOMEM) when RAM could not hold
  // every page promised and not yet touched, and a program that asks for too
  // much sees malloc return NULL instead of dying at a page fault later. The
  // stack, the program's image and what a fork shares copy-on-write are not
  // committed (Linux overcommits those too); running out there still ends the
  // process with SIGSEGV.

  private static committed(r: Region): boolean {
    return (r.kind === "heap" || r.kind === "mmap") && (r.prot & PROT_WRITE) !== 0;
  }

  /** Pages of committed regions. */
  get committedPages(): number {
    // Indexed loops here and below: mmap and munmap run them over every region, and in the cold code they run in a
    // for-of makes an iterator result per region (a fifth of the SQLite test's 20 MB of garbage was such loops').
    let pages = 0;
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) if (AddressSpace.committed(regions[i])) pages += (regions[i].end - regions[i].start) / PAGE;
    return pages;
  }

  /** Committed pages not yet backed by a frame: what this space may still take from RAM. */
  get untouchedCommitted(): number {
    if (this.committedResident === undefined) this.committedResident = this.countCommittedResident(0, 0x100000000);
    return Math.max(0, this.committedPages - this.committedResident);
  }

  /**
   * Resident pages of committed regions in [start, end): region by region (they never overlap), each overlap's pages
   * looked up, or the resident pages scanned when there are fewer. (Looking each page's region up cost the SQLite
   * test's 336 mmap and munmap calls ~10 ms: a search of the regions per page.)
   */
  private countCommittedResident(start: number, end: number): number {
    let n = 0;
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i];
      if (r.end <= start || r.start >= end || !AddressSpace.committed(r)) continue;
      const from = Math.max(start, r.start), to = Math.min(end, r.end);
      if ((to - from) / PAGE > this.pages.size) {
        for (const vpn of this.pages.keys()) if (vpn * PAGE >= from && vpn * PAGE < to) n++;
      } else {
        for (let va = from; va < to; va += PAGE) if (this.pages.has(va >>> 12)) n++;
      }
    }
    return n;
  }

  private isCommitted(va: number): boolean {
    const r = this.regionAt(va);
    return r !== undefined && AddressSpace.committed(r);
  }

  /** Changes the regions of [start, end) by `change`, keeping the count of committed resident pages right. */
  private recounting(start: number, end: number, change: () => void): void {
    if (this.committedResident === undefined) { change(); return; }
    const before = this.countCommittedResident(start, end);
    change();
    this.committedResident += this.countCommittedResident(start, end) - before;
  }

  // ---- Regions -----------------------------------------------------------------

  /**
   * The region holding `address`. The regions are kept sorted by start and never overlap (addRegion, removeRange and
   * protect keep them so; a snapshot's are checked so), so a binary search: every page fault and every system call
   * that touches guest memory asks, and a program's mappings run to hundreds (a linear search was ~5 ms of BusyBox
   * sort's reads).
   */
  regionAt(address: number): Region | undefined {
    const i = this.firstEndingAfter(address);
    const r = this.regions[i];
    return r !== undefined && r.start <= address ? r : undefined;
  }

  /** The index of the first region that ends after `address` (regions.length if none). */
  private firstEndingAfter(address: number): number {
    const regions = this.regions;
    let low = 0, high = regions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (regions[mid].end <= address) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  addRegion(region: Region): void {
    if (region.start >= region.end || region.start % PAGE || region.end % PAGE) throw new Error(`bad region ${JSON.stringify(region)}`);
    const at = this.firstEndingAfter(region.start);
    if (at < this.regions.length && this.regions[at].start < region.end) throw new Error(`region ${hex(region.start)} overlaps`);
    this.recounting(region.start, region.end, () => this.regions.splice(at, 0, region));
  }

  /** Removes [start, end) from every region, unmapping its pages. */
  removeRange(start: number, end: number): void {
    if (this.committedResident !== undefined) this.committedResident -= this.countCommittedResident(start, end);
    const kept: Region[] = [];
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i];
      if (r.end <= start || r.start >= end) { kept.push(r); continue; }
      if (r.start < start) kept.push({ ...r, end: start });
      if (r.end > end) kept.push({ ...r, start: end });
    }
    this.regions = kept;
    for (let va = start; va < end; va += PAGE) this.unmapPage(va >>> 12);
    this.forget(start, end);
  }

  /** Changes the protection of [start, end), which must be covered by regions. */
  protect(start: number, end: number, prot: number): boolean {
    for (let va = start; va < end; va += PAGE) if (!this.regionAt(va)) return false;
    const updated: Region[] = [];
    for (const r of this.regions) {
      if (r.end <= start || r.start >= end) { updated.push(r); continue; }
      if (r.start < start) updated.push({ ...r, end: start });
      updated.push({ ...r, start: Math.max(r.start, start), end: Math.min(r.end, end), prot });
      if (r.end > end) updated.push({ ...r, start: end });
    }
    this.recounting(start, end, () => { this.regions = updated.sort((a, b) => a.start - b.start); });
    for (let va = start; va < end; va += PAGE) {
      const frame = this.pages.get(va >>> 12);
      if (frame !== undefined) this.writePte(va >>> 12, frame, prot);
    }
    this.forget(start, end);
    return true;
  }

  /**
   * The hart's TLBs forget the pages of [start, end), whose entries just changed; the others stay. (A full flush here
   * cost programs that map and unmap often a TLB miss per page they touched next, and at each miss the interpreter ran
   * on to the next translated entry: the SQLite test's 167 munmaps, Lua's 146.)
   */
  private forget(start: number, end: number): void {
    if (this.memory.flushTranslationsOf) this.memory.flushTranslationsOf(start, Math.ceil((end - start) / PAGE));
    else this.memory.flushTranslations();
  }

  // ---- Pages -------------------------------------------------------------------

  /** Maps a fresh zeroed frame at virtual page `vpn` with the region's protection. */
  mapNew(vpn: number, prot: number): number {
    const frame = this.allocateFrame(vpn);
    if (this.committedResident !== undefined && this.isCommitted(vpn * PAGE)) this.committedResident++;
    this.setPage(vpn, frame);
    this.writePte(vpn, frame, prot);
    return frame;
  }

  private writePte(vpn: number, frame: number, prot: number): void {
    const l1 = vpn >>> 10;
    let table = this.tables.get(l1);
    if (table === undefined) {
      table = this.allocateFrame();
      this.tables.set(l1, table);
      // A pointer PTE: V only.
      this.writeWord(this.rootFrame * PAGE + l1 * 4, (((this.memory.ramGuestBase >>> 12) + table) << 10) | PTE_V);
    }
    // A and D are preset: the hart then never writes PTEs back, so table pages stay clean.
    let bits = PTE_V | PTE_U | PTE_A | PTE_D;
    if (prot & PROT_READ) bits |= PTE_R;
    // W without R is reserved in Sv32. A frame another process holds too is copied on the first write.
    if (prot & PROT_WRITE) bits |= this.frames.holders(frame) > 1 ? PTE_R | PTE_COW : PTE_W | PTE_R;
    if (prot & PROT_EXEC) bits |= PTE_X;
    if (prot === 0) bits = 0; // PROT_NONE: any touch faults
    this.writeWord(table * PAGE + (vpn & 0x3ff) * 4, (((this.memory.ramGuestBase >>> 12) + frame) << 10) | bits);
  }

  private unmapPage(vpn: number): void {
    const frame = this.pages.get(vpn);
    if (frame === undefined) return;
    this.deletePage(vpn);
    const table = this.tables.get(vpn >>> 10)!;
    this.writeWord(table * PAGE + (vpn & 0x3ff) * 4, 0);
    this.frames.release(frame);
  }

  /** The page at `vpn` waits for its first write to be copied (or, held by this space alone now, made writable). */
  private isCopyOnWrite(vpn: number): boolean {
    const table = this.tables.get(vpn >>> 10);
    return table !== undefined && (this.readWord(table * PAGE + (vpn & 0x3ff) * 4) & PTE_COW) !== 0;
  }

  /** A write to a copy-on-write page: this space gets a frame of its own. */
  private breakShare(vpn: number, prot: number): number {
    const frame = this.pages.get(vpn)!;
    let own = frame;
    if (this.frames.holders(frame) > 1) {
      own = this.frames.copy(frame, vpn);
      this.frames.release(frame);
      this.setPage(vpn, own);
    }
    this.writePte(vpn, own, prot);
    this.forget(vpn * PAGE, vpn * PAGE + PAGE);
    return own;
  }

  /**
   * A page fault at `address` for an access with `needed` PROT bits: maps the
   * page if a region allows it (demand paging). False means a real fault (SIGSEGV).
   */
  /** Whether a frame backs the page of `address`. */
  isMapped(address: number): boolean {
    return this.pages.has(address >>> 12);
  }

  handleFault(address: number, needed: number): boolean {
    const region = this.regionAt(address);
    if (!region || (region.prot & needed) !== needed) return false;
    const vpn = address >>> 12;
    if (this.pages.has(vpn)) {
      if (!(needed & PROT_WRITE) || !this.isCopyOnWrite(vpn)) return false; // mapped yet faulting: a permission problem
      this.breakShare(vpn, region.prot);
      return true;
    }
    this.mapNew(vpn, region.prot);
    return true;
  }

  /**
   * RAM offset of the byte at virtual `address` for a kernel access on the
   * process's behalf, mapping demand pages; -1 when the process could not touch
   * it either (the syscall then fails with EFAULT).
   */
  ramOffset(address: number, needed: number): number {
    if (address < 0 || address > 0xffffffff) return -1;
    const region = this.regionAt(address);
    if (!region || (region.prot & needed) !== needed) return -1;
    const vpn = address >>> 12;
    let frame = this.pages.get(vpn) ?? this.mapNew(vpn, region.prot);
    if ((needed & PROT_WRITE) && this.isCopyOnWrite(vpn)) frame = this.breakShare(vpn, region.prot);
    return this.present(frame) * PAGE + (address & 0xfff);
  }

  /**
   * Checks that every byte of [address, address+length) may be accessed with
   * `needed` (mapping demand pages, and — postcopy — insisting the pages are
   * here), so a system call can fail or wait before it has any side effect.
   */
  ensure(address: number, length: number, needed: number): boolean {
    if (length <= 0) return true;
    for (let page = address & ~0xfff; page < address + length; page += PAGE) {
      if (this.ramOffset(Math.max(page, address), needed) < 0) return false;
    }
    return true;
  }

  /**
   * Lets the host write into [address, address + length) in place (read(2) into the guest's buffer): `fill` gets
   * the guest RAM behind it, a view per run of adjacent frames (see viewsOf), and returns how many bytes it wrote
   * from the first on; those are marked written (dirty, and decoded code dropped) as write() marks them. Null, and
   * `fill` not called, if any page is not writable: shares are broken and pages made present first, so nothing is
   * done when it fails. It spares a copy through a host buffer and the page walks of write() (a 4 KiB read was ~1 µs
   * of copying and walking).
   */
  fillInPlace<T>(address: number, length: number, fill: (views: Uint8Array[], target: T, which: number) => number, target: T, which: number): number | null {
    // `target` and `which` (a descriptor table and a descriptor) are passed on: a read(2) makes no closure (cat: 9.7 k).
    const views = this.viewsOf(address, length, PROT_WRITE);
    if (!views) return null;
    // Kept before `fill` runs, which could use this address space's views too: one view (nearly always) in a local.
    const first = this.viewOffsets[0];
    const offsets = views.length === 1 ? undefined : this.viewOffsets.slice(0, views.length);
    const wrote = fill(views, target, which);
    for (let i = 0, left = wrote; i < views.length && left > 0; i++) {
      const chunk = Math.min(left, views[i].length);
      this.memory.wrote(offsets === undefined ? first : offsets[i], chunk);
      left -= chunk;
    }
    return wrote;
  }

  /**
   * Lets the host read [address, address + length) in place (write(2) of the guest's buffer to a file): `use` gets
   * the guest RAM behind it, a view per run of adjacent frames (see viewsOf), valid only during the call. Null, and
   * `use` not called, if any page is not readable.
   */
  useInPlace<T>(address: number, length: number, use: (views: Uint8Array[], target: T, which: number) => number, target: T, which: number): number | null {
    const views = this.viewsOf(address, length, PROT_READ);
    return views ? use(views, target, which) : null; // `which`: a descriptor, or a console stream
  }

  /**
   * The guest RAM behind [address, address + length) (and each view's RAM offset in `offsets`); null if a page lacks
   * `needed`. Pages whose frames follow each other in RAM share a view: a process's pages sit at their linear frames
   * (frames.ts), so a buffer across a page boundary is usually one view, read or written with one read(2) where two
   * views took a readv(2) (~0.2 us more on the host), a second view and a second `wrote`.
   */
  private viewsOf(address: number, length: number, needed: number): Uint8Array[] | null {
    // One pass, a view per run as it ends: every read(2) of a file comes here (BusyBox md5sum: 9.7 k), and the lists
    // of starts and ends, their spread and map were ~9 ms of its profile. Each view's RAM offset goes to viewOffsets.
    const ram = this.memory.ram();
    const views: Uint8Array[] = [];
    const offsets = this.viewOffsets;
    let runStart = -1, runEnd = -1;
    for (let done = 0; done < length;) {
      const offset = this.ramOffset(address + done, needed);
      if (offset < 0) return null;
      const chunk = Math.min(length - done, PAGE - ((address + done) & 0xfff));
      if (offset !== runEnd) {
        if (runStart >= 0) { offsets[views.length] = runStart; views.push(ram.subarray(runStart, runEnd)); }
        runStart = offset;
        runEnd = offset;
      }
      runEnd += chunk;
      done += chunk;
    }
    if (runStart >= 0) { offsets[views.length] = runStart; views.push(ram.subarray(runStart, runEnd)); }
    return views;
  }

  /** Copies `length` bytes of the process's memory out; null if any byte is not readable. */
  read(address: number, length: number): Uint8Array | null {
    // Every byte is copied over, so no zeroing: V8 made a zeroed 64 KiB array and 16 copies into it 7x slower.
    // Not pooled: callers read it through `out.buffer` from offset 0.
    const out: Uint8Array = Buffer.allocUnsafeSlow(length);
    const ram = this.memory.ram(); // one view for the whole copy (RAM never moves once the core is made)
    let done = 0;
    while (done < length) {
      const offset = this.ramOffset(address + done, PROT_READ);
      if (offset < 0) return null;
      const chunk = Math.min(length - done, PAGE - ((address + done) & 0xfff));
      out.set(ram.subarray(offset, offset + chunk), done);
      done += chunk;
    }
    return out;
  }

  /**
   * Copies `into.length` bytes of the process's memory at `address` into `into`, which the caller owns (a pipe's
   * buffer): no array is made. False if a byte is not readable (`into` may then hold part of them).
   */
  copyOut(address: number, into: Uint8Array): boolean {
    const ram = this.memory.ram();
    for (let done = 0; done < into.length;) {
      const offset = this.ramOffset(address + done, PROT_READ);
      if (offset < 0) return false;
      const chunk = Math.min(into.length - done, PAGE - ((address + done) & 0xfff));
      into.set(ram.subarray(offset, offset + chunk), done);
      done += chunk;
    }
    return true;
  }

  /** Copies bytes into the process's memory; false if any byte is not writable (nothing is written then). */
  write(address: number, bytes: Uint8Array): boolean {
    for (let done = 0; done < bytes.length; done += PAGE - ((address + done) & 0xfff)) {
      if (this.ramOffset(address + done, PROT_WRITE) < 0) return false;
    }
    if (bytes.length && this.ramOffset(address + bytes.length - 1, PROT_WRITE) < 0) return false;
    const ram = this.memory.ram();
    let done = 0;
    while (done < bytes.length) {
      const offset = this.ramOffset(address + done, PROT_WRITE);
      const chunk = Math.min(bytes.length - done, PAGE - ((address + done) & 0xfff));
      ram.set(bytes.subarray(done, done + chunk), offset);
      this.memory.wrote(offset, chunk);
      done += chunk;
    }
    return true;
  }

  /** The aligned 32-bit word at `address` (a futex, a thread ID the kernel keeps); null if it is not readable. */
  readU32(address: number): number | null {
    const offset = this.ramOffset(address, PROT_READ);
    if (offset < 0 || (address & 3) !== 0) return null;
    const ram = this.memory.ram();
    return (ram[offset] | (ram[offset + 1] << 8) | (ram[offset + 2] << 16) | (ram[offset + 3] << 24)) >>> 0;
  }

  /** Writes the aligned 32-bit word at `address`; false if it is not writable. */
  writeU32(address: number, value: number): boolean {
    if ((address & 3) !== 0) return false;
    return this.write(address, new Uint8Array(Uint32Array.of(value >>> 0).buffer));
  }

  /** Loads image bytes at `address` regardless of protection (the loader). */
  loadImage(address: number, bytes: Uint8Array, prot: number): void {
    let done = 0;
    while (done < bytes.length) {
      const va = address + done;
      const vpn = va >>> 12;
      const frame = this.pages.get(vpn) ?? this.mapNew(vpn, prot);
      const chunk = Math.min(bytes.length - done, PAGE - (va & 0xfff));
      this.memory.ram().set(bytes.subarray(done, done + chunk), frame * PAGE + (va & 0xfff));
      this.memory.wrote(frame * PAGE + (va & 0xfff), chunk);
      done += chunk;
    }
  }

  /** Reads a NUL-terminated string of at most `max` bytes; null on a bad pointer or no terminator. */
  readString(address: number, max = 4096): string | null {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const offset = this.ramOffset(address + i, PROT_READ);
      if (offset < 0) return null;
      const b = this.memory.ram()[offset];
      if (b === 0) return Buffer.from(bytes).toString("utf8");
      bytes.push(b);
    }
    return null;
  }

  /** madvise(MADV_DONTNEED): the pages of [start, end) go back to RAM; the region stays, and reads zeros when touched again. */
  discard(start: number, end: number): void {
    if (this.committedResident !== undefined) this.committedResident -= this.countCommittedResident(start, end);
    for (let va = start; va < end; va += PAGE) this.unmapPage(va >>> 12);
    this.forget(start, end);
  }

  /** The frames of RAM every address space takes from (what commit accounting compares with). */
  get allocator(): Frames {
    return this.frames;
  }

  /**
   * mremap: the pages of [from, from + length) move to `to` (a range already in a region of the same protection),
   * frames and all — nothing is copied, but for a page whose frame is not its linear one at `to` when that one is
   * free (and the page not shared, and here): it is copied there, so that translated code reaches it from its
   * address alone (frames.ts, src/jit/gen-memory.ts). mremap keeps pages at their linear places when it can.
   */
  movePages(from: number, to: number, length: number, prot: number): void {
    for (let offset = 0; offset < length; offset += PAGE) {
      const vpn = (from + offset) >>> 12;
      let frame = this.pages.get(vpn);
      if (frame === undefined) continue;
      this.deletePage(vpn);
      this.writeWord(this.tables.get(vpn >>> 10)! * PAGE + (vpn & 0x3ff) * 4, 0);
      const target = (to + offset) >>> 12;
      if (this.frames.mayMoveToLinear(frame, target)) {
        const linear = this.frames.copy(frame, target);
        this.frames.release(frame);
        frame = linear;
      }
      this.setPage(target, frame);
      this.writePte(target, frame, prot);
    }
    this.forget(from, from + length);
    this.forget(to, to + length);
  }

  // ---- Processes -------------------------------------------------------------------

  /** fork: a new space with the same regions and pages, every writable page now copy-on-write in both. */
  fork(): AddressSpace {
    // Postcopy: every page and table must be here before anything changes (MissingPage then leaves no half-made child).
    this.present(this.rootFrame);
    for (const table of this.tables.values()) this.present(table);
    for (const frame of this.pages.values()) this.present(frame);
    const child = new AddressSpace(this.frames);
    child.regions = this.regions.map((r) => ({ ...r }));
    child.brkStart = this.brkStart;
    child.brk = this.brk;
    child.mmapTop = this.mmapTop;
    child.committedResident = this.committedResident;
    for (const [vpn, frame] of this.pages) {
      const region = this.regionAt(vpn * PAGE);
      const prot = region?.prot ?? 0;
      this.frames.retain(frame);
      child.setPage(vpn, frame);
      child.writePte(vpn, frame, prot);
      if (prot & PROT_WRITE) this.writePte(vpn, frame, prot); // now held twice: read-only, marked
    }
    this.memory.flushTranslations();
    return child;
  }

  /** Every mapped page: (virtual page number, frame). */
  mappedPages(): Array<[number, number]> {
    return [...this.pages];
  }

  /** exec or exit: every frame of this space goes back (shared ones to their other holders). */
  release(): void {
    for (const frame of this.pages.values()) this.frames.release(frame);
    this.pageMap = new Map();
    this.journalLength = 0;
    this.journalCopy = undefined;
    for (const table of this.tables.values()) this.frames.release(table);
    this.tables.clear();
    this.frames.release(this.rootFrame);
    this.regions = [];
    this.committedResident = 0;
  }

  // ---- Migration -------------------------------------------------------------------

  state(): AddressSpaceState {
    return {
      schemaVersion: 2,
      regions: this.regions.map((r) => ({ ...r })),
      // Unchanged since the last state(): the same bytes object, so a migration's
      // final state sees "no change" without copying or comparing ~0.5 MB (256 MiB guest).
      pages: (this.journalCopy ??= u32Bytes(this.journal.subarray(0, this.journalLength))),
      tableFrames: pairsBytes(this.tables),
      rootFrame: this.rootFrame,
      brkStart: this.brkStart,
      brk: this.brk,
      mmapTop: this.mmapTop,
    };
  }

  /** Restores the map; the RAM (page tables included) arrives separately. */
  static restore(frames: Frames, s: AddressSpaceState): AddressSpace {
    if (s.schemaVersion !== 2) throw new Error(`address space: unknown schema version ${s.schemaVersion}`);
    const space = Object.create(AddressSpace.prototype) as AddressSpace;
    const tables = u32s(s.tableFrames);
    Object.assign(space, {
      frames, memory: frames.memory, regions: s.regions.map((r) => ({ ...r })), pageMap: undefined, journal: journalOf(s.pages),
      journalLength: s.pages.length / 4,
      tables: new Map(Array.from({ length: tables.length / 2 }, (_, i) => [tables[2 * i], tables[2 * i + 1]])),
      rootFrame: s.rootFrame, brkStart: s.brkStart, brk: s.brk, mmapTop: s.mmapTop,
      committedResident: undefined, // counted when first asked for
      viewOffsets: [],
    });
    // The page map now, not at the first system call that touches guest memory: a migration restores a space from
    // its prestate while the guest still runs at the source, and an update in place keeps it (4096 pages: ~1-5 ms cold).
    void space.pages;
    return space;
  }
}

const UNMAPPED = 0xffffffff;

/** A restored journal with room to grow (one copy of the bytes). */
function journalOf(bytes: Uint8Array): Uint32Array {
  if (!(bytes instanceof Uint8Array) || bytes.length % 8) throw new Error("address space: the page journal is not whole u32 pairs");
  const journal = new Uint32Array(Math.max(2048, bytes.length / 2));
  new Uint8Array(journal.buffer).set(bytes);
  return journal;
}

function pairsBytes(map: Map<number, number>): Uint8Array {
  const out = new Uint32Array(map.size * 2);
  let i = 0;
  for (const [k, v] of map) { out[i++] = k; out[i++] = v; }
  return new Uint8Array(out.buffer);
}


export function hex(v: number): string {
  return "0x" + (v >>> 0).toString(16);
}

export const pageUp = (v: number) => Math.ceil(v / PAGE) * PAGE;
export const pageDown = (v: number) => Math.floor(v / PAGE) * PAGE;
