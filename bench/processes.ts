// Processes benchmark: BusyBox (guests/bin/real/busybox.elf, musl) running
// shell work that is mostly fork, exec, wait and pipes, and POSIX threads
// (guests/bin/calls/threads.elf) handing a turn back and forth and being made
// and joined, in-process on Roam's kernel and as a qemu-riscv32 process, same
// ELF, same arguments, same files.
//
//   node dist/bench/processes.js [--runs 3] [--quick] [--no-qemu] [--out file]
//
// Rows:
//   fork+wait        1,000 `seq 1 0`: ash forks and runs the applet in the child (a
//                    NOEXEC applet: no exec), then waits
//   shell loop       1,000 external commands, `cat empty`: fork, execve, wait (cat is
//                    run by re-executing the program)
//   pipe             64 MiB from one dd to another through a pipe (MB/s)
//   thread hand-off  two threads pass a turn through a mutex and condition variable,
//                    100,000 times each: futex waits and wakes, a switch each time
//   thread spawn     2,000 threads made and joined, 100 at a time
// qemu-user cannot execve a RISC-V program without binfmt_misc: BusyBox's re-exec
// of /proc/self/exe fails there and ash searches PATH, so PATH names a directory of
// one wrapper per applet (`exec qemu-riscv32 busybox.elf APPLET "$@"`) — the same
// applet of the same ELF, through one more host exec (/bin/sh) than binfmt would
// take. Without them QEMU would silently run the host's own cat and dd.
// Roam is timed around Kernel.run() (no Node start-up), QEMU as a whole process
// (its start-up, ~20 ms, included). Median of --runs; outputs must match.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseElf } from "../src/elf/index.js";
import { Kernel } from "../src/kernel/kernel.js";
import { Core } from "../src/machine/core.js";
import { CaptureConsole } from "./capture-console.js";
import { benchArgs, fmt, hostInfo, log, median, packageRoot, qemuVersion, writeReport } from "./common.js";

const QEMU = "qemu-riscv32";

interface Row {
  name: string;
  program: "busybox" | "threads";
  args: string[];
  count: number; // operations (commands, forks) or bytes
  unit: "op" | "MB";
  qemu: boolean;
}

function rows(quick: boolean): Row[] {
  const n = quick ? 200 : 1000;
  const mib = quick ? 8 : 64;
  const turns = quick ? 20_000 : 100_000, threads = quick ? 400 : 2000;
  const sh = (script: string) => ["sh", "-c", script];
  return [
    { name: `fork+wait x${n}`, program: "busybox", args: sh(`for i in $(seq ${n}); do seq 1 0; done; echo done`), count: n, unit: "op", qemu: true },
    { name: `fork+exec+wait x${n}`, program: "busybox", args: sh(`for i in $(seq ${n}); do cat empty; done; echo done`), count: n, unit: "op", qemu: true },
    { name: `pipe ${mib} MiB`, program: "busybox", args: sh(`dd if=big bs=65536 2>err1 | dd of=out bs=65536 2>err2; echo done`), count: mib * 1.048576, unit: "MB", qemu: true },
    { name: `thread hand-off x${2 * turns}`, program: "threads", args: ["pingpong", String(turns)], count: 2 * turns, unit: "op", qemu: true },
    { name: `thread spawn x${threads}`, program: "threads", args: ["spawn", String(threads)], count: threads, unit: "op", qemu: true },
  ];
}

async function runRoam(core: Core, elf: Uint8Array, elfPath: string, args: string[], root: string, path: string): Promise<{ seconds: number; stdout: string }> {
  const console = new CaptureConsole();
  const kernel = new Kernel({
    core, image: parseElf(elf), program: elf, ramBytes: 256 << 20, root, argv: [elfPath, ...args], envp: [`PATH=${path}`], console,
    inputReady: () => Promise.resolve(), warn: (message) => log(`  roam: warning: ${message}`),
  });
  const started = performance.now();
  const result = await kernel.run();
  const seconds = (performance.now() - started) / 1000;
  if (result.exitCode !== 0) throw new Error(`roam: ${args.join(" ")}: exit ${result.exitCode} ${result.report ?? ""}\n${console.text(2)}`);
  return { seconds, stdout: console.text(1) };
}

/** qemu-riscv32's full path (found on the PATH this benchmark was started with). */
function qemuBinary(): string {
  return spawnSync("sh", ["-c", `command -v ${QEMU}`], { encoding: "utf8" }).stdout.trim();
}

function runQemu(elfPath: string, args: string[], root: string, path: string): { seconds: number; stdout: string } {
  const started = performance.now();
  // By its full path: the guest's PATH (the wrappers) is the one the process gets.
  const r = spawnSync(qemuBinary(), [elfPath, ...args], { cwd: root, encoding: "latin1", maxBuffer: 64 << 20, env: { PATH: path } });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`qemu: ${args.join(" ")}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  return { seconds, stdout: r.stdout };
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    options: { runs: { type: "string", default: "3" }, quick: { type: "boolean", default: false }, "no-qemu": { type: "boolean", default: false }, out: { type: "string" } },
  });
  const runs = Number(values.runs);
  const paths = { busybox: join(packageRoot(), "guests/bin/real/busybox.elf"), threads: join(packageRoot(), "guests/bin/calls/threads.elf") };
  const elves = { busybox: readFileSync(paths.busybox), threads: readFileSync(paths.threads) };
  const elfPath = paths.busybox;
  const root = mkdtempSync(join(tmpdir(), "roam-bench-procs-"));
  writeFileSync(join(root, "empty"), "");
  writeFileSync(join(root, "big"), Buffer.alloc((values.quick ? 8 : 64) << 20, 0x61));
  const version = values["no-qemu"] ? undefined : qemuVersion(QEMU);
  const applets = join(root, "..", `${root.split("/").pop()}-applets`);
  mkdirSync(applets);
  if (version) {
    const list = spawnSync(QEMU, [elfPath, "--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const name of list) {
      writeFileSync(join(applets, name), `#!/bin/sh\nexec ${qemuBinary()} ${elfPath} ${name} "$@"\n`);
      chmodSync(join(applets, name), 0o755);
    }
  }
  const core = await Core.load();
  const results = [];
  try {
    for (const row of rows(values.quick)) {
      const roam: number[] = [], qemu: number[] = [];
      let output = "";
      for (let i = 0; i < runs; i++) {
        const r = await runRoam(core, elves[row.program], paths[row.program], row.args, root, applets);
        roam.push(r.seconds);
        output = r.stdout;
        if (version && row.qemu) {
          const q = runQemu(paths[row.program], row.args, root, applets);
          if (q.stdout !== r.stdout) throw new Error(`${row.name}: QEMU printed ${JSON.stringify(q.stdout)}, Roam ${JSON.stringify(r.stdout)}`);
          qemu.push(q.seconds);
        }
      }
      const roamS = median(roam), qemuS = qemu.length ? median(qemu) : null;
      const rate = (s: number | null) => (s === null ? null : row.count / s);
      results.push({ name: row.name, output: output.trim(), roamSeconds: roamS, qemuSeconds: qemuS, roamRate: rate(roamS), qemuRate: rate(qemuS), unit: row.unit, ratio: qemuS === null ? null : roamS / qemuS });
      log(`  ${row.name}: roam ${roamS.toFixed(3)} s${qemuS === null ? "" : `, qemu ${qemuS.toFixed(3)} s`}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(applets, { recursive: true, force: true });
  }
  const header = `${"".padEnd(24)}  roam s   qemu s   roam rate   qemu rate  roam/qemu time`;
  const lines = results.map((r) => `${r.name.padEnd(24)}${fmt(r.roamSeconds, 3, 8)}${fmt(r.qemuSeconds, 3, 9)}${fmt(r.roamRate, 0, 10)}/${r.unit === "op" ? "s " : "MB/s"}${fmt(r.qemuRate, 0, 9)}/${r.unit === "op" ? "s " : "MB/s"}${fmt(r.ratio, 2, 10)}`);
  console.log(["", "Processes and threads (BusyBox sh, guests/calls/threads.c; musl): rates are operations or MB per second", header, ...lines,
    version ? `qemu: ${version} (its execs go through a wrapper per applet: qemu-user cannot exec a RISC-V program without binfmt_misc)` : "qemu: skipped"].join("\n"));
  const out = values.out ?? join(packageRoot(), "bench/results", values.quick ? "processes-quick.json" : "processes.json");
  writeReport(out, { host: hostInfo(), qemu: version ?? null, runs, results });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
