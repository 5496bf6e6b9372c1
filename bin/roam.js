#!/bin/sh
':' //; unset ROAM_NODE_EXTRA_CA_CERTS; [ -z "${NODE_EXTRA_CA_CERTS+set}" ] || export ROAM_NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"
':' //; unset NODE_EXTRA_CA_CERTS; exec node --v8-pool-size=0 "$0" "$@"
// Run as a command (`roam`, `bin/roam.js`), the two lines above are sh's: they start Node as Roam wants it started;
// Node reads each as a string and a comment. `--v8-pool-size=0` gives V8 one background thread per CPU besides the
// main one (Node's default is four): V8 runs Turbofan's compiles of the translated regions there, up to one a module
// at once, and on a 2-CPU machine four of them took the guest's CPU away. NODE_EXTRA_CA_CERTS is moved aside because
// Node reads and parses that file as it starts (~50 ms for a system bundle), though most runs open no TLS connection:
// it is put back below, and src/net/tls.ts adds its certificates to a connection that verifies against the default
// CAs (docs/ARCHITECTURE.md, "How Node is started"). `node bin/roam.js` runs the same CLI with Node's defaults.
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
