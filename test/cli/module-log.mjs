// Lists every module a `roam` process loads, for test/cli/startup.test.ts:
// `NODE_OPTIONS="--import <this file>" ROAM_MODULE_LOG=<file> node bin/roam.js ...`
// appends one URL a line to that file. ES modules are not in require.cache, so
// this asks the loader itself: imported with --import, the file registers
// itself as a loader hook (module.register), and in the hooks thread its
// `load` hook notes each URL before loading it as usual. Node's own modules
// that a dependency require()s never reach the hook: at exit the main thread
// adds those it loaded (process.moduleLoadList), as node:NAME lines too.

import { appendFileSync } from "node:fs";
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

if (isMainThread) {
  register(import.meta.url);
  process.on("exit", () => {
    const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ") && !m.includes("internal/"));
    appendFileSync(process.env.ROAM_MODULE_LOG, builtins.map((m) => `node:${m.slice("NativeModule ".length)}\n`).join(""));
  });
}

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.ROAM_MODULE_LOG, url + "\n");
  return nextLoad(url, context);
}
