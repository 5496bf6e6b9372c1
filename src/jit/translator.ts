// Keeps the translated functions of one core: compiles a hot loop when the core
// asks (EXIT_JIT_REQUEST), installs it in the core's function table and marks
// the loop head's decoded entry OP_JIT. Translations are a cache: they are never
// migrated, and the core drops them with the decoded page they belong to.

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { collectTrace, emitTrace, type DecodedEntry } from "./translate.js";

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
  compileMs: number;
  flushes: number;
}

export class Translator {
  readonly stats: TranslatorStats = { requests: 0, translated: 0, declined: 0, instructions: 0, compileMs: 0, flushes: 0 };
  private readonly firstIndex: number;
  private nextIndex: number;

  constructor(private readonly core: TranslatorCore) {
    this.firstIndex = core.table.length;
    this.nextIndex = this.firstIndex;
  }

  /** Forgets every translation (the core dropped its decoded pages): table slots are reused. */
  reset(): void {
    this.nextIndex = this.firstIndex;
  }

  /** Translates the loop whose head entry is at WASM address `head`. Returns false if it declined. */
  translate(head: number): boolean {
    this.stats.requests++;
    const view = new DataView(this.core.memory.buffer);
    if ((view.getUint32(head, true) & 0xff) === O.OP_JIT) return true;
    const trace = collectTrace((offset) => readEntry(view, head + offset, offset));
    if (trace.length < 2) { this.stats.declined++; return false; }
    if (this.nextIndex >= L.JIT_MAX_FUNCTIONS) {
      // The table is full: drop every decoded page (and with them every OP_JIT entry), then reuse it.
      this.core.flushCaches();
      this.nextIndex = this.firstIndex;
      this.stats.flushes++;
      return false;
    }
    const started = performance.now();
    const module = new WebAssembly.Module(emitTrace(trace));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.core.memory } });
    const index = this.nextIndex++;
    if (index >= this.core.table.length) this.core.table.grow(index + 1 - this.core.table.length);
    this.core.table.set(index, instance.exports.f as (...args: unknown[]) => unknown);
    this.stats.compileMs += performance.now() - started;
    // Keep the replaced entry for the interpreter's slow step, then point the head at the function.
    const slot = L.JIT_ORIGINALS + index * 8; // the core finds it by table index
    const now = new DataView(this.core.memory.buffer);
    now.setUint32(slot, now.getUint32(head, true), true);
    now.setUint32(slot + 4, now.getUint32(head + 4, true), true);
    now.setUint32(head, (now.getUint32(head, true) & ~0xff) | O.OP_JIT, true);
    now.setInt32(head + 4, index, true);
    this.stats.translated++;
    this.stats.instructions += trace.length;
    return true;
  }
}

function readEntry(view: DataView, address: number, offset: number): DecodedEntry {
  let word = view.getUint32(address, true);
  let imm = view.getInt32(address + 4, true);
  if ((word & 0xff) === O.OP_JIT) {
    // Another loop's head inside this one: translate the instruction it replaced.
    const original = L.JIT_ORIGINALS + imm * 8;
    word = view.getUint32(original, true);
    imm = view.getInt32(original + 4, true);
  }
  return {
    offset,
    op: word & 0xff,
    rd: (word >>> 8) & 0xfc,
    rs1: (word >>> 16) & 0xff,
    rs2: word >>> 24,
    imm,
    length: ((word >>> 8) & 3) === 2 ? 4 : 2,
  };
}
