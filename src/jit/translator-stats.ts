// What the translator did and what it cost the main thread (--stats, bench/lua-exits.ts).

export interface TranslatorStats {
  requests: number;
  translated: number; // regions installed
  declined: number;
  stale: number; // regions compiled but not installed: their page changed (or everything was dropped) meanwhile
  instructions: number; // guest instructions in all translations
  entries: number; // entries marked OP_JIT: heads and return points
  batches: number; // modules compiled
  cachedBatches: number; // of them, read with Turbofan's code from an earlier process (machine/wasm-code-cache.ts)
  recalledBatches: number; // of them, bytes read by their input (jit/batch-key.ts), not emitted: all cachedBatches once a build keeps batches
  largestBatch: number; // regions in the largest
  compileMs: number; // on the main thread: emitMs + moduleMs + instanceMs + marking
  emitMs: number; // writing regions' modules on the main thread
  workerBatches: number; // batches emitted and compiled on the compile worker (compile-worker.ts)
  workerEmitMs: number; // writing their modules there
  moduleMs: number; // new WebAssembly.Module (synchronous compiles only)
  instanceMs: number; // new WebAssembly.Instance
  waitMs: number; // asynchronous compiles: from the start to the module, summed (the guest ran meanwhile)
  flushes: number;
  /** Regions installed before the first instruction from the program's last run (warm-start.ts), and those it had that no longer matched. */
  warmRegions: number;
  warmSkipped: number;
  /** The warm start's main-thread time before the first instruction: reading the record, checking it against the code, installing its batch. */
  warmMs: number;
  /** Instructions translated code had run when the translator went over to full checks (translator.ts watchMisses), or -1. */
  fullChecksAt: number;
  /** Instructions translated code had run when the translator stopped relying on the ABI's sp alignment (watchStackMisses), or -1. */
  anySpAt: number;
}

export function newStats(): TranslatorStats {
  return {
    requests: 0, translated: 0, declined: 0, stale: 0, instructions: 0, entries: 0, batches: 0, cachedBatches: 0, recalledBatches: 0, largestBatch: 0,
    compileMs: 0, emitMs: 0, workerBatches: 0, workerEmitMs: 0, moduleMs: 0, instanceMs: 0, waitMs: 0, flushes: 0, warmRegions: 0, warmSkipped: 0, warmMs: 0,
    fullChecksAt: -1, anySpAt: -1,
  };
}

/**
 * The --stats lines: what the translator did, then (given the run's instructions and those translated code retired,
 * JIT_RETIRED) what share of the run ran translated, the rest interpreted (warming up, waiting for a compile, or
 * code that never gets hot).
 */
export function describeStats(t: TranslatorStats, instret?: number, translatedRetired?: number): string {
  const share = instret && translatedRetired !== undefined
    ? `\ntranslated code ran ${(100 * translatedRetired / instret).toFixed(1)}% of the instructions (${instret - translatedRetired} interpreted)`
    : "";
  return describeWork(t) + share;
}

function describeWork(t: TranslatorStats): string {
  const ms = (v: number) => v.toFixed(1);
  const stale = t.stale > 0 ? `, ${t.stale} stale` : "";
  const declined = t.declined > 0 ? `, ${t.declined} declined` : "";
  const anySp = t.anySpAt >= 0 ? `, no reliance on sp's alignment after ${t.anySpAt} translated instructions` : "";
  const checks = (t.fullChecksAt >= 0 ? `, full TLB checks after ${t.fullChecksAt} translated instructions` : "") + anySp;
  const recalled = t.recalledBatches > t.cachedBatches ? `, ${t.recalledBatches - t.cachedBatches} more emitted earlier` : "";
  const cached = t.recalledBatches + t.cachedBatches > 0 ? ` (${t.cachedBatches} optimised${recalled}, from the code cache)` : "";
  const skipped = t.warmSkipped > 0 ? `; ${t.warmSkipped} of its regions no longer matched` : "";
  const asked = `${t.translated - t.warmRegions} of ${t.requests} requests`;
  const regions = t.warmRegions + t.warmSkipped > 0
    ? `${t.translated}: ${t.warmRegions} from the program's last run, at its start (${ms(t.warmMs)} ms), and ${asked}${skipped}`
    : `${t.translated} of ${t.requests} requests`;
  return `translated regions: ${regions} (${t.instructions} instructions, ${t.batches} modules${cached}${stale}${declined}${checks}; ` +
    `main thread ${ms(t.compileMs)} ms: emit ${ms(t.emitMs)}, compile ${ms(t.moduleMs)}, instantiate ${ms(t.instanceMs)}; ` +
    `background compiles ${ms(t.waitMs)} ms` + (t.workerBatches > 0 ? `, ${t.workerBatches} on the worker, its emit ${ms(t.workerEmitMs)} ms)` : ")");
}
