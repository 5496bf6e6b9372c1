// The translator's knobs, read from the environment when a Translator is made (translator.ts): when a region is
// hot, when it compiles, whether it takes code from other pages, how its loads and stores check the TLB. Each
// names what it accepts and refuses anything else, so a typo in a variable is an error, not a silent default.

import * as L from "../../assembly/layout.js";
import type { Checks } from "./gen-memory.js";

/**
 * When a hot region is compiled: at the request ("sync"), with what else got hot in the slice at the next slice
 * boundary ("slice"), or in the background, landing at a later boundary ("async"). See the top of translator.ts.
 */
const COMPILE_MODES = ["sync", "slice", "async"] as const;
export type CompileMode = (typeof COMPILE_MODES)[number];

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

/**
 * ROAM_JIT_COMPILE if set ("sync", "slice" or "async"); else "sync" when translation is forced at the first arrival
 * (a test that wants nearly everything translated, deterministically), "slice" otherwise. Measured against "async"
 * (wall time of whole runs, 3 alternating rounds, twice, in both orders): the SQLite test -5%/-1%, Lua's mix -3%/-2%,
 * objects -4%, its string phase -4%, compute -8%/-8%, BusyBox sort -5%/-3%, awk -3%, md5sum -2%. A request waited
 * for its module 17 ms (median; 25 ms while the program warms up, up to 64 ms) in the background, queued behind
 * V8's own optimising compiles on the same threads, and the code that got hot ran interpreted meanwhile.
 */
export function compileMode(threshold: number, env = process.env.ROAM_JIT_COMPILE): CompileMode {
  if (env !== undefined && (COMPILE_MODES as readonly string[]).includes(env)) return env as CompileMode;
  if (env !== undefined && env !== "") throw new Error(`ROAM_JIT_COMPILE must be "sync", "slice" or "async", not "${env}"`);
  return threshold <= 1 ? "sync" : "slice";
}

/**
 * Whether regions take code from other pages (region.ts, OtherPage): unset or 1, they do; ROAM_JIT_OTHER_PAGES=0
 * keeps each to its head's page, every jump to another page a transfer between translations (the tests of chaining
 * use it, and it measures what taking the code saves).
 */
export function otherPagesWanted(env = process.env.ROAM_JIT_OTHER_PAGES): boolean {
  if (env === undefined || env === "" || env === "1") return true;
  if (env === "0") return false;
  throw new Error(`ROAM_JIT_OTHER_PAGES must be 0 or 1, not "${env}"`);
}

/**
 * How translated loads and stores check the TLB at first (gen-memory.ts, Checks): ROAM_JIT_CHECKS "linear" (the
 * default: the translator goes over to full checks when pages that are not linear say so) or "full" (from the start,
 * and always).
 */
export function checksWanted(env = process.env.ROAM_JIT_CHECKS): Checks {
  if (env === undefined || env === "" || env === "linear") return "linear";
  if (env === "full") return "full";
  throw new Error(`ROAM_JIT_CHECKS must be "linear" or "full", not "${env}"`);
}

/**
 * Whether `roam run` starts a program with what its last run translated (warm-start.ts): unset or 1, it does;
 * ROAM_JIT_WARM=0 starts cold every time, as before (it measures what the warm start saves). Never with translation
 * forced at the first arrival (ROAM_JIT_THRESHOLD=0: every region is translated as it is first reached anyway, and
 * tests of that mode want each run's batches the same).
 */
export function warmStartWanted(env = process.env.ROAM_JIT_WARM): boolean {
  if (env === undefined || env === "" || env === "1") return true;
  if (env === "0") return false;
  throw new Error(`ROAM_JIT_WARM must be 0 or 1, not "${env}"`);
}
