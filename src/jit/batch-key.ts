// What a batch's module is made from, as bytes: the key under which its emitted bytes are kept across processes
// (machine/wasm-code-cache.ts, cachedBatch), so that a program run again skips the emit of each batch it translated
// before. The emitter's output is a function of its inputs alone (emitBatch: the regions and their table marks, the
// guest RAM's size, the TLB checks, whether exits are counted) and of the emitter itself, named here by the run
// chunk's SHA-256 (launch/chunks.ts): another build never reads this one's bytes. Writing the key costs a few words
// an instruction, where emitting it cost ~4 us an instruction in a fresh process (V8 brings the emitter up through
// its tiers as it runs: docs/SPEED.md) and ~0.6 us warm.
//
// Every field of a Region and of its blocks and entries that the emitter may read is written, in order, each list
// with its length first, so two different inputs never give the same words. A field added to Region, Block, Entry
// or OtherPage must be written here too: test/jit/batch-key.test.ts fails until it is.

import type { Checks } from "./gen-memory.js";
import type { OwnMarks } from "./gen.js";
import { NO_NEXT, type Entry, type OtherPage, type Region } from "./region.js";

/** Bumped when the key's own layout changes. */
const KEY_VERSION = 1;
/** Entry.upper's word when the entry has none (an upper half is 16 bits). */
const NO_UPPER = -1;

/** Words grown as written; one writer reused, as the emitter reuses its own (a batch is written at a time). */
class Words {
  words = new Int32Array(4096);
  length = 0;
  put(value: number): void {
    if (this.length === this.words.length) {
      const grown = new Int32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words[this.length++] = value;
  }
  putAll(values: Int32Array): void {
    while (this.length + values.length > this.words.length) {
      const grown = new Int32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words.set(values, this.length);
    this.length += values.length;
  }
}
const scratch = new Words();

/**
 * The key of a batch of `regions` emitted for `ramBytes` of guest RAM with `checks`, counting exits or not, by the
 * build whose run chunk has SHA-256 `build` (64 hex digits). A fresh copy: it is kept with the module.
 */
export function batchKey(
  regions: ReadonlyArray<{ region: Region; marks: OwnMarks }>, ramBytes: number, checks: Checks, counting: boolean, build: string,
): Uint8Array<ArrayBuffer> {
  const w = header(KEY_VERSION, ramBytes, checks, counting, build);
  w.put(regions.length);
  for (const { region, marks } of regions) {
    w.put(marks.first);
    w.put(marks.count);
    putRegion(w, region);
  }
  return new Uint8Array(w.words.slice(0, w.length).buffer);
}

/** The scratch writer, emptied, with what every key starts with: its kind, the build, the RAM, the checks, counting. */
function header(kind: number, ramBytes: number, checks: Checks, counting: boolean, build: string): Words {
  const w = scratch;
  w.length = 0;
  w.put(kind);
  for (let i = 0; i < build.length; i += 8) w.put(parseInt(build.slice(i, i + 8), 16) | 0);
  w.put(ramBytes | 0);
  w.put(checks === "full" ? 1 : checks === "full-any-sp" ? 2 : 0);
  w.put(counting ? 1 : 0);
  return w;
}

function putRegion(w: Words, region: Region): void {
  w.put(region.head);
  w.put(region.instructions);
  putList(w, region.returnPoints);
  putList(w, region.otherReturnPoints);
  w.put(region.otherPages.length);
  for (const page of region.otherPages) {
    w.put(page.first);
    w.put(page.slot);
    w.put(page.generation);
  }
  // blockAt is the blocks' order (region.ts blockNumbers): written with them.
  w.put(region.blocks.length);
  for (const block of region.blocks) {
    w.put(block.start);
    w.put(block.next === NO_NEXT ? 1 : 0); // NO_NEXT is not an int32
    w.put(block.next === NO_NEXT ? 0 : block.next);
    w.put(block.entries.length);
    for (const entry of block.entries) putEntry(w, entry);
  }
}

function putEntry(w: Words, e: Entry): void {
  w.put(e.index);
  w.put(e.op);
  w.put(e.rd);
  w.put(e.rs1);
  w.put(e.rs2);
  w.put(e.imm);
  w.put(e.length | (e.imm === (e.imm | 0) ? 0 : 0x100)); // an immediate read unsigned keeps apart from its int32
  w.put(e.upper ?? NO_UPPER);
}

function putList(w: Words, values: readonly number[]): void {
  w.put(values.length);
  for (const value of values) w.put(value);
}

/** A warm batch's first word: never a batchKey's KEY_VERSION, so the two kinds of key never meet. */
const WARM_KEY = 0x314d5257; // "WRM1"

/**
 * The key of a warm start's batch (translator.ts warmStart): the record's words (`record`: every region's shape and
 * its entries' decoded words), which of its regions the batch took (their `ordinals`) and, for each, its table marks
 * and the slots its other pages decoded into. Its entries decode to the words the record holds (warmStart checked
 * each), so this is the emitter's whole input, copied from the record rather than written a field at a time.
 */
export function warmBatchKey(
  record: Int32Array, ordinals: readonly number[], regions: ReadonlyArray<{ marks: OwnMarks; otherPages: readonly OtherPage[] }>,
  ramBytes: number, checks: Checks, counting: boolean, build: string,
): Uint8Array<ArrayBuffer> {
  const w = header(WARM_KEY, ramBytes, checks, counting, build);
  w.put(record.length);
  w.putAll(record);
  w.put(regions.length);
  regions.forEach(({ marks, otherPages }, k) => {
    w.put(ordinals[k]);
    w.put(marks.first);
    w.put(marks.count);
    w.put(otherPages.length);
    for (const page of otherPages) { w.put(page.first); w.put(page.slot); w.put(page.generation); }
  });
  return new Uint8Array(w.words.slice(0, w.length).buffer);
}
