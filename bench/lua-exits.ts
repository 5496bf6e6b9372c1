// Where translated code leaves to the interpreter, on Lua 5.4 (guests/bin/real):
// runs one CPU-bound Lua script in-process with translation on and prints the
// time, the instructions, the translator's figures and, when the environment has
// ROAM_JIT_COUNT_EXITS=1 (a measurement build of every region), its exits by kind.
// With --qemu it also times qemu-riscv32 on the same script (a benchmark: run it
// sparingly). --programs lua,sqlite,compute runs the SQLite shell (inserting and
// indexing 60k rows) and the compute guest (small) too, and --compile sync,async
// runs each once per compile mode (see compileMode in src/jit/translator.ts), in
// turn in this process (after an untimed warm-up), so the modes and QEMU are compared in the same run.
//
// --script file runs that Lua script in place of the built-in mix.
//
//   ROAM_JIT_COUNT_EXITS=1 node dist/bench/lua-exits.js [--qemu] [--programs lua,sqlite,compute] [--compile sync,async] [--script file.lua]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parseElf } from "../src/elf/index.js";
import { Kernel } from "../src/kernel/kernel.js";
import { Core } from "../src/machine/core.js";
import { EXIT_NAMES } from "../src/jit/gen.js";
import { describeStats } from "../src/jit/translator-stats.js";
import { CaptureConsole } from "./capture-console.js";
import { benchArgs, packageRoot } from "./common.js";
import { LUA_MIX, SQL_ROWS } from "./real-workloads.js";

interface Program { elf: string; args: string[] }

function programs(root: string): Record<string, Program> {
  return {
    lua: { elf: join(root, "guests", "bin", "real", "lua.elf"), args: ["prog.lua"] },
    sqlite: { elf: join(root, "guests", "bin", "real", "sqlite3.elf"), args: [":memory:", ".read prog.sql"] },
    compute: { elf: join(root, "guests", "bin", "process", "compute.elf"), args: ["small"] },
  };
}

async function runRoam(name: string, p: Program, dir: string, compile: string | undefined): Promise<number> {
  const saved = process.env.ROAM_JIT_COMPILE;
  if (compile !== undefined) process.env.ROAM_JIT_COMPILE = compile; // read when the translator is made
  const core = await Core.load();
  const console = new CaptureConsole();
  const kernel = new Kernel({
    core, image: parseElf(readFileSync(p.elf)), program: readFileSync(p.elf), ramBytes: 64 << 20, root: dir,
    argv: [p.elf, ...p.args], envp: ["HOME=/", "PATH=/bin"], console, inputReady: () => Promise.resolve(), translate: true,
  });
  if (saved === undefined) delete process.env.ROAM_JIT_COMPILE; else process.env.ROAM_JIT_COMPILE = saved;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await kernel.run();
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = process.cpuUsage(cpu).user / 1e6; // this thread's and V8's compile threads': a loaded machine inflates wall time more
  const t = core.translator!.stats;
  const output = console.text(1).trim().split("\n").slice(-1)[0];
  process.stdout.write(`roam ${name} (${core.translator!.mode}): ${seconds.toFixed(2)} s (${cpuSeconds.toFixed(2)} s cpu), exit ${result.exitCode}, ${result.instret} instructions, output ${JSON.stringify(output)}\n`);
  process.stdout.write(`  ${describeStats(t)}; ${t.entries} entries, ${t.flushes} flushes\n`);
  if (process.env.ROAM_JIT_COUNT_EXITS === "1") {
    const counts = core.translator!.exitCounts();
    process.stdout.write("  " + EXIT_NAMES.map((n, k) => `${n}: ${counts[k]}`).join(", ") + "\n");
  }
  return seconds;
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    options: {
      qemu: { type: "boolean", default: false }, programs: { type: "string", default: "lua" }, compile: { type: "string" },
      script: { type: "string" },
    },
  });
  const all = programs(packageRoot());
  const names = values.programs.split(",");
  for (const n of names) if (!(n in all)) throw new Error(`--programs: no program "${n}" (lua, sqlite, compute)`);
  const modes = values.compile?.split(",") ?? [undefined];
  const dir = mkdtempSync(join(tmpdir(), "roam-lua-exits-"));
  try {
    writeFileSync(join(dir, "prog.lua"), values.script === undefined ? LUA_MIX : readFileSync(values.script));
    writeFileSync(join(dir, "prog.sql"), SQL_ROWS);
    // Warm-up, untimed (V8 tiers the core's WASM up during the first run in a process, which would favour later rows).
    const quiet = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try { await runRoam("compute", all.compute, dir, undefined); } finally { process.stdout.write = quiet; }
    for (const name of names) {
      const p = all[name];
      const times = new Map<string, number>();
      for (const mode of modes) times.set(mode ?? "default", await runRoam(name, p, dir, mode));
      if (!values.qemu) continue;
      const q0 = performance.now();
      const q = spawnSync("qemu-riscv32", [p.elf, ...p.args], { cwd: dir, encoding: "utf8" });
      const qs = (performance.now() - q0) / 1000;
      const ratios = [...times].map(([mode, s]) => `${mode} ${(s / qs).toFixed(2)}`).join(", ");
      const output = q.stdout.trim().split("\n").slice(-1)[0];
      process.stdout.write(`qemu-riscv32 ${name}: ${qs.toFixed(2)} s, output ${JSON.stringify(output)}; roam/qemu time: ${ratios}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.message : e}\n`); process.exit(1); });
