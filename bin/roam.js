#!/bin/sh
':' //; unset ROAM_NODE_EXTRA_CA_CERTS; [ -z "${NODE_EXTRA_CA_CERTS+set}" ] || export ROAM_NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"
':' //; export ROAM_GLIBC_TUNABLES="${GLIBC_TUNABLES-}"; export GLIBC_TUNABLES="glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"
':' //; unset NODE_EXTRA_CA_CERTS; exec node --v8-pool-size=0 --wasm-tiering-budget=7200000 --verify-snapshot-checksum --allow-natives-syntax --no-flush-bytecode --no-wasm-stack-checks --max-semi-space-size=1 "$0" "$@"
// Run as a command (`roam`, `bin/roam.js`), the three lines above are sh's: they start Node as Roam wants it
// started; Node reads each as a string and a comment. `--v8-pool-size=0` gives V8 one background thread per CPU
// besides the main one (Node's default is four): V8 runs Turbofan's compiles of the translated regions there, up to
// one a module at once, and on a 2-CPU machine four of them took the guest's CPU away. The V8 flags are
// src/launch/v8-flags.ts's, given here so that the command need not load node:v8 to set them. NODE_EXTRA_CA_CERTS is
// moved aside because Node reads and parses that file as it starts (~50 ms for a system bundle), though most runs
// open no TLS connection: it is put back below, and src/net/tls.ts adds its certificates to a connection that
// verifies against the default CAs. GLIBC_TUNABLES has glibc's malloc serve blocks of up to 32 MiB from its heap and
// keep what is freed, where by default it maps each block over 128 KiB afresh and unmaps it when freed, and each page
// of a fresh mapping costs a page fault when first touched (Turbofan's zones, a file read whole, a chunk's text: the
// SQLite test ~2,700 fewer faults, -4% of its time); a tunable the user set comes after ours and wins, and theirs is
// put back below, for the guest and anything Roam starts (docs/ARCHITECTURE.md, "How Node is started"). `node
// bin/roam.js` runs the same CLI with Node's defaults (and v8-flags.ts setting its V8 flags).
//
// Launcher for the compiled CLI (`npm run build` compiles it to dist/): from its bundle, dist/bundle/, when there is
// one (faster to start: src/launch/bundle-loader.ts), else from its modules (ROAM_NO_BUNDLE=1 forces those).
// CommonJS (bin/package.json), as is the bundle's loader it requires (dist/launch/, tsconfig.launch.json): an ES
// module entry makes Node set up its ES module loader first, ~10 ms of `roam run hello`'s start.
"use strict";
// The environment as the user gave it, for the guest and for anything Roam starts (see the top of this file).
if (process.env.ROAM_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.ROAM_NODE_EXTRA_CA_CERTS;
  delete process.env.ROAM_NODE_EXTRA_CA_CERTS;
}
if (process.env.ROAM_GLIBC_TUNABLES !== undefined) { // glibc read ours as Node started; the user's (if any) from now on
  if (process.env.ROAM_GLIBC_TUNABLES === "") delete process.env.GLIBC_TUNABLES;
  else process.env.GLIBC_TUNABLES = process.env.ROAM_GLIBC_TUNABLES;
  delete process.env.ROAM_GLIBC_TUNABLES;
}
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const dist = pathToFileURL(join(__dirname, "..", "dist") + "/");

function notBuilt() {
  process.stderr.write("roam: not built yet: run `npm run build`\n");
  process.exit(1);
}

async function findMain() {
  let loader;
  try {
    loader = require("../dist/launch/bundle-loader.js");
  } catch (error) {
    if (error?.code !== "MODULE_NOT_FOUND" || !String(error.message).includes("dist/launch/bundle-loader.js")) throw error;
    notBuilt();
  }
  const fromBundle = loader.mainFromBundle(dist);
  if (fromBundle) return fromBundle;
  try {
    return (await import(new URL("src/cli/main.js", dist).href)).main;
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !/dist\/src\/cli\/main\.js/.test(String(error.message))) throw error;
    notBuilt();
  }
}

// Exit explicitly: the guest's stdin listener or a pending timer must not keep
// the process alive once the machine has stopped. (stdout writes to files,
// pipes and terminals are synchronous on Linux, so nothing is lost.)
findMain().then((main) => main(process.argv.slice(2))).then((code) => process.exit(code), (error) => {
  process.exitCode = 1;
  throw error;
});
