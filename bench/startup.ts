// Start-up benchmark: `roam run hello.elf` as a user runs it (a new Node
// process: bin/roam.js run as the `roam` command is, bench/common.ts roamCommand) against
// `qemu-riscv32 hello.elf`, same ELF, same (empty) environment, in the same
// run, alternating one of each so that other work on the machine slows both
// alike. Node running an empty script is timed too: Node's own start, a floor
// no Roam change goes below (not `node -e 0`, which loads more of Node). Issue 14's target: Roam's median within 50 ms of QEMU's.
//
//   node dist/bench/startup.js [--runs 20] [--quick] [--no-qemu] [--boot] [--out file]
//
// --boot: machine mode instead, `roam boot --ram 128M hello.elf` (the bare-metal hello) against
// `qemu-system-riscv32 ... -kernel hello.elf` with bench/core.ts's arguments; stdin is /dev/null for every process.
//
// Wall time of each whole process (spawn to exit), median and p90 of --runs
// (--quick: 5). Each run must exit 0, and Roam's stdout must equal QEMU's.
// Roam starts from its bundle with V8's code cache (src/launch/): it is given a
// HOME of its own in the scratch directory, where the untimed first round
// writes the cache, as a user's first run does. Two more rows, same ELF and
// same run: a first run (ROAM_CODE_CACHE=0: the bundle compiled from source)
// and Roam loading its ES modules (ROAM_NO_BUNDLE=1, as before the bundle).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgs, fmt, hostInfo, log, median, packageRoot, percentile, QEMU_SYSTEM_ARGS, qemuVersion, roamCommand, runTimed, writeReport, type TimedRun } from "./common.js";

const TARGET_MS = 50; // issue 14: within 50 ms of QEMU's start-up

interface Contender {
  name: string;
  binary: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  seconds: number[];
}

interface Summary {
  name: string;
  command: string;
  seconds: number[];
  medianMs: number;
  p90Ms: number;
}

function summarise(c: Contender): Summary {
  const ms = c.seconds.map((s) => s * 1000);
  return { name: c.name, command: [c.binary, ...c.args].join(" "), seconds: c.seconds, medianMs: median(ms), p90Ms: percentile(ms, 90) };
}

function check(c: Contender, run: TimedRun, expectedStdout: string | undefined): void {
  if (run.status !== 0) throw new Error(`${c.name}: exit ${run.status ?? run.failure}\nstdout:\n${run.stdout}stderr:\n${run.stderr}`);
  if (expectedStdout !== undefined && run.stdout !== expectedStdout) {
    throw new Error(`${c.name}: stdout differs from roam's\n--- roam\n${expectedStdout}--- ${c.name}\n${run.stdout}`);
  }
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    options: {
      runs: { type: "string" },
      quick: { type: "boolean", default: false },
      "no-qemu": { type: "boolean", default: false },
      boot: { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const boot = values.boot;
  const QEMU = boot ? "qemu-system-riscv32" : "qemu-riscv32";
  const runs = Number(values.runs ?? (values.quick ? 5 : 20));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: want a positive integer`);
  const root = packageRoot();
  const hello = join(root, "guests", "bin", boot ? "baremetal" : "process", "hello.elf");
  const outPath = values.out ?? join(root, "bench", "results", `startup${boot ? "-boot" : ""}${values.quick ? "-quick" : ""}.json`);
  const version = values["no-qemu"] ? undefined : qemuVersion(QEMU);

  // The guest's root (and cwd) is an empty directory: as in a user's own, roam gives it a private /tmp.
  const scratch = mkdtempSync(join(tmpdir(), "roam-bench-startup-"));
  const home = join(scratch, "home");
  const command = boot ? ["boot", "--ram", "128M"] : ["run"];
  const roamRun = (name: string, env: NodeJS.ProcessEnv): Contender => {
    const roamCli = roamCommand([...command, hello]);
    return { name, ...roamCli, env: { ...roamCli.env, HOME: home, ...env }, seconds: [] };
  };
  const roam = roamRun(`roam ${command[0]} hello`, {});
  const firstRun = roamRun("roam, no code cache", { ROAM_CODE_CACHE: "0" });
  const modules = roamRun("roam, ES modules", { ROAM_NO_BUNDLE: "1" });
  const qemu: Contender = { name: `${QEMU} hello`, binary: QEMU, args: boot ? [...QEMU_SYSTEM_ARGS, "-kernel", hello] : [hello], seconds: [] };
  const empty = join(scratch, "empty.mjs");
  const node: Contender = { name: "node (empty script)", binary: process.execPath, args: [empty], seconds: [] };
  const contenders = [roam, ...(version ? [qemu] : []), firstRun, modules, node];
  const isRoam = (c: Contender) => c === roam || c === firstRun || c === modules;
  try {
    mkdirSync(home);
    writeFileSync(empty, "");
    const loadBefore = loadavg()[0];
    log(`roam start-up benchmark: ${runs} run(s) of each, alternating; load average ${loadBefore.toFixed(2)}`);
    // One untimed round: the page cache holds Node, QEMU and the files afterwards, as for a user's second run.
    for (const c of contenders) runTimed(c.binary, c.args, scratch, c.env ?? {}, scratch);
    let roamStdout: string | undefined;
    for (let i = 0; i < runs; i++) {
      for (const c of contenders) {
        const run = runTimed(c.binary, c.args, scratch, c.env ?? {}, scratch);
        check(c, run, c === roam || c === node ? undefined : roamStdout);
        if (c === roam) roamStdout = run.stdout;
        c.seconds.push(run.seconds);
      }
      log(`  round ${i + 1}: ${contenders.map((c) => `${c.name} ${(c.seconds[i] * 1000).toFixed(0)} ms`).join(", ")}`);
    }
    const loadAfter = loadavg()[0];

    const rows = contenders.map(summarise);
    const [r, q] = [rows[0], version ? rows[1] : undefined];
    const nodeRow = rows[rows.length - 1];
    const differenceMs = q ? r.medianMs - q.medianMs : null;
    const ratio = q ? r.medianMs / q.medianMs : null;
    const lines = [
      "",
      `start-up: wall time of the whole process, ${runs} run(s) each, alternating`,
      `${"".padEnd(26)}  median ms  p90 ms  roam's part (median - node's)`,
      ...rows.map((s, i) => `${s.name.padEnd(26)}${fmt(s.medianMs, 1, 11)}${fmt(s.p90Ms, 1, 8)}` +
        (isRoam(contenders[i]) ? fmt(s.medianMs - nodeRow.medianMs, 1, 10) : "")),
      q
        ? `roam - qemu: ${differenceMs!.toFixed(1)} ms (median), p90 ${(r.p90Ms - q.p90Ms).toFixed(1)} ms; roam/qemu ${ratio!.toFixed(2)}; ` +
          (boot ? "(issue 14's target is roam run's)" : `target within ${TARGET_MS} ms: ${differenceMs! <= TARGET_MS ? "met" : "missed"}`)
        : `qemu: ${values["no-qemu"] ? "skipped (--no-qemu)" : `${QEMU} not on PATH`}, no difference`,
      `node running an empty script is Node's own start: roam - node ${(r.medianMs - nodeRow.medianMs).toFixed(1)} ms is Roam's part (modules, core, kernel, guest).`,
      `host: ${hostInfo().cpus} CPUs; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after` +
        (loadBefore > 0.5 || loadAfter > 1.5 ? ": other work was running, expect noise" : ""),
      version ? `qemu: ${version}` : "",
    ];
    process.stdout.write(lines.filter((l) => l !== "").join("\n") + "\n");
    writeReport(outPath, {
      benchmark: boot ? "startup-boot" : "startup",
      date: new Date().toISOString(),
      host: { ...hostInfo(), loadAverage1m: { before: loadBefore, after: loadAfter } },
      runs,
      qemu: version ? { version, binary: QEMU } : null,
      targetMs: TARGET_MS,
      differenceMs,
      ratio,
      results: rows,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/startup: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
