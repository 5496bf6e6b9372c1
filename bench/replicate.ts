// Replication benchmark (issue 13): two `roam host` processes on loopback, a
// memwalk guest on the primary, replicated to the backup with `replicate`, for
// epochs of 10, 25 and 100 ms and guests dirtying 0, 10 and 100 MB/s. Then, per
// epoch, the primary is killed with SIGKILL a few times and the failover timed.
//
//   node dist/bench/replicate.js [--epochs 10,25,100] [--rates 0,10,100] [--kills 5] [--window 2000]
//
// Per row:
//   slowdown   1 - (guest instructions per second while replicated) / (the same
//              guest just before, not replicated); ps's instret over --window ms
//   MB/s       bytes to the backup per second (pages, zero-page notes, state)
//   pause      the guest's mean and longest pause per epoch (freeze to resume)
//   latency    the added output latency: an output byte waits on average half an
//              epoch for its epoch to end, then until the epoch is acknowledged
//              (mean freeze-to-ack), so epoch/2 + ack
// Failover: from SIGKILL of the primary (here) to the guest started at the
// backup (the backup's "taken over" log line, on the same clock), p50 and p99.
//
// Guests (guests/process/memwalk.c, 16 MiB region): rate 0 is `--fraction 0`
// (reads and checksums its region forever: busy, writes nothing); rate R is
// `--fraction 1 --rate R/1.048576` (rewrites every page in turn, capped).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/net/peer.js";
import type { Message } from "../src/net/protocol.js";
import type { ReplicationStats } from "../src/replication/epoch.js";
import { benchArgs, fmt, log, packageRoot, percentile } from "./common.js";

const ROAM = join(packageRoot(), "bin/roam.js");
const MEMWALK = join(packageRoot(), "guests/bin/process/memwalk.elf");

interface HostRun { url: string; child: ChildProcess; log: string }

async function startHost(name: string, root: string): Promise<HostRun> {
  const child = spawn(process.execPath, [ROAM, "host", "--listen", "127.0.0.1:0", "--name", name, "--root", root, "--force"], { stdio: ["ignore", "ignore", "pipe"] });
  const host: HostRun = { url: "", child, log: "" };
  child.stderr!.on("data", (d: Buffer) => (host.log += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /listening on (ws:\/\/\S+)/.exec(host.log);
    if (m) { host.url = m[1]; return host; }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`host ${name} did not start: ${host.log}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ask(url: string, message: Omit<Message, "v" | "rid">): Promise<Message> {
  const peer = await connect(url, { role: "client" });
  try {
    return await peer.request(message, 60_000);
  } finally {
    peer.close();
  }
}

async function runGuest(url: string, rate: number): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const argv = rate === 0 ? ["memwalk", "--mib", "16", "--fraction", "0", "--rounds", "0"] : ["memwalk", "--mib", "16", "--fraction", "1", "--rounds", "0", "--rate", String(rate / 1.048576)];
  const reply = await ask(url, { t: "run", kind: "process", program: "memwalk.elf", argv, elf: readFileSync(MEMWALK), ramBytes: 48 << 20 });
  return (reply.guest as { id: string }).id;
}

async function instretRate(url: string, id: string, windowMs: number): Promise<number> {
  const read = async () => Number(((await ask(url, { t: "ps" })).guests as Array<{ id: string; instret: number }>).find((g) => g.id === id)!.instret);
  const a = await read(), t0 = performance.now();
  await sleep(windowMs);
  const b = await read();
  return (b - a) / ((performance.now() - t0) / 1000);
}

async function row(epochMs: number, rate: number, windowMs: number, root: string): Promise<string> {
  const [primary, backup] = await Promise.all([startHost("P", root), startHost("B", root)]);
  try {
    const id = await runGuest(primary.url, rate);
    await sleep(1500); // its first touch of the region, and the JIT's warm-up
    const alone = await instretRate(primary.url, id, windowMs);
    await ask(primary.url, { t: "replicate", guest: id, to: backup.url, epochMs });
    const before = (await ask(primary.url, { t: "stats", guest: id })).replication as ReplicationStats;
    const t0 = performance.now();
    const replicated = await instretRate(primary.url, id, windowMs);
    const stats = (await ask(primary.url, { t: "stats", guest: id })).replication as ReplicationStats;
    const mbps = (stats.bytes - before.bytes) / 1e6 / ((performance.now() - t0) / 1000);
    const slowdown = 100 * (1 - replicated / alone);
    return `${fmt(epochMs, 0, 6)}${fmt(rate, 0, 7)}${fmt(slowdown, 1, 10)}${fmt(mbps, 1, 8)}${fmt(stats.pauseMs.mean, 2, 8)}${fmt(stats.pauseMs.max, 1, 7)}${fmt(stats.meanEpochBytes / 1024, 0, 9)}${fmt(epochMs / 2 + stats.ackMs, 1, 9)}`;
  } finally {
    primary.child.kill("SIGKILL");
    backup.child.kill("SIGKILL");
  }
}

/** Kills the primary `kills` times (a fresh pair each time); the times from SIGKILL to the backup's takeover line. */
async function failovers(epochMs: number, kills: number, root: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < kills; i++) {
    const [primary, backup] = await Promise.all([startHost("P", root), startHost("B", root)]);
    try {
      const id = await runGuest(primary.url, 10);
      await sleep(500);
      await ask(primary.url, { t: "replicate", guest: id, to: backup.url, epochMs });
      await sleep(300 + Math.random() * 500);
      const killedAt = Date.now();
      primary.child.kill("SIGKILL");
      const deadline = Date.now() + 30_000;
      let m: RegExpExecArray | null;
      while (!(m = /^(\S+) \S+\s+\[B\] guest \S+ taken over/m.exec(backup.log))) {
        if (Date.now() > deadline) throw new Error(`no takeover: ${backup.log}`);
        await sleep(5);
      }
      times.push(Date.parse(m[1]) - killedAt);
    } finally {
      primary.child.kill("SIGKILL");
      backup.child.kill("SIGKILL");
    }
  }
  return times;
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, { options: { epochs: { type: "string" }, rates: { type: "string" }, kills: { type: "string" }, window: { type: "string" } } });
  const epochs = (values.epochs ?? "10,25,100").split(",").map(Number);
  const rates = (values.rates ?? "0,10,100").split(",").map(Number);
  const kills = Number(values.kills ?? 5);
  const windowMs = Number(values.window ?? 2000);
  const root = mkdtempSync(join(tmpdir(), "roam-bench-replicate-"));
  try {
    const lines = [`${"epoch".padStart(6)}${"MB/s".padStart(7)}${"slowdown%".padStart(10)}${"toB MB/s".padStart(8)}${"pause".padStart(8)}${"max".padStart(7)}${"KiB/ep".padStart(9)}${"latency".padStart(9)}`];
    for (const epochMs of epochs) for (const rate of rates) {
      log(`epoch ${epochMs} ms, ${rate} MB/s ...`);
      lines.push(await row(epochMs, rate, windowMs, root));
    }
    lines.push("", `failover: SIGKILL of the primary to the guest started at the backup (${kills} kills per epoch, 10 MB/s guest)`);
    for (const epochMs of epochs) {
      log(`failover, epoch ${epochMs} ms ...`);
      const times = await failovers(epochMs, kills, root);
      lines.push(`  epoch ${String(epochMs).padStart(3)} ms: p50 ${percentile(times, 50)} ms, p99 ${percentile(times, 99)} ms (${times.join(" ")})`);
    }
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
