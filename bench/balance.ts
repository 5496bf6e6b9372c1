// bench:balance — load balancing on a cluster of eight hosts of different
// capacities on this machine (issue 12), measured as Harchol-Balter & Downey
// measured it ("Exploiting process lifetime distributions for dynamic load
// balancing", 1997): a stream of guests whose lifetimes follow the
// distribution they found, P(life > T) = 1/T beyond one unit, arriving as a
// Poisson process at a load of 0.5, 0.7 and 0.9 of the cluster's capacity.
//
// For each load, the same stream (same seed) runs under:
//   random        each guest on a host picked at random, never moved
//   placement     `roam run --on cluster`: the less loaded of two random
//                 choices (Mitzenmacher), never moved
//   sender, receiver, symmetric
//                 placement as above, and the hosts balance with that policy
//                 (`roam host --balance`): old guests move, by age against the
//                 cost of moving them (H-B&D's criterion)
// and reports, per run: mean and p99 slowdown (time in system over time alone
// on the fastest host: the best it could have had), migrations per guest and bytes
// moved. H-B&D found migration cut mean delay 35-50% below placement only:
// the last column says our reduction on the same terms.
//
// Capacities (`--capacity`) make the hosts' speeds known and fixed, so the
// figures do not hang on what else this machine does. A unit of life is
// UNIT_INSTRUCTIONS (counter guests: about 11 instructions per step).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Attachment } from "../src/cli/attachment.js";
import type { MigrationStats } from "../src/migration/stats.js";
import { connect } from "../src/net/peer.js";
import { fmt, hostInfo, log, packageRoot, percentile, writeReport } from "./common.js";

const { values: opts } = parseArgs({ options: { quick: { type: "boolean" }, seconds: { type: "string" }, out: { type: "string" } } });
const QUICK = opts.quick ?? false;
const ROOT = packageRoot();
const ARRIVAL_SECONDS = Number(opts.seconds ?? (QUICK ? 30 : 60));
const LOADS = QUICK ? [0.7] : [0.5, 0.7, 0.9];
const POLICIES = ["random", "placement", "sender", "receiver", "symmetric"] as const;
type Policy = typeof POLICIES[number];

// Instructions per second: together well below what this machine's two cores give, so the caps, not the machine, set
// each host's speed (beside other work the machine's share can drop a lot).
const CAPACITIES = [2, 2, 4, 4, 8, 8, 16, 16].map((m) => m * 1e6);
const TOTAL_CAPACITY = CAPACITIES.reduce((a, b) => a + b, 0);
const MEAN_CAPACITY = TOTAL_CAPACITY / CAPACITIES.length;
// Slowdown is against the guest's time alone on the fastest host: the best it could have had, so a slowdown is >= 1
// and slowdown - 1 is the delay the policies cause (against a host of the mean capacity it fell below 1).
const FASTEST = Math.max(...CAPACITIES);
const UNIT_SECONDS = 0.5; // one unit of life: half a second on a host of the mean capacity
const UNIT_INSTRUCTIONS = UNIT_SECONDS * MEAN_CAPACITY;
const LONGEST_UNITS = 20; // the distribution is cut here, so a run ends
const INSTRUCTIONS_PER_STEP = 11; // counter's loop (measured with roam run --stats)
const COUNTER = readFileSync(join(ROOT, "guests/bin/process/counter.elf"));

const scratch = mkdtempSync(join(tmpdir(), "roam-bench-balance-"));
const children = new Set<ChildProcess>();
process.on("exit", () => { for (const c of children) c.kill("SIGKILL"); rmSync(scratch, { recursive: true, force: true }); });
process.on("SIGINT", () => process.exit(130));

/** A seeded generator (mulberry32), so every policy sees the same stream of guests. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Life in units, P(life > T) = 1/T for 1 <= T <= LONGEST_UNITS (inverse transform of the cut distribution). */
function lifeUnits(u: number): number {
  return 1 / (1 - u * (1 - 1 / LONGEST_UNITS));
}

/** Mean of that cut distribution: ln(L) / (1 - 1/L). */
const MEAN_UNITS = Math.log(LONGEST_UNITS) / (1 - 1 / LONGEST_UNITS);

interface Arrival { at: number; instructions: number; pick: number }

/** The stream of guests for `load`: Poisson arrivals over ARRIVAL_SECONDS, each with its work and a random pick. */
function stream(load: number, seed: number): Arrival[] {
  const next = random(seed);
  const rate = (load * TOTAL_CAPACITY) / (MEAN_UNITS * UNIT_INSTRUCTIONS); // guests per second
  const arrivals: Arrival[] = [];
  for (let at = -Math.log(1 - next()) / rate; at < ARRIVAL_SECONDS; at += -Math.log(1 - next()) / rate) {
    arrivals.push({ at, instructions: lifeUnits(next()) * UNIT_INSTRUCTIONS, pick: next() });
  }
  return arrivals;
}

/** `roam host` with a capacity (and a policy), joined to `member`; its URL once it listens. */
async function startHost(name: string, capacity: number, policy: Policy, member?: string): Promise<string> {
  const balance = policy === "random" || policy === "placement" ? [] : ["--balance", policy];
  const args = ["host", "--listen", "127.0.0.1:0", "--name", name, "--root", scratch, "--force", "--capacity", String(capacity), ...balance, ...(member ? ["--join", member] : [])];
  const child = spawn(process.execPath, [join(ROOT, "bin", "roam.js"), ...args], { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.on("close", () => children.delete(child));
  let text = "";
  return new Promise((resolve, reject) => {
    const seen = (d: Buffer) => {
      text += d.toString();
      const m = /listening on (ws:\S+)/.exec(text);
      if (m) resolve(m[1]);
    };
    child.stdout!.on("data", seen);
    child.stderr!.on("data", seen);
    child.on("close", (code) => reject(new Error(`host ${name} exited (${code}): ${text.slice(-400)}`)));
  });
}

async function ask(url: string, message: { t: string } & Record<string, unknown>): Promise<Record<string, unknown>> {
  const peer = await connect(url, { role: "client" });
  try { return await peer.request(message, 30_000); } finally { peer.close(); }
}

/** Eight hosts that all know each other (the first's view lists every member up). */
async function cluster(policy: Policy): Promise<string[]> {
  const first = await startHost("H1", CAPACITIES[0], policy);
  const rest = await Promise.all(CAPACITIES.slice(1).map((c, i) => startHost(`H${i + 2}`, c, policy, first)));
  const urls = [first, ...rest];
  for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 100))) {
    const views = await Promise.all(urls.map((u) => ask(u, { t: "cluster" })));
    if (views.every((v) => (v.members as Array<{ state: string }>).filter((m) => m.state !== "down").length === urls.length)) return urls;
    if (Date.now() > deadline) throw new Error("the eight hosts did not all learn each other in 30 s");
  }
}

interface GuestRun { seconds: number; alone: number; moves: number; bytes: number }

/** Starts one guest of `a` on the host `policy` picks; resolves when it has ended, with what it cost. */
async function runGuest(a: Arrival, policy: Policy, urls: string[]): Promise<GuestRun> {
  const steps = Math.max(1, Math.round(a.instructions / INSTRUCTIONS_PER_STEP));
  const started = performance.now();
  const url = policy === "random" ? urls[Math.floor(a.pick * urls.length)] : String((await ask(urls[Math.floor(a.pick * urls.length)], { t: "place", requires: [], ramBytes: 8 << 20 })).url);
  const ran = await ask(url, { t: "run", program: "counter", argv: ["counter", String(steps), String(steps)], elf: COUNTER, ramBytes: 8 << 20 });
  const id = (ran.guest as { id: string }).id;
  const hosts = [url];
  const attachment = new Attachment(url, id, () => {}, undefined, 0, { moved: (to) => hosts.push(to) });
  await attachment.start();
  const result = await attachment.done;
  attachment.close();
  if (result.code !== 0) throw new Error(`guest ${id} ended with ${result.code} (${result.status}: ${result.report})`);
  const seconds = (performance.now() - started) / 1000;
  let bytes = 0;
  for (const from of hosts.slice(0, -1)) {
    const stats = await ask(from, { t: "stats", guest: id });
    bytes += (stats.migrations as MigrationStats[]).filter((m) => m.status === "completed").reduce((n, m) => n + m.bytes, 0);
  }
  return { seconds, alone: a.instructions / FASTEST, moves: hosts.length - 1, bytes };
}

interface Row { load: number; policy: Policy; guests: number; meanSlowdown: number; p99Slowdown: number; migrationsPerGuest: number; mibMoved: number; wallSeconds: number }

async function runOnce(load: number, policy: Policy): Promise<Row> {
  const arrivals = stream(load, 1997 + Math.round(load * 100));
  const urls = await cluster(policy);
  const t0 = performance.now();
  const runs = await Promise.all(arrivals.map(async (a) => {
    const wait = a.at * 1000 - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return runGuest(a, policy, urls);
  }));
  const wallSeconds = (performance.now() - t0) / 1000;
  for (const c of [...children]) c.kill("SIGKILL");
  const slowdowns = runs.map((r) => r.seconds / r.alone);
  const row: Row = {
    load, policy, guests: runs.length, wallSeconds,
    meanSlowdown: slowdowns.reduce((a, b) => a + b, 0) / slowdowns.length, p99Slowdown: percentile(slowdowns, 99),
    migrationsPerGuest: runs.reduce((n, r) => n + r.moves, 0) / runs.length, mibMoved: runs.reduce((n, r) => n + r.bytes, 0) / 2 ** 20,
  };
  log(`  load ${load} ${policy}: ${row.guests} guests, mean slowdown ${row.meanSlowdown.toFixed(2)}, p99 ${row.p99Slowdown.toFixed(2)}, ${row.migrationsPerGuest.toFixed(3)} migrations/guest, ${row.mibMoved.toFixed(1)} MiB moved, ${wallSeconds.toFixed(0)} s`);
  return row;
}

async function main(): Promise<void> {
  log(`bench:balance: 8 hosts (${CAPACITIES.map((c) => c / 1e6 + "M").join(", ")} instructions/s), lifetimes P(life > T) = 1/T for 1..${LONGEST_UNITS} units ` +
    `(a unit: ${UNIT_INSTRUCTIONS / 1e6}M instructions, ${UNIT_SECONDS} s on a ${MEAN_CAPACITY / 1e6}M host), arrivals over ${ARRIVAL_SECONDS} s`);
  const rows: Row[] = [];
  for (const load of LOADS) for (const policy of POLICIES) rows.push(await runOnce(load, policy));
  writeReport(opts.out ?? join(ROOT, "bench/results", QUICK ? "balance-quick.json" : "balance.json"), { host: hostInfo(), quick: QUICK, capacities: CAPACITIES, unitInstructions: UNIT_INSTRUCTIONS, longestUnits: LONGEST_UNITS, arrivalSeconds: ARRIVAL_SECONDS, rows });
  console.log(`\n${"load".padStart(4)}  ${"policy".padEnd(10)} ${"guests".padStart(6)} ${"mean sd".padStart(8)} ${"p99 sd".padStart(8)} ${"migr/guest".padStart(10)} ${"MiB moved".padStart(9)} ${"mean vs placement".padStart(17)}`);
  for (const r of rows) {
    const placement = rows.find((p) => p.load === r.load && p.policy === "placement")!;
    const reduction = r.policy === "random" || r.policy === "placement" ? null : 100 * (1 - (r.meanSlowdown - 1) / (placement.meanSlowdown - 1));
    console.log(`${r.load.toFixed(1).padStart(4)}  ${r.policy.padEnd(10)} ${String(r.guests).padStart(6)} ${fmt(r.meanSlowdown, 2, 8)} ${fmt(r.p99Slowdown, 2, 8)} ${fmt(r.migrationsPerGuest, 3, 10)} ${fmt(r.mibMoved, 1, 9)} ${reduction === null ? "-".padStart(17) : `${reduction.toFixed(0)}% less delay`.padStart(17)}`);
  }
  console.log(`\nslowdown: time in system over time alone on the fastest host; "less delay": mean delay (slowdown - 1) below placement only, H-B&D's measure (they found 35-50%).`);
}

main().then(() => process.exit(0), (error: Error) => { log(`bench:balance: ${error.stack ?? error.message}`); process.exit(1); });
