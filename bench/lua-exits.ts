// Where translated code leaves to the interpreter, on Lua 5.4 (guests/bin/real):
// runs one CPU-bound Lua script in-process with translation on and prints the
// time, the instructions, the translator's figures and, when the environment has
// ROAM_JIT_COUNT_EXITS=1 (a measurement build of every region), its exits by kind.
// With --qemu it also times qemu-riscv32 on the same script (a benchmark: run it
// sparingly).
//
//   ROAM_JIT_COUNT_EXITS=1 node dist/bench/lua-exits.js [--qemu]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parseElf } from "../src/elf/index.js";
import { Kernel } from "../src/kernel/kernel.js";
import { Core } from "../src/machine/core.js";
import { EXIT_NAMES } from "../src/jit/emit.js";
import { CaptureConsole } from "./capture-console.js";
import { packageRoot } from "./common.js";

const SCRIPT = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local parts = {}
for i = 1, 30000 do parts[#parts + 1] = string.format("%d:%s", i, tostring(i * 3)) end
local s = table.concat(parts, ","):gsub("%d+", function(d) return #d end)
print(fib(27), t[1], t[#t], #s)
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "roam-lua-exits-"));
  try {
    writeFileSync(join(dir, "prog.lua"), SCRIPT);
    const elf = join(packageRoot(), "guests", "bin", "real", "lua.elf");
    const core = await Core.load();
    const console = new CaptureConsole();
    const kernel = new Kernel({
      core, image: parseElf(readFileSync(elf)), program: readFileSync(elf), ramBytes: 64 << 20, root: dir,
      argv: [elf, "prog.lua"], envp: ["HOME=/", "PATH=/bin"], console, inputReady: () => Promise.resolve(), translate: true,
    });
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await kernel.run();
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = process.cpuUsage(cpu).user / 1e6; // this thread's and V8's compile threads': a loaded machine inflates wall time more
    const t = core.translator!.stats;
    process.stdout.write(`roam: ${seconds.toFixed(2)} s (${cpuSeconds.toFixed(2)} s cpu), exit ${result.exitCode}, ${result.instret} instructions, output ${JSON.stringify(console.text(1).trim())}\n`);
    process.stdout.write(`regions: ${t.translated} (${t.instructions} instructions, ${t.entries} entries, ${t.compileMs.toFixed(0)} ms compiling, ${t.flushes} flushes)\n`);
    if (process.env.ROAM_JIT_COUNT_EXITS === "1") {
      const counts = core.translator!.exitCounts();
      process.stdout.write(EXIT_NAMES.map((name, k) => `${name}: ${counts[k]}`).join(", ") + "\n");
    }
    if (process.argv.includes("--qemu")) {
      const q0 = performance.now();
      const q = spawnSync("qemu-riscv32", [elf, "prog.lua"], { cwd: dir, encoding: "utf8" });
      const qs = (performance.now() - q0) / 1000;
      process.stdout.write(`qemu-riscv32: ${qs.toFixed(2)} s, output ${JSON.stringify(q.stdout.trim())}; roam/qemu time ${(seconds / qs).toFixed(2)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.message : e}\n`); process.exit(1); });
