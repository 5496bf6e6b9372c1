// A program's translations, ready at its first instruction the next time it runs (Android's ART keeps a profile of
// what its JIT compiled the same way). What gets hot first differs from run to run in programs that seed a hash with
// the time (Lua) or read another input, so the batches of one run seldom repeat in the next, byte for byte, and the
// code cache (machine/wasm-code-cache.ts) holds Turbofan's code for batches the next run does not make: every Lua run
// interpreted ~9 M instructions, emitted and compiled ~10 k afresh and ran them in Liftoff's code until Turbofan had
// optimised them on the other CPU. So a run with no record yet keeps the list of the regions it translated (for each,
// its head's virtual address and the entries it took with their decoded words: Translator.recordedRegions), and the
// next run of the same program (the same ELF, arguments and RAM, by the same build) translates those regions
// before the guest's first instruction, as one batch: the same batch every time, so from the third run on its module
// comes from the code cache with Turbofan's code. A region whose code is not at those addresses any more, or
// decodes otherwise (another program, a page the run rewrote), is left out; what the record lacks gets hot and is
// translated as it always was. The record is written once, by a run that found none or found one a quarter of which
// no longer matched, and never grows: a record that changed each run would make a new batch each run.
//
// Like the code cache, a record is never required and never trusted: a missing, damaged or foreign file is ignored
// (its words are checked against the code before anything is translated from them), and only a run of one process
// writes one. Translations are a cache either way: nothing of this reaches a snapshot or a migration.

import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { checksum, wasmCodeCache } from "../machine/wasm-code-cache.js";
import { runChunkHash } from "../launch/chunks.js";
import { writeFileAtomically } from "../launch/code-cache.js";
import type { Translator } from "./translator.js";
import type { WarmRegion } from "./warm-regions.js";
import { NO_NEXT } from "./region.js";
import { warmStartWanted } from "./translator-options.js";
import { nowMs } from "../machine/host-clock.js";

export type { WarmRegion };

/** What a run does with its record at its end: `finish` writes it when this run is the one to (see above). */
export interface WarmStart { finish(processesStarted: number): void }

const MAGIC = 0x31575752; // "RWW1"
/** Bumped when the file's layout or what a region's words mean changes. */
const VERSION = 2;

/**
 * Translates what the last run of this program (`program`'s bytes, `argv`, `ramBytes` of RAM) recorded, before its
 * first instruction, and returns what to do at its end; undefined when there is no code cache to keep records in or
 * the translator is off. `frameOf(pageVA)`: the RAM page the first process's page tables map at `pageVA` for
 * execution (mapping it in), or -1.
 */
export function warmStart(
  translator: Translator | null, program: Uint8Array, argv: readonly string[], ramBytes: number,
  frameOf: (pageVA: number) => number,
): WarmStart | undefined {
  const directory = wasmCodeCache()?.directory;
  const build = runChunkHash();
  if (!translator || translator.mode !== "slice" || !warmStartWanted() || process.env.ROAM_JIT_NAMES === "1") return undefined;
  if (directory === undefined || build === undefined) return undefined;
  const started = nowMs();
  const key = keyOf(build, program, argv, ramBytes);
  const file = join(directory, `${checksum(key).toString(16).padStart(8, "0")}-${key.length}.warm`);
  const recorded = readRecord(file, key);
  translator.recordRegions(); // kept only if this run is the one to write the record (below)
  if (recorded) {
    translator.warmStart(recorded.regions, recorded.words, frameOf);
    translator.stats.warmMs = nowMs() - started;
  }
  const stale = writesAnew(recorded?.regions.length, translator.stats.warmSkipped);
  return {
    finish(processesStarted: number): void {
      if (!stale || processesStarted !== 1) return; // a child's regions may be another program's
      const regions = translator.recordedRegions();
      if (regions.length > 0) writeFileAtomically(directory, file, [encode(key, regions)]);
    },
  };
}

/**
 * Whether a run writes the record at its end: when it found none (`recorded` undefined) or a quarter of the regions
 * of the one it found no longer matched (the program was rebuilt). Not for a few: code a program makes or maps as it
 * runs is never there at the start, and a record written anew each run would make a new batch each run.
 */
export function writesAnew(recorded: number | undefined, skipped: number): boolean {
  return recorded === undefined || skipped * 4 > recorded;
}

/**
 * What a record is kept under: the build, the program (its length and its first and last 4 KiB summed: its headers,
 * and the symbols and section names a build changes), its arguments and RAM. Not its whole bytes: summing the SQLite
 * shell's 954 KB took 7-10 ms in a fresh process (on a loaded machine), and a record that names another build of the
 * program of the same length and ends is safe anyway: each region is checked against the code before it is
 * translated, and a record a quarter of which no longer matches is written anew.
 */
function keyOf(build: string, program: Uint8Array, argv: readonly string[], ramBytes: number): Uint8Array {
  const ends = [checksum(program.subarray(0, 4096)), checksum(program.subarray(Math.max(0, program.length - 4096)))];
  return Buffer.from([build, program.length, ...ends, ramBytes, ...argv].join("\0"), "utf8");
}

/** The file's regions and their words if it is whole and kept under exactly `key`, else undefined. */
function readRecord(file: string, key: Uint8Array): { regions: WarmRegion[]; words: Int32Array } | undefined {
  // Asked first without throwing: most runs find no record (hello's every run), and Node's first ENOENT error takes
  // ~0.25 ms to make where a stat that says "none" takes ~0.04. Any other failure (ENOTDIR: a file where the cache's
  // directory should be; EACCES) means no record too: a cache never changes how a run ends.
  try {
    if (!statSync(file, { throwIfNoEntry: false })) return undefined;
    return decode(readFileSync(file), key);
  } catch {
    return undefined;
  }
}

/** magic, version, key's length, words' checksum, then the key (padded to a word) and the regions' words. */
const HEADER_BYTES = 16;

export function encode(key: Uint8Array, regions: readonly WarmRegion[]): Uint8Array {
  const words: number[] = [regions.length];
  const list = (values: ArrayLike<number>) => { words.push(values.length); for (let i = 0; i < values.length; i++) words.push(values[i]); };
  for (const r of regions) {
    words.push(r.page | 0, r.head);
    list(r.returnPoints);
    list(r.otherReturnPoints);
    list(r.otherPages);
    words.push(r.blocks.length);
    for (const block of r.blocks) {
      words.push(block.start, block.next === NO_NEXT ? 1 : 0, block.next === NO_NEXT ? 0 : block.next);
      list(block.entries);
    }
  }
  const body = new Int32Array(words);
  const keyWords = Math.ceil(key.length / 4) * 4;
  const out = Buffer.alloc(HEADER_BYTES + keyWords + body.byteLength);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(key.length, 8);
  out.writeUInt32LE(checksum(new Uint8Array(body.buffer)), 12);
  out.set(key, HEADER_BYTES);
  out.set(new Uint8Array(body.buffer), HEADER_BYTES + keyWords);
  return out;
}

/** The regions of a record kept under exactly `key`, with the record's words; undefined for a damaged or foreign one. */
export function decode(bytes: Uint8Array, key: Uint8Array): { regions: WarmRegion[]; words: Int32Array } | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length < HEADER_BYTES || buffer.readUInt32LE(0) !== MAGIC || buffer.readUInt32LE(4) !== VERSION) return undefined;
  const keyLength = buffer.readUInt32LE(8);
  const bodyAt = HEADER_BYTES + Math.ceil(keyLength / 4) * 4;
  if (keyLength !== key.length || buffer.length < bodyAt + 4 || (buffer.length - bodyAt) % 4 !== 0) return undefined;
  if (Buffer.compare(buffer.subarray(HEADER_BYTES, HEADER_BYTES + keyLength), key) !== 0) return undefined;
  const words = new Int32Array(buffer.buffer.slice(buffer.byteOffset + bodyAt, buffer.byteOffset + buffer.length));
  if (checksum(new Uint8Array(words.buffer)) !== buffer.readUInt32LE(12)) return undefined;
  try {
    const regions = readRegions(words);
    return regions ? { regions, words } : undefined;
  } catch {
    return undefined; // a length that runs past the end
  }
}

/** The regions in a record's words (decode); throws or returns undefined when they do not add up. */
function readRegions(words: Int32Array): WarmRegion[] | undefined {
  let at = 0;
  const next = () => { if (at >= words.length) throw new RangeError("record ends early"); return words[at++]; };
  const list = () => {
    const length = next();
    if (length < 0 || at + length > words.length) throw new RangeError("record ends early");
    at += length;
    return words.subarray(at - length, at); // a view: an entry's words are read once, where they are
  };
  const regions: WarmRegion[] = [];
  for (let r = next(); r > 0; r--) {
    const page = next() >>> 0, head = next();
    const returnPoints = Array.from(list()), otherReturnPoints = Array.from(list()), otherPages = Array.from(list());
    const blocks: WarmRegion["blocks"] = [];
    for (let b = next(); b > 0; b--) {
      const start = next(), noNext = next(), nextIndex = next();
      const entries = list();
      if (entries.length % 3 !== 0) return undefined;
      blocks.push({ start, next: noNext === 1 ? NO_NEXT : nextIndex, entries });
    }
    regions.push({ page, head, returnPoints, otherReturnPoints, otherPages, blocks });
  }
  return at === words.length ? regions : undefined;
}
