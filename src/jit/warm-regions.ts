// A region as a warm start keeps it (warm-start.ts) and rebuilds it in a later run (Translator.warmStart): its shape
// and its entries' decoded words, and, given back, the same region where the code is now, once every entry there
// decodes to the words recorded. The record holds no decoded entry itself: an entry comes back from the page.

import * as L from "../../assembly/layout.js";
import { endsBlock, fallsThrough } from "./ops-table.js";
import { NO_NEXT, PAGE_ENTRIES, decodedWords, entryOfWords, otherPageOf, type Block, type Entry, type OtherPage, type Region } from "./region.js";

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
 * A recorded region where its code is now: each entry decoded ahead at its virtual address (`decodeAhead(va, page)`,
 * the core's, on the RAM page `frameOf` gives: its decoded entry's WASM address) and checked against the words
 * recorded, its other pages at the decoded slots they are in now (`generationAt`: a slot's generation). Undefined if a
 * page is not mapped for execution there, an entry decodes otherwise, or the shape is not one discovery makes. The
 * region's blocks come without their entries, which only the emitter and a new record read: `fill` makes them (from
 * the record's words, which are the page's), so a batch the code cache holds costs no object per instruction.
 */
export function rebuildRegion(
  view: DataView, recorded: WarmRegion, frameOf: (pageVA: number) => number, decodeAhead: (va: number, page: number) => number,
  generationAt: (at: number) => number,
): { base: number; generation: number; region: Region; fill: () => void } | undefined {
  const bases = new Map<number, number>(); // a page's first entry index (OtherPage.first; 0: the head's) -> its slot's entry 0
  let instructions = 0;
  let lastPage = -1, lastFrame = -1; // the page of the entry before, and its RAM page: entries come page by page
  for (const { entries: words } of recorded.blocks) {
    for (let i = 0; i + 2 < words.length; i += 3) {
      const index = words[i];
      const va = (recorded.page + index * 2) >>> 0;
      const pageVA = (va & 0xfffff000) >>> 0;
      if (pageVA !== lastPage) { lastPage = pageVA; lastFrame = frameOf(pageVA); }
      if (lastFrame < 0) return undefined;
      const at = decodeAhead(va, lastFrame);
      const [word, imm] = decodedWords(view, at, L.JIT_ORIGINALS);
      if ((word | 0) !== words[i + 1] || imm !== words[i + 2]) return undefined;
      const first = Math.floor(index / PAGE_ENTRIES) * PAGE_ENTRIES;
      if (!bases.has(first)) bases.set(first, at - (index - first) * 8);
      instructions++;
    }
  }
  const base = bases.get(0);
  if (base === undefined || !wellFormed(recorded)) return undefined;
  const otherPages: OtherPage[] = [];
  for (const first of recorded.otherPages) {
    const slot = bases.get(first);
    if (slot === undefined || slot === base) return undefined;
    otherPages.push({ first, slot, generation: generationAt(slot) });
  }
  const blocks: Block[] = recorded.blocks.map(({ start, next }) => ({ start, next, entries: [] }));
  const region: Region = {
    head: recorded.head, blocks, blockAt: new Map(blocks.map((block, k) => [block.start, k])), instructions,
    returnPoints: recorded.returnPoints, otherReturnPoints: recorded.otherReturnPoints, otherPages,
  };
  const fill = () => {
    recorded.blocks.forEach(({ entries: words }, k) => {
      const entries = blocks[k].entries;
      if (entries.length > 0) return; // filled before
      for (let i = 0; i + 2 < words.length; i += 3) entries.push(entryOfWords(words[i], words[i + 1], words[i + 2]));
    });
  };
  return { base, generation: generationAt(base), region, fill };
}

/**
 * Whether a recorded region is one discovery could have made from its entries (region.ts basicBlocks): each block's
 * entries one after the other, none but its last a jump or branch, its `next` the entry after its last when that one
 * falls through and NO_NEXT when not, no entry twice, every entry on the head's page or one of the other pages
 * listed, the head and return points block starts on the head's page, the other pages' return points block starts
 * on theirs. The record's checksum catches a damaged file; this keeps a record that is well summed but wrong from
 * making code that goes where the guest's would not. (Its words are the page's: rebuildRegion checked each.)
 */
function wellFormed(recorded: WarmRegion): boolean {
  const pages = new Set([0, ...recorded.otherPages]);
  const starts = new Set<number>();
  const seen = new Set<number>();
  for (const { start, next, entries: words } of recorded.blocks) {
    if (words.length === 0 || words[0] !== start || starts.has(start)) return false;
    starts.add(start);
    for (let i = 0; i + 2 < words.length; i += 3) {
      const index = words[i], op = words[i + 1] & 0xff;
      if (seen.has(index) || !pages.has(Math.floor(index / PAGE_ENTRIES) * PAGE_ENTRIES)) return false;
      seen.add(index);
      const after = index + (((words[i + 1] >>> 8) & 3) === 2 ? 2 : 1); // 4 or 2 bytes: entries are halfwords
      const last = i + 3 >= words.length;
      if (last ? next !== (fallsThrough(op) ? after : NO_NEXT) : words[i + 3] !== after || endsBlock(op)) return false;
    }
  }
  const onHeadPage = (index: number) => index >= 0 && index < PAGE_ENTRIES;
  return onHeadPage(recorded.head) && starts.has(recorded.head) &&
    recorded.returnPoints.every((p) => onHeadPage(p) && starts.has(p)) &&
    recorded.otherReturnPoints.every((p) => !onHeadPage(p) && starts.has(p));
}
