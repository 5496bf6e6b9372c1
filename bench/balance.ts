// bench:balance — load balancing on a cluster of eight hosts of different
// capacities on this machine (issue 12), measured as Harchol-Balter & Downey
// measured it ("Exploiting process lifetime distributions for dynamic load
// balancing", 1997): a stream of guests whose lifetimes follow the
// distribution they found, P(life > T) = 1/T beyond one unit, arriving as a
// Poisson process at a load of 0.5, 0.7 and 0.9 of the cluster's capacity.
//
// Each policy runs --repeat times (default 3), interleaved (random, placement,
// sender, receiver, symmetric, then again), so what the machine does meanwhile
// falls on all of them alike; repetition r gives every policy the same stream
// (same seed), and a new one each repetition:
//   random        each guest on a host picked at random, never moved
//   placement     `roam run --on cluster`: the less loaded of two random
//                 choices (Mitzenmacher), never moved
//   sender, receiver, symmetric
//                 placement as above, and the hosts balance with that policy
//                 (`roam host --balance`): old guests move, by age against the
//                 cost of moving them (H-B&D's criterion)
// and reports, per policy: mean slowdown (time in system over time alone on
// the fastest host: the best it could have had) with its spread over the
// repetitions, p99, migrations per guest, bytes moved, and the reduction of
// mean slowdown and of mean delay (slowdown - 1) against placement only in the
// same repetition (paired: the same stream), with its spread. H-B&D found
// migration cut mean delay 35-50% below placement only.
//
// "Time alone" is measured as time in system is: the guest's instructions at
// the fastest host's capacity, plus the fixed cost of a guest (place, run,
// load, attach, the end's notice), timed by running one-step guests on the
// fastest host of each fresh cluster the same way.
//
// Capacities (`--capacity`) make the hosts' speeds known and fixed, so the
// figures do not hang on what else this machine does. A unit of life is
// UNIT_INSTRUCTIONS (counter guests: about 11 instructions per step).
//
// Each run's balancer decisions (every host's last 50, and the counts) go into
// the JSON, to tell why a policy did or did not pay.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attachment } from "../src/cli/attachment.js";
import type { MigrationStats } from "../src/migration/stats.js";
import { connect } from "../src/net/peer.js";
import { loadavg } from "node:os";
import type { Decision } from "../src/cluster/balance/balancer.js";
import { benchArgs, hostInfo, log, median, packageRoot, percentile, writeReport } from "./common.js";
import { summaryTable, type Row } from "./balance-table.js";

const { values: opts } = benchArgs(import.meta.url, {
  options: { quick: { type: "boolean" }, seconds: { type: "string" }, repeat: { type: "string" }, loads: { type: "string" }, policies: { type: "string" }, out: { type: "string" } },
});
const QUICK = opts.quick ?? false;
const ROOT = packageRoot();
const ALL_POLICIES = ["random", "placement", "sender", "receiver", "symmetric"] as const;
type Policy = typeof ALL_POLICIES[number];
const ARRIVAL_SECONDS = positive(opts.seconds ?? (QUICK ? "30" : "60"), "--seconds");
const REPEAT = Math.round(positive(opts.repeat ?? (QUICK ? "1" : "3"), "--repeat"));
const LOADS = opts.loads ? opts.loads.split(",").map((l) => positive(l, "--loads")) : QUICK ? [0.7] : [0.5, 0.7, 0.9];
const POLICIES = (opts.policies ? opts.policies.split(",") : [...ALL_POLICIES]).map((p) => {
  if (!(ALL_POLICIES as readonly string[]).includes(p)) usage(`--policies: '${p}' is not one of ${ALL_POLICIES.join(", ")}`);
  return p as Policy;
});

function usage(message: string): never {
  log(`bench:balance: ${message}`);
  process.exit(2);
}

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) usage(`${what}: '${text}' is not a positive number`);
  return n;
}

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

/**
 * Starts one guest of `a` on the host `policy` picks (`on`: on that host, after
 * asking for a place all the same); resolves when it has ended, with what it cost.
 */
async function runGuest(a: Arrival, policy: Policy, urls: string[], overhead: number, on?: string): Promise<GuestRun> {
  const steps = Math.max(1, Math.round(a.instructions / INSTRUCTIONS_PER_STEP));
  const started = performance.now();
  const placed = policy === "random" ? urls[Math.floor(a.pick * urls.length)] : String((await ask(urls[Math.floor(a.pick * urls.length)], { t: "place", requires: [], ramBytes: 8 << 20 })).url);
  const url = on ?? placed;
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
  return { seconds, alone: a.instructions / FASTEST + overhead, moves: hosts.length - 1, bytes };
}

/**
 * The fixed cost of a guest, as time in system counts it (place, run, load,
 * attach, the end's notice): the median of one-step guests run one after
 * another on the fastest host of the fresh cluster, by `policy`'s path.
 */
async function fixedCost(policy: Policy, urls: string[]): Promise<number> {
  const fastest = urls[CAPACITIES.indexOf(FASTEST)];
  const seconds: number[] = [];
  for (let i = 0; i < 5; i++) seconds.push((await runGuest({ at: 0, instructions: 1, pick: i / 5 }, policy, urls, 0, fastest)).seconds);
  return median(seconds);
}

/** Every host's balancer: its counts and its last decisions (each keeps 50). */
async function decisionsOf(urls: string[]): Promise<{ migrations: number; failures: number; refusals: number; decisions: Decision[] }> {
  const all = { migrations: 0, failures: 0, refusals: 0, decisions: [] as Decision[] };
  for (const url of urls) {
    const b = (await ask(url, { t: "cluster" })).balance as { migrations: number; failures: number; refusals: number; decisions: Decision[] };
    all.migrations += b.migrations;
    all.failures += b.failures;
    all.refusals += b.refusals;
    all.decisions.push(...b.decisions);
  }
  all.decisions.sort((x, y) => x.at.localeCompare(y.at));
  return all;
}

async function runOnce(load: number, policy: Policy, repetition: number): Promise<Row> {
  const arrivals = stream(load, 1997 + Math.round(load * 100) + 7919 * repetition);
  const urls = await cluster(policy);
  const overhead = await fixedCost(policy, urls);
  const t0 = performance.now();
  const runs = await Promise.all(arrivals.map(async (a) => {
    const wait = a.at * 1000 - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return runGuest(a, policy, urls, overhead);
  }));
  const wallSeconds = (performance.now() - t0) / 1000;
  const balance = await decisionsOf(urls);
  for (const c of [...children]) c.kill("SIGKILL");
  const slowdowns = runs.map((r) => r.seconds / r.alone);
  const row: Row = {
    load, policy, repetition, guests: runs.length, wallSeconds, overheadSeconds: overhead, machineLoad: loadavg()[0],
    meanSlowdown: slowdowns.reduce((a, b) => a + b, 0) / slowdowns.length, p99Slowdown: percentile(slowdowns, 99),
    migrationsPerGuest: runs.reduce((n, r) => n + r.moves, 0) / runs.length, mibMoved: runs.reduce((n, r) => n + r.bytes, 0) / 2 ** 20,
    byLife: byLife(arrivals, runs), balance,
  };
  log(`  load ${load} #${repetition + 1} ${policy}: ${row.guests} guests, mean slowdown ${row.meanSlowdown.toFixed(2)}, p99 ${row.p99Slowdown.toFixed(2)}, ` +
    `${row.migrationsPerGuest.toFixed(3)} migrations/guest, ${row.mibMoved.toFixed(1)} MiB moved, fixed cost ${(overhead * 1000).toFixed(0)} ms, ${wallSeconds.toFixed(0)} s, machine load ${row.machineLoad.toFixed(1)}`);
  return row;
}

/** Mean slowdown by life (in units): short guests (< 2), middling (2-5), long (> 5) — whom a policy helped. */
function byLife(arrivals: Arrival[], runs: GuestRun[]): Record<string, number> {
  const groups: Record<string, number[]> = { short: [], middling: [], long: [] };
  arrivals.forEach((a, i) => {
    const units = a.instructions / UNIT_INSTRUCTIONS;
    groups[units < 2 ? "short" : units <= 5 ? "middling" : "long"].push(runs[i].seconds / runs[i].alone);
  });
  return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN]));
}

async function main(): Promise<void> {
  const setup = `8 hosts (${CAPACITIES.map((c) => c / 1e6 + "M").join(", ")} instructions/s), lifetimes P(life > T) = 1/T for 1..${LONGEST_UNITS} units ` +
    `(a unit: ${UNIT_INSTRUCTIONS / 1e6}M instructions, ${UNIT_SECONDS} s on a ${MEAN_CAPACITY / 1e6}M host), arrivals over ${ARRIVAL_SECONDS} s, ${REPEAT} repetition(s) interleaved`;
  log(`bench:balance: ${setup}`);
  const out = opts.out ?? join(ROOT, "bench/results", QUICK ? "balance-quick.json" : "balance.json");
  const rows: Row[] = [];
  const save = () => writeReport(out, { host: hostInfo(), quick: QUICK, capacities: CAPACITIES, unitInstructions: UNIT_INSTRUCTIONS, longestUnits: LONGEST_UNITS, arrivalSeconds: ARRIVAL_SECONDS, repeat: REPEAT, rows });
  for (const load of LOADS) {
    for (let repetition = 0; repetition < REPEAT; repetition++) {
      for (const policy of POLICIES) {
        rows.push(await runOnce(load, policy, repetition));
        save(); // after each run: a run cut short keeps what it measured
      }
    }
  }
  const table = summaryTable(rows);
  console.log(`\n${table}`);
  writeFileSync(out.replace(/\.json$/, "") + ".md", `bench:balance: ${setup}; ${hostInfo().cpus} cores (${hostInfo().cpu})\n\n${table}\n`);
}

main().then(() => process.exit(0), (error: Error) => { log(`bench:balance: ${error.stack ?? error.message}`); process.exit(1); });
