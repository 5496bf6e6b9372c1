// Process-mode benchmark: static RV32 Linux programs run in-process by Roam's
// kernel (src/kernel/process.ts), with the same ELF and arguments then run on
// qemu-riscv32 (QEMU's user-mode emulator) for a roam/QEMU wall-time ratio.
//
//   node dist/bench/process.js [--runs 3] [--quick] [--no-qemu] [--out file]
//
// Workloads (guests/bin/process, sources in guests/process):
//   compute bench   the five single-kernel runs (sieve, crc32, matmul, quicksort,
//                   Dhrystone-like), then 100 rounds of compute-mix: about 1.43 G
//                   instructions; with translation of hot loops on (the default)
//                   and off (the interpreter alone). compute cannot run one
//                   kernel on its own, so there is no per-kernel row.
//   memwalk         maps 64 MiB (anonymous) and writes every page once, then
//                   checksums and verifies it: every page is demand-paged, so
//                   this row carries the page-fault cost (faults, resident pages
//                   and the time spent in the kernel's fault handler).
// --quick uses small sizes (compute small, memwalk 8 MiB: a smoke test; results
// go to bench/results/process-quick.json unless --out says otherwise).
//
// Roam runs in-process: Core.load() once, a new Process per run, time measured
// around process.run() (no Node start-up, no WASM compile, no ELF parse), median
// of --runs after an untimed warm-up with the small compute size. QEMU's time is
// the wall time of the whole qemu-riscv32 process; its start-up alone (the hello
// guest) is reported too. MIPS use Roam's exact instruction count for both.
// Every run must exit 0 with the guest's own "ok" verdict, and QEMU's stdout
// must equal Roam's byte for byte; otherwise the benchmark fails.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseElf, type ElfImage } from "../src/elf/index.js";
import { Kernel } from "../src/kernel/kernel.js";
import { Core } from "../src/machine/core.js";
import { CaptureConsole } from "./capture-console.js";
import { benchArgs, fmt, hostInfo, log, median, medianIndex, packageRoot, qemuVersion, runTimed, writeReport } from "./common.js";

const QEMU = "qemu-riscv32";
const RAM_BYTES = 128 << 20; // guest RAM for every row: room for memwalk's 64 MiB region

interface Workload {
  name: string;
  guest: string; // under guests/bin/process
  args: string[];
  translate: boolean[]; // one row per setting
  ok: RegExp; // the guest's own verdict in its stdout
}

interface RoamRun {
  seconds: number;
  instructions: number;
  stdout: string;
  syscalls: Record<string, number>;
  pageFaults: number;
  residentPages: number;
  faultServiceMs: number; // inside AddressSpace.handleFault
  phases: Record<string, number> | null; // memwalk: ms from start to its first-touch line, its rounds, its verification
  translationRequests: number; // hot-loop exits to the host, including for loops already translated
  translatedLoops: number;
  translatedInstructions: number;
  compileMs: number;
}

interface Row {
  name: string;
  guest: string;
  args: string[];
  translate: boolean;
  ramBytes: number;
  instructions: number;
  seconds: number[];
  medianSeconds: number;
  mips: number;
  // from the median run:
  syscalls: Record<string, number>;
  pageFaults: number;
  residentPages: number;
  faultServiceMs: number;
  phases: Record<string, number> | null;
  translationRequests: number;
  translatedLoops: number;
  translatedInstructions: number;
  compileMs: number;
  qemuSeconds: number[] | null;
  qemuMedianSeconds: number | null;
  qemuMips: number | null; // Roam's instruction count / QEMU's wall time
  ratio: number | null; // roam time / qemu time
}


function describe(w: Pick<Workload, "guest" | "args">): string {
  return [w.guest, ...w.args].join(" ");
}

function checkGuest(who: string, w: Workload, stdout: string, stderr: string, status: number | null, report?: string): void {
  if (status !== 0 || report || !w.ok.test(stdout)) {
    throw new Error(`${who} ${describe(w)}: exit ${status}${report ? ` (${report})` : ""}, stdout:\n${stdout}stderr:\n${stderr}`);
  }
}

/**
 * memwalk flushes stdout after its first touch of every page ("touched ..."),
 * after each round and at the end: the write times split its run into phases.
 */
function memwalkPhases(writes: CaptureConsole["stdoutWrites"], started: number, ended: number): Record<string, number> | null {
  const touched = writes.find((w) => w.text.includes("touched "));
  const lastRound = [...writes].reverse().find((w) => w.text.includes("round "));
  if (!touched || !lastRound) return null;
  return {
    firstTouchMs: touched.at - started, // mmap, fill every page (each one demand-paged), checksum
    roundsMs: lastRound.at - touched.at, // rewrite the chosen pages, checksum after each round
    verifyMs: ended - lastRound.at, // recompute every page, memcmp it, final checksum
  };
}

async function runRoam(core: Core, elfPath: string, image: ElfImage, w: Workload, translate: boolean, root: string): Promise<RoamRun> {
  const console = new CaptureConsole();
  const guest = new Kernel({
    core, image, ramBytes: RAM_BYTES, root, argv: [elfPath, ...w.args], envp: [], console,
    inputReady: () => Promise.resolve(), translate, warn: (message) => log(`  roam: warning: ${message}`),
  });
  // Time the kernel's demand-paging handler (two performance.now() calls a fault).
  const space = guest.space;
  const handleFault = space.handleFault.bind(space);
  let faultServiceMs = 0;
  space.handleFault = (address: number, needed: number): boolean => {
    const started = performance.now();
    try {
      return handleFault(address, needed);
    } finally {
      faultServiceMs += performance.now() - started;
    }
  };
  // The translator lives as long as the core (its counts are totals): take differences.
  const t = core.translator?.stats;
  const before = t ? { ...t } : undefined;
  const started = performance.now();
  const result = await guest.run();
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  const stdout = console.text(1);
  checkGuest("roam", w, stdout, console.text(2), result.exitCode, result.report);
  return {
    seconds,
    instructions: Number(result.instret),
    stdout,
    syscalls: Object.fromEntries([...guest.stats.syscalls.entries()].sort((a, b) => b[1] - a[1])),
    pageFaults: guest.stats.pageFaults,
    residentPages: guest.frames.peak, // the high-water mark: at exit every frame has gone back
    faultServiceMs,
    phases: w.guest === "memwalk" ? memwalkPhases(console.stdoutWrites, started, ended) : null,
    translationRequests: t && before ? t.requests - before.requests : 0,
    translatedLoops: t && before ? t.translated - before.translated : 0,
    translatedInstructions: t && before ? t.instructions - before.instructions : 0,
    compileMs: t && before ? t.compileMs - before.compileMs : 0,
  };
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    options: {
      runs: { type: "string", default: "3" },
      quick: { type: "boolean", default: false },
      "no-qemu": { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: want a positive integer`);

  const root = packageRoot();
  const guests = join(root, "guests", "bin", "process");
  const outPath = values.out ?? join(root, "bench", "results", values.quick ? "process-quick.json" : "process.json");
  const walkMiB = values.quick ? 8 : 64;
  const computeOk = /compute-mix: checksum 0x[0-9a-f]{8} ok\ncompute: all checksums ok\n$/;
  const compute: Workload = { name: "compute", guest: "compute", args: [values.quick ? "small" : "bench"], translate: [true, false], ok: computeOk };
  const workloads: Workload[] = [
    compute,
    {
      name: `memwalk ${walkMiB} MiB once`, guest: "memwalk", args: ["--mib", String(walkMiB), "--fraction", "0", "--rounds", "1"],
      translate: [true], ok: /memwalk: final checksum 0x[0-9a-f]{8}, verify ok\n$/,
    },
  ];
  const rowName = (w: Workload, translate: boolean) =>
    w.guest === "compute" ? `compute ${w.args[0]}, ${translate ? "translation on" : "interpreter only"}` : w.name;
  const elfPath = (guest: string) => join(guests, `${guest}.elf`);

  const scratch = mkdtempSync(join(tmpdir(), "roam-bench-process-")); // the guests' sandbox root, and QEMU's stdout
  try {
    const core = await Core.load();
    // Warm-up (V8 tiers the core's WASM up during the first runs): compute small, untimed, both ways.
    const small = { ...compute, args: ["small"] };
    const computeImage = parseElf(readFileSync(elfPath("compute")));
    for (const translate of [true, false]) await runRoam(core, elfPath("compute"), computeImage, small, translate, scratch);

    const loadBefore = loadavg()[0];
    log(`roam process benchmark: ${runs} run(s) per measurement, median reported; load average ${loadBefore.toFixed(2)}`);
    const rows: Row[] = [];
    const outputs = new Map<Workload, string>();
    for (const w of workloads) {
      const bytes = readFileSync(elfPath(w.guest));
      for (const translate of w.translate) {
        const name = rowName(w, translate);
        const samples: RoamRun[] = [];
        for (let i = 0; i < runs; i++) {
          const sample = await runRoam(core, elfPath(w.guest), parseElf(bytes), w, translate, scratch);
          log(`  roam ${name}: ${sample.seconds.toFixed(3)} s, ${(sample.instructions / sample.seconds / 1e6).toFixed(1)} MIPS` +
            (sample.pageFaults ? `, ${sample.pageFaults} page faults (${sample.faultServiceMs.toFixed(1)} ms in the handler)` : ""));
          if (samples.length && sample.instructions !== samples[0].instructions) {
            throw new Error(`roam ${name}: ${sample.instructions} instructions, but ${samples[0].instructions} in the first run`);
          }
          samples.push(sample);
        }
        outputs.set(w, samples[0].stdout);
        const seconds = samples.map((s) => s.seconds);
        const mid = samples[medianIndex(seconds)];
        const medianSeconds = median(seconds);
        rows.push({
          name, guest: w.guest, args: w.args, translate, ramBytes: RAM_BYTES, instructions: mid.instructions, seconds, medianSeconds,
          mips: mid.instructions / medianSeconds / 1e6, syscalls: mid.syscalls, pageFaults: mid.pageFaults, residentPages: mid.residentPages,
          faultServiceMs: mid.faultServiceMs, phases: mid.phases, translationRequests: mid.translationRequests,
          translatedLoops: mid.translatedLoops, translatedInstructions: mid.translatedInstructions, compileMs: mid.compileMs,
          qemuSeconds: null, qemuMedianSeconds: null, qemuMips: null, ratio: null,
        });
      }
    }

    const version = values["no-qemu"] ? undefined : qemuVersion(QEMU);
    let qemuStartupSeconds: number | null = null;
    if (version) {
      // An empty environment, as the Roam runs have (QEMU_* variables would change QEMU's behaviour).
      const qemu = (w: Pick<Workload, "guest" | "args">) => runTimed(QEMU, [elfPath(w.guest), ...w.args], scratch, {});
      const startup: number[] = [];
      for (let i = 0; i < runs; i++) {
        const run = qemu({ guest: "hello", args: [] });
        if (run.status !== 0) throw new Error(`qemu hello: exit ${run.status ?? run.failure}\n${run.stderr}`);
        startup.push(run.seconds);
      }
      qemuStartupSeconds = median(startup);
      for (const w of workloads) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const run = qemu(w);
          checkGuest("qemu", w, run.stdout, run.stderr, run.status, run.failure);
          if (run.stdout !== outputs.get(w)) {
            throw new Error(`${describe(w)}: QEMU's stdout differs from Roam's\n--- roam\n${outputs.get(w)}--- qemu\n${run.stdout}`);
          }
          times.push(run.seconds);
          log(`  qemu ${describe(w)}: ${run.seconds.toFixed(3)} s`);
        }
        const qemuSeconds = median(times);
        for (const row of rows.filter((r) => r.guest === w.guest && r.args === w.args)) {
          row.qemuSeconds = times;
          row.qemuMedianSeconds = qemuSeconds;
          row.qemuMips = row.instructions / qemuSeconds / 1e6;
          row.ratio = row.medianSeconds / qemuSeconds;
        }
      }
    }

    const loadAfter = loadavg()[0];
    const percent = (part: number, whole: number) => `${((part / whole) * 100).toFixed(1)}%`;
    const lines = [
      "",
      `roam run (process mode) vs ${QEMU}, median of ${runs}; ${RAM_BYTES >> 20} MiB guest RAM`,
      `${"".padEnd(36)}  instructions  roam s    MIPS  qemu s  qemu MIPS  roam/qemu  faults  resident`,
      ...rows.map(
        (r) =>
          `${r.name.padEnd(36)}${r.instructions.toLocaleString("en-US").padStart(14)}${fmt(r.medianSeconds, 3, 8)}${fmt(r.mips, 1, 8)}` +
          `${fmt(r.qemuMedianSeconds, 3, 8)}${fmt(r.qemuMips, 0, 11)}${fmt(r.ratio, 2, 11)}` +
          `${String(r.pageFaults).padStart(8)}${String(r.residentPages).padStart(10)}`,
      ),
      "where roam's time goes (median run):",
      ...rows.map((r) => {
        const parts = [
          `system calls ${Object.entries(r.syscalls).map(([n, c]) => `${n} ${c}`).join(", ") || "none"}`,
          r.translate
            ? `${r.translatedLoops} regions translated (${r.translatedInstructions} instructions, ${r.compileMs.toFixed(1)} ms compiling, ` +
              `${percent(r.compileMs / 1000, r.medianSeconds)}), ${r.translationRequests.toLocaleString("en-US")} translation requests`
            : "no translation",
        ];
        if (r.pageFaults) {
          parts.push(
            `${r.pageFaults} page faults: ${r.faultServiceMs.toFixed(1)} ms in the handler (${percent(r.faultServiceMs / 1000, r.medianSeconds)}, ` +
              `${((r.faultServiceMs * 1000) / r.pageFaults).toFixed(2)} us each)`,
          );
        }
        if (r.phases) {
          const p = r.phases;
          parts.push(
            `phases: first touch ${p.firstTouchMs.toFixed(0)} ms (${(walkMiB / (p.firstTouchMs / 1000)).toFixed(0)} MiB/s), ` +
              `rounds ${p.roundsMs.toFixed(0)} ms, verify ${p.verifyMs.toFixed(0)} ms`,
          );
        }
        return `  ${r.name}: ${parts.join(";\n    ")}`;
      }),
      "faults: demand-paged pages (the handler's time excludes the trap into the host and back); resident: the most frames in use at once (page tables included).",
      "translation requests: exits to the host when a loop head or a called function gets hot (its 255th arrival; it then waits, asking no more, until its region is installed or declined);",
      "memwalk phases: from its stdout flushes.",
      `host: ${hostInfo().cpus} CPUs; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (this run adds about 1)` +
        (loadBefore > 0.5 || loadAfter > 1.5 ? ": other work was running, expect noise" : ""),
      version
        ? `qemu: ${version}; process start-up alone (hello): ${qemuStartupSeconds!.toFixed(3)} s, included in its times`
        : `qemu: ${values["no-qemu"] ? "skipped (--no-qemu)" : `${QEMU} not on PATH`}, no ratio`,
    ];
    process.stdout.write(lines.join("\n") + "\n");

    writeReport(outPath, {
      benchmark: "process",
      date: new Date().toISOString(),
      host: { ...hostInfo(), loadAverage1m: { before: loadBefore, after: loadAfter } },
      runs,
      ramBytes: RAM_BYTES,
      qemu: version ? { version, binary: QEMU, startupSeconds: qemuStartupSeconds, startupGuest: "hello" } : null,
      results: rows,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
