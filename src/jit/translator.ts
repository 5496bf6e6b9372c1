// Keeps the translated regions of one core: when the core asks (EXIT_JIT_REQUEST:
// a jump target got hot) it discovers the region from that entry
// (region.ts), compiles it (emit.ts), installs its two functions, "f" in the
// core's table (the fast loop's entry) and "g" at the same index of the chain
// table (other translations' entry, registers as parameters), and marks its
// entries OP_JIT: the head and the return points, each under its own table index
// (the same functions) so that each keeps the entry it replaced at JIT_ORIGINALS
// + index * 8, with the block it enters at. The fast loop and other translations
// (chaining) enter the function at any marked entry. Translations are a cache: they are never migrated,
// and the core drops them with the decoded page they belong to (a store to the
// page, a flush), since the mark lives in the decoded entry.

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { discoverRegion, readEntry } from "./region.js";
import { emitRegion, entryMark, regionEntries } from "./emit.js";

type Exported = (...args: unknown[]) => unknown;

export interface TranslatorCore {
  memory: WebAssembly.Memory;
  table: WebAssembly.Table;
  flushCaches(): void;
}

export interface TranslatorStats {
  requests: number;
  translated: number;
  declined: number;
  instructions: number; // guest instructions in all translations
  entries: number; // entries marked OP_JIT: heads and return points
  compileMs: number;
  flushes: number;
}

/**
 * Arrivals at a jump target before it is translated: ROAM_JIT_THRESHOLD if set
 * (0 or 1 = at the first arrival, for tests that force translation), else the
 * core's default.
 */
export function hotThreshold(env = process.env.ROAM_JIT_THRESHOLD): number {
  if (env === undefined || env === "") return L.JIT_THRESHOLD;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`ROAM_JIT_THRESHOLD must be an integer from 0 to 255, not "${env}"`);
  return Math.max(1, n);
}

/** The end of the table slots any translator has used on a core's table (it grows in steps: see growTo). */
const slotsInUse = new WeakMap<WebAssembly.Table, number>();

const SLOTS_END = L.DECODE_BASE + L.DECODE_SLOTS * L.DECODE_SLOT_BYTES;

export class Translator {
  readonly stats: TranslatorStats = { requests: 0, translated: 0, declined: 0, instructions: 0, entries: 0, compileMs: 0, flushes: 0 };
  private readonly firstIndex: number;
  private nextIndex: number;
  /** Each translation's register-passing entry ("g") at the same index as its "f" in the core's table: chained transfers call it. */
  private readonly chain: WebAssembly.Table;

  constructor(private readonly core: TranslatorCore, readonly threshold = hotThreshold()) {
    this.firstIndex = slotsInUse.get(core.table) ?? core.table.length; // after an earlier translator's: its marks may live on
    this.chain = new WebAssembly.Table({ element: "anyfunc", initial: core.table.length });
    this.nextIndex = this.firstIndex;
    this.applyThreshold();
  }

  /** Tells the core when a jump target is hot (init() resets it). */
  applyThreshold(): void {
    new DataView(this.core.memory.buffer).setUint8(L.JIT_HOT_AT, this.threshold);
  }

  /** Exits from translated code by kind (see Exit in emit.ts), counted only when ROAM_JIT_COUNT_EXITS=1. */
  exitCounts(): number[] {
    const view = new DataView(this.core.memory.buffer);
    return Array.from({ length: L.JIT_EXIT_KINDS }, (_, k) => view.getUint32(L.JIT_EXIT_COUNTS + k * 4, true));
  }

  /** Forgets every translation (the core dropped its decoded pages): table slots are reused. */
  reset(): void {
    this.nextIndex = this.firstIndex;
    this.applyThreshold();
  }

  /** Translates the region from the decoded entry at WASM address `head`. Returns false if it declined. */
  translate(head: number): boolean {
    this.stats.requests++;
    if (head < L.DECODE_BASE || head >= SLOTS_END) { this.stats.declined++; return false; } // the straddle scratch
    const base = head - ((head - L.DECODE_BASE) % L.DECODE_SLOT_BYTES);
    if ((new DataView(this.core.memory.buffer).getUint32(head, true) & 0xff) === O.OP_JIT) return true;
    // Only entries the interpreter has decoded, that is run: a path never taken stays an exit (OP_DECODE), so
    // cold code (error paths, the other side of a one-sided branch) costs no compile time.
    const view = new DataView(this.core.memory.buffer);
    const region = discoverRegion((head - base) / 8, (index) => readEntry(view, base, index, L.JIT_ORIGINALS));
    if (region.instructions === 0) { this.stats.declined++; return false; }
    // An entry another region marked already (its head or return point) stays theirs: both run the same code. The
    // others get the next table indices in this order, which the region's code knows (a return to one stays inside).
    const isMarked = (index: number) => (view.getUint32(base + index * 8, true) & 0xff) === O.OP_JIT;
    const entries = regionEntries(region).filter((index) => index === region.head || !isMarked(index));
    if (this.nextIndex + entries.length > L.JIT_MAX_FUNCTIONS) {
      // The table is full: drop every decoded page (and with them every OP_JIT entry), then reuse it.
      this.core.flushCaches();
      this.nextIndex = this.firstIndex;
      this.stats.flushes++;
      return false;
    }
    const started = performance.now();
    const module = new WebAssembly.Module(emitRegion(region, { first: this.nextIndex, count: entries.length }));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.core.memory, chain: this.chain } });
    const f = instance.exports.f as Exported, g = instance.exports.g as Exported;
    this.stats.compileMs += performance.now() - started;
    for (const index of entries) this.mark(base + index * 8, f, g, region.blockAt.get(index)!);
    this.stats.translated++;
    this.stats.instructions += region.instructions;
    return true;
  }

  /**
   * Points the decoded entry at WASM address `at` to `f` (the fast loop's entry) and `g` (the chaining entry)
   * under a new index of the core's table and the chain table, entering at `block`, keeping the replaced entry.
   */
  private mark(at: number, f: Exported, g: Exported, block: number): void {
    const index = this.nextIndex++;
    slotsInUse.set(this.core.table, Math.max(index + 1, slotsInUse.get(this.core.table) ?? 0));
    growTo(this.core.table, index + 1);
    growTo(this.chain, index + 1);
    this.core.table.set(index, f);
    this.chain.set(index, g);
    const slot = L.JIT_ORIGINALS + index * 8; // the core's slow step finds it by table index
    const view = new DataView(this.core.memory.buffer);
    view.setUint32(slot, view.getUint32(at, true), true);
    view.setUint32(slot + 4, view.getUint32(at + 4, true), true);
    const [word, imm] = entryMark(block, index);
    view.setUint32(at, word, true);
    view.setInt32(at + 4, imm, true);
    this.stats.entries++;
  }
}

/**
 * Makes `table` hold at least `length` entries, doubling it (up to the most the translator uses): V8 updates every
 * instance that uses a table when it grows, and a grow by one per translation cost 30 ms on a Lua run of 450 entries.
 */
function growTo(table: WebAssembly.Table, length: number): void {
  if (length <= table.length) return;
  table.grow(Math.max(length, Math.min(table.length * 2, L.JIT_MAX_FUNCTIONS)) - table.length);
}
