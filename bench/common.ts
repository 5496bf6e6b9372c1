// Helpers shared by the benchmarks (bench/core.ts, bench/process.ts): their command lines, the
// package root, medians and percentiles, table cells, host facts, QEMU runs timed as whole
// processes, and the JSON report.

import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";

import { packageRoot } from "../src/package-root.js";

export { packageRoot };

/**
 * A benchmark's options (node:util's parseArgs with `config`), for the script at `scriptUrl` (its import.meta.url):
 * `--help` prints the script's opening comment, which says what it measures and how it is run, and exits; an
 * unknown option or a missing value is one line naming it and exit status 2, not a stack trace.
 */
export function benchArgs<T extends ParseArgsConfig>(scriptUrl: string, config: T): ReturnType<typeof parseArgs<T>> {
  const script = fileURLToPath(scriptUrl);
  const args = config.args ?? process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(openingComment(readFileSync(script, "utf8")));
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    process.stderr.write(`bench/${basename(script, ".js")}: ${(error as Error).message} (--help shows the options)\n`);
    process.exit(2);
  }
}

/** The `//` lines a source file opens with, without the slashes. */
export function openingComment(source: string): string {
  const lines: string[] = [];
  for (const line of source.split("\n")) {
    if (!line.startsWith("//")) break;
    lines.push(line.replace(/^\/\/ ?/, ""));
  }
  return lines.join("\n") + "\n";
}

/**
 * qemu-system-riscv32's command line for a bare-metal image (then `-kernel IMAGE`), as `roam boot` runs it: the same
 * hart as Roam's (RV32IMAC + S + U), 128 MiB, the UART on stdio (bench/core.ts, bench/startup.ts --boot).
 */
export const QEMU_SYSTEM_ARGS = [
  "-M", "virt", "-cpu", "rv32,f=off,d=off,h=off", "-m", "128M", "-smp", "1",
  "-bios", "none", "-display", "none", "-monitor", "none", "-serial", "stdio",
];

/**
 * The `roam` command as a user runs it (`roam ARGS`, the installed bin): bin/roam.js executed, so its first line
 * starts Node with the launcher's options (`--v8-pool-size=0`: bin/roam.js), not `node bin/roam.js`, which leaves
 * Node's defaults. Spawn `binary` with `args` and `env` added to the environment: the line finds `node` on PATH, so
 * PATH starts with this Node's directory (the benchmark's Node, whatever else PATH holds).
 */
export function roamCommand(args: string[]): { binary: string; args: string[]; env: { PATH: string } } {
  const path = [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter);
  return { binary: join(packageRoot(), "bin", "roam.js"), args, env: { PATH: path } };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The p-th percentile (0 < p <= 100), nearest rank: the smallest sample with at least p% of the samples at or below it. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The index of the sample closest to the median (its other figures go with it). */
export function medianIndex(values: number[]): number {
  const target = median(values);
  let best = 0;
  for (let i = 1; i < values.length; i++) if (Math.abs(values[i] - target) < Math.abs(values[best] - target)) best = i;
  return best;
}

/** A right-aligned table cell; null prints as "-". */
export function fmt(value: number | null, digits: number, width: number): string {
  return (value === null ? "-" : value.toFixed(digits)).padStart(width);
}

/** Progress lines go to stderr; the table goes to stdout. */
export function log(line: string): void {
  process.stderr.write(line + "\n");
}

export function hostInfo(): { node: string; platform: string; arch: string; cpu: string; cpus: number } {
  return { node: process.version, platform: process.platform, arch: process.arch, cpu: cpus()[0]?.model ?? "unknown", cpus: cpus().length };
}

/** The first line of `binary --version`; undefined when it is not installed. */
export function qemuVersion(binary: string): string | undefined {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return probe.error || probe.status !== 0 ? undefined : probe.stdout.split("\n")[0];
}

export interface TimedRun {
  seconds: number; // wall time of the whole process, start-up included
  status: number | null;
  stdout: string; // latin1
  stderr: string;
  failure?: string; // why there is no status (spawn error or signal)
}

/**
 * Runs `binary args` to completion and times it. stdout goes to a file in
 * `scratch`: QEMU's stdout is non-blocking and its UART drops bytes when a pipe
 * reader falls behind.
 */
export function runTimed(binary: string, args: string[], scratch: string, env?: NodeJS.ProcessEnv, cwd?: string): TimedRun {
  const outputPath = join(scratch, "stdout");
  const fd = openSync(outputPath, "w");
  const started = performance.now();
  const result = spawnSync(binary, args, { stdio: ["ignore", fd, "pipe"], env, cwd, maxBuffer: 64 << 20 });
  const seconds = (performance.now() - started) / 1000;
  closeSync(fd);
  const failure = result.status === null ? String(result.error ?? result.signal) : undefined;
  return { seconds, status: result.status, stdout: readFileSync(outputPath, "latin1"), stderr: result.stderr?.toString("latin1") ?? "", failure };
}

export function writeReport(outPath: string, report: unknown): void {
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, JSON.stringify(report, null, 2) + "\n");
  process.stdout.write(`wrote ${relative(process.cwd(), outPath) || outPath}\n`);
}
