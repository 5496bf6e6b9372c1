// Messages between guests: the plain figures (round-trip latency, throughput)
// between two guests on one host and on two hosts, against the same C program
// (guests/net/msgpeer.c) built for this machine and run natively over loopback
// in the same run (the physical limit); then, for each of the seed's four
// forwarding approaches, a server guest that migrates every second among three
// hosts while a client on another host sends it 10,000 messages a second over
// TCP: messages lost, repeated, reordered, round trips, hops, what the old
// hosts forwarded and refused, how long forwarding addresses lived.
//
//   node dist/bench/messages.js [--quick] [--moves N] [--out file]
//
// Hosts are `roam host` processes; guests are started with `roam run --on`
// attached (their output read here); migrations are `roam migrate`. Round
// trips from msgpeer's own clock (CLOCK_MONOTONIC in the guest: guest time,
// which a migration's freeze does not stop); its trace file gives each echo's
// send time on the wall clock, which places it during, after or between the
// moves the benchmark timed.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FORWARDING_APPROACHES } from "../src/cluster/forwarding/approach.js";
import { dottedQuad, guestAddress } from "../src/kernel/sockets/addresses.js";
import { connect } from "../src/net/peer.js";
import { benchArgs, fmt, hostInfo, log, packageRoot, writeReport } from "./common.js";

const { values: opts } = benchArgs(import.meta.url, { options: { quick: { type: "boolean" }, moves: { type: "string" }, out: { type: "string" } } });
const QUICK = opts.quick ?? false;
const MOVES = Number(opts.moves ?? (QUICK ? 3 : 8));
const ROOT = packageRoot();
const MSGPEER = join(ROOT, "guests/bin/net/msgpeer.elf");
const scratch = mkdtempSync(join(tmpdir(), "roam-bench-messages-"));
const children = new Set<ChildProcess>();

function cleanup(): void {
  for (const c of children) c.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

/** A child process whose output is collected. */
class Child {
  out = "";
  err = "";
  readonly done: Promise<number | null>;
  constructor(readonly command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(command, args, { cwd: scratch, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    child.stdout!.on("data", (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (this.err += d.toString()));
    this.done = new Promise((resolve) => child.on("close", (code) => { children.delete(child); resolve(code); }));
    this.kill = () => child.kill("SIGKILL");
  }
  readonly kill: () => void;

  async waitFor(pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.out + this.err);
      if (m) return m;
      if (Date.now() > end) throw new Error(`${this.command}: no ${pattern} in ${ms} ms: ${this.err.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const roamArgs = (args: string[]) => [join(ROOT, "bin", "roam.js"), ...args];

async function startHost(name: string, peers: string[]): Promise<string> {
  const host = new Child(process.execPath, roamArgs(["host", "--listen", "127.0.0.1:0", "--name", name, "--root", scratch, "--force", ...peers.flatMap((p) => ["--peer", p])]));
  return (await host.waitFor(/listening on (ws:\S+)/))[1];
}

/** An msgpeer guest on `on`, attached; its id once printed. */
async function guest(on: string, args: string[], forwarding?: string): Promise<{ child: Child; id: string }> {
  const child = new Child(process.execPath, roamArgs(["run", "--on", on, "--root", ".", "--ram", "96M", ...(forwarding ? ["--forwarding", forwarding] : []), MSGPEER, ...args]));
  return { child, id: (await child.waitFor(/roam: guest (\S+) on/))[1] };
}

interface Exchange { sent: number; echoed: number; lost: number; dup: number; reordered: number; p50us: number; p99us: number; seconds: number }

function parseClient(text: string): Exchange {
  const c = /sent (\d+) echoed (\d+) lost (\d+) dup (\d+) reordered (\d+)/.exec(text);
  const t = /rtt p50 ([\d.]+) us p99 ([\d.]+) us over ([\d.]+) s/.exec(text);
  if (!c) throw new Error(`msgpeer client printed no counts: ${text.slice(-400)}`);
  return {
    sent: +c[1], echoed: +c[2], lost: +c[3], dup: +c[4], reordered: +c[5],
    p50us: t ? +t[1] : NaN, p99us: t ? +t[2] : NaN, seconds: t ? +t[3] : NaN,
  };
}

/** Latency (1,000 a second for 2 s) and throughput (as fast as credit allows) between a client and a server. */
async function plain(where: string, startServer: (port: number) => Promise<Child>, startClient: (port: number, count: number, rate: number) => Promise<Child>, port: number) {
  const rows: Record<string, Exchange> = {};
  for (const [label, count, rate] of [["latency", 2000, 1000], ["throughput", QUICK ? 20_000 : 100_000, 0]] as const) {
    const server = await startServer(port);
    await server.waitFor(/listening/);
    const client = await startClient(port, count, rate);
    await client.done;
    rows[label] = parseClient(client.out);
    server.kill();
    port++;
  }
  log(`  ${where}: rtt p50 ${rows.latency.p50us.toFixed(0)} us, p99 ${rows.latency.p99us.toFixed(0)} us; ${(rows.throughput.sent / rows.throughput.seconds).toFixed(0)} msgs/s`);
  return rows;
}

async function nativeFigures() {
  const binary = join(scratch, "msgpeer-native");
  const cc = spawnSync("gcc", ["-O2", "-o", binary, join(ROOT, "guests/net/msgpeer.c")], { encoding: "utf8" });
  if (cc.status !== 0) { log(`  native: gcc failed (${cc.stderr.trim().split("\n")[0]}); no native row`); return undefined; }
  return plain("native (this machine, loopback)",
    async (port) => new Child(binary, ["server", "tcp", String(port), "1"]),
    async (port, count, rate) => new Child(binary, ["client", "tcp", `127.0.0.1:${port}`, String(count), String(rate)]), 47700);
}

async function roamFigures(label: string, serverOn: string, clientOn: string, firstPort: number) {
  let serverId = "";
  return plain(label,
    async (port) => { const s = await guest(serverOn, ["server", "tcp", String(port), "1"]); serverId = s.id; return s.child; },
    async (port, count, rate) => (await guest(clientOn, ["client", "tcp", `${dottedQuad(guestAddress(serverId))}:${port}`, String(count), String(rate)])).child, firstPort);
}

async function stats(url: string, id: string): Promise<Record<string, unknown> | undefined> {
  const peer = await connect(url, { role: "client" });
  try {
    return (await peer.request({ t: "stats", guest: id }, 10_000)).messages as Record<string, unknown> | undefined;
  } catch {
    return undefined;
  } finally {
    peer.close();
  }
}

function migrate(id: string, from: string, to: string): Promise<number | null> {
  return new Child(process.execPath, roamArgs(["migrate", id, "--on", from, "--to", to, "--strategy", "precopy", "--json"])).done;
}

/** One approach: the server moves every second while the client sends 10,000 a second. */
async function withMoves(forwarding: string, hosts: string[], port: number) {
  const [a, b, c] = hosts;
  const server = await guest(b, ["server", "tcp", String(port), "1"], forwarding);
  await server.child.waitFor(/listening/);
  const client = await guest(a, ["client", "tcp", `${dottedQuad(guestAddress(server.id))}:${port}`, "0", "10000", `/gate-${forwarding}`, `/trace-${forwarding}`], forwarding);
  const path = [b, c, a];
  let at = 0;
  const moves: Array<{ start: number; end: number }> = []; // wall clock, ms: the guest's trace uses it too
  for (let k = 0; k < MOVES; k++) {
    await new Promise((r) => setTimeout(r, 1000));
    const from = path[at % 3], to = path[(at + 1) % 3];
    const start = Date.now();
    const code = await migrate(server.id, from, to);
    if (code !== 0) throw new Error(`migrate ${forwarding} ${from} -> ${to}: exit ${code}`);
    moves.push({ start, end: Date.now() });
    at++;
  }
  await new Promise((r) => setTimeout(r, 1000));
  writeFileSync(join(scratch, `gate-${forwarding}`), "");
  await client.child.done;
  await server.child.done;
  const exchange = parseClient(client.child.out);
  const perHost = await Promise.all(hosts.map((url) => stats(url, server.id)));
  const sum = (key: string) => perHost.reduce((n, s) => n + Number((s as Record<string, number> | undefined)?.[key] ?? 0), 0);
  const hops = perHost.map((s) => (s?.hops as number[] | undefined) ?? []).reduce((acc, h) => h.map((n, i) => n + (acc[i] ?? 0)), [] as number[]);
  const delivered = hops.reduce((x, y) => x + y, 0);
  const meanHops = delivered ? hops.reduce((acc, n, i) => acc + n * i, 0) / delivered : 0;
  const held = perHost.map((s) => s?.forwardingAddress as { since: string; ended: string | null } | null | undefined).filter((h) => h);
  const lifetimes = held.filter((h) => h!.ended !== null).map((h) => Date.parse(h!.ended!) - Date.parse(h!.since));
  const row = {
    forwarding, moves: MOVES, ...exchange, meanHops, forwarded: sum("forwarded"), forwardedBytes: sum("forwardedBytes"),
    refused: sum("refused"), resent: sum("resent"), queued: sum("queued"), addressesHeld: held.length,
    addressesOpen: held.filter((h) => h!.ended === null).length,
    addressLifeMeanMs: lifetimes.length ? lifetimes.reduce((x, y) => x + y, 0) / lifetimes.length : NaN,
    addressLifeMaxMs: lifetimes.length ? Math.max(...lifetimes) : NaN,
    ...byPhase(readFileSync(join(scratch, `trace-${forwarding}`), "utf8"), moves),
  };
  log(`  ${forwarding}: ${row.sent} sent, lost ${row.lost}, dup ${row.dup}, reordered ${row.reordered}; rtt p50 ${(row.p50us / 1000).toFixed(2)} ms p99 ${(row.p99us / 1000).toFixed(2)} ms; hops ${meanHops.toFixed(2)}; forwarded ${row.forwarded}, refused ${row.refused}, resent ${row.resent}`);
  return row;
}

/**
 * Round trips by when the message was sent: during a move (from the migrate
 * command's start to its end), in the second after one, or in steady state.
 * `trace`: msgpeer's lines "send time (wall clock, ms) round trip (us)".
 */
function byPhase(trace: string, moves: Array<{ start: number; end: number }>): Record<string, number> {
  const phases: Record<"steady" | "during" | "after", number[]> = { steady: [], during: [], after: [] };
  for (const line of trace.split("\n")) {
    const [at, rtt] = line.split(" ").map(Number);
    if (!Number.isFinite(at) || !Number.isFinite(rtt)) continue;
    const phase = moves.some((m) => at >= m.start && at <= m.end) ? "during" : moves.some((m) => at > m.end && at <= m.end + 1000) ? "after" : "steady";
    phases[phase].push(rtt / 1000);
  }
  const out: Record<string, number> = {};
  for (const [phase, ms] of Object.entries(phases)) {
    ms.sort((x, y) => x - y);
    out[`${phase}N`] = ms.length;
    out[`${phase}MeanMs`] = ms.length ? ms.reduce((x, y) => x + y, 0) / ms.length : NaN;
    out[`${phase}P99Ms`] = ms.length ? ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] : NaN;
  }
  return out;
}

async function main(): Promise<void> {
  log(`roam messages benchmark${QUICK ? " (quick)" : ""}: ${MOVES} moves per approach`);
  const native = await nativeFigures();
  const a = await startHost("A", []);
  const b = await startHost("B", [a]);
  const c = await startHost("C", [a, b]);
  const oneHost = await roamFigures("roam, one host", a, a, 7100);
  const twoHosts = await roamFigures("roam, two hosts", b, a, 7200);
  const approaches = [];
  for (const [i, forwarding] of FORWARDING_APPROACHES.entries()) approaches.push(await withMoves(forwarding, [a, b, c], 7300 + i));
  print(native, oneHost, twoHosts, approaches);
  writeReport(opts.out ?? join(ROOT, "bench/results", QUICK ? "messages-quick.json" : "messages.json"), { host: hostInfo(), quick: QUICK, moves: MOVES, native, oneHost, twoHosts, approaches });
}

type Plain = Record<string, Exchange> | undefined;

function print(native: Plain, oneHost: Plain, twoHosts: Plain, approaches: Array<Record<string, number | string>>): void {
  const line = (label: string, r: Plain) => {
    if (!r) return `${label.padEnd(22)} ${"-".padStart(9)} ${"-".padStart(9)} ${"-".padStart(11)}`;
    const rate = r.throughput.sent / r.throughput.seconds;
    const vs = native ? ` ${fmt(r.latency.p50us / native.latency.p50us, 1, 7)}x ${fmt(native.throughput.sent / native.throughput.seconds / rate, 1, 7)}x` : "";
    return `${label.padEnd(22)} ${fmt(r.latency.p50us, 0, 9)} ${fmt(r.latency.p99us, 0, 9)} ${fmt(rate, 0, 11)}${vs}`;
  };
  console.log("\nround trips (1,000/s, TCP) and throughput (16-byte messages, as fast as credit allows)");
  console.log(`${"".padEnd(22)} ${"p50 µs".padStart(9)} ${"p99 µs".padStart(9)} ${"msgs/s".padStart(11)} ${"rtt/nat".padStart(8)} ${"nat/tput".padStart(8)}`);
  for (const [label, r] of [["native loopback", native], ["roam, one host", oneHost], ["roam, two hosts", twoHosts]] as const) console.log(line(label, r));
  console.log(`\na server migrating every second (${MOVES} moves, precopy) while a client on another host sends 10,000 messages a second over TCP`);
  console.log(`${"approach".padEnd(10)} ${"sent".padStart(8)} ${"lost".padStart(5)} ${"dup".padStart(5)} ${"reord".padStart(5)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"hops".padStart(5)} ${"fwd".padStart(7)} ${"fwd KB".padStart(7)} ${"refused".padStart(7)} ${"resent".padStart(6)} ${"links".padStart(5)}`);
  for (const r of approaches) {
    const n = (k: string) => Number(r[k]);
    console.log(`${String(r.forwarding).padEnd(10)} ${fmt(n("sent"), 0, 8)} ${fmt(n("lost"), 0, 5)} ${fmt(n("dup"), 0, 5)} ${fmt(n("reordered"), 0, 5)} ${fmt(n("p50us") / 1000, 2, 7)} ${fmt(n("p99us") / 1000, 2, 7)} ${fmt(n("meanHops"), 2, 5)} ${fmt(n("forwarded"), 0, 7)} ${fmt(n("forwardedBytes") / 1024, 0, 7)} ${fmt(n("refused"), 0, 7)} ${fmt(n("resent"), 0, 6)} ${String(`${r.addressesOpen}/${r.addressesHeld}`).padStart(5)}`);
  }
  console.log("links: forwarding addresses still held / ever held on the hosts at the end (residual dependencies)");
  console.log("\nround trips by when the message was sent: during a move (migrate's start to end), in the second after, or neither; forwarding addresses' lifetimes");
  console.log(`${"approach".padEnd(10)} ${"steady mean/p99 ms".padStart(19)} ${"n during".padStart(8)} ${"during mean/p99".padStart(16)} ${"n after".padStart(8)} ${"after mean/p99".padStart(15)} ${"address life mean/max ms".padStart(25)}`);
  for (const r of approaches) {
    const n = (k: string) => Number(r[k]);
    const pair = (k: string, w: number) => `${fmt(n(`${k}MeanMs`), 1, 0)}/${fmt(n(`${k}P99Ms`), 1, 0)}`.padStart(w);
    console.log(`${String(r.forwarding).padEnd(10)} ${pair("steady", 19)} ${fmt(n("duringN"), 0, 8)} ${pair("during", 16)} ${fmt(n("afterN"), 0, 8)} ${pair("after", 15)} ${`${fmt(n("addressLifeMeanMs"), 0, 0)}/${fmt(n("addressLifeMaxMs"), 0, 0)}`.padStart(25)}`);
  }
}

main().then(() => process.exit(0), (error: Error) => { log(`bench:messages failed: ${error.message}`); process.exit(1); });
