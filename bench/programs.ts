// Real programs benchmark (issue 14): Lua, the SQLite shell, BusyBox sort, awk
// and md5sum (guests/bin/real, built with musl) and the compute guest, each run
// as a user runs it — `roam run` (a new Node process: bin/roam.js run as a command, bench/common.ts roamCommand) against
// `qemu-riscv32`, same ELF, same arguments and files — alternating one of each,
// so that other work on the machine slows both alike. Wall time of the whole
// process (start-up included) and peak memory (VmHWM, read from /proc every
// few milliseconds while it runs: a floor of the true peak, the same for both).
// Both must exit 0 with the same stdout. Target: every row at >= 1.0x QEMU's
// speed, i.e. roam/qemu time <= 1.
//
// With --marginal each row also runs with three times its work (a Lua script looped three times, the SQL three times,
// files three times as long, three times the compute rounds), and a second table gives the time of the extra work,
// (T(3) - T(1)) / 2 for each side: start-up, warm-up and exit cancel out, leaving the speed of the work itself.
//
//   node dist/bench/programs.js [--runs 3] [--quick] [--only lua] [--marginal] [--out file]

import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgs, fmt, hostInfo, log, median, packageRoot, qemuVersion, roamCommand, writeReport } from "./common.js";
import { LUA_MIX, LUA_OBJECTS, SQL_ROWS_AND_JOIN } from "./real-workloads.js";

const QEMU = "qemu-riscv32";

interface Workload {
  name: string;
  elf: string; // under guests/bin
  args: string[];
  files?: Record<string, string>;
  stdin?: string;
}

function wordsFile(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`w${(i * 7919) % 100_003} ${i % 17} ${(i * 31) % 1009}`);
  return out.join("\n") + "\n";
}

/**
 * The rows, each with `scale` times its work (1: the table's rows; --marginal adds 3): a Lua script run `scale` times
 * in a loop, the SQL `scale` times (its table dropped in between), files `scale` times as long, `scale` times the
 * compute rounds.
 */
function workloads(quick: boolean, scale = 1): Workload[] {
  // Sizes give QEMU roughly 0.3-1 s a row (quick: a fifth), so start-up counts but does not decide.
  const sortWords = wordsFile((quick ? 12_000 : 60_000) * scale);
  const awkWords = wordsFile((quick ? 20_000 : 100_000) * scale);
  const blob = wordsFile((quick ? 400_000 : 3_000_000) * scale); // ~40 MB: md5sum reads it in 4 KiB calls
  const lua = (script: string) => (scale === 1 ? script : `for _ = 1, ${scale} do\n${script}\nend\n`);
  const sql = scale === 1 ? SQL_ROWS_AND_JOIN : new Array<string>(scale).fill(SQL_ROWS_AND_JOIN).join("drop table t;\n");
  // "bench" is 100 rounds with the reference checksum; other counts print their checksum unchecked (compared with QEMU's).
  const rounds = quick ? 2 * scale : 100 * scale;
  return [
    { name: "lua: calls, sort, strings", elf: "real/lua.elf", args: ["prog.lua"], files: { "prog.lua": lua(LUA_MIX) } },
    { name: "lua: objects, closures", elf: "real/lua.elf", args: ["prog.lua"], files: { "prog.lua": lua(LUA_OBJECTS) } },
    { name: "sqlite3: 60k rows, index, join", elf: "real/sqlite3.elf", args: [":memory:"], stdin: sql },
    { name: "busybox sort", elf: "real/busybox.elf", args: ["sort", "words.txt"], files: { "words.txt": sortWords } },
    { name: "busybox awk (sums by key)", elf: "real/busybox.elf", args: ["awk", "{ n[$2] += $3; l += length($1) } END { for (k = 0; k < 17; k++) print k, n[k]; print l }", "words.txt"], files: { "words.txt": awkWords } },
    { name: "busybox md5sum", elf: "real/busybox.elf", args: ["md5sum", "blob.txt"], files: { "blob.txt": blob } },
    { name: "compute (CPU mix)", elf: "process/compute.elf", args: [scale === 1 ? (quick ? "small" : "bench") : String(rounds)] },
  ];
}

interface Measured {
  seconds: number;
  peakKiB: number; // VmHWM; 0 when the process ended before the first look
  status: number | null;
  stdout: string;
  stderr: string;
}

/** VmHWM of a live process in KiB, or 0 once it is gone. */
function highWaterKiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs `binary args` in `cwd` to its end: wall time, peak memory, exit status; stdout goes to a file (QEMU's UART drops bytes on a slow pipe). */
function measure(binary: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, stdin: string | undefined): Promise<Measured> {
  const outputPath = join(cwd, ".stdout");
  const inputPath = join(cwd, ".stdin");
  writeFileSync(inputPath, stdin ?? "");
  const out = openSync(outputPath, "w");
  const input = openSync(inputPath, "r");
  const started = performance.now();
  const child = spawn(binary, args, { cwd, env, stdio: [input, out, "pipe"] });
  let peakKiB = 0;
  const watch = setInterval(() => { if (child.pid) peakKiB = Math.max(peakKiB, highWaterKiB(child.pid)); }, 4);
  const stderr: Buffer[] = [];
  child.stderr!.on("data", (d: Buffer) => stderr.push(d));
  return new Promise((resolve, reject) => {
    child.on("error", (error) => { clearInterval(watch); reject(error); });
    let seconds = 0;
    child.on("exit", () => { seconds = (performance.now() - started) / 1000; clearInterval(watch); });
    // "close" comes after "exit" and after stderr has ended: everything it wrote is here.
    child.on("close", (code, signal) => {
      closeSync(out);
      closeSync(input);
      resolve({ seconds, peakKiB, status: code ?? (signal ? -1 : null), stdout: readFileSync(outputPath, "latin1"), stderr: Buffer.concat(stderr).toString("latin1") });
    });
  });
}

interface Row {
  name: string;
  command: string;
  roamSeconds: number[];
  qemuSeconds: number[];
  roamPeakMiB: number;
  qemuPeakMiB: number;
  roamMedian: number;
  qemuMedian: number;
  ratio: number; // roam time / qemu time: <= 1 meets the target
  /**
   * The median of each timed roam run's time over that of the qemu run right after it: a machine whose speed changes
   * for seconds at a time (a virtual machine beside busy neighbours) slows a pair alike, where it can put more of one
   * side's runs than the other's in a slow phase.
   */
  pairedRatio: number;
  /** The untimed first run's roam time / qemu time: roam's caches empty (V8's code cache, Turbofan's code: src/machine/wasm-code-cache.ts). */
  firstRatio: number;
}

async function benchOne(w: Workload, runs: number, root: string, scratch: string, home: string): Promise<Row> {
  const dir = mkdtempSync(join(scratch, "w-"));
  for (const [name, text] of Object.entries(w.files ?? {})) writeFileSync(join(dir, name), text);
  const elf = join(root, "guests", "bin", w.elf);
  const command = roamCommand(["run", elf, ...w.args]);
  const roam = { ...command, env: { ...command.env, HOME: home } };
  const qemu = { binary: QEMU, args: [elf, ...w.args], env: {} };
  const row: Row = { name: w.name, command: [w.elf, ...w.args].join(" ").slice(0, 80), roamSeconds: [], qemuSeconds: [], roamPeakMiB: 0, qemuPeakMiB: 0, roamMedian: 0, qemuMedian: 0, ratio: 0, pairedRatio: 0, firstRatio: 0 };
  // Runs -1 and 0 are untimed: the page cache and roam's caches warm, as for a user's third run (the first records
  // what it translated, the second starts warm from that record and keeps its batch's code: src/jit/warm-start.ts).
  // The first run's ratio, caches empty, is shown apart.
  for (let i = -1; i <= runs; i++) {
    const r = await measure(roam.binary, roam.args, dir, roam.env, w.stdin);
    const q = await measure(qemu.binary, qemu.args, dir, qemu.env, w.stdin);
    if (r.status !== 0) throw new Error(`${w.name}: roam exited ${r.status}\n${r.stderr}`);
    if (q.status !== 0) throw new Error(`${w.name}: qemu exited ${q.status}\n${q.stderr}`);
    if (r.stdout !== q.stdout) throw new Error(`${w.name}: roam's stdout differs from qemu's\n--- roam\n${r.stdout.slice(0, 2000)}\n--- qemu\n${q.stdout.slice(0, 2000)}`);
    if (i === -1) row.firstRatio = r.seconds / q.seconds;
    if (i <= 0) continue;
    row.roamSeconds.push(r.seconds);
    row.qemuSeconds.push(q.seconds);
    row.roamPeakMiB = Math.max(row.roamPeakMiB, r.peakKiB / 1024);
    row.qemuPeakMiB = Math.max(row.qemuPeakMiB, q.peakKiB / 1024);
  }
  row.roamMedian = median(row.roamSeconds);
  row.qemuMedian = median(row.qemuSeconds);
  row.ratio = row.roamMedian / row.qemuMedian;
  row.pairedRatio = median(row.roamSeconds.map((seconds, i) => seconds / row.qemuSeconds[i]));
  log(`  ${w.name}: roam ${row.roamMedian.toFixed(3)} s, qemu ${row.qemuMedian.toFixed(3)} s, ${row.ratio.toFixed(2)}x (paired ${row.pairedRatio.toFixed(2)}x)`);
  return row;
}

/** A row's extra work: what twice its work more took each side (from its run at scale 1 and at scale 3). */
interface Marginal {
  name: string;
  roamSeconds: number; // (roam's median at scale 3 - at scale 1) / 2: the time of one scale's worth of work
  qemuSeconds: number;
  ratio: number; // roam / qemu for the work alone
  roamFixed: number; // roam's median at scale 1 less its work: start-up, warm-up, exit
  qemuFixed: number;
}

function marginalOf(one: Row, three: Row): Marginal {
  const roamSeconds = (three.roamMedian - one.roamMedian) / 2, qemuSeconds = (three.qemuMedian - one.qemuMedian) / 2;
  return {
    name: one.name, roamSeconds, qemuSeconds, ratio: roamSeconds / qemuSeconds,
    roamFixed: one.roamMedian - roamSeconds, qemuFixed: one.qemuMedian - qemuSeconds,
  };
}

function marginalTable(rows: readonly Marginal[]): string[] {
  return [
    "",
    "the work alone: (time with three times the work - time with it once) / 2, medians; fixed: the rest of a scale-1 run",
    `${"".padEnd(32)}   roam s   qemu s  roam/qemu  roam fixed s  qemu fixed s`,
    ...rows.map((r) => `${r.name.padEnd(32)}${fmt(r.roamSeconds, 3, 9)}${fmt(r.qemuSeconds, 3, 9)}${fmt(r.ratio, 2, 11)}${fmt(r.roamFixed, 3, 14)}${fmt(r.qemuFixed, 3, 14)}`),
    `the work alone at or under QEMU's time on ${rows.filter((r) => r.ratio <= 1).length} of ${rows.length} rows`,
  ];
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    options: {
      runs: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      marginal: { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const runs = Number(values.runs ?? (values.quick ? 1 : 3));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: want a positive integer`);
  const version = qemuVersion(QEMU);
  if (!version) throw new Error(`${QEMU} is not on PATH: this benchmark compares against it (apt-get install qemu-user)`);
  const root = packageRoot();
  const outPath = values.out ?? join(root, "bench", "results", values.quick ? "programs-quick.json" : "programs.json");
  const choose = (scale: number) => workloads(values.quick, scale).filter((w) => !values.only || w.name.includes(values.only));
  const chosen = choose(1);
  if (chosen.length === 0) throw new Error(`--only ${values.only}: no workload has that in its name`);
  const scratch = mkdtempSync(join(tmpdir(), "roam-bench-programs-"));
  const home = join(scratch, "home"); // roam's code cache and warm-start records live under HOME, written by the untimed runs
  try {
    const loadBefore = loadavg()[0];
    log(`real programs: roam run vs ${QEMU}, ${runs} timed run(s) each, alternating; load average ${loadBefore.toFixed(2)}`);
    const rows: Row[] = [];
    for (const w of chosen) rows.push(await benchOne(w, runs, root, scratch, home));
    const tripled = values.marginal ? choose(3) : []; // the same rows in the same order as `rows`
    const marginal: Marginal[] = [];
    for (let i = 0; i < tripled.length; i++) marginal.push(marginalOf(rows[i], await benchOne(tripled[i], runs, root, scratch, home)));
    const loadAfter = loadavg()[0];
    const lines = [
      "",
      `real programs: wall time of the whole process (start-up included), median of ${runs}; peak memory (VmHWM)`,
      `${"".padEnd(32)}   roam s   qemu s  roam/qemu   paired  roam MiB  qemu MiB  1st run`,
      ...rows.map((r) => `${r.name.padEnd(32)}${fmt(r.roamMedian, 3, 9)}${fmt(r.qemuMedian, 3, 9)}${fmt(r.ratio, 2, 11)}${fmt(r.pairedRatio, 2, 9)}${fmt(r.roamPeakMiB, 0, 10)}${fmt(r.qemuPeakMiB, 0, 10)}${fmt(r.firstRatio, 2, 9)}`),
      `target: roam/qemu <= 1.00 on every row; met on ${rows.filter((r) => r.ratio <= 1).length} of ${rows.length}` +
        " (paired: the median of each roam run over the qemu run after it; 1st run: roam/qemu of the untimed first" +
        " run, roam's caches empty)",
      `host: ${hostInfo().cpus} CPUs; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after` +
        (loadBefore > 0.5 || loadAfter > 1.5 ? ": other work was running, expect noise" : ""),
      ...(marginal.length === 0 ? [] : marginalTable(marginal)),
      `qemu: ${version}`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
    writeReport(outPath, {
      benchmark: "programs",
      date: new Date().toISOString(),
      host: { ...hostInfo(), loadAverage1m: { before: loadBefore, after: loadAfter } },
      runs,
      qemu: { version, binary: QEMU },
      results: rows,
      ...(marginal.length === 0 ? {} : { marginal }),
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/programs: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
