// V8 flags for a `roam` process, set when the launcher loads (bin/roam.js requires bundle-loader.ts, which sets them
// first): before V8 compiles any WebAssembly, and before a code cache is read or made (V8 rejects a cache made
// under other flags, so every process sets the same ones at the same point). Node's own options (the size of V8's
// thread pool) can only be on Node's command line: bin/roam.js's first lines put them there, and these flags with
// them, so that the command never loads node:v8 (for setFlagsFromString) at all: node:v8 brings node:stream and
// twenty more of Node's modules with it, ~3-4 ms of every run's start. `node bin/roam.js` and anything else that
// loads the launcher without them gets them set here.

import { createRequire } from "node:module";

/**
 * Every flag a `roam` process runs with. bin/roam.js's first lines give Node the same (test/cli/launcher.test.ts
 * checks they agree).
 *
 * - `--wasm-tiering-budget`: Turbofan optimises a region's function once its calls and loop turns have spent this
 *   budget (V8's unit: bytes of function body run; V8's default 1.8 M). Four times the default leaves the lukewarm
 *   regions to Liftoff's code: fewer Turbofan compiles, which on a 2-CPU machine run beside the guest's thread and
 *   take CPU time from it. Whole runs, alternating with the default (5-6 rounds, three sessions): the SQLite test
 *   -4%, -3%, -1.5%, sort -2%, awk -1%; Lua's scripts, compute and md5sum within the noise. Ten times the default
 *   measured as four; lower budgets (60 k, 300 k) were within the noise (docs/SPEED.md).
 * - `--verify-snapshot-checksum`: V8 checks a code cache's contents against its checksum (code-cache.ts); without it
 *   a corrupt cache is accepted, and crashes Node or runs code its source does not have.
 * - `--allow-natives-syntax`: opens V8's intrinsics to src/machine/wasm-code-cache.ts, which writes WebAssembly
 *   modules' optimised code to disk and reads it back in the next process (`%SerializeWasmModule`,
 *   `%DeserializeWasmModule`, `%IsTurboFanFunction`, `%WasmTierUpFunction`; no other code of Roam's uses them).
 * - `--no-flush-bytecode`: what a host needs (src/cluster/host-runtime.ts keepCompiledCode: its migration code runs
 *   minutes apart, and V8 dropped its bytecode in between), given to every `roam` process so that all run under the
 *   same flags: V8 refuses a code cache made under other flags, JavaScript's and WebAssembly's alike, and a host
 *   setting it alone made `roam run` and `roam host` refuse each other's caches and write them again each time.
 * - `--no-wasm-stack-checks`: V8 checks the stack at every WebAssembly function's entry and loop's back edge, and the
 *   check is how it notices a stack overflow and a request to interrupt. Roam's WebAssembly never recurses: the core
 *   has no recursion, the fast loop calls a translation (one frame) and translations go on to each other by tail calls
 *   (`return_call_indirect`), so the depth is two frames, far inside the 984 KB V8 leaves Node's 8 MB main stack; and
 *   every slice returns to JavaScript within ~1 ms, where V8's own checks serve interrupts. Each chained transfer paid a
 *   load and a compare at the next region's entry, and each loop turn another. Whole runs, alternating with the check
 *   (5-7 rounds): the SQLite test -5% (guest time 0.559 -> 0.533 s), Lua's objects -4% (1.609 -> 1.539 s), md5sum
 *   within the noise (docs/SPEED.md).
 * - `--max-semi-space-size=1`: the young generation stays at its first size (two semi-spaces of 1 MB) where V8 grows
 *   it up to 16 MB as survivors come. Most of what Roam allocates dies young (a system call's arguments, a slice's
 *   bookkeeping), and each page the grown young generation touches for the first time costs a page fault (~11 us on
 *   this VM): the SQLite test ~870 faults fewer a run, Lua's objects ~490, md5sum ~530, peak RSS ~2 MB less. Whole
 *   runs, alternating with V8's default (7-11 rounds, medians): the SQLite test -3.4%, md5sum -2.8%, sort -2.4%, awk
 *   and Lua's mix -2.2%, Lua's objects -1.2%, `roam boot` of the compute mix -1.8%, first runs (empty caches) of the
 *   SQLite test and Lua's objects -1.2% and -3.6%; compute +0.9% (noise: it allocates nothing). Only read as the heap
 *   is set up: `node bin/roam.js` gets it from setRoamV8Flags too late to matter, but with the same flag hash.
 */
export const ROAM_V8_FLAGS: readonly string[] = [
  "--wasm-tiering-budget=7200000", "--verify-snapshot-checksum", "--allow-natives-syntax", "--no-flush-bytecode",
  "--no-wasm-stack-checks", "--max-semi-space-size=1",
];

/** The flags of ROAM_V8_FLAGS that Node was not started with. */
function missingV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  return ROAM_V8_FLAGS.filter((flag) => !execArgv.includes(flag));
}

/** Sets the flags Node was not started with (bundle-loader.ts, first thing). */
export function setRoamV8Flags(): void {
  const missing = missingV8Flags();
  if (missing.length === 0) return;
  // Required only here: any absolute path serves createRequire, since only a module of Node's own is asked for.
  const { setFlagsFromString } = createRequire(process.execPath)("node:v8") as typeof import("node:v8");
  setFlagsFromString(missing.join(" "));
}
