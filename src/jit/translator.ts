// Keeps the translated regions of one core: when the core asks (EXIT_JIT_REQUEST:
// a jump target got hot) it discovers the region from that entry
// (region.ts), compiles it (emit.ts), installs its function in the core's table
// (where the fast loop and other translations, chaining, call it alike), and
// marks its entries OP_JIT: the head and the return points, each under its own
// table index (the same function) so that each keeps the entry it replaced at
// JIT_ORIGINALS + index * 8, with the block it enters at. The fast loop and
// other translations enter the function at any marked entry. Translations are a cache: they are never migrated,
// and the core drops them with the decoded page they belong to (a store to the
// page, a flush), since the mark lives in the decoded entry.
//
// By default ("slice") a request only queues the hot entry and the guest goes
// on interpreting to the end of its slice; at a slice boundary, once eight have
// queued or the guest has run 1 M instructions since the first (Gathering), the
// queued regions are emitted together into one module, compiled on the spot (Node 20's
// V8 compiles a wasm function lazily, at its first call, so `new
// WebAssembly.Module` only decodes and validates: 0.1-0.5 ms a module) and
// installed before the next slice runs. "async" compiles the module with
// WebAssembly.compile off the main thread instead (or, with ROAM_JIT_WORKER=1,
// the compile worker emits and compiles it: compile-worker.ts) while more
// requests queue, and the first slice boundary after it is done installs it.
// Whatever the core did to a region's page meanwhile (a store to it, fence.i, a
// flush, the slot given to another page) bumped the page slot's generation
// (SLOT_GENERATION), and a region whose generation moved is not installed; a
// reset (init) or a full table drops every batch in flight (the epoch). "sync"
// compiles at the request, as tests that force translation at the first arrival
// need for a deterministic run.

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { decodedSlot, discoverRegion, readEntry, type Entry, type Region } from "./region.js";
import { STRADDLE_INDEX, straddlingEntry, type StraddleDecoder } from "./straddle.js";
import { emitBatch, regionEntries } from "./emit.js";
import { countingExits, entryMark, type OwnMarks } from "./gen.js";
import type { Checks } from "./gen-memory.js";
import { compileWorker, pollCompileWorker, workerWanted } from "./compile-worker.js";
import { MemoryViews } from "../machine/memory-views.js";
import { describeStats, newStats, type TranslatorStats } from "./translator-stats.js";
import { nowMs } from "../machine/host-clock.js";
import { wasmCodeCache, type CachedBatch } from "../machine/wasm-code-cache.js";
import { runChunkHash } from "../launch/chunks.js";
import { batchKey, warmBatchKey } from "./batch-key.js";
import { checksWanted, compileMode, hotThreshold, otherPagesWanted } from "./translator-options.js";
import { SLOTS_END, hotCounter, otherPagesFrom, pageOfSlot, regionName } from "./decoded-pages.js";
import { prepareRecordCheck, rebuildRegion, recordRegion, type WarmRegion } from "./warm-regions.js";

export { describeStats, type TranslatorStats };

type Exported = (...args: unknown[]) => unknown;

export interface TranslatorCore {
  memory: WebAssembly.Memory;
  table: WebAssembly.Table;
  flushCaches(): void;
  /** A core without it leaves straddling instructions to the interpreter. */
  decodeStraddling?(raw: number): void;
  /** Checks a recorded region against the code, decoding it ahead of its first fetch (warmStart); a core without it starts cold. */
  checkRecorded?(headVA: number, pages: number, blocks: number): number;
}

// A slice boundary compiles what queued in the slice as one batch (in the background, one batch compiles at a time and
// what queues meanwhile goes into the next), up to this many regions; the rest waits for the next boundary. Fewer modules cost less CPU (CPU seconds of the SQLite and Lua runs of bench/lua-exits.ts, on a loaded
// machine: at most 4 a batch 2.34/2.87, 32: 2.01/2.55, no limit: 2.08/2.36, whose largest batch had 104 regions);
// the limit bounds the emit the main thread does at one slice boundary (0.25-1 ms a region here).
const BATCH_REGIONS = 64;

/**
 * A slice compile waits for more: a batch starts once `regions` have queued or the guest has run `instructions` since
 * the first did (counted in guest instructions, not host time, so that what is translated when stays the same from
 * run to run). Each module costs the main thread ~0.5 ms whatever it holds (V8 sets up a code space for it, whose
 * first pages fault in, and instantiates it), and a program warming up asks in a trickle, one or two regions a slice:
 * the SQLite test made 87 modules for 339 regions, 48 now (its translator's main-thread time 84 -> 70 ms), Lua's
 * objects 44 -> 25, compute 13 -> 8. Measured (whole runs, 7-9 alternating rounds; the machine swung by a third, so
 * minimums): the SQLite test -2..-5%, Lua's objects -4%, compute, sort, md5sum and Lua's mix within the noise. Waiting
 * 2 M instructions was worse for compute (+4%: a hot loop's code runs interpreted meanwhile), as was waiting 10 ms or
 * gathering 16 for compute and sort; spacing compiles 5 or 10 ms apart gained less.
 */
export interface Gathering { regions: number; instructions: number }
const BATCH_GATHERING: Gathering = { regions: 8, instructions: 1_000_000 };

/** A region planned for a batch: its decoded page, the generation it was read at, its entries and their table indices. */
interface Planned {
  base: number;
  generation: number;
  region: ReturnType<typeof discoverRegion>;
  entries: number[]; // entry indices to mark, given table indices first, first + 1, ...
  first: number;
  name?: string; // with ROAM_JIT_NAMES=1: the region's name in profiles (regionName)
  /** While recording (warm-start.ts): the virtual page of the head's decoded page then, or -1 if the fetch TLB no longer held it. */
  pageVA?: number;
  /** A warm start's region comes without its blocks' entries: this makes them, before it is emitted or recorded (warm-regions.ts). */
  fill?: () => void;
}

interface Batch { epoch: number; regions: Planned[]; startedAt: number; onWorker: boolean }

/** The end of the table slots any translator has used on a core's table (it grows in steps: see growTo). */
const slotsInUse = new WeakMap<WebAssembly.Table, number>();

export class Translator {
  readonly stats: TranslatorStats = newStats();
  private readonly firstIndex: number;
  private nextIndex: number;
  /** Bumped by a reset or a full table: a batch compiled for an older epoch holds table indices given out again. */
  private epoch = 0;
  /** Hot entries (WASM addresses) waiting for the next batch, with their slot's generation then. */
  private readonly waiting = new Map<number, number>();
  /** Entries a planned region will mark when its batch lands (heads and return points), with their slot's generation. */
  private readonly coming = new Map<number, number>();
  /** Region heads planned since the last reset, with their slot's generation then (see isHeadElsewhere). */
  private readonly heads = new Map<number, { generation: number; instructions: number }>();
  private queue: number[] = [];
  /** The low word of instret when the queue last went from empty to not (a slice compile waits for more: Gathering). */
  private queuedAt = 0;
  /** How a slice compile gathers requests (tests that step slice by slice gather none: { regions: 1, instructions: 0 }). */
  gathering: Gathering = BATCH_GATHERING;
  private inFlight: Batch | null = null;
  private compiled: { batch: Batch; module: WebAssembly.Module } | null = null;
  private failure: unknown = null;
  private compiledListeners: Array<() => void> = [];

  /** Whether background batches may go to the compile worker (ROAM_JIT_WORKER). */
  private readonly useWorker = workerWanted();
  /** Whether modules name their regions' functions by guest pc, for profiles (ROAM_JIT_NAMES=1: regionName). */
  private readonly naming = process.env.ROAM_JIT_NAMES === "1";
  /** Turbofan's code of batches an earlier process compiled and ran, when on (wasm-code-cache.ts). */
  private readonly codeCache = wasmCodeCache();

  private readonly memory: MemoryViews;
  /** The regions installed, in order, while a run is recorded for the next one (warm-start.ts); null when not. */
  private recorded: Planned[] | null = null;

  /** How the loads and stores of the regions emitted from now on check the TLB (gen-memory.ts; see watchNonlinearFills). */
  private checks: Checks = checksWanted();
  /** What watchNonlinearFills and watchStackMisses count: the core's JIT_NONLINEAR_FILLS and JIT_STACK_MISSES. */
  private readonly nonlinearFills = new CountWindow(L.JIT_NONLINEAR_FILLS);
  private readonly stackMisses = new CountWindow(L.JIT_STACK_MISSES);

  constructor(
    private readonly core: TranslatorCore, readonly threshold = hotThreshold(), readonly mode = compileMode(threshold),
    readonly takesOtherPages = otherPagesWanted(),
  ) {
    this.memory = new MemoryViews(core.memory);
    this.firstIndex = slotsInUse.get(core.table) ?? core.table.length; // after an earlier translator's: its marks may live on
    this.nextIndex = this.firstIndex;
    this.applyThreshold();
    this.bytes().fill(0, L.HOT_COUNTERS, L.HOT_COUNTERS + L.HOT_COUNTER_MASK + 1); // no request of ours is pending
  }

  /** The core's RAM, which sets the linear window its regions' loads and stores use (gen-memory.ts). */
  private ramBytes(): number {
    return this.view().getUint32(L.STATE_BASE + L.STATE_RAM_BYTES, true);
  }

  /** Tells the core when a jump target is hot (init() resets it). */
  applyThreshold(): void {
    this.view().setUint8(L.JIT_HOT_AT, this.threshold);
  }

  /** Instructions translated code has retired since the core's init (JIT_RETIRED; no BigInt: every slice boundary asks). */
  translatedRetired(): number {
    const view = this.view();
    return view.getUint32(L.JIT_RETIRED, true) + view.getUint32(L.JIT_RETIRED + 4, true) * 0x1_0000_0000;
  }

  /** Exits from translated code by kind (see Exit in emit.ts), counted only when ROAM_JIT_COUNT_EXITS=1. */
  exitCounts(): number[] {
    const view = this.view();
    return Array.from({ length: L.JIT_EXIT_KINDS }, (_, k) => view.getUint32(L.JIT_EXIT_COUNTS + k * 4, true));
  }

  /** Forgets every translation (the core dropped its decoded pages): table slots are reused, batches in flight dropped. */
  reset(): void {
    if (this.recorded) this.recorded = [];
    this.nextIndex = this.firstIndex;
    this.dropPending();
    this.applyThreshold();
    this.startFillWindow(); // init zeroes JIT_RETIRED
  }

  /** The core asks for the region at the decoded entry `head`: compiled now ("sync") or queued for a batch. */
  request(head: number): void {
    if (this.mode === "sync") { this.translate(head); return; }
    this.stats.requests++;
    if (head < L.DECODE_BASE || head >= SLOTS_END) { this.declineScratch(head); return; }
    const generation = this.generationAt(head);
    // Queued already (asked again after its counter was shared with an entry the core forgot), or an entry of a
    // region compiling: the entry stays pending, settled when that lands.
    if (this.waiting.get(head) === generation || this.coming.get(head) === generation) return;
    this.waiting.set(head, generation);
    if (this.queue.length === 0) this.queuedAt = this.instret();
    this.queue.push(head);
    // The core has left run(): this is a slice boundary too, and an idle background compiler starts at once. A slice
    // compile waits for the slice's end, gathering what else gets hot in it into the same module.
    if (this.mode === "async") this.atSliceBoundary();
  }

  /**
   * Called between slices (nothing of the guest's is on the WASM stack): installs a batch whose compile finished,
   * then starts compiling what queued. A compile that failed (a translator bug) throws here, as it would have at once.
   */
  atSliceBoundary(): void {
    if (this.checks === "linear") this.watchNonlinearFills();
    if (this.checks !== "full-any-sp") this.watchStackMisses();
    if (this.inFlight?.onWorker) pollCompileWorker(); // its answer may be waiting in the port: no event loop turn needed
    if (this.failure !== null) { const e = this.failure; this.failure = null; throw e; }
    if (this.compiled) {
      const { batch, module } = this.compiled;
      this.compiled = null;
      this.install(batch, module);
    }
    if (!this.inFlight && this.queue.length > 0 && this.batchReady()) this.startCompile();
  }

  /** Whether the queued requests go into a module now: at once in the background, after gathering for a slice compile. */
  private batchReady(): boolean {
    const { regions, instructions } = this.gathering;
    return this.mode !== "slice" || this.queue.length >= regions || ((this.instret() - this.queuedAt) >>> 0) >= instructions;
  }

  /** instret's low word (it wraps; only differences are taken). */
  private instret(): number { return this.view().getUint32(L.STATE_BASE + L.STATE_INSTRET, true); }

  /**
   * Under linear checks, goes over to full checks when the core fills TLB entries for pages that are not linear
   * (JIT_NONLINEAR_FILLS: translated code leaves at every access to such a page, and the interpreter fills its entry
   * again each time) more than once in FILL_RATE instructions translated code ran, over at least FILL_WINDOW of them:
   * every translation is dropped (with the decoded pages, as when the table is full) and what gets hot again is
   * translated with full checks, for the rest of the core's life. A process whose pages the kernel could not all
   * place at their linear frames does this (a child writing pages it shared with its parent, a second process with
   * the same layout, a machine with paging), one that keeps to linear pages never.
   */
  private watchNonlinearFills(): void {
    if (!this.nonlinearFills.often(this.view(), this.translatedRetired())) return;
    this.checks = "full";
    this.stats.fullChecksAt = this.translatedRetired();
    this.dropAll();
  }

  /**
   * Stops relying on the ABI's 16-byte sp (gen-memory.ts stackBlock) when the checks that do fail more than once in
   * FILL_RATE instructions translated code ran, over at least FILL_WINDOW / FILL_RATE of them (JIT_STACK_MISSES): a
   * guest whose trap entry leaves sp 8-byte aligned, say, would otherwise run every spill and reload under it in the
   * interpreter. As watchNonlinearFills does, every translation is dropped and what gets hot again is translated with
   * "full-any-sp" checks, for the rest of the core's life. A guest that keeps to the ABI never does this.
   */
  private watchStackMisses(): void {
    if (!this.stackMisses.often(this.view(), this.translatedRetired())) return;
    this.checks = "full-any-sp";
    this.stats.anySpAt = this.translatedRetired();
    this.dropAll();
  }

  /** Starts both watches' windows here. */
  private startFillWindow(): void {
    const view = this.view(), retired = this.translatedRetired();
    this.nonlinearFills.start(view, retired);
    this.stackMisses.start(view, retired);
  }

  /** Drops every translation, with the decoded pages (as when the table is full): what gets hot again is translated afresh. */
  private dropAll(): void {
    this.core.flushCaches();
    this.reset();
    this.stats.flushes++;
  }

  /** Resolves when the batch compiling now (if any) has compiled: the next slice boundary installs it. For tests. */
  whenCompiled(): Promise<void> {
    if (!this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.compiledListeners.push(resolve));
  }

  /**
   * Whether a batch is compiling on this thread's WebAssembly.compile: its promise resolves only when the run loop
   * yields to the event loop, so the loop yields after every slice meanwhile (a batch compiles in 1-3 ms alone;
   * yielding every 8 ms, it landed 22-37 ms later). A batch on the compile worker needs no yield: the next slice
   * boundary reads its answer.
   */
  get compiling(): boolean { return this.inFlight !== null && !this.inFlight.onWorker; }

  /** Whether a batch is compiling or queued: a test waits for it to land. */
  get busy(): boolean { return this.inFlight !== null || this.compiled !== null || this.queue.length > 0; }

  /** Emits, compiles and installs planned regions on this thread, as one module. Returns how many were installed. */
  private compileNow(planned: Planned[], key?: Uint8Array<ArrayBuffer>): number {
    const { batch, bytes, kept, module: cached } = this.emit(planned, key);
    const started = nowMs();
    let module = cached;
    if (!module) {
      module = new WebAssembly.Module(bytes);
      this.codeCache?.compiled(module, bytes, kept);
    }
    this.stats.moduleMs += nowMs() - started;
    this.stats.compileMs += nowMs() - started;
    return this.install(batch, module);
  }

  /** Translates the region from the decoded entry at WASM address `head` now, on this thread. Returns false if it declined. */
  translate(head: number): boolean {
    this.stats.requests++;
    if (head < L.DECODE_BASE || head >= SLOTS_END) { this.declineScratch(head); return false; }
    if (this.isMarked(head)) { this.settle(head); return true; }
    const planned = this.plan(head, this.generationAt(head));
    if (!planned) return false;
    return this.compileNow([planned]) > 0;
  }

  /** Remembers the regions installed from now on, for recordedRegions (warm-start.ts). */
  recordRegions(): void {
    this.recorded ??= [];
  }

  /**
   * The regions installed while recording whose pages' code is what it was then, in the order they were installed, as
   * warmStart takes them in a later run: the head's virtual page, the region's shape, and each entry with its decoded
   * words, what warmStart checks the code against. A region with a straddling instruction is left out (its upper
   * half comes from the interpreter's fetch).
   */
  recordedRegions(): WarmRegion[] {
    const view = this.view();
    const regions: WarmRegion[] = [];
    for (const p of this.recorded ?? []) {
      if (p.pageVA === undefined || p.pageVA < 0 || this.generationAt(p.base) !== p.generation) continue;
      if (p.region.otherPages.some((page) => this.generationAt(page.slot) !== page.generation)) continue;
      p.fill?.();
      const recorded = recordRegion(view, p.region, p.base, p.pageVA);
      if (recorded) regions.push(recorded);
    }
    return regions;
  }

  /**
   * Translates `regions` (recordedRegions of the program's last run, read from the record `record`) before the guest's first instruction, as one module: each region whose entries still decode as
   * they did then at the same virtual addresses, as it was then (no discovery: the same regions make the same
   * module, which the code cache then holds). `frameOf(pageVA)` is the RAM page the page tables map there for
   * execution (mapping it in if need be), or -1. A region whose code moved or changed is left out, to get hot and be
   * translated as usual.
   */
  warmStart(regions: readonly WarmRegion[], record: Int32Array, frameOf: (pageVA: number) => number): void {
    const checkRecorded = this.core.checkRecorded;
    if (!checkRecorded) return;
    const words = new Int32Array(this.memory.buffer, L.HOST_WORDS, L.HOST_WORDS_BYTES / 4);
    prepareRecordCheck(words);
    const core = { words, check: checkRecorded };
    const planned: Planned[] = [];
    const ordinals: number[] = [];
    for (let k = 0; k < regions.length; k++) {
      const found = rebuildRegion(regions[k], frameOf, core, (at) => this.generationAt(at));
      if (!found) { this.stats.warmSkipped++; continue; }
      const head = found.base + found.region.head * 8;
      if (this.isOwnedElsewhere(head, found.generation)) continue; // an entry of a region before it
      const epoch = this.epoch;
      const p = this.assign(found.base, found.generation, found.region, regions[k].page);
      if (this.epoch !== epoch) return; // the table was full: everything was dropped
      if (p) { p.fill = found.fill; planned.push(p); ordinals.push(k); }
    }
    if (planned.length === 0) return;
    const build = runChunkHash();
    const key = this.codeCache && build !== undefined && !this.naming
      ? warmBatchKey(record, ordinals, planned.map((p) => ({ marks: marksOf(p), otherPages: p.region.otherPages })), this.ramBytes(), this.checks, countingExits(), build)
      : undefined;
    this.stats.warmRegions += this.compileNow(planned, key);
  }

  /**
   * Emits the queued regions (up to a batch) into one module and compiles it: here and installs it ("slice"), or in
   * the background: the emit here and the compile off the main thread, or both on the compile worker when it is
   * wanted and ready (the first batch starts it).
   */
  private startCompile(): void {
    const planned: Planned[] = [];
    while (this.queue.length > 0 && planned.length < BATCH_REGIONS) {
      const head = this.queue.shift()!;
      const generation = this.waiting.get(head)!;
      this.waiting.delete(head);
      // Its page changed since (the core forgot its counter then), or another region's entry now or soon (settled
      // when that one lands), or translated meanwhile.
      if (this.generationAt(head) !== generation || this.coming.get(head) === generation) continue;
      if (this.isMarked(head)) { this.settle(head); continue; }
      const epoch = this.epoch;
      const p = this.plan(head, generation);
      if (this.epoch !== epoch) return; // the table was full: everything was dropped
      if (!p) continue;
      planned.push(p);
    }
    if (planned.length === 0) return;
    if (this.mode === "slice") { this.compileNow(planned); return; }
    const worker = this.useWorker ? compileWorker() : null;
    if (worker) {
      const batch = this.newBatch(planned, nowMs(), true);
      this.inFlight = batch;
      this.stats.workerBatches++;
      const regions = planned.map((p) => ({ region: p.region, marks: marksOf(p) }));
      worker.compile(regions, this.ramBytes(), this.checks, countingExits(), this.namesOf(planned), (outcome) => {
        if ("error" in outcome) { this.failed(batch, outcome.error); return; }
        this.stats.workerEmitMs += outcome.emitMs;
        this.compiledNow(batch, outcome.module);
      });
      return;
    }
    const { batch, bytes, kept, module: cached } = this.emit(planned);
    this.inFlight = batch;
    if (cached) { this.compiledNow(batch, cached); return; }
    WebAssembly.compile(bytes).then((module) => {
      this.codeCache?.compiled(module, bytes, kept);
      this.compiledNow(batch, module);
    }, (error: unknown) => this.failed(batch, error));
  }

  /** The batch's module with Turbofan's code from an earlier process, when the cache has these bytes (wasm-code-cache.ts). */
  private cachedModule(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | undefined {
    const module = this.codeCache?.cached(bytes);
    if (module) this.stats.cachedBatches++;
    return module;
  }

  private failed(batch: Batch, error: unknown): void {
    if (this.inFlight === batch) { this.inFlight = null; this.failure = error; }
  }

  private compiledNow(batch: Batch, module: WebAssembly.Module): void {
    if (this.inFlight !== batch) return; // dropped meanwhile (a reset)
    this.inFlight = null;
    this.compiled = { batch, module };
    this.stats.waitMs += nowMs() - batch.startedAt;
    const listeners = this.compiledListeners;
    this.compiledListeners = [];
    for (const resolve of listeners) resolve();
  }

  /** Forgets queued requests and drops the batch compiling or compiled (its table indices will be given out again). */
  private dropPending(): void {
    this.epoch++;
    this.queue = [];
    this.waiting.clear();
    this.coming.clear();
    this.heads.clear();
    this.compiled = null;
    if (this.inFlight) {
      this.inFlight = null;
      const listeners = this.compiledListeners;
      this.compiledListeners = [];
      for (const resolve of listeners) resolve();
    }
  }

  /**
   * Discovers the region from `head` and gives its entries table indices; null if there is nothing to translate or
   * the table is full (then every decoded page is dropped, with every translation, and the table starts over).
   */
  private plan(head: number, generation: number): Planned | null {
    const base = head - ((head - L.DECODE_BASE) % L.DECODE_SLOT_BYTES);
    // Only entries the interpreter has decoded, that is run: a path never taken stays an exit (OP_DECODE), so
    // cold code (error paths, the other side of a one-sided branch) costs no compile time.
    const view = this.view();
    const region = discoverRegion((head - base) / 8, (index) => this.entryAt(view, base, index, generation),
      (index) => this.isHeadElsewhere(base + index * 8, generation), this.takesOtherPages ? otherPagesFrom(view, base) : undefined,
      (index) => this.isOwnedElsewhere(base + index * 8, generation));
    if (region.instructions === 0) { this.decline(head); return null; }
    return this.assign(base, generation, region);
  }

  /**
   * Gives the entries of `region`, from the decoded page at `base` of generation `generation` (mapped at `pageVA`, when
   * the caller knows), their table indices; null if the table is full (then every decoded page is dropped, with every translation, and the table starts over).
   */
  private assign(base: number, generation: number, region: Region, pageVA?: number): Planned | null {
    const view = this.view();
    const head = base + region.head * 8;
    // An entry another region marked already (its head or return point) stays theirs: both run the same code. The
    // others get the next table indices in this order, which the region's code knows (a return to one stays inside).
    const entries = regionEntries(region).filter((index) => index === region.head || !this.isMarked(base + index * 8));
    if (this.nextIndex + entries.length > L.JIT_MAX_FUNCTIONS) {
      this.core.flushCaches();
      this.nextIndex = this.firstIndex;
      this.dropPending();
      this.stats.flushes++;
      return null;
    }
    const first = this.nextIndex;
    this.nextIndex += entries.length;
    slotsInUse.set(this.core.table, Math.max(this.nextIndex, slotsInUse.get(this.core.table) ?? 0));
    for (const index of entries) this.coming.set(base + index * 8, generation);
    this.heads.set(head, { generation, instructions: region.instructions });
    const name = this.naming ? regionName(view, base, region.head) : undefined;
    return { base, generation, region, entries, first, name, pageVA: this.recorded ? pageVA ?? pageOfSlot(view, base) : undefined };
  }

  /**
   * Emits a module of `regions` on this thread, or reads the bytes an earlier process emitted from the same input
   * (wasm-code-cache.ts cachedBatch); `module` when the code cache has Turbofan's code for them. `kept`: the batch's
   * input (batch-key.ts) when the cache keeps batches by it, and whether its bytes came from there. `given`: the
   * batch's key when the caller has it (warmStart's, from its record), else it is made from the regions.
   */
  private emit(regions: Planned[], given?: Uint8Array<ArrayBuffer>): {
    batch: Batch; bytes: Uint8Array<ArrayBuffer>; kept?: { key: Uint8Array<ArrayBuffer>; onDisk: boolean }; module?: WebAssembly.Module;
  } {
    const started = nowMs();
    const marked = regions.map((p) => ({ region: p.region, marks: marksOf(p) }));
    const key = given ?? this.keyOf(marked);
    const keyed = nowMs();
    const found: CachedBatch | undefined = key && this.codeCache!.cachedBatch(key);
    const read = nowMs();
    if (!found) for (const p of regions) p.fill?.();
    const bytes = found?.wire ?? emitBatch(marked, this.ramBytes(), this.checks, this.namesOf(regions));
    const emitted = nowMs();
    // Without a key the cache can still hold Turbofan's code for these bytes (a build run from its modules).
    const module = found?.module ?? (key === undefined ? this.cachedModule(bytes) : undefined);
    const now = nowMs();
    if (found) this.stats.recalledBatches++;
    if (found?.module) this.stats.cachedBatches++;
    this.stats.emitMs += keyed - started + (emitted - read);
    this.stats.moduleMs += read - keyed + (now - emitted); // reading files, V8 taking their code
    this.stats.compileMs += now - started;
    const kept = key === undefined ? undefined : { key, onDisk: found !== undefined };
    return { batch: this.newBatch(regions, now, false), bytes, kept, module };
  }

  /** The batch's input as the code cache keeps it (batch-key.ts), or undefined: no cache, no build name, or names wanted. */
  private keyOf(marked: Array<{ region: Region; marks: OwnMarks }>): Uint8Array<ArrayBuffer> | undefined {
    if (this.codeCache === undefined || this.naming) return undefined;
    const build = runChunkHash();
    return build === undefined ? undefined : batchKey(marked, this.ramBytes(), this.checks, countingExits(), build);
  }

  /** The regions' names for a batch's module when they are wanted (ROAM_JIT_NAMES=1), else none. */
  private namesOf(regions: Planned[]): string[] | undefined {
    return this.naming ? regions.map((p) => p.name!) : undefined;
  }

  private newBatch(regions: Planned[], startedAt: number, onWorker: boolean): Batch {
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, regions.length);
    return { epoch: this.epoch, regions, startedAt, onWorker };
  }

  /**
   * Installs the regions of a compiled batch whose decoded page is still what they were made from (the slot's
   * generation has not moved); the others are stale and dropped. Returns how many were installed.
   */
  private install(batch: Batch, module: WebAssembly.Module): number {
    for (const p of batch.regions) {
      for (const index of p.entries) if (this.coming.get(p.base + index * 8) === p.generation) this.coming.delete(p.base + index * 8);
    }
    const live = batch.epoch === this.epoch ? batch.regions.filter((p) => this.generationAt(p.base) === p.generation) : [];
    this.stats.stale += batch.regions.length - live.length;
    if (live.length === 0) return 0;
    const started = nowMs();
    const instance = new WebAssembly.Instance(module, { env: { memory: this.core.memory, table: this.core.table } });
    this.codeCache?.instantiated(module, instance);
    const instanced = nowMs();
    this.stats.instanceMs += instanced - started;
    const end = Math.max(...live.map((p) => p.first + p.entries.length));
    growTo(this.core.table, end);
    for (const p of live) {
      const k = batch.regions.indexOf(p);
      const g = instance.exports[`g${k}`] as Exported;
      p.entries.forEach((index, i) => {
        const at = p.base + index * 8;
        if (!this.isMarked(at)) this.mark(at, p.first + i, g, p.region.blockAt.get(index)!); // else another batch's now
        this.settle(at); // its head's request, or an entry's that arrived while this compiled
      });
      this.stats.translated++;
      this.stats.instructions += p.region.instructions;
      this.recorded?.push(p);
    }
    this.stats.compileMs += nowMs() - started;
    return live.length;
  }

  /**
   * Points the decoded entry at WASM address `at` to the region's function `g` under table index `index` of the
   * core's table, entering at `block`, keeping the replaced entry.
   */
  private mark(at: number, index: number, g: Exported, block: number): void {
    this.core.table.set(index, g);
    const slot = L.JIT_ORIGINALS + index * 8; // the core's slow step finds it by table index
    const view = this.view();
    view.setUint32(slot, view.getUint32(at, true), true);
    view.setUint32(slot + 4, view.getUint32(at + 4, true), true);
    const [word, imm] = entryMark(block, index);
    view.setUint32(at, word, true);
    view.setInt32(at + 4, imm, true);
    this.stats.entries++;
  }

  /**
   * Ends the request pending at entry `at` (fast.ts becameHot): its hot counter starts again from 0. Once the entry
   * is OP_JIT the core counts it no more, but entries sharing the counter do, and so does whatever later decodes into
   * that slot.
   */
  private settle(at: number): void {
    this.bytes()[hotCounter(at)] = 0;
  }

  /**
   * A region from `head` has nothing to translate. If the head has not been decoded yet (its first arrival, with
   * JIT_HOT_AT = 1, or a counter shared with a hot entry), it asks again 256 arrivals later, as the core did before
   * requests were pending: it will have run by then. Otherwise the head itself can never be translated (a system
   * instruction, a CSR access): it stays pending, never asking again, until the core forgets the slot's counters
   * with its decoded entries (a store to the page, the slot reused, a flush).
   */
  private decline(head: number): void {
    this.stats.declined++;
    if ((this.view().getUint32(head, true) & 0xff) === O.OP_DECODE) this.askAgainLater(head);
  }

  /** The straddle scratch is no slot (no generation, never forgotten): it asks again 256 arrivals later. */
  private declineScratch(head: number): void {
    this.stats.declined++;
    this.askAgainLater(head);
  }

  private askAgainLater(at: number): void {
    this.bytes()[hotCounter(at)] = (this.threshold + 1) & 0xff;
  }

  /** The decoded entry at `index` of the page at `base` (generation `generation`), a straddler built whole. */
  private entryAt(view: DataView, base: number, index: number, generation: number): Entry {
    const e = readEntry(view, base, index, L.JIT_ORIGINALS);
    if (e.op !== O.OP_STRADDLE || index !== STRADDLE_INDEX || !this.core.decodeStraddling) return e;
    return straddlingEntry(view, base, generation, this.core as StraddleDecoder) ?? e;
  }

  private isMarked(at: number): boolean { return (this.view().getUint32(at, true) & 0xff) === O.OP_JIT; }

  /**
   * Whether the entry at `at` (in a slot of generation `generation`) heads a region of SMALL_REGION instructions or
   * more that is translated (still marked) or compiling: a later region's walk stops there and chains to it (see
   * discoverRegion). Before, the SQLite test's regions held each instruction 2.2 times on average (18.7 k
   * instructions, 8.6 k different), Lua's 2.4 times: a loop translated first and then again in the function around
   * it, whose entry got hot later; a function on the same page as its callers in each of theirs. Each copy cost V8
   * a compile and Turbofan an optimisation.
   */
  private isHeadElsewhere(at: number, generation: number): boolean {
    const other = this.heads.get(at);
    if (other === undefined || other.generation !== generation || other.instructions < SMALL_REGION) return false;
    return this.isOwnedElsewhere(at, generation);
  }

  /** Whether the entry at `at` (in a slot of generation `generation`) is marked by a translation, or will be by one planned. */
  private isOwnedElsewhere(at: number, generation: number): boolean {
    return this.isMarked(at) || this.coming.get(at) === generation;
  }

  /** The generation of the decoded slot holding WASM address `at` (see SLOT_GENERATION). */
  private generationAt(at: number): number {
    return this.view().getUint32(L.SLOT_GENERATION + decodedSlot(at) * 4, true);
  }

  private bytes(): Uint8Array { return this.memory.bytes; }
  private view(): DataView { return this.memory.view; }
}

/**
 * A count the core keeps (a u32 at `address`) against the instructions translated code ran since the window's start:
 * `often` says whether it came more than once in FILL_RATE of them, looked at once FILL_WINDOW / FILL_RATE have come
 * (a window past FILL_WINDOW instructions without that starts over). watchNonlinearFills and watchStackMisses each
 * keep one.
 */
class CountWindow {
  private count = 0;
  private retired = 0;
  constructor(private readonly address: number) {}
  start(view: DataView, retired: number): void {
    this.count = view.getUint32(this.address, true);
    this.retired = retired;
  }
  often(view: DataView, retired: number): boolean {
    const count = view.getUint32(this.address, true) - this.count;
    if (count < FILL_WINDOW / FILL_RATE) return false;
    const ran = retired - this.retired;
    if (count * FILL_RATE > ran) return true;
    if (ran >= FILL_WINDOW) this.start(view, retired);
    return false;
  }
}

/**
 * watchNonlinearFills' limits: full checks once the core fills entries for pages that are not linear more than once in
 * FILL_RATE instructions translated code ran, looked at when FILL_WINDOW / FILL_RATE such fills have come. Where
 * every page is linear there are none (all TLB misses of Lua's objects: 1 in 2.8 M instructions; the SQLite test,
 * 1 in 29 k; BusyBox sort, 1 in 130 k). A loop over a page that is not linear has one at every access: 1 in a few.
 */
const FILL_RATE = 1000;
const FILL_WINDOW = 10_000_000;

/**
 * A region this small is translated again inside the regions that reach its head (see isHeadElsewhere): chaining to
 * it would cost a transfer where its code costs little to translate twice (a small function called from its page, a
 * short loop inside a function). Measured against stopping at every head and at none (guest wall time, --stats,
 * alternating, 3 rounds): at none, the SQLite test 1.06 s, Lua's mix 1.55, objects 2.26, compute 0.59; at every
 * head 0.98, 1.68, 2.23, 0.65 (compute's small functions chained); at 30, 40, 50, 60, 90 instructions within
 * the noise of each other, and the best of the three everywhere (50: 0.97, 1.48, 2.17, 0.55; sort 0.62 against 0.70).
 */
const SMALL_REGION = 50;

/** The table indices a planned region's marked entries get (its code knows them: see Gen.ownEntry). */
function marksOf(p: Planned): OwnMarks {
  return { first: p.first, count: p.entries.length };
}

/**
 * Makes `table` hold at least `length` entries, doubling it (up to the most the translator uses): V8 updates every
 * instance that uses a table when it grows, and a grow by one per translation cost 30 ms on a Lua run of 450 entries.
 */
function growTo(table: WebAssembly.Table, length: number): void {
  if (length <= table.length) return;
  table.grow(Math.max(length, Math.min(table.length * 2, L.JIT_MAX_FUNCTIONS)) - table.length);
}
