// `roam ps --cluster` and `roam stats --cluster`: the cluster as one host of it
// knows it (its members' load vectors, src/cluster/membership.ts), and every
// guest of every member up, each with its host.

import type { MemberView } from "../cluster/membership.js";
import type { Decision } from "../cluster/balance/balancer.js";
import type { Parsed } from "./args.js";
import { askAt, hostUrl } from "./cluster-commands.js";

interface BalanceReport { policy: string; decisions: Decision[]; migrations: number; refusals: number; failures: number }

async function members(args: Parsed): Promise<MemberView[]> {
  return (await cluster(args)).members as MemberView[];
}

function cluster(args: Parsed) {
  return askAt(hostUrl(args), args, { t: "cluster" });
}

export async function clusterStats(args: Parsed): Promise<number> {
  const reply = await cluster(args);
  const view = reply.members as MemberView[];
  const balance = reply.balance as BalanceReport;
  if (args.flag("json")) { process.stdout.write(JSON.stringify({ members: view, balance }, null, 2) + "\n"); return 0; }
  const rows = view.map((m) => [
    m.name, m.state === "self" ? "up (asked)" : m.state, m.url, m.capacity === null ? "-" : mips(m.capacity),
    m.speed === null || m.speed === undefined ? "-" : mips(m.speed), `${m.runnable}/${m.guests}`, mips(m.ipsGiven), mips(m.ipsWanted), `${mib(m.memoryUsed)}/${mib(m.memoryUsed + m.memoryFree)}`,
    (m.dirtyBytesPerSecond / 1e6).toFixed(1), String(m.messagesPerSecond), kib(m.crossingBytesPerSecond ?? 0), m.labels.join(",") || "-", `${(m.ageMs / 1000).toFixed(1)}s`,
  ]);
  const head = ["HOST", "STATE", "URL", "CAPACITY", "SPEED", "RUN/GUESTS", "GIVEN", "WANTED", "MEM MiB", "DIRTY MB/S", "MSG/S", "CROSS KiB/S", "LABELS", "HEARD"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  for (const row of [head, ...rows]) process.stdout.write(row.map((cell, i) => cell.padEnd(widths[i])).join("").trimEnd() + "\n");
  const b = balance;
  process.stdout.write(`\nbalance: ${b.policy}; ${b.decisions.length} decisions kept, ${b.migrations} migrations, ${b.refusals} refusals, ${b.failures} failures\n`);
  for (const d of b.decisions.slice(-10)) process.stdout.write(`  ${d.at} ${d.action}${d.guest ? ` ${d.guest}` : ""} ${d.from} -> ${d.to}: ${d.reason}\n`);
  return 0;
}

export async function clusterPs(args: Parsed): Promise<number> {
  const view = await members(args);
  const all: Array<Record<string, unknown>> = [];
  for (const m of view) {
    if (m.state === "down") { process.stderr.write(`roam: ps: host ${m.name} (${m.url}) is down; its guests are not listed\n`); continue; }
    try {
      const reply = await askAt(m.url, args, { t: "ps" });
      for (const g of reply.guests as Array<Record<string, unknown>>) all.push({ ...g, hostName: m.name, hostUrl: m.url });
    } catch (error) {
      process.stderr.write(`roam: ps: host ${m.name} (${m.url}): ${(error as Error).message}\n`);
    }
  }
  if (args.flag("json")) { process.stdout.write(JSON.stringify(all, null, 2) + "\n"); return 0; }
  const hostWidth = Math.max(6, ...all.map((g) => String(g.hostName).length + 2));
  process.stdout.write(`${"GUEST".padEnd(15)}${"HOST".padEnd(hostWidth)}${"KIND".padEnd(9)}${"STATUS".padEnd(9)}${"INSTRUCTIONS".padStart(14)}  PROGRAM\n`);
  for (const g of all) {
    process.stdout.write(`${String(g.id).padEnd(15)}${String(g.hostName).padEnd(hostWidth)}${String(g.kind).padEnd(9)}${String(g.status).padEnd(9)}${String(g.instret).padStart(14)}  ${(g.argv as string[]).join(" ")}\n`);
  }
  return 0;
}

const mips = (ips: number): string => `${(ips / 1e6).toFixed(ips < 1e7 ? 1 : 0)}M`;
const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);
const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
