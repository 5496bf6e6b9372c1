// Translation must not change what a real program does: BusyBox applets, Lua
// and the SQLite shell (guests/bin/real, built with musl) run in this process
// interpreted only, with hot code translated (as shipped), and with every jump
// target translated at its first arrival, compiled at once and compiled in the
// background (batches landing whenever they land); each must give the same exit status,
// stdout and stderr, the same instruction count and the same registers and pc
// when it exits.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { parseElf } from "../../src/elf/index.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { Core } from "../../src/machine/core.js";
import * as L from "../../assembly/layout.js";
import { MemoryConsole } from "../kernel/kernel-harness.js";
import { ROOT } from "../process-harness.js";

// The same "random" bytes every run (AT_RANDOM, getrandom, /dev/urandom): musl's stack canary lives in registers.
vi.mock("../../src/kernel/random.js", () => ({
  randomBytes: (n: number) => new Uint8Array(n).fill(0x5a),
}));

const TIMEOUT_MS = 240_000;
const scratch = mkdtempSync(join(tmpdir(), "roam-jit-real-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Case { id: string; program: string; args: string[]; files?: Record<string, string>; stdin?: string }

const LUA = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 20000 do t[i] = (i * 7919) % 10007 end
table.sort(t)
local s = 0
for i = 1, #t, 97 do s = s + t[i] end
local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do words[#words + 1] = w:upper() end
print(fib(22), s, table.concat(words, ","), string.format("%.3f", math.sqrt(2)))
`;
const SQL = `
create table t(id integer primary key, k integer, v text);
with recursive c(i) as (select 1 union all select i + 1 from c where i < 20000)
insert into t(k, v) select (i * 7919) % 1000, 'row ' || i from c;
create index t_k on t(k);
select count(*), sum(k), min(v), max(v) from t;
select k, count(*) from t where k between 10 and 12 group by k order by k;
`;
const WORDS = Array.from({ length: 3000 }, (_, i) => `w${(i * 7919) % 3001} ${i % 17}`).join("\n") + "\n";

const CASES: Case[] = [
  { id: "lua: calls, tables, sort, strings", program: "lua", args: ["prog.lua"], files: { "prog.lua": LUA } },
  { id: "sqlite3: 20k rows, an index, aggregates", program: "sqlite3", args: [":memory:"], stdin: SQL },
  { id: "busybox sort", program: "busybox", args: ["sort", "words.txt"], files: { "words.txt": WORDS } },
  { id: "busybox awk", program: "busybox", args: ["awk", "{ n[$2] += length($1) } END { for (k = 0; k < 17; k++) print k, n[k] }", "words.txt"], files: { "words.txt": WORDS } },
  { id: "busybox md5sum", program: "busybox", args: ["md5sum", "words.txt"], files: { "words.txt": WORDS } },
];

// As shipped, compiles are asynchronous: a short program (md5sum) may end before any lands, so only the synchronous
// mode must have translated something; the asynchronous ones race the guest against the compiles, on purpose.
const MODES = [
  { name: "interpreted only", translate: false, threshold: undefined, compile: undefined },
  { name: "translated when hot", translate: true, threshold: undefined, compile: undefined },
  { name: "translated from the first arrival", translate: true, threshold: "0", compile: "sync" },
  { name: "translated from the first arrival, compiled in the background", translate: true, threshold: "0", compile: "async" },
] as const;

interface Outcome {
  exitCode: number; report?: string; stdout: string; stderr: string; instret: bigint; pc: number; x: number[]; requests: number; translated: number;
  fullChecksAt: number; // translator-stats.ts: -1 while loads and stores keep linear checks
  nonlinearFills: number; // JIT_NONLINEAR_FILLS
}

async function runCase(c: Case, mode: (typeof MODES)[number]): Promise<Outcome> {
  const root = mkdtempSync(join(scratch, "case-"));
  for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(root, name), text);
  const elf = join(ROOT, "guests", "bin", "real", `${c.program}.elf`);
  const console = new MemoryConsole();
  if (c.stdin) console.push(c.stdin);
  console.end();
  const core = await Core.load();
  const saved = process.env.ROAM_JIT_THRESHOLD, savedCompile = process.env.ROAM_JIT_COMPILE;
  if (mode.threshold !== undefined) process.env.ROAM_JIT_THRESHOLD = mode.threshold; // read when the translator is made
  if (mode.compile !== undefined) process.env.ROAM_JIT_COMPILE = mode.compile;
  let kernel: Kernel;
  try {
    kernel = new Kernel({
      core, image: parseElf(readFileSync(elf)), program: readFileSync(elf), ramBytes: 64 << 20, root,
      argv: [elf, ...c.args], envp: ["HOME=/", "PATH=/bin"], console, inputReady: () => console.inputReady(),
      translate: mode.translate, maxInstructions: 2_000_000_000,
    });
  } finally {
    if (saved === undefined) delete process.env.ROAM_JIT_THRESHOLD; else process.env.ROAM_JIT_THRESHOLD = saved;
    if (savedCompile === undefined) delete process.env.ROAM_JIT_COMPILE; else process.env.ROAM_JIT_COMPILE = savedCompile;
  }
  // A clock that stands still: Lua seeds its string hashes from the time, awk its rand(); both change the instruction count.
  kernel.clock = { monotonicNs: () => 1_000_000_000n, realtimeNs: () => 1_700_000_000_000_000_000n };
  const result = await kernel.run();
  return {
    exitCode: result.exitCode, report: result.report, stdout: console.stdout, stderr: console.stderr, instret: result.instret,
    pc: core.pc, x: Array.from({ length: 32 }, (_, r) => core.x(r)), requests: core.translator?.stats.requests ?? 0, translated: core.translator?.stats.translated ?? 0,
    fullChecksAt: core.translator?.stats.fullChecksAt ?? -1,
    nonlinearFills: core.view.getUint32(L.JIT_NONLINEAR_FILLS, true),
  };
}

describe("real programs give the same results with and without translation", () => {
  for (const c of CASES) {
    test(c.id, async () => {
      const runs: Outcome[] = [];
      for (const mode of MODES) runs.push(await runCase(c, mode));
      const plain = runs[0];
      expect(plain.exitCode, plain.stdout + plain.stderr + (plain.report ?? "")).toBe(0);
      expect(plain.stdout.length).toBeGreaterThan(0);
      for (let m = 1; m < MODES.length; m++) {
        const mode = MODES[m], run = runs[m];
        const what = `${c.id}, ${mode.name}`;
        expect(run.requests, `${what}: translation requests`).toBeGreaterThan(0);
        if (mode.compile === "sync") expect(run.translated, `${what}: regions translated`).toBeGreaterThan(0);
        expect(run.exitCode, what).toBe(plain.exitCode);
        expect(run.report, what).toBe(plain.report);
        expect(run.stdout, what).toBe(plain.stdout);
        expect(run.stderr, what).toBe(plain.stderr);
        expect(run.instret, `${what}: instructions retired`).toBe(plain.instret);
        expect(run.pc.toString(16), `${what}: pc at exit`).toBe(plain.pc.toString(16));
        expect(run.x, `${what}: registers at exit`).toEqual(plain.x);
      }
    }, TIMEOUT_MS);
  }
});

// A shell and its forked children share pages until one writes them, and the copy cannot sit at the linear frame the
// other holds: translated loads and stores leave at every access to such a page, until the translator goes over to
// full checks (src/jit/translator.ts watchNonlinearFills). The processes interleave differently run to run (which
// one writes a page first, so has the copy, too), so only what they print is compared, and the translator must
// have gone over if those pages were filled often enough.
describe("a pipeline of processes, translated", () => {
  test("sh -c 'seq | sort -rn | head; seq | md5sum': the interpreter's output, with pages that are not linear", async () => {
    const c: Case = { id: "pipeline", program: "busybox", args: ["sh", "-c", "seq 1 3000 | sort -rn | head -3; seq 1 60000 | md5sum"] };
    const plain = await runCase(c, MODES[0]);
    expect(plain.exitCode, plain.stdout + plain.stderr + (plain.report ?? "")).toBe(0);
    expect(plain.stdout).toBe("3000\n2999\n2998\n32e8d2bbb8984bd14d9ad0ccf2a33ea5  -\n"); // as QEMU prints it
    for (const mode of [MODES[1], MODES[2]]) {
      const run = await runCase(c, mode);
      expect([run.exitCode, run.stdout, run.stderr], mode.name).toEqual([plain.exitCode, plain.stdout, plain.stderr]);
      expect(run.nonlinearFills, `${mode.name}: pages that are not linear were filled`).toBeGreaterThan(0);
      if (run.nonlinearFills >= 20_000) expect(run.fullChecksAt, `${mode.name}: went over to full checks`).toBeGreaterThanOrEqual(0);
    }
  }, TIMEOUT_MS);
});
