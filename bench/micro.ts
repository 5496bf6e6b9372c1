// Micro-benchmarks of the shapes real programs are made of, Roam against qemu-riscv32 in the same run: a tight loop,
// calls to the loop's own page and to another, loads, stores, byte loads and stack traffic in a loop, a call with a
// stack frame and an interpreter's table dispatch (guests/micro/, assembled without libc: bash guests/micro/build.sh).
// Each exits with a byte folded from what it computed, which must be QEMU's (test/micro.test.ts checks it too).
//
//   node dist/bench/micro.js [--runs 3] [--out file]
//
// Roam runs in-process (Core.load() once, a Kernel per run, time around kernel.run(): no Node start-up, no WASM
// compile, no ELF parse), translation on; QEMU's time is its whole process less its start-up alone (the hello guest's
// median), so the two times are of the guest's run. Medians of --runs, after an untimed warm-up of each guest. Where
// Roam's time is far above QEMU's, what that shape costs in translated code is the place to look (the ratio of a shape
// to the loop beside it tells more than either alone: see docs/SPEED.md, "One shape at a time").

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseElf } from "../src/elf/index.js";
import { Kernel } from "../src/kernel/kernel.js";
import { Core } from "../src/machine/core.js";
import { CaptureConsole } from "./capture-console.js";
import { benchArgs, fmt, hostInfo, log, median, packageRoot, qemuVersion, runTimed, writeReport } from "./common.js";

const QEMU = "qemu-riscv32";

/** The guests, under guests/bin/micro, with what each measures. */
const GUESTS: Array<[name: string, shape: string]> = [
  ["loop-inline", "a loop of 4 instructions"],
  ["call-near", "call and return, same page"],
  ["call-far", "call and return, next page"],
  ["loads", "lw in a loop over 64 KiB"],
  ["stores", "sw in a loop over 64 KiB"],
  ["bytes", "two lbu through one base"],
  ["stack", "push two words, read, pop"],
  ["call-frame", "a call with a stack frame"],
  ["switch", "table dispatch to 8 handlers"],
];

interface Row { name: string; shape: string; instructions: number; roamSeconds: number[]; qemuSeconds: number[] | null; ratio: number | null }

async function runRoam(core: Core, path: string, scratch: string): Promise<{ seconds: number; status: number; instructions: number }> {
  const kernel = new Kernel({
    core, image: parseElf(readFileSync(path)), ramBytes: 16 << 20, root: scratch, argv: [path], envp: [], console: new CaptureConsole(),
    inputReady: () => Promise.resolve(), translate: true, warn: (message) => log(`  roam: warning: ${message}`),
  });
  const started = performance.now();
  const result = await kernel.run();
  return { seconds: (performance.now() - started) / 1000, status: result.exitCode, instructions: Number(result.instret) };
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, { options: { runs: { type: "string", default: "3" }, out: { type: "string" } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);
  const root = packageRoot();
  const scratch = mkdtempSync(join(tmpdir(), "roam-micro-"));
  const version = qemuVersion(QEMU);
  try {
    const core = await Core.load();
    let qemuStartup = 0;
    if (version) {
      const hello = join(root, "guests", "bin", "process", "hello.elf");
      qemuStartup = median(Array.from({ length: 5 }, () => runTimed(QEMU, [hello], scratch).seconds));
    }
    const rows: Row[] = [];
    for (const [name, shape] of GUESTS) {
      const path = join(root, "guests", "bin", "micro", `${name}.elf`);
      const warm = await runRoam(core, path, scratch);
      const roamSeconds: number[] = [];
      const qemuSeconds: number[] = [];
      for (let i = 0; i < runs; i++) {
        const roam = await runRoam(core, path, scratch);
        roamSeconds.push(roam.seconds);
        if (version) {
          const qemu = runTimed(QEMU, [path], scratch);
          if (qemu.status !== roam.status) throw new Error(`${name}: roam exits ${roam.status}, qemu ${qemu.status ?? qemu.failure}`);
          qemuSeconds.push(Math.max(qemu.seconds - qemuStartup, 1e-3));
        }
      }
      const ratio = version ? median(roamSeconds) / median(qemuSeconds) : null;
      rows.push({ name, shape, instructions: warm.instructions, roamSeconds, qemuSeconds: version ? qemuSeconds : null, ratio });
      log(`  ${name}: roam ${median(roamSeconds).toFixed(3)} s${version ? `, qemu ${median(qemuSeconds).toFixed(3)} s, ${ratio!.toFixed(2)}x` : ""}`);
    }
    process.stdout.write("\nmicro-benchmarks: the guest's run (Roam in-process; QEMU less its start-up), median of " + runs + "\n");
    process.stdout.write("                                            instructions   roam s   qemu s  roam/qemu\n");
    for (const r of rows) {
      const q = r.qemuSeconds ? median(r.qemuSeconds) : null;
      process.stdout.write(`${(r.name + ": " + r.shape).padEnd(44)}${fmt(r.instructions / 1e6, 0, 10)} M${fmt(median(r.roamSeconds), 3, 9)}${fmt(q, 3, 9)}${fmt(r.ratio, 2, 11)}\n`);
    }
    process.stdout.write(version ? `qemu: ${version}; its start-up (hello, ${qemuStartup.toFixed(3)} s) taken off its times\n` : "qemu-riscv32 not installed: Roam's times only\n");
    writeReport(values.out ?? join(root, "bench", "results", "micro.json"), { host: hostInfo(), qemu: version ?? null, qemuStartupSeconds: qemuStartup, runs, rows });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
