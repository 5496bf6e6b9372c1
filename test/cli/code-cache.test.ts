import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO, roam, tempDir } from "../e2e/cluster.js";
import { writeFileAtomically } from "../../src/launch/code-cache.js";

// V8's code cache of the bundle's chunks (src/launch/code-cache.ts) is never required: whatever is in the cache
// directory, `roam run` runs the guest correctly, and a bad cache is replaced by a good one at exit. What became of
// the cache is read from the start-up log (ROAM_MODULE_LOG), not from timing, so these cannot flake on a loaded
// machine. Needs `npm run build`.

const HELLO = join(REPO, "guests/bin/process/hello.elf");
const scratch = tempDir("code-cache");
afterAll(() => scratch.remove());

let runs = 0;
/** `roam run hello.elf` with its code cache in `cacheHome`/roam-vm: the run chunk's cache outcome, and the run's result. */
async function runHello(cacheHome: string, env: Record<string, string> = {}) {
  const log = join(scratch.path, `run-${++runs}.log`);
  const result = await roam(["run", HELLO], { env: { XDG_CACHE_HOME: cacheHome, ROAM_MODULE_LOG: log, ...env } });
  expect(result.code, result.describe()).toBe(0);
  expect(result.stdout).toContain("Hello from Roam!");
  expect(result.stderr).toBe("");
  const lines = readFileSync(log, "utf8").trimEnd().split("\n");
  return { result, cache: lines.find((line) => line.startsWith("chunk run "))?.split(" ")[3] };
}

/** The one cache file of the run chunk in `cacheHome`. */
function runCacheFile(cacheHome: string): string {
  const files = readdirSync(join(cacheHome, "roam-vm")).filter((name) => name.startsWith("run-") && name.endsWith(".cache"));
  expect(files).toHaveLength(1);
  return join(cacheHome, "roam-vm", files[0]);
}

describe("the bundle's code cache", () => {
  const home = join(scratch.path, "cache");
  let good: Buffer;

  beforeAll(async () => {
    expect((await runHello(home)).cache).toBe("missing");
    good = readFileSync(runCacheFile(home));
  }, 60_000);

  test("a run writes the cache at exit and the next run uses it", async () => {
    expect(good.length).toBeGreaterThan(1000);
    expect((await runHello(home)).cache).toBe("accepted");
  }, 60_000);

  test("a corrupt cache (bytes changed inside) is rejected, the run is correct, and the cache is written anew", async () => {
    const corrupt = Buffer.from(good);
    for (let at = 64; at < corrupt.length; at += 997) corrupt[at] ^= 0x5a;
    writeFileSync(runCacheFile(home), corrupt);
    expect((await runHello(home)).cache).toBe("rejected");
    expect((await runHello(home)).cache).toBe("accepted");
  }, 60_000);

  test("a truncated or garbage cache is rejected and the run is correct", async () => {
    writeFileSync(runCacheFile(home), good.subarray(0, good.length >> 1));
    expect((await runHello(home)).cache).toBe("rejected");
    writeFileSync(runCacheFile(home), "not a code cache\n");
    expect((await runHello(home)).cache).toBe("rejected");
  }, 60_000);

  test("a stale cache (made for other code: the rest chunk's, under the run chunk's name) is rejected and the run is correct", async () => {
    await roam(["ps", "--on", "nowhere"], { env: { XDG_CACHE_HOME: home } }); // reads the rest chunk; its cache is written at exit
    const rest = readdirSync(join(home, "roam-vm")).find((name) => name.startsWith("rest-") && name.endsWith(".cache"));
    expect(rest).toBeDefined();
    writeFileSync(runCacheFile(home), readFileSync(join(home, "roam-vm", rest!)));
    expect((await runHello(home)).cache).toBe("rejected");
  }, 60_000);

  test("a cache written by a command that ran few of the chunk's modules is replaced by a run's, which is then kept", async () => {
    const fresh = join(scratch.path, "fresh");
    const version = await roam(["--version"], { env: { XDG_CACHE_HOME: fresh } });
    expect(version.code, version.describe()).toBe(0);
    const modulesRun = () => readFileSync(runCacheFile(fresh)).readUInt32LE(4); // after the magic "RVC1"
    const byVersion = modulesRun();
    expect(byVersion).toBeGreaterThan(0);
    expect((await runHello(fresh)).cache).toBe("accepted");
    const byRun = modulesRun();
    expect(byRun).toBeGreaterThan(byVersion);
    const kept = readFileSync(runCacheFile(fresh));
    await roam(["--version"], { env: { XDG_CACHE_HOME: fresh } });
    expect(readFileSync(runCacheFile(fresh)).equals(kept)).toBe(true);
  }, 60_000);

  test("a cache directory that cannot be made is passed over silently; ROAM_CODE_CACHE=0 turns the cache off", async () => {
    const file = join(scratch.path, "a-file");
    writeFileSync(file, "");
    expect((await runHello(join(file, "below"))).cache).toBe("missing"); // ENOTDIR, at read and at write: stderr stays empty
    const unused = join(scratch.path, "unused");
    mkdirSync(unused);
    expect((await runHello(unused, { ROAM_CODE_CACHE: "0" })).cache).toBe("off");
    expect(readdirSync(unused)).toEqual([]);
  }, 60_000);
});

describe("writeFileAtomically", () => {
  test("writes its parts in order, empty ones and a large one included, and leaves no temporary file", () => {
    const temp = tempDir("atomic");
    const dir = temp.path;
    const large = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff); // past one writev's usual size
    const parts = [Buffer.from("head"), new Uint8Array(0), large.subarray(5), Buffer.from("tail")];
    expect(writeFileAtomically(dir, join(dir, "f"), parts)).toBe(true);
    expect(Buffer.compare(readFileSync(join(dir, "f")), Buffer.concat(parts))).toBe(0);
    expect(readdirSync(dir)).toEqual(["f"]);
    expect(writeFileAtomically(join(dir, "f"), join(dir, "f", "g"), parts), "a directory that cannot be made").toBe(false);
    temp.remove();
  });
});
