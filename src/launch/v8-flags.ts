// V8 flags for a `roam` process, set when the launcher loads (bin/roam.js requires bundle-loader.ts, which imports
// this first): before V8 compiles any WebAssembly, and before a code cache is read or made (V8 rejects a cache made
// under other flags, so every process sets the same ones at the same point). Node's own options (the size of V8's
// thread pool) can only be on Node's command line: bin/roam.js's first line puts them there.

import { setFlagsFromString } from "node:v8";

// Turbofan optimises a region's function once its calls and loop turns have spent this budget (V8's unit: bytes of
// function body run; V8's default 1.8 M). Four times the default leaves the lukewarm regions to Liftoff's code: fewer
// Turbofan compiles, which on a 2-CPU machine run up to four at once beside the guest's thread and take CPU time from
// it. Whole runs, alternating with the default (5-6 rounds, three sessions): the SQLite test -4%, -3%, -1.5%, sort
// -2%, awk -1%; Lua's scripts, compute and md5sum within the noise. Ten times the default measured as four; lower
// budgets (60 k, 300 k) were within the noise (docs/ARCHITECTURE.md).
setFlagsFromString("--wasm-tiering-budget=7200000");
