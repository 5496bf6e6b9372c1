import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { REPO, roam, tempDir } from "../e2e/cluster.js";

// `roam run` keeps a record of what a program's run translated and translates it before the next run's first
// instruction (src/jit/warm-start.ts). What happened is read from --stats, not from timing: the first run of a
// program in an empty cache records, the second starts warm, a damaged record is ignored and written anew, and the
// guest's output is the same every time. Needs `npm run build`.

const COMPUTE = join(REPO, "guests/bin/process/compute.elf");
const scratch = tempDir("warm-start");
afterAll(() => scratch.remove());

/** `roam run --stats compute.elf small` with its caches under `cacheHome`: its stdout and the translator's line. */
async function runCompute(cacheHome: string, args = ["small"]) {
  const result = await roam(["run", "--stats", COMPUTE, ...args], { env: { XDG_CACHE_HOME: cacheHome }, timeoutMs: 60_000 });
  expect(result.code, result.describe()).toBe(0);
  const translated = result.stderr.split("\n").find((line) => line.startsWith("translated regions:")) ?? "";
  const warm = /: (\d+) from the program's last run/.exec(translated);
  return { stdout: result.stdout, translated, warm: warm ? Number(warm[1]) : 0 };
}

/** The warm-start records in `cacheHome`. */
function records(cacheHome: string): string[] {
  const dir = join(cacheHome, "roam-vm");
  return readdirSync(dir).flatMap((name) => (name.startsWith("wasm-code-") ? readdirSync(join(dir, name)).filter((f) => f.endsWith(".warm")).map((f) => join(dir, name, f)) : []));
}

describe("roam run's warm start", () => {
  test("the first run records, the next ones start warm, each with the same output", async () => {
    const home = join(scratch.path, "a");
    const first = await runCompute(home);
    expect(first.stdout).toContain("checksum");
    expect(first.warm).toBe(0);
    expect(records(home)).toHaveLength(1);
    const second = await runCompute(home);
    expect(second.warm, second.translated).toBeGreaterThan(5);
    expect(second.stdout).toBe(first.stdout);
    const third = await runCompute(home);
    expect(third.warm).toBe(second.warm);
    expect(third.stdout).toBe(first.stdout);
    // Other arguments are another record.
    await runCompute(home, ["2"]);
    expect(records(home)).toHaveLength(2);
  }, 120_000);

  test("a damaged record is ignored, the run is right, and the record is written anew", async () => {
    const home = join(scratch.path, "b");
    const first = await runCompute(home);
    const [record] = records(home);
    const good = readFileSync(record);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 9] ^= 0x40;
    writeFileSync(record, damaged);
    const run = await runCompute(home);
    expect(run.warm).toBe(0);
    expect(run.stdout).toBe(first.stdout);
    expect(readFileSync(record).equals(damaged)).toBe(false);
    expect((await runCompute(home)).warm).toBeGreaterThan(5);
  }, 120_000);
});
