// A region as a warm start keeps it (warm-start.ts) and rebuilds it in a later run (Translator.warmStart): its shape
// and its entries' decoded words, and, given back, the same region where the code is now, once every entry there
// decodes to the words recorded. The record holds no decoded entry itself: an entry comes back from the page.

import * as L from "../../assembly/layout.js";
import { BLOCK_ENDS } from "./ops-table.js";
import { NO_NEXT, PAGE_ENTRIES, decodedWords, entryOfWords, otherPageOf, type Block, type OtherPage, type Region } from "./region.js";

/**
 * A region as the next run translates it again: its head's virtual page and entry index, its return points and the
 * first entry indices of the other pages it takes code from (region.ts), and its blocks in order, each entry as
 * three numbers: its index and its two decoded words.
 */
export interface WarmRegion {
  page: number;
  head: number;
  returnPoints: number[];
  otherReturnPoints: number[];
  otherPages: number[];
  blocks: Array<{ start: number; next: number; entries: ArrayLike<number> }>;
}

/**
 * `region`, discovered from the decoded page at WASM address `base` which the fetch TLB mapped at `pageVA`, as a
 * record keeps it; undefined for a region with a straddling instruction (its upper half comes from the interpreter's
 * fetch, which a later run has not made yet).
 */
export function recordRegion(view: DataView, region: Region, base: number, pageVA: number): WarmRegion | undefined {
  if (region.blocks.some((block) => block.entries.some((e) => e.upper !== undefined))) return undefined;
  const blocks = region.blocks.map(({ start, next, entries }) => {
    const words: number[] = [];
    for (const { index } of entries) {
      const page = otherPageOf(region, index);
      const [word, imm] = decodedWords(view, page ? page.slot + (index - page.first) * 8 : base + index * 8, L.JIT_ORIGINALS);
      words.push(index, word | 0, imm);
    }
    return { start, next, entries: words };
  });
  return {
    page: pageVA, head: region.head, returnPoints: region.returnPoints, otherReturnPoints: region.otherReturnPoints,
    otherPages: region.otherPages.map((page) => page.first), blocks,
  };
}

/**
 * The core's check of a recorded region against the code (assembly/index.ts checkRecorded): `words` is the core's
 * memory from HOST_WORDS, where the pages, blocks and entries go; it returns how many entries passed.
 */
export interface RecordCheck { words: Int32Array; check(headVA: number, pages: number, blocks: number): number }

/**
 * A recorded region where its code is now: each entry decoded ahead at its virtual address and checked against the
 * words recorded, and each block's shape against the ops (`core`, in one call, on the RAM pages `frameOf` gives for
 * the head's page and the other pages), its other pages at the decoded slots they are in now (`generationAt`: a
 * slot's generation). Undefined if a page is not mapped for execution there, an entry decodes otherwise, or the shape
 * is not one discovery makes. The region's blocks come without their entries, which only the emitter and a new record
 * read: `fill` makes them (from the record's words, which are the page's), so a batch the code cache holds costs no
 * object per instruction.
 */
export function rebuildRegion(
  recorded: WarmRegion, frameOf: (pageVA: number) => number, core: RecordCheck, generationAt: (at: number) => number,
): { base: number; generation: number; region: Region; fill: () => void } | undefined {
  const instructions = wellFormed(recorded);
  const pages = recorded.otherPages.length + 1, blocks = recorded.blocks.length;
  const words = core.words;
  if (instructions < 0 || WORDS_AT + 2 * pages + 3 * (blocks + instructions) > words.length) return undefined;
  for (let k = 0; k < pages; k++) {
    const first = k === 0 ? 0 : recorded.otherPages[k - 1];
    const frame = frameOf((recorded.page + first * 2) >>> 0);
    if (frame < 0) return undefined;
    words[WORDS_AT + 2 * k] = first;
    words[WORDS_AT + 2 * k + 1] = frame;
  }
  let at = WORDS_AT + 2 * pages;
  for (const { start, next, entries } of recorded.blocks) {
    words[at++] = start;
    words[at++] = entries.length / 3;
    words[at++] = next === NO_NEXT ? L.NO_NEXT_WORD : next;
  }
  for (const { entries } of recorded.blocks) { words.set(entries, at); at += entries.length; }
  if (core.check(recorded.page, pages, blocks) !== instructions) return undefined;
  const base = words[WORDS_AT + 1] >>> 0;
  const otherPages: OtherPage[] = [];
  for (let k = 1; k < pages; k++) {
    const slot = words[WORDS_AT + 2 * k + 1] >>> 0;
    if (slot === base) return undefined;
    otherPages.push({ first: recorded.otherPages[k - 1], slot, generation: generationAt(slot) });
  }
  const blockList: Block[] = [];
  const blockAt = new Map<number, number>();
  for (const { start, next } of recorded.blocks) { blockAt.set(start, blockList.length); blockList.push({ start, next, entries: [] }); }
  const region: Region = {
    head: recorded.head, blocks: blockList, blockAt, instructions,
    returnPoints: recorded.returnPoints, otherReturnPoints: recorded.otherReturnPoints, otherPages,
  };
  const fill = () => {
    recorded.blocks.forEach(({ entries: words }, k) => {
      const entries = blockList[k].entries;
      if (entries.length > 0) return; // filled before
      for (let i = 0; i + 2 < words.length; i += 3) entries.push(entryOfWords(words[i], words[i + 1], words[i + 2]));
    });
  };
  return { base, generation: generationAt(base), region, fill };
}

/** Where the pages, blocks and entries go in the core's words: after how each op ends a block (BLOCK_ENDS, a byte each). */
const WORDS_AT = 256 / 4;

/** Puts BLOCK_ENDS where checkRecorded reads it, before the first region is checked: `words` as RecordCheck's. */
export function prepareRecordCheck(words: Int32Array): void {
  new Uint8Array(words.buffer, words.byteOffset, 256).set(BLOCK_ENDS);
}

/**
 * How many entries a recorded region has if its blocks are ones discovery could have made (region.ts basicBlocks),
 * else -1: each block's first entry its start, no two blocks overlapping (so no entry twice), every entry on the
 * head's page or one of the other pages listed and each of those holding one, the head and return points block starts
 * on the head's page, the other pages' return points block starts on theirs. The core checks the rest as it checks
 * the entries against the code (checkRecorded: each block's entries one after the other, none but its last a jump or
 * branch, its `next` the entry after its last when that one falls through and NO_NEXT when not). The record's checksum
 * catches a damaged file; this keeps a record that is well summed but wrong from making code that goes where the
 * guest's would not. Block by block, in plain loops (no Set, no closure: it runs once a run, as cold code): checked an
 * entry at a time here it cost ~9 ms of the SQLite test's warm start, with Sets and closures per region ~4.5 more.
 */
function wellFormed(recorded: WarmRegion): number {
  const { blocks, otherPages } = recorded;
  let instructions = 0, pagesUsed = 0; // pagesUsed: a bit per page (the head's, then otherPages'), at most 31 of them
  if (otherPages.length > 30) return -1;
  for (let b = 0; b < blocks.length; b++) {
    const { start, entries: words } = blocks[b];
    const last = words.length - 3;
    if (last < 0 || words.length % 3 !== 0 || words[0] !== start) return -1;
    const end = words[last] + (((words[last + 1] >>> 8) & 3) === 2 ? 2 : 1); // 4 or 2 bytes: entries are halfwords
    if (end <= start) return -1;
    for (let page = pageOf(start); page <= pageOf(end - 1); page += PAGE_ENTRIES) {
      const k = page === 0 ? 0 : otherPages.indexOf(page) + 1;
      if (k === 0 && page !== 0) return -1;
      pagesUsed |= 1 << k;
    }
    for (let c = 0; c < b; c++) { // no two blocks overlap: blocks are few (a region has at most 150 entries)
      const other = blocks[c].entries;
      if (start < blockEnd(other) && other[0] < end) return -1;
    }
    instructions += words.length / 3;
  }
  if (pagesUsed !== 2 ** (otherPages.length + 1) - 1) return -1; // each page holds an entry, none listed twice
  if (!onHeadPage(recorded.head) || !isBlockStart(blocks, recorded.head)) return -1;
  for (const p of recorded.returnPoints) if (!onHeadPage(p) || !isBlockStart(blocks, p)) return -1;
  for (const p of recorded.otherReturnPoints) if (onHeadPage(p) || !isBlockStart(blocks, p)) return -1;
  return instructions;
}

/** The first entry index of the page holding entry `index` (relative to the head page's entry 0). */
function pageOf(index: number): number {
  return Math.floor(index / PAGE_ENTRIES) * PAGE_ENTRIES;
}

/** The entry after a block's last, from its words (index, word, immediate for each entry). */
function blockEnd(words: ArrayLike<number>): number {
  const last = words.length - 3;
  return words[last] + (((words[last + 1] >>> 8) & 3) === 2 ? 2 : 1);
}

function onHeadPage(index: number): boolean {
  return index >= 0 && index < PAGE_ENTRIES;
}

/** Whether `index` is a block's first entry. */
function isBlockStart(blocks: WarmRegion["blocks"], index: number): boolean {
  for (let b = 0; b < blocks.length; b++) if (blocks[b].start === index) return true;
  return false;
}
