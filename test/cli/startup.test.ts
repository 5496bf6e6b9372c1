import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { REPO, roam, tempDir } from "../e2e/cluster.js";

// Start-up time of `roam run` is mostly Node loading modules (issue 14): a
// local run must load only what it uses. These check what is loaded, not how
// long it takes, so they cannot flake on a loaded machine. Needs `npm run build`.
// bin/roam.js loads the CLI from its bundle (src/launch/bundle-loader.ts), which
// lists each chunk it reads and each module it runs in the same file as the
// loader hook; ROAM_NO_BUNDLE=1 loads the modules themselves, as before.

const HELLO = join(REPO, "guests/bin/process/hello.elf");
const BARE_HELLO = join(REPO, "guests/bin/baremetal/hello.elf");
const MODULE_LOG_HOOK = join(REPO, "test/cli/module-log.mjs");
const scratch = tempDir("startup");
afterAll(() => scratch.remove());

/** Runs `roam ARGS` with the loader hook of module-log.mjs; its result and the URLs of the modules it loaded. */
async function roamListingModules(args: string[], name: string, env: Record<string, string> = {}) {
  const log = join(scratch.path, `${name}.modules`);
  const result = await roam(args, { env: { NODE_OPTIONS: `--import ${MODULE_LOG_HOOK}`, ROAM_MODULE_LOG: log, ...env } });
  const modules = readFileSync(log, "utf8").trimEnd().split("\n");
  return { result, modules };
}

// What only `roam host`, `--on`, migration and checkpoints need (net/remote-error.js: a class the error report knows).
const NOT_FOR_A_LOCAL_RUN = [
  /\/node_modules\/ws\//, /\/node_modules\/msgpackr\//, /^external (ws|msgpackr)$/, // the hook's, or the bundle's (required)
  /\/dist\/src\/(cluster|migration|snapshot|guest)\//, /\/dist\/src\/net\/(?!remote-error\.js$)/,
  // Node's own, as the hook lists them or the bundle requires them. crypto: ~10 ms to load (guests' random bytes come
  // from /dev/urandom). (node:net is not here: a pipe on stdin is a net.Socket in Node.)
  /^(external )?node:(https|tls|zlib|readline|crypto)$/,
  /^external node:net$/, // the kernel requires it only for a guest binding a path-name socket (socket-files.ts)
  /\/dist\/src\/kernel\/strace\.js$/, // only with --strace
];

/** A run's own modules are among those listed (else a check that others are not proves nothing): by the hook, or run from the bundle. */
function expectOwnModules(modules: string[]): void {
  for (const own of ["dist/src/kernel/kernel.js", "dist/src/machine/core.js"]) {
    const url = pathToFileURL(join(REPO, own)).href;
    expect(modules.filter((line) => line === url || line === `module ${url}`)).toHaveLength(1);
  }
}

describe("start-up: what a local run loads", () => {
  test("roam run hello.elf runs the kernel and core, from the bundle's run chunk, and none of the host's, network's or migration's modules", async () => {
    const { result, modules } = await roamListingModules(["run", HELLO], "run");
    expect(result.code, result.describe()).toBe(0);
    expect(result.stdout).toContain("Hello from Roam!");
    expectOwnModules(modules);
    expect(modules.filter((line) => line.startsWith("chunk ")).map((line) => line.split(" ")[1])).toEqual(["run"]);
    // Node's loader (the hook's lines) sees only the launcher, a CommonJS script, which requires the bundle's loader
    // (CommonJS too: Node never sets up its ES module loader for a run); the bundle runs the rest.
    expect(modules.filter((line) => line.startsWith("file:"))).toEqual([pathToFileURL(join(REPO, "bin/roam.js")).href]);
    expect(modules.filter((line) => line.startsWith("required ")).sort())
      .toEqual(["bin/roam.js", "dist/launch/bundle-loader.js", "dist/launch/chunks.js", "dist/launch/code-cache.js", "dist/launch/v8-flags.js"].map((file) => `required ${pathToFileURL(join(REPO, file)).href}`));
    const unneeded = modules.filter((url) => NOT_FOR_A_LOCAL_RUN.some((pattern) => pattern.test(url)));
    expect(unneeded).toEqual([]);
    // Node's modules a run imports load only when used (bundle-loader.ts, lazyNamespace): hello, whose output is a
    // pipe and which never reaches /tmp, needs no terminal, no network, no os. Nor does anything ask the
    // `performance` global (perf_hooks): the run loops' clock is host-clock.ts.
    expect(modules.filter((line) => line.startsWith("external ")).sort()).toEqual(
      ["fs", "path", "url", "util"].map((name) => `external node:${name}`));
    expect(modules).not.toContain("node:perf_hooks");
  }, 60_000);

  test("ROAM_NO_BUNDLE=1: the run loads the modules themselves, and still none it does not need", async () => {
    const { result, modules } = await roamListingModules(["run", HELLO], "run-modules", { ROAM_NO_BUNDLE: "1" });
    expect(result.code, result.describe()).toBe(0);
    expect(result.stdout).toContain("Hello from Roam!");
    expectOwnModules(modules);
    expect(modules.filter((line) => line.startsWith("chunk "))).toEqual([]);
    const unneeded = modules.filter((url) => NOT_FOR_A_LOCAL_RUN.some((pattern) => pattern.test(url)));
    expect(unneeded).toEqual([]);
  }, 60_000);

  test("roam run --on still loads the client (the host's address is checked before any connection)", async () => {
    const { result, modules } = await roamListingModules(["run", "--on", "nowhere", HELLO], "run-on");
    expect(result.code, result.describe()).toBe(2);
    expect(result.stderr).toMatch(/--on nowhere: expected a host's address/);
    expect(modules.some((url) => /\/dist\/src\/cli\/cluster-commands\.js$/.test(url))).toBe(true);
    expect(modules.some((line) => line.startsWith("chunk rest "))).toBe(true);
  }, 60_000);

  test("roam boot hello.elf reads the run and boot chunks, not the rest, and none of the host's, network's or migration's modules", async () => {
    const { result, modules } = await roamListingModules(["boot", BARE_HELLO], "boot");
    expect(result.code, result.describe()).toBe(0);
    expect(result.stdout).toContain("Hello from a bare-metal RISC-V guest!");
    expect(modules.filter((line) => line.startsWith("chunk ")).map((line) => line.split(" ")[1])).toEqual(["run", "boot"]);
    expect(modules).toContain(`module ${pathToFileURL(join(REPO, "dist/src/machine/machine.js")).href}`);
    const unneeded = modules.filter((url) => NOT_FOR_A_LOCAL_RUN.some((pattern) => pattern.test(url)));
    expect(unneeded).toEqual([]);
  }, 60_000);
});
