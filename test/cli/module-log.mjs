// Lists every module a `roam` process loads, for test/cli/startup.test.ts:
// `NODE_OPTIONS="--import <this file>" ROAM_MODULE_LOG=<file> node bin/roam.js ...`
// appends one URL a line to that file. ES modules are not in require.cache, so
// this asks the loader itself: imported with --import, the file registers
// itself as a loader hook (module.register), and in the hooks thread its
// `load` hook notes each URL before loading it as usual. Node's own modules
// that a dependency require()s never reach the hook: at exit the main thread
// adds those it loaded (process.moduleLoadList), as node:NAME lines too, and
// the CommonJS files required (require.cache), as `required URL` lines.

import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";

if (isMainThread) {
  register(import.meta.url);
  process.on("exit", () => {
    const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ") && !m.includes("internal/"));
    appendFileSync(process.env.ROAM_MODULE_LOG, builtins.map((m) => `node:${m.slice("NativeModule ".length)}\n`).join(""));
    // CommonJS files (the launcher's own, a package's) are required without the hook: they are in require.cache.
    const required = Object.keys(createRequire(import.meta.url).cache).map((file) => `required ${pathToFileURL(file).href}`);
    appendFileSync(process.env.ROAM_MODULE_LOG, required.map((line) => line + "\n").join(""));
  });
}

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.ROAM_MODULE_LOG, url + "\n");
  return nextLoad(url, context);
}
