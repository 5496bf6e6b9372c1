import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { checksum, wasmCodeCache } from "../../src/machine/wasm-code-cache.js";
import { REPO, ROAM, elfPath, tempDir } from "../e2e/cluster.js";

// Turbofan's code kept across processes (src/machine/wasm-code-cache.ts). V8's intrinsics it uses need
// --allow-natives-syntax, which the vitest workers lack: each case runs its processes as `roam` runs, with the flag,
// each with a cache directory of its own (XDG_CACHE_HOME). Whether V8 has optimised a function by some moment is
// up to its background thread, so the cases make it so: `%WasmTierUpFunction` optimises one on the spot, and
// `--no-liftoff` has V8 compile every function with Turbofan at its first call. Needs `npm run build` (dist/).

const CACHE = pathToFileURL(join(REPO, "dist/src/machine/wasm-code-cache.js")).href;
const scratch = tempDir("wasm-cache");
afterAll(() => scratch.remove());

// A module of two functions, a(x) = x + 1 and b(x) = x + 2, both exported.
const MODULE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 3, 2, 0, 0, 7, 9, 2, 1, 97, 0, 0, 1, 98, 0, 1,
  10, 17, 2, 7, 0, 32, 0, 65, 1, 106, 11, 7, 0, 32, 0, 65, 2, 106, 11];

/**
 * Runs, in a process of its own with V8's intrinsics open, a script that takes the module through the cache, calls
 * both functions, optimises `a` when `optimise`, and prints what it saw. A Node that aborts prints nothing.
 */
function useModule(home: string, optimise: boolean, env: Record<string, string> = {}, intrinsics = true): { code: number | null; seen: Record<string, unknown>; stderr: string } {
  const script = `
    const { wasmCodeCache } = await import(${JSON.stringify(CACHE)});
    const cache = wasmCodeCache();
    if (!cache) { console.log(JSON.stringify({ off: true })); process.exit(0); }
    const intrinsic = (name, fn) => new Function("fn", "return %" + name + "(fn)")(fn);
    const module = cache.compile(new Uint8Array(${JSON.stringify(MODULE)}));
    const instance = new WebAssembly.Instance(module);
    cache.instantiated(module, instance);
    const sums = [instance.exports.a(40), instance.exports.b(40)];
    const optimisedAtStart = intrinsic("IsTurboFanFunction", instance.exports.a);
    if (${optimise}) intrinsic("WasmTierUpFunction", instance.exports.a);
    const b = intrinsic("IsTurboFanFunction", instance.exports.b);
    console.log(JSON.stringify({ hits: cache.hits, misses: cache.misses, sums, optimisedAtStart, b }));`;
  const flags = intrinsics ? ["--allow-natives-syntax"] : [];
  const ran = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
    env: { ...process.env, XDG_CACHE_HOME: home, ...env }, encoding: "utf8",
  });
  return { code: ran.status, seen: ran.stdout.trim() === "" ? {} : JSON.parse(ran.stdout) as Record<string, unknown>, stderr: ran.stderr };
}

function cacheFiles(home: string): string[] {
  const root = join(home, "roam-vm");
  const directory = readdirSync(root).find((name) => name.startsWith("wasm-code-"));
  return directory === undefined ? [] : readdirSync(join(root, directory)).map((name) => join(root, directory, name));
}

describe("the WebAssembly code cache", () => {
  test("is off without V8's intrinsics (Node started without --allow-natives-syntax, as these workers are)", () => {
    expect(useModule(join(scratch.path, "no-intrinsics"), false, {}, false).seen).toEqual({ off: true });
    if (!process.execArgv.includes("--allow-natives-syntax")) expect(wasmCodeCache()).toBeUndefined();
  });

  test("a module Turbofan optimised is written at exit and read back, optimised, by the next process", () => {
    const home = join(scratch.path, "round-trip");
    const first = useModule(home, true);
    expect(first.code, first.stderr).toBe(0);
    expect(first.seen).toMatchObject({ hits: 0, misses: 1, sums: [41, 42], optimisedAtStart: false });
    expect(cacheFiles(home)).toHaveLength(1);
    const second = useModule(home, false);
    expect(second.code, second.stderr).toBe(0);
    // `a` runs Turbofan's code from its first call; `b`, never optimised, was compiled as usual.
    expect(second.seen).toMatchObject({ hits: 1, misses: 0, sums: [41, 42], optimisedAtStart: true, b: false });
  });

  test("a module with nothing optimised is not written (V8 would abort the process serialising it)", () => {
    const home = join(scratch.path, "nothing-optimised");
    const ran = useModule(home, false);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.seen).toMatchObject({ hits: 0, misses: 1, sums: [41, 42] });
    expect(() => cacheFiles(home)).toThrow(); // not even the directory
  });

  test("damaged data or other bytes under the module's name: compiled afresh, never handed to V8", () => {
    const home = join(scratch.path, "damaged");
    expect(useModule(home, true).code).toBe(0);
    const [file] = cacheFiles(home);
    const good = readFileSync(file);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 9] ^= 0x40; // a bit of V8's data (machine code): the checksum finds it
    writeFileSync(file, damaged);
    const afterDamage = useModule(home, false);
    expect(afterDamage.code, afterDamage.stderr).toBe(0);
    expect(afterDamage.seen).toMatchObject({ hits: 0, misses: 1, sums: [41, 42], optimisedAtStart: false });
    const otherBytes = Buffer.from(good);
    otherBytes[20 + MODULE.length - 2] = 3; // the stored module's `b` adds 3: not the bytes asked for
    writeFileSync(file, otherBytes);
    expect(useModule(home, false).seen).toMatchObject({ hits: 0, misses: 1, sums: [41, 42] });
    writeFileSync(file, good.subarray(0, good.length - 100)); // cut short
    expect(useModule(home, false).seen).toMatchObject({ hits: 0, misses: 1, sums: [41, 42] });
    writeFileSync(file, good); // and whole again: read
    expect(useModule(home, false).seen).toMatchObject({ hits: 1, misses: 0, sums: [41, 42], optimisedAtStart: true });
  });

  test("ROAM_CODE_CACHE=0 turns it off", () => {
    expect(useModule(join(scratch.path, "off"), true, { ROAM_CODE_CACHE: "0" }).seen).toEqual({ off: true });
  });

  test("a program run again starts with its translated batches and the core optimised, and runs as before", () => {
    // Translation forced at every first arrival (compiled at once, the same batches each run) and Turbofan only.
    const home = join(scratch.path, "program");
    const run = () => spawnSync(process.execPath, ["--no-liftoff", ROAM, "run", "--stats", elfPath("hello"), "again"], {
      env: { ...process.env, XDG_CACHE_HOME: home, ROAM_JIT_THRESHOLD: "0" }, encoding: "utf8",
    });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const batches = Number(/(\d+) modules/.exec(first.stderr)?.[1]);
    expect(batches).toBeGreaterThan(10);
    expect(first.stderr).not.toMatch(/from the code cache/);
    expect(cacheFiles(home).length).toBeGreaterThan(batches / 2); // every batch that ran, and the core
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stdout).toContain("argv[1] = again");
    expect(second.stderr).toMatch(new RegExp(`${batches} modules \\(${batches} optimised, from the code cache\\)`));
    expect(/instructions retired: (\d+)/.exec(second.stderr)?.[1]).toBe(/instructions retired: (\d+)/.exec(first.stderr)?.[1]);
  });
});

describe("checksum", () => {
  test("one changed bit anywhere changes it; aligned or not, the same bytes give the same sum", () => {
    const bytes = new Uint8Array(1027).map((_, i) => (i * 37) & 0xff);
    const sum = checksum(bytes);
    for (const at of [0, 1, 513, 1024, 1026]) {
      for (const bit of [0, 7]) {
        const changed = bytes.slice();
        changed[at] ^= 1 << bit;
        expect(checksum(changed)).not.toBe(sum);
      }
    }
    const unaligned = new Uint8Array(bytes.length + 1);
    unaligned.set(bytes, 1);
    expect(checksum(unaligned.subarray(1))).toBe(sum);
  });
});
