#!/usr/bin/env node
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
// the process alive once the machine has stopped. (stdout writes to files,
// pipes and terminals are synchronous on Linux, so nothing is lost.)
process.exit(await main(process.argv.slice(2)));
