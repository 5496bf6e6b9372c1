#!/usr/bin/env node
import { isatty } from "node:tty";
// Launcher for the compiled CLI (`npm run build` compiles it to dist/): from its bundle, dist/bundle/, when there is
// one (faster to start: src/launch/bundle-loader.ts), else from its modules (ROAM_NO_BUNDLE=1 forces those).
const dist = new URL("../dist/", import.meta.url);
let main;
try {
  const { mainFromBundle } = await import(new URL("src/launch/bundle-loader.js", dist).href);
  main = mainFromBundle(dist) ?? (await import(new URL("src/cli/main.js", dist).href)).main;
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !/dist\/src\/(launch\/bundle-loader|cli\/main)\.js/.test(String(error.message))) throw error;
  process.stderr.write("roam: not built yet: run `npm run build`\n");
  process.exit(1);
}
// Exit explicitly: the guest's stdin listener or a pending timer must not keep
// the process alive once the machine has stopped. Writes to a pipe are
// synchronous only while the pipe has room: with a slow reader the rest waits
// in the stream, and exiting at once lost the end of the guest's output (BusyBox
// sort into a pipe, 2 runs of 40), so wait until stdout and stderr have drained
// (or failed: a reader that went away). A terminal's writes are synchronous, and
// its stream is not touched here (making one at exit upset an attached client's
// terminal now and then).
const code = await main(process.argv.slice(2));
const pending = [[1, "stdout"], [2, "stderr"]].filter(([fd]) => !isatty(fd)).map(([, name]) => process[name])
  .filter((stream) => stream.writableLength > 0 && !stream.destroyed);
if (pending.length > 0) await Promise.all(pending.map(drained)); // else at once, as before: nothing else runs first
process.exit(code);

function drained(stream) {
  return new Promise((resolve) => {
    stream.once("drain", resolve);
    stream.once("error", resolve);
    stream.once("close", resolve);
  });
}
