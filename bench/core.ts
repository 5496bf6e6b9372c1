// Machine-mode core benchmark: MIPS for the compute-mix guest with paging off
// (compute-mix-bench.elf, M-mode) and on (compute-mix-sv32-bench.elf, S-mode
// under Sv32); each plain, with dirty tracking "on" (the host clears the bitmap
// every few ms, as precopy migration does, so every page's first write after a
// clear takes the slow path again) and with present tracking "on" (every page
// starts missing and is fetched on first touch, as postcopy does); plus the
// interpreter alone, without translation of hot loops. The same images then run
// on qemu-system-riscv32, when installed, for a roam/QEMU wall-time ratio.
//
//   node dist/bench/core.js [--runs 3] [--clear-ms 5] [--quick] [--no-qemu] [--out file]
//
// --quick uses the small test-size images (a smoke test; results go to
// bench/results/core-quick.json unless --out says otherwise).
//
// Roam runs in-process through the machine API: Core.load() once, a new Machine
// per run, time measured around machine.run() (no Node start-up, no WASM
// compile). QEMU time is the wall time of the whole process (its start-up,
// measured separately with exit-code.elf, is reported too). So the table's
// ratio leaves out Roam's start-up and counts QEMU's; a last table compares
// whole processes as a user runs them, `roam boot` against qemu-system-riscv32,
// alternating, both start-ups included. Each guest checks
// its own checksum; a run whose guest does not print "ok" and exit 0 fails the
// benchmark instead of producing a number.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIRTY_BITMAP } from "../assembly/layout.js";
import { parseElf } from "../src/elf/index.js";
import { MemoryConsoleOutput } from "../src/machine/console-output.js";
import { Core } from "../src/machine/core.js";
import { Machine } from "../src/machine/machine.js";
import { benchArgs, fmt, hostInfo, log, median, medianIndex, packageRoot, QEMU_SYSTEM_ARGS, qemuVersion, roamCommand, runTimed, writeReport } from "./common.js";

const RAM_BYTES = 128 * 1024 * 1024;
const QEMU = "qemu-system-riscv32";
// Same hart as Roam's (RV32IMAC + S + U); stdout to a file, see runQemu.
const QEMU_ARGS = QEMU_SYSTEM_ARGS;

interface Config {
  name: string;
  image: string; // under guests/bin/baremetal
  paging: boolean;
  dirty: boolean;
  present: boolean; // every page starts missing and is fetched on first touch (transfer on reference)
  translate: boolean; // hot loops translated to WebAssembly (false: the interpreter alone)
}

interface RoamRun {
  seconds: number;
  instructions: number;
  clears: number;
  dirtyPages: number; // summed over the clears
  pagesFetched: number;
}

interface Row {
  name: string;
  image: string;
  paging: boolean;
  dirtyTracking: boolean;
  presentTracking: boolean;
  translate: boolean;
  pagesFetched: number;
  instructions: number;
  seconds: number[];
  medianSeconds: number;
  mips: number;
  clears: number; // in the median run
  clearIntervalMs: number | null; // measured: wall time / clears
  dirtyPagesPerClear: number | null;
  qemuMedianSeconds: number | null;
  qemuMips: number | null;
  ratio: number | null; // roam time / qemu time
}

// The guests print "<name>: checksum 0x........ ok" when their result matches.
function checkGuest(who: string, image: string, output: string, status: number | null): void {
  if (status !== 0 || !/checksum 0x[0-9a-f]{8} ok\n/.test(output)) {
    throw new Error(`${who} ${image}: status ${status}, output:\n${output}`);
  }
}

const POPCOUNT = new Uint8Array(256).map((_, i) => {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  return n;
});

async function runRoam(core: Core, elf: Uint8Array, image: string, config: Pick<Config, "dirty" | "present" | "translate">, clearMs: number): Promise<RoamRun> {
  const { dirty, present, translate } = config;
  const output = new MemoryConsoleOutput();
  // Present tracking on: the loaded image is kept aside, every page is dropped,
  // and the page source copies each back the first time the guest touches it.
  let backing: Uint8Array | undefined;
  const pageSource = present ? (page: number, bytes: Uint8Array) => bytes.set(backing!.subarray(page * 4096, page * 4096 + 4096)) : undefined;
  const machine = new Machine({ core, ramBytes: RAM_BYTES, console: output, translate, pageSource });
  machine.load(parseElf(elf));
  if (present) {
    backing = core.ram.slice();
    machine.dropAllPages();
  }
  const bitmapBytes = RAM_BYTES / 4096 / 8;
  let clears = 0;
  let dirtyPages = 0;
  // The machine yields to the event loop between batches of slices (every few
  // ms), which is when this timer gets to run: as a precopy round would, it
  // reads the dirty bitmap and clears it.
  const timer = dirty
    ? setInterval(() => {
        const bitmap = core.memoryBytes.subarray(DIRTY_BITMAP, DIRTY_BITMAP + bitmapBytes);
        for (let i = 0; i < bitmap.length; i++) dirtyPages += POPCOUNT[bitmap[i]];
        core.exports.clearDirty();
        clears++;
      }, clearMs)
    : undefined;
  const started = performance.now();
  const result = await machine.run();
  const seconds = (performance.now() - started) / 1000;
  if (timer) clearInterval(timer);
  checkGuest("roam", image, output.text(), result.exitCode);
  return { seconds, instructions: Number(result.instret), clears, dirtyPages, pagesFetched: machine.stats.pagesFetched };
}

/** `roam boot IMAGE` as a user runs it: the wall time of the whole process, start-up included. */
function runRoamBoot(elfPath: string, image: string, scratch: string): number {
  const { binary, args, env } = roamCommand(["boot", "--ram", "128M", elfPath]);
  const run = runTimed(binary, args, scratch, { ...process.env, ...env });
  checkGuest("roam boot", image, run.stdout, run.status);
  return run.seconds;
}

interface WholeProcessRow { image: string; paging: boolean; roamSeconds: number; qemuSeconds: number; ratio: number }

// QEMU's time is the wall time of the whole process (start-up included).
function runQemu(elfPath: string, image: string, scratch: string, check: boolean): number {
  const run = runTimed(QEMU, [...QEMU_ARGS, "-kernel", elfPath], scratch);
  if (check) checkGuest("qemu", image, run.stdout, run.status);
  else if (run.failure) throw new Error(`qemu ${image}: ${run.failure}`);
  return run.seconds;
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    options: {
      runs: { type: "string", default: "3" },
      "clear-ms": { type: "string", default: "5" },
      quick: { type: "boolean", default: false },
      "no-qemu": { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const clearMs = Number(values["clear-ms"]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: want a positive integer`);
  if (!(clearMs > 0)) throw new Error(`--clear-ms ${values["clear-ms"]}: want a positive number`);

  const root = packageRoot();
  const guests = join(root, "guests", "bin", "baremetal");
  const suffix = values.quick ? "" : "-bench";
  const outPath = values.out ?? join(root, "bench", "results", values.quick ? "core-quick.json" : "core.json");
  const plain = `compute-mix${suffix}.elf`;
  const sv32 = `compute-mix-sv32${suffix}.elf`;
  const off = { dirty: false, present: false, translate: true };
  const configs: Config[] = [
    { name: "paging off", image: plain, paging: false, ...off },
    { name: "paging off, dirty tracking on", image: plain, paging: false, ...off, dirty: true },
    { name: "paging off, present tracking on", image: plain, paging: false, ...off, present: true },
    { name: "paging on (Sv32)", image: sv32, paging: true, ...off },
    { name: "paging on, dirty tracking on", image: sv32, paging: true, ...off, dirty: true },
    { name: "paging on, present tracking on", image: sv32, paging: true, ...off, present: true },
    { name: "paging off, interpreter only", image: plain, paging: false, ...off, translate: false },
  ];
  const images = [...new Set(configs.map((c) => c.image))];
  const elves = new Map(images.map((image) => [image, readFileSync(join(guests, image))]));

  const core = await Core.load();
  // Warm-up (V8 tiers the WASM up during the first run): the small image, untimed.
  await runRoam(core, readFileSync(join(guests, "compute-mix.elf")), "compute-mix.elf", { dirty: false, present: false, translate: true }, clearMs);

  log(`roam core benchmark: ${runs} run(s) per measurement, median reported; dirty bitmap cleared every ${clearMs} ms when on`);

  const rows: Row[] = [];
  for (const config of configs) {
    const samples: RoamRun[] = [];
    for (let i = 0; i < runs; i++) {
      const sample = await runRoam(core, elves.get(config.image)!, config.image, config, clearMs);
      log(`  roam ${config.name}: ${sample.seconds.toFixed(3)} s, ${(sample.instructions / sample.seconds / 1e6).toFixed(1)} MIPS` +
        (config.dirty ? `, ${sample.clears} clears` : ""));
      samples.push(sample);
    }
    const seconds = samples.map((s) => s.seconds);
    const mid = samples[medianIndex(seconds)];
    const medianSeconds = median(seconds);
    rows.push({
      name: config.name,
      image: config.image,
      paging: config.paging,
      dirtyTracking: config.dirty,
      presentTracking: config.present,
      translate: config.translate,
      pagesFetched: mid.pagesFetched,
      instructions: mid.instructions,
      seconds,
      medianSeconds,
      mips: mid.instructions / medianSeconds / 1e6,
      clears: mid.clears,
      clearIntervalMs: config.dirty && mid.clears ? (mid.seconds * 1000) / mid.clears : null,
      dirtyPagesPerClear: config.dirty && mid.clears ? mid.dirtyPages / mid.clears : null,
      qemuMedianSeconds: null,
      qemuMips: null,
      ratio: null,
    });
  }

  const version = values["no-qemu"] ? undefined : qemuVersion(QEMU);
  let qemuStartupSeconds: number | null = null;
  const wholeProcess: WholeProcessRow[] = [];
  if (version) {
    const scratch = mkdtempSync(join(tmpdir(), "roam-bench-"));
    try {
      const startup: number[] = [];
      for (let i = 0; i < runs; i++) startup.push(runQemu(join(guests, "exit-code.elf"), "exit-code.elf", scratch, false));
      qemuStartupSeconds = median(startup);
      for (const image of images) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          times.push(runQemu(join(guests, image), image, scratch, true));
          log(`  qemu ${image}: ${times[i].toFixed(3)} s`);
        }
        const qemuSeconds = median(times);
        for (const row of rows.filter((r) => r.image === image)) {
          row.qemuMedianSeconds = qemuSeconds;
          row.qemuMips = row.instructions / qemuSeconds / 1e6;
          row.ratio = row.medianSeconds / qemuSeconds;
        }
      }
      for (const [image, paging] of [[plain, false], [sv32, true]] as const) {
        const roamTimes: number[] = [], qemuTimes: number[] = [];
        for (let i = 0; i < runs; i++) {
          roamTimes.push(runRoamBoot(join(guests, image), image, scratch));
          qemuTimes.push(runQemu(join(guests, image), image, scratch, true));
          log(`  whole process ${image}: roam boot ${roamTimes[i].toFixed(3)} s, qemu ${qemuTimes[i].toFixed(3)} s`);
        }
        const roamSeconds = median(roamTimes), qemuSeconds = median(qemuTimes);
        wholeProcess.push({ image, paging, roamSeconds, qemuSeconds, ratio: roamSeconds / qemuSeconds });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  // The cost of a tracking mode: its time over the same image's plain row (same translation setting).
  const baselineOf = (r: Row) => rows.find((b) => b.image === r.image && !b.dirtyTracking && !b.presentTracking && b.translate === r.translate);
  const costPercent = (r: Row): number | null => {
    const base = baselineOf(r);
    return base && base !== r ? (r.medianSeconds / base.medianSeconds - 1) * 100 : null;
  };
  const lines = [
    "",
    `compute-mix, ${rows[0].instructions.toLocaleString("en-US")} instructions (paging off), median of ${runs}`,
    `${"".padEnd(34)}  roam s    MIPS   cost%  clears  pages/clear  fetched  qemu s  qemu MIPS  roam/qemu`,
    ...rows.map(
      (r) =>
        `${r.name.padEnd(34)}${fmt(r.medianSeconds, 3, 8)}${fmt(r.mips, 1, 8)}${fmt(costPercent(r), 1, 8)}` +
        `${(r.dirtyTracking ? String(r.clears) : "-").padStart(8)}${fmt(r.dirtyPagesPerClear, 1, 13)}` +
        `${(r.presentTracking ? String(r.pagesFetched) : "-").padStart(9)}` +
        `${fmt(r.qemuMedianSeconds, 3, 8)}${fmt(r.qemuMips, 0, 11)}${fmt(r.ratio, 2, 10)}`,
    ),
    "cost%: time over the same image's row without tracking. present tracking on: every RAM page starts missing",
    "and is copied in by the host on first touch (as postcopy migration does), fault service included.",
    ...rows
      .filter((r) => r.clearIntervalMs !== null)
      .slice(0, 1)
      .map(
        (r) =>
          `dirty tracking on: bitmap read and cleared every ${r.clearIntervalMs!.toFixed(1)} ms in effect ` +
          `(a ${clearMs} ms timer, run when the machine yields between its batches of slices)`,
      ),
    version
      ? `qemu: ${version}; process start-up alone (exit-code.elf): ${qemuStartupSeconds!.toFixed(3)} s, included in its times`
      : `qemu: ${values["no-qemu"] ? "skipped (--no-qemu)" : `${QEMU} not on PATH`}, no ratio`,
    ...(wholeProcess.length === 0 ? [] : [
      "",
      `whole processes as a user runs them (roam boot --ram 128M vs ${QEMU}, start-up included), alternating, median of ${runs}`,
      `${"".padEnd(34)}  roam s  qemu s  roam/qemu`,
      ...wholeProcess.map((w) => `${(w.paging ? "paging on (Sv32)" : "paging off").padEnd(34)}${fmt(w.roamSeconds, 3, 8)}${fmt(w.qemuSeconds, 3, 8)}${fmt(w.ratio, 2, 11)}`),
    ]),
  ];
  process.stdout.write(lines.join("\n") + "\n");

  const report = {
    benchmark: "core",
    date: new Date().toISOString(),
    host: hostInfo(),
    runs,
    clearMs,
    ramBytes: RAM_BYTES,
    qemu: version ? { version, args: QEMU_ARGS.join(" "), startupSeconds: qemuStartupSeconds } : null,
    results: rows,
    wholeProcess,
  };
  writeReport(outPath, report);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/core: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
