// `roam migrate`: moves a running guest, with a live progress bar (bytes of
// the total, rate, round, dirty rate, ETA); Ctrl-C asks, then cancels and the
// guest runs on where it was. `roam migrate --cancel GID` cancels from
// another terminal.

import { FORWARDING_APPROACHES } from "../cluster/forwarding/approach.js";
import { createInterface } from "node:readline";
import { formatStats, STRATEGIES, type MigrationStats } from "../migration/stats.js";
import { closest, type CommandSpec, type Parsed } from "./args.js";
import { CLIENT_OPTIONS } from "./client-options.js";
import { ask, client, tokenOf } from "./cluster-commands.js";
import { CliError } from "./failure.js";
import { formatProgress } from "./progress-line.js";
import { UsageError } from "./usage-error.js";

export const MIGRATE_SPEC: CommandSpec = {
  name: "migrate", usage: "GID --to URL [options] | --cancel GID", positionals: ["GID"], summary: "move a running guest to another host",
  about: `Moves a running guest from its host (--on) to another (--to) while it runs.
Its id, open files, terminal and attached clients go with it. On a terminal a
bar shows the bytes sent of the total, the rate, the round, how fast the guest
dirties memory and an ETA; Ctrl-C asks, then cancels (the guest runs on where it
was). A migration can be cancelled until its commit; after that it completes.`,
  options: [
    { name: "to", value: "URL", help: "the host to move it to (required)" },
    { name: "strategy", value: "S", help: "how memory moves (default precopy):\nstop-copy: freeze, copy everything, start there\nprecopy: copy while it runs, then freeze for the dirty rest\npostcopy: start there at once, fetch pages as they are touched\nhybrid: precopy rounds, then postcopy if they stop converging" },
    { name: "max-downtime", value: "TIME", help: "precopy stops its rounds once the rest would take at\nmost this long to send, e.g. 5ms (default 5ms)" },
    { name: "bandwidth", value: "RATE", help: "a cap on the page stream, e.g. 200MB/s (default: none)" },
    { name: "children", value: "HOW", help: "a process guest with children (default together):\ntogether: the whole process tree moves as one\ndisallow: refuse while the guest's first process has live children\nhome: process --pid P moves alone (its children stay); its\n  pipes, signals, waits and exit status reach its family\n  through this host" },
    { name: "pid", value: "P", help: "with --children home: the process to move (see roam ps)" },
    { name: "forwarding", value: "HOW", help: "change how messages from other guests reach it after it moves\n(docs/MESSAGES.md; default: as it was):\nresend: refused where it is not; the sender's host finds it\norigin: always through the host it started on\ntraversal: old hosts pass them on and tell the sender\nupdate: its peers' hosts are told where it went" },
    { name: "cancel", help: "cancel the migration of GID under way (from any terminal)" },
    { name: "json", help: "print the migration's statistics as JSON" },
    ...CLIENT_OPTIONS,
  ],
};

/** "200MB/s", "1GB/s", "50MiB/s" -> bytes per second (MB = 10^6, MiB = 2^20). */
export function parseBandwidth(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg])?(i)?b\/s$/i.exec(text.trim());
  if (!m) throw new UsageError(`--bandwidth ${text}: expected e.g. 200MB/s`);
  const unit = m[2] ? { k: 1, m: 2, g: 3 }[m[2].toLowerCase() as "k" | "m" | "g"] : 0;
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** unit;
}

/** "5ms", "0.5ms", "1s" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|us)$/.exec(text.trim());
  if (!m) throw new UsageError(`--max-downtime ${text}: expected e.g. 5ms`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "us" ? 0.001 : 1);
}

export async function migrateCommand(args: Parsed): Promise<number> {
  const id = args.positionals[0];
  if (args.flag("cancel")) return cancelMigration(args, id);
  const request = migrateRequest(args, id);
  const peer = await client(args);
  const bar = process.stderr.isTTY && !args.flag("json");
  peer.onMessage((m) => {
    if (m.t === "migrate-progress" && bar) process.stderr.write(`\r\x1b[K${formatProgress(m.stats as MigrationStats)}`);
  });
  const stopAsking = cancelOnInterrupt(args, id);
  try {
    const reply = await peer.request(request);
    if (reply.alone) {
      const alone = reply.alone as { pid: number; to: string; guest: string };
      process.stdout.write(args.flag("json") ? JSON.stringify(alone, null, 2) + "\n"
        : `process ${alone.pid} of ${id} moved alone to ${alone.to} (guest ${alone.guest} there); its family stays, and this host forwards between them\n`);
      return 0;
    }
    const stats = reply.stats as MigrationStats;
    if (bar) process.stderr.write("\r\x1b[K");
    process.stdout.write(args.flag("json") ? JSON.stringify(stats, null, 2) + "\n" : formatStats(stats) + "\n");
    return 0;
  } finally {
    stopAsking();
    if (bar) process.stderr.write("\r\x1b[K");
    peer.close();
  }
}

const CHILDREN_OPTIONS = ["together", "disallow", "home"] as const;

function migrateRequest(args: Parsed, id: string) {
  const to = args.string("to");
  if (to === undefined) throw new UsageError("where to? --to URL is required");
  if (!/^wss?:\/\/[^/]/.test(to)) throw new UsageError(`--to ${to}: expected a host's address, e.g. ws://127.0.0.1:7002`);
  const strategy = args.string("strategy") ?? "precopy";
  if (!STRATEGIES.includes(strategy as never)) {
    const guess = closest(strategy, STRATEGIES);
    throw new UsageError(`--strategy ${strategy}: one of ${STRATEGIES.join(", ")}${guess ? `; did you mean ${guess}?` : ""}`);
  }
  const maxDowntime = args.string("max-downtime");
  const bandwidth = args.string("bandwidth");
  const children = args.string("children") ?? "together";
  if (!CHILDREN_OPTIONS.includes(children as never)) throw new UsageError(`--children ${children}: one of ${CHILDREN_OPTIONS.join(", ")}`);
  const pidText = args.string("pid");
  if ((children === "home") !== (pidText !== undefined)) throw new UsageError("--children home moves one process: name it with --pid P (and --pid goes only with --children home)");
  const pid = pidText === undefined ? undefined : Number(pidText);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError(`--pid ${pidText}: a process id, as roam ps shows`);
  const forwarding = args.string("forwarding");
  if (forwarding !== undefined && !FORWARDING_APPROACHES.includes(forwarding as never)) throw new UsageError(`--forwarding ${forwarding}: one of ${FORWARDING_APPROACHES.join(", ")}`);
  return {
    t: "migrate", guest: id, to, strategy, token: tokenOf(args), children, pid, forwarding,
    maxDowntimeMs: maxDowntime === undefined ? undefined : parseDuration(maxDowntime),
    bandwidth: bandwidth === undefined ? undefined : parseBandwidth(bandwidth),
  };
}

/** `roam migrate --cancel GID`: the guest stays (or, if it was too late, says where it went). */
async function cancelMigration(args: Parsed, id: string): Promise<number> {
  const reply = await ask(args, { t: "migrate-cancel", guest: id });
  if (reply.status === "moved") throw new CliError("migrate", `too late to cancel: guest ${id} had already moved to ${String(reply.movedTo)}`);
  process.stderr.write(`roam: migration of ${id} cancelled; it runs on where it was\n`);
  return 0;
}

/**
 * Ctrl-C while a migration runs: on a terminal, ask first; yes cancels it
 * (the migrate request then fails with "cancelled"). Without a terminal to
 * ask on, the interrupt cancels at once. Returns the undo.
 */
function cancelOnInterrupt(args: Parsed, id: string): () => void {
  let asking = false;
  const cancel = () => { void ask(args, { t: "migrate-cancel", guest: id }).catch(() => {}); };
  const onInterrupt = () => {
    if (!process.stdin.isTTY) return cancel();
    if (asking) return;
    asking = true;
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    prompt.question(`\nroam: cancel the migration of ${id}? [y/N] `, (answer) => {
      prompt.close();
      asking = false;
      if (/^y/i.test(answer.trim())) cancel();
    });
  };
  process.on("SIGINT", onInterrupt);
  return () => process.off("SIGINT", onInterrupt);
}

