import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { checksum, MAX_FILES, PRUNED_TO, wasmCodeCache } from "../../src/machine/wasm-code-cache.js";
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

/**
 * As useModule, for a translated batch kept by its key (cachedBatch): the bytes come from the cache when a file holds
 * the key, else from the script (as the emitter's); prints where they came from and whether V8's code came too.
 */
function useBatch(home: string, optimise: boolean, key = [1, 2, 3, 4]): { code: number | null; seen: Record<string, unknown>; stderr: string } {
  const script = `
    const { wasmCodeCache } = await import(${JSON.stringify(CACHE)});
    const cache = wasmCodeCache();
    const intrinsic = (name, fn) => new Function("fn", "return %" + name + "(fn)")(fn);
    const key = new Uint8Array(new Int32Array(${JSON.stringify(key)}).buffer);
    const found = cache.cachedBatch(key);
    let module = found?.module;
    if (!module) {
      const wire = found?.wire ?? new Uint8Array(${JSON.stringify(MODULE)});
      module = new WebAssembly.Module(wire);
      cache.compiled(module, wire, { key, onDisk: found !== undefined });
    }
    const instance = new WebAssembly.Instance(module);
    cache.instantiated(module, instance);
    const sums = [instance.exports.a(40), instance.exports.b(40)];
    const optimisedAtStart = intrinsic("IsTurboFanFunction", instance.exports.a);
    if (${optimise}) intrinsic("WasmTierUpFunction", instance.exports.a);
    console.log(JSON.stringify({ bytes: found ? "cache" : "emitted", code: found?.module ? "cache" : "compiled", recalled: cache.recalled, sums, optimisedAtStart }));`;
  const ran = spawnSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", script], {
    env: { ...process.env, XDG_CACHE_HOME: home }, encoding: "utf8",
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

  test("a batch is kept by its key: its bytes even when nothing was optimised, then V8's code once something was", () => {
    const home = join(scratch.path, "batch");
    const first = useBatch(home, false);
    expect(first.code, first.stderr).toBe(0);
    expect(first.seen).toMatchObject({ bytes: "emitted", code: "compiled", recalled: 0, sums: [41, 42] });
    expect(cacheFiles(home).map((path) => path.endsWith(".wasm-batch"))).toEqual([true]); // written for its bytes alone
    const second = useBatch(home, true);
    expect(second.seen).toMatchObject({ bytes: "cache", code: "compiled", recalled: 1, sums: [41, 42], optimisedAtStart: false });
    const third = useBatch(home, false);
    expect(third.seen).toMatchObject({ bytes: "cache", code: "cache", recalled: 1, sums: [41, 42], optimisedAtStart: true });
    expect(useBatch(home, false, [1, 2, 3, 5]).seen).toMatchObject({ bytes: "emitted", code: "compiled", recalled: 0 }); // another key
  });

  test("a batch's file with damaged bytes, damaged code or another key is not used; damaged code alone leaves the bytes", () => {
    const home = join(scratch.path, "batch-damaged");
    expect(useBatch(home, true).code).toBe(0);
    expect(useBatch(home, false).seen).toMatchObject({ bytes: "cache", code: "cache" });
    const [file] = cacheFiles(home);
    const good = readFileSync(file);
    const wireAt = 28 + 16; // the header, the key's four words
    const damagedBytes = Buffer.from(good);
    damagedBytes[wireAt + MODULE.length - 2] = 3; // `b` would add 3: the bytes' checksum finds it
    writeFileSync(file, damagedBytes);
    expect(useBatch(home, false).seen).toMatchObject({ bytes: "emitted", code: "compiled", recalled: 0, sums: [41, 42] });
    const damagedCode = Buffer.from(good);
    damagedCode[damagedCode.length - 9] ^= 0x40; // V8's data: its checksum finds it, the bytes are still good
    writeFileSync(file, damagedCode);
    expect(useBatch(home, false).seen).toMatchObject({ bytes: "cache", code: "compiled", sums: [41, 42], optimisedAtStart: false });
    const otherKey = Buffer.from(good);
    otherKey.writeInt32LE(9, 28); // the file's name says key 1, 2, 3, 4; it holds 9, 2, 3, 4
    writeFileSync(file, otherKey);
    expect(useBatch(home, false).seen).toMatchObject({ bytes: "emitted", code: "compiled", recalled: 0 });
    writeFileSync(file, good.subarray(0, good.length - 1)); // cut short
    expect(useBatch(home, false).seen).toMatchObject({ bytes: "emitted", code: "compiled", recalled: 0 });
  });

  test("past MAX_FILES the oldest files go until PRUNED_TO are left, so the next exits that write find no pruning to do", () => {
    const home = join(scratch.path, "full");
    expect(useBatch(home, false, [9]).code).toBe(0); // makes the directory, with one file
    const [own] = cacheFiles(home);
    const directory = join(own, "..");
    // Older files than the one written, oldest first: the directory one over its limit with the next write.
    const day = 24 * 3600;
    for (let i = 0; i < MAX_FILES - 1; i++) {
      const path = join(directory, `old-${String(i).padStart(4, "0")}.wasm-batch`);
      writeFileSync(path, "x");
      utimesSync(path, Date.now() / 1000 - 2 * day + i, Date.now() / 1000 - 2 * day + i);
    }
    utimesSync(own, Date.now() / 1000 - day, Date.now() / 1000 - day);
    expect(cacheFiles(home)).toHaveLength(MAX_FILES);
    expect(useBatch(home, false, [10]).code).toBe(0); // one more: MAX_FILES + 1, pruned
    const kept = cacheFiles(home).map((path) => path.slice(directory.length + 1)).sort();
    expect(kept).toHaveLength(PRUNED_TO);
    expect(kept).toContain(own.slice(directory.length + 1)); // the newest stay: the two batches and the youngest old ones
    expect(kept.filter((name) => name.startsWith("old-"))).toEqual(
      Array.from({ length: PRUNED_TO - 2 }, (_, i) => `old-${String(MAX_FILES - PRUNED_TO + 1 + i).padStart(4, "0")}.wasm-batch`));
    expect(useBatch(home, false, [11]).code).toBe(0); // under the limit again: kept, nothing removed
    expect(cacheFiles(home)).toHaveLength(PRUNED_TO + 1);
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

describe("translated batches kept by their input", () => {
  test("a program run again emits none of its batches: their bytes come from the cache, optimised or not", () => {
    // Liftoff as usual: hello's batches are too short-lived for Turbofan, so the files hold their bytes alone.
    const home = join(scratch.path, "program-bytes");
    const run = () => spawnSync(process.execPath, [ROAM, "run", "--stats", elfPath("hello"), "again"], {
      env: { ...process.env, XDG_CACHE_HOME: home, ROAM_JIT_THRESHOLD: "0" }, encoding: "utf8",
    });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const batches = Number(/(\d+) modules/.exec(first.stderr)?.[1]);
    expect(batches).toBeGreaterThan(10);
    expect(cacheFiles(home).filter((path) => path.endsWith(".wasm-batch"))).toHaveLength(batches);
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const seen = /(\d+) modules \((\d+) optimised, (\d+) more emitted earlier, from the code cache\)/.exec(second.stderr);
    expect(seen, second.stderr).not.toBeNull();
    expect(Number(seen![2]) + Number(seen![3])).toBe(batches);
    expect(/instructions retired: (\d+)/.exec(second.stderr)?.[1]).toBe(/instructions retired: (\d+)/.exec(first.stderr)?.[1]);
  });

  test("without a build name (Roam run from its modules, no run chunk to hash) no batch is kept by its input", () => {
    // Without the bundle (ROAM_NO_BUNDLE=1) the build has no name: batches are emitted, never kept by their input.
    const home = join(scratch.path, "program-modules");
    const run = () => spawnSync(process.execPath, [ROAM, "run", "--stats", elfPath("hello")], {
      env: { ...process.env, XDG_CACHE_HOME: home, ROAM_JIT_THRESHOLD: "0", ROAM_NO_BUNDLE: "1" }, encoding: "utf8",
    });
    expect(run().status).toBe(0);
    expect(cacheFiles(home).filter((path) => path.endsWith(".wasm-batch"))).toEqual([]);
    const second = run();
    expect(second.stderr).not.toMatch(/emitted earlier/);
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
