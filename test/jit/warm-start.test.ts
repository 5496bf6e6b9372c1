// A warm start (src/jit/warm-start.ts) translates, before a program's first instruction, the regions its last run
// recorded: it must not change what the program does, must take only regions whose code still decodes as recorded
// (a changed program, another program), and its record must refuse damage. Runs here are in-process, where the code
// cache is off, so the record goes from one run to the next through encode and decode, as the file would carry it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { parseElf } from "../../src/elf/index.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { Core } from "../../src/machine/core.js";
import { decode, encode, writesAnew, type WarmRegion } from "../../src/jit/warm-start.js";
import { NO_NEXT } from "../../src/jit/region.js";
import { BLOCK_ENDS } from "../../src/jit/ops-table.js";
import { checksum } from "../../src/machine/wasm-code-cache.js";
import { MemoryConsole } from "../kernel/kernel-harness.js";
import { ROOT } from "../process-harness.js";

vi.mock("../../src/kernel/random.js", () => ({
  randomBytes: (n: number) => new Uint8Array(n).fill(0x5a),
}));

const TIMEOUT_MS = 120_000;
const scratch = mkdtempSync(join(tmpdir(), "roam-warm-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const LUA = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 20000 do t[i] = (i * 7919) % 10007 end
table.sort(t)
local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do words[#words + 1] = w:upper() end
print(fib(22), t[1], t[#t], table.concat(words, ","))
`;
const SQL = "create table t(k integer); insert into t values (1), (2), (3); select sum(k) from t;\n";

interface Outcome {
  stdout: string; exitCode: number; instret: bigint; pc: number; x: number[];
  recorded: WarmRegion[]; warmRegions: number; warmSkipped: number; interpreted: number;
}

/** Runs `program` (guests/bin/real) with `args`; `warm`: a record's bytes to warm-start from, under `key`. */
async function run(program: string, args: string[], opts: { translate?: boolean; warm?: Uint8Array; stdin?: string } = {}): Promise<Outcome> {
  const root = mkdtempSync(join(scratch, "case-"));
  writeFileSync(join(root, "prog.lua"), LUA);
  const elf = join(ROOT, "guests", "bin", "real", `${program}.elf`);
  const console = new MemoryConsole();
  if (opts.stdin) console.push(opts.stdin);
  console.end();
  const core = await Core.load();
  const kernel = new Kernel({
    core, image: parseElf(readFileSync(elf)), program: readFileSync(elf), ramBytes: 64 << 20, root,
    argv: [elf, ...args], envp: ["HOME=/"], console, inputReady: () => console.inputReady(), translate: opts.translate ?? true,
  });
  kernel.clock = { monotonicNs: () => 1_000_000_000n, realtimeNs: () => 1_700_000_000_000_000_000n };
  const translator = core.translator;
  translator?.recordRegions();
  if (opts.warm) {
    const record = decode(opts.warm, KEY)!;
    expect(record, "the record decodes").toBeDefined();
    translator!.warmStart(record.regions, record.words, (pageVA) => kernel.codeFrame(pageVA));
  }
  const result = await kernel.run();
  const instret = result.instret;
  return {
    stdout: console.stdout, exitCode: result.exitCode, instret, pc: core.pc, x: Array.from({ length: 32 }, (_, r) => core.x(r)),
    recorded: translator?.recordedRegions() ?? [], warmRegions: translator?.stats.warmRegions ?? 0,
    warmSkipped: translator?.stats.warmSkipped ?? 0, interpreted: translator ? Number(instret) - translator.translatedRetired() : Number(instret),
  };
}

const KEY = new TextEncoder().encode("a program and its arguments");

function expectSameRun(run: Outcome, plain: Outcome): void {
  expect(run.exitCode).toBe(plain.exitCode);
  expect(run.stdout).toBe(plain.stdout);
  expect(run.instret).toBe(plain.instret);
  expect(run.pc.toString(16)).toBe(plain.pc.toString(16));
  expect(run.x).toEqual(plain.x);
}

describe("a warm start", () => {
  let plain: Outcome, first: Outcome, record: Uint8Array;

  test("a run records its regions; the next, warm-started from them, does the same with them translated from the start", async () => {
    plain = await run("lua", ["prog.lua"], { translate: false });
    expect(plain.stdout).toContain("17711");
    first = await run("lua", ["prog.lua"]);
    expectSameRun(first, plain);
    expect(first.recorded.length).toBeGreaterThan(10);
    record = encode(KEY, first.recorded);
    const warm = await run("lua", ["prog.lua"], { warm: record });
    expectSameRun(warm, plain);
    expect(warm.warmSkipped).toBe(0);
    expect(warm.warmRegions).toBeGreaterThan(10);
    expect(warm.interpreted, "the warm run interprets less of the program").toBeLessThan(first.interpreted / 2);
    // What a warm run would record (when its record no longer matched) holds its warm regions whole.
    expect(warm.recorded.length).toBeGreaterThanOrEqual(warm.warmRegions);
    expect(warm.recorded.every((r) => r.blocks.every((b) => b.entries.length >= 3))).toBe(true);
    const again = await run("lua", ["prog.lua"], { warm: encode(KEY, warm.recorded) });
    expectSameRun(again, plain);
    expect(again.warmSkipped).toBe(0);
  }, TIMEOUT_MS);

  test("a region whose code decodes otherwise now is left out, and the run is still right", async () => {
    const regions = decode(record, KEY)!.regions;
    const changed = regions.map((r, k) => (k % 3 !== 0 ? r : {
      ...r, blocks: r.blocks.map((b, i) => (i !== 0 ? b : { ...b, entries: Array.from(b.entries, (v, j) => (j === 1 ? v ^ 0x100 : v)) })),
    }));
    const warm = await run("lua", ["prog.lua"], { warm: encode(KEY, changed) });
    expectSameRun(warm, plain);
    expect(warm.warmSkipped).toBe(Math.ceil(regions.length / 3));
    expect(warm.warmRegions).toBeGreaterThan(0);
  }, TIMEOUT_MS);

  test("a region whose shape discovery could not have made (a block's successor, a head inside a block, a branch inside a block, blocks overlapping) is left out", async () => {
    const regions = decode(record, KEY)!.regions;
    let bad = 0;
    const shifted = regions.map((r, k) => {
      const bent = bend(r, k % 4);
      if (bent !== r) bad++;
      return bent;
    });
    expect(bad, "every kind of bend applies to some region").toBeGreaterThan(regions.length / 2);
    const warm = await run("lua", ["prog.lua"], { warm: encode(KEY, shifted) });
    expectSameRun(warm, plain);
    expect(warm.warmSkipped).toBe(bad);
  }, TIMEOUT_MS);

  /** `r` bent in the `way`th way, or `r` itself if that way does not apply to it. */
  function bend(r: WarmRegion, way: number): WarmRegion {
    const blocks = r.blocks;
    if (way === 1) return { ...r, blocks: blocks.map((b) => ({ ...b, next: b.next === NO_NEXT ? 0 : b.next + 2 })) };
    if (way === 3) { // the head an entry inside a block
      const inside = blocks.find((b) => b.entries.length >= 6);
      return inside ? { ...r, head: inside.entries[3] } : r;
    }
    if (way === 0) { // a block ending in a branch joined with the block after it: a branch inside a block
      const points = new Set([r.head, ...r.returnPoints, ...r.otherReturnPoints]);
      const k = blocks.findIndex((b) => {
        const lastOp = b.entries[b.entries.length - 2] & 0xff;
        return BLOCK_ENDS[lastOp] === 1 && !points.has(b.next) && blocks.some((c) => c.start === b.next);
      });
      if (k < 0) return r;
      const after = blocks.find((c) => c.start === blocks[k].next)!;
      const joined = { start: blocks[k].start, next: after.next, entries: [...Array.from(blocks[k].entries), ...Array.from(after.entries)] };
      return { ...r, blocks: blocks.filter((c) => c !== after).map((c, i) => (c === blocks[k] ? joined : c)) };
    }
    const long = blocks.find((b) => b.entries.length >= 6); // a second block of a block's entries from its second on
    if (!long) return r;
    return { ...r, blocks: [...blocks, { start: long.entries[3], next: long.next, entries: Array.from(long.entries).slice(3) }] };
  }

  test("another program's record takes none of its regions where the code differs, and the run is right", async () => {
    const sqlPlain = await run("sqlite3", [":memory:"], { translate: false, stdin: SQL });
    const warm = await run("sqlite3", [":memory:"], { warm: record, stdin: SQL });
    expect(warm.stdout).toBe(sqlPlain.stdout);
    expect(warm.stdout.trim()).toBe("6");
    expect(warm.instret).toBe(sqlPlain.instret);
    expect(warm.warmSkipped).toBeGreaterThan(0);
  }, TIMEOUT_MS);
});

describe("a warm start's record", () => {
  const regions: WarmRegion[] = [
    { page: 0x10000, head: 4, returnPoints: [8], otherReturnPoints: [], otherPages: [2048], blocks: [
      { start: 4, next: 6, entries: [4, 0x1234, -5, 5, 7, 0] },
      { start: 6, next: NO_NEXT, entries: [6, 99, 0x7fffffff] },
    ] },
    { page: 0xfffff000, head: 2047, returnPoints: [], otherReturnPoints: [2050], otherPages: [], blocks: [{ start: 2047, next: -3, entries: [2047, 1, 2] }] },
  ];

  test("round-trips through its bytes", () => {
    const back = decode(encode(KEY, regions), KEY)?.regions;
    expect(back?.map((r) => ({ ...r, blocks: r.blocks.map((b) => ({ ...b, entries: Array.from(b.entries) })) }))).toEqual(regions);
  });

  test("is refused under another key, damaged, truncated or padded", () => {
    const bytes = encode(KEY, regions);
    expect(decode(bytes, new TextEncoder().encode("another program"))).toBeUndefined();
    for (let at = 0; at < bytes.length; at += 7) {
      const damaged = Uint8Array.from(bytes);
      damaged[at] ^= 0x20;
      expect(decode(damaged, KEY), `byte ${at} changed`).toBeUndefined();
    }
    expect(decode(bytes.subarray(0, bytes.length - 4), KEY)).toBeUndefined();
    expect(decode(new Uint8Array([...bytes, 0, 0, 0, 0]), KEY)).toBeUndefined();
    expect(decode(new Uint8Array(3), KEY)).toBeUndefined();
  });

  test("a record whose lengths run past its end is refused, whatever its checksum", () => {
    const bytes = Buffer.from(encode(KEY, [{ ...regions[0] }]));
    // Its words: [count, page, head, 1 return point...]: claim 1000 return points, and fix the checksum.
    const bodyAt = 16 + Math.ceil(KEY.length / 4) * 4;
    bytes.writeInt32LE(1000, bodyAt + 12);
    const words = new Uint8Array(bytes.buffer.slice(bytes.byteOffset + bodyAt, bytes.byteOffset + bytes.length));
    bytes.writeUInt32LE(checksum(words), 12);
    expect(decode(bytes, KEY)).toBeUndefined();
  });
});

describe("when a run writes its record", () => {
  test("with none found, or with more than a quarter of the one found no longer matching; not for a few", () => {
    expect(writesAnew(undefined, 0)).toBe(true);
    expect(writesAnew(240, 0)).toBe(false);
    expect(writesAnew(240, 3)).toBe(false); // code the program makes as it runs: never there at the start
    expect(writesAnew(240, 60)).toBe(false);
    expect(writesAnew(240, 61)).toBe(true);
  });
});
