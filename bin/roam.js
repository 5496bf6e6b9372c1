#!/usr/bin/env node
// Launcher for the compiled CLI (`npm run build` compiles it to dist/).
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
let main;
try {
  ({ main } = await import(entry.href));
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/src/cli/main.js")) throw error;
  process.stderr.write("roam: not built yet: run `npm run build`\n");
  process.exit(1);
}
// Exit explicitly: the guest's stdin listener or a pending timer must not keep
// the process alive once the machine has stopped. (stdout writes to files,
// pipes and terminals are synchronous on Linux, so nothing is lost.)
process.exit(await main(process.argv.slice(2)));
