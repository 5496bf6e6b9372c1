// How a host process tunes and watches its JavaScript runtime: bytecode kept
// for code that runs rarely (a migration's freeze), and, with ROAM_TRACE,
// garbage-collection pauses on the migration trace's timeline.

import { constants, PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { trace } from "../migration/trace.js";

/** ROAM_TRACE: garbage-collection pauses, on the same epoch-ms timeline as the migration phases (outliers in downtime). */
export function traceGc(hostName: string): void {
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor", [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental", [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      trace(`[${hostName}] gc ${kinds[kind] ?? kind} ${e.duration.toFixed(2)} ms (at ${(performance.timeOrigin + e.startTime).toFixed(3)})`);
    }
  }).observe({ entryTypes: ["gc"] });
}

/**
 * A host runs for days, and its migration code (freeze, state changes, commit)
 * runs once per move, minutes apart. V8 throws away the bytecode and the type
 * feedback of a function that has not run for a few major collections, and a
 * page stream of 256 MiB causes dozens of those: each freeze then ran cold,
 * recompiled, 3-5x slower (0.1-0.3 ms a step where a warm step takes 0.03; about
 * half of a postcopy resume). The bytecode of a host is a few MB; keep it. A `roam` process has the flag from
 * its start already (src/launch/v8-flags.ts: every roam process runs under the same flags, so that their code caches
 * agree); this is for a host made in a process of another's (an embedding, the tests). Setting it again to the
 * value it has changes nothing V8 hashes.
 */
export function keepCompiledCode(): void {
  setFlagsFromString("--no-flush-bytecode");
}
