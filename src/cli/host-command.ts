// `roam host`: a long-running process that runs guests for clients and sends
// them to (and takes them from) other hosts. It logs like a daemon (host-log.ts)
// and stops cleanly on SIGINT or SIGTERM.

import { mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Host } from "../cluster/host.js";
import type { CommandSpec, Parsed } from "./args.js";
import { CliError, errnoWords } from "./failure.js";
import { hostLog, type HostLog } from "./host-log.js";
import { loadTls, useTls } from "../net/tls.js";
import { parseSize } from "./parse-numbers.js";
import { UsageError } from "./usage-error.js";
import { JoinRefused } from "../cluster/membership.js";
import { DashboardRefused, parseDashboardAddress } from "../web/dashboard.js";
import { parseCapacity } from "../cluster/capacity.js";
import { labelList } from "../cluster/placement.js";
import { POLICY_NAMES, type PolicyName } from "../cluster/balance/policy.js";

function capacityOption(args: Parsed): number | undefined {
  const text = args.string("capacity");
  if (text === undefined) return undefined;
  try { return parseCapacity(text); } catch (error) { throw new UsageError((error as Error).message); }
}

/** `--balance POLICY[,locality]`: at most one load policy, and locality, in either order. */
function balanceOption(args: Parsed): { balance?: PolicyName; locality: boolean } {
  const text = args.string("balance");
  if (text === undefined) return { locality: false };
  const names = text.split(",").map((n) => n.trim());
  const load = names.filter((n) => n !== "locality");
  const unknown = load.find((n) => !POLICY_NAMES.includes(n as PolicyName));
  if (unknown !== undefined) throw new UsageError(`--balance ${text}: '${unknown}' is not a policy (${POLICY_NAMES.join(", ")} or locality, e.g. symmetric,locality)`);
  if (load.length > 1) throw new UsageError(`--balance ${text}: one load policy at most (${load.join(" and ")} given), with or without locality`);
  return { balance: load[0] as PolicyName | undefined, locality: names.includes("locality") };
}

function labelOption(args: Parsed): string[] {
  try { return labelList(args.strings("label"), "--label"); } catch (error) { throw new UsageError((error as Error).message); }
}

const DEFAULT_LISTEN = "127.0.0.1:7001";

export const HOST_SPEC: CommandSpec = {
  name: "host",
  usage: "[options]",
  summary: "run a host that runs guests for clients and migrates them",
  about: `Runs a host: a long-running process that runs guests for clients and sends
them to (and takes them from) other hosts, over WebSocket. It logs to stderr,
a line per event, each with its time (ISO 8601, UTC) and level (info, warn,
error). On SIGINT or SIGTERM it first empties itself: with --drain-to its
guests migrate to those hosts, with --drain-dir they are saved there as
GID.snap (roam restore starts them again). With guests still running and
neither given, it refuses to stop and says so, unless --force (which stops
them with it); a second signal while it drains or refuses is taken the same way.`,
  positionals: [],
  options: [
    { name: "listen", value: "HOST:PORT", help: `where to listen (default ${DEFAULT_LISTEN}; port 0: any free one)` },
    { name: "name", value: "NAME", help: "this host's name, in ids, errors and logs (default: HOST:PORT)" },
    { name: "root", value: "DIR", help: "sandbox root for process-mode guests' files (default: .)" },
    { name: "token", value: "T", help: "require this token from every client and host" },
    { name: "peer", value: "URL", help: "a host of this cluster (repeatable): guests' files left there are reached\nthere; hosts not named are contacted only after a migration to or from them" },
    { name: "join", value: "URL", help: "join the cluster of the host at URL (repeatable; any one member is enough):\nthe hosts learn each other and exchange their load (roam stats --cluster)" },
    { name: "capacity", value: "IPS", help: "give guests at most this many instructions per second, shared fairly, e.g.\n200M (M = 10^6); without it the host uses what it gets" },
    { name: "label", value: "L,L", help: "labels this host carries, e.g. secure,gpu (repeatable); a guest run with\n--require runs and moves only to hosts with its labels" },
    { name: "balance", value: "POLICY", help: "move guests between members to even the load: sender (push when\noverloaded), receiver (ask for work when underloaded) or symmetric (both);\nand/or locality (next to the host a guest exchanges most data with), e.g.\nsymmetric,locality; decisions are logged and shown by roam stats --cluster" },
    { name: "dashboard", value: "HOST:PORT", help: "serve a live web page of the cluster there, e.g. 127.0.0.1:8080: hosts' capacity\nand load over time, guests and where they ran, migrations, balancer decisions" },
    { name: "max-memory", value: "SIZE", help: "guest RAM this host takes on at most, e.g. 4G (default: 3/4 of the machine's\nmemory); a run, restore or migration that does not fit is refused with what is free" },
    { name: "no-jit", help: "interpret only: do not translate hot code" },
    { name: "state-dir", value: "DIR", help: "keep what must outlive the host in DIR: the guests its replicas took over,\nso a primary that comes back after a restart of this host is still fenced" },
    { name: "drain-to", value: "URL", help: "on SIGINT/SIGTERM, migrate the guests to this host first (repeatable:\ntaken in turn)" },
    { name: "drain-dir", value: "DIR", help: "on SIGINT/SIGTERM, save the guests into DIR as GID.snap first" },
    { name: "force", help: "stop on SIGINT/SIGTERM even with guests still running (they stop with it)" },
    { name: "tls-cert", value: "FILE", help: "listen on wss:// with this certificate (PEM); also shown to the hosts it connects to" },
    { name: "tls-key", value: "FILE", help: "the certificate's private key (PEM)" },
    { name: "tls-ca", value: "FILE", help: "verify the hosts it reaches against this CA (default $ROAM_TLS_CA, else the\nsystem's CAs), and require host links to present a certificate it signed" },
  ],
};

export async function hostCommand(args: Parsed): Promise<number> {
  const listen = args.string("listen") ?? DEFAULT_LISTEN;
  const match = /^(.+):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[2]) > 65535) throw new UsageError(`--listen ${listen}: expected HOST:PORT, e.g. ${DEFAULT_LISTEN}`);
  const root = resolve(args.string("root") ?? ".");
  try { if (!statSync(root).isDirectory()) throw new Error(); } catch { throw new UsageError(`--root ${root}: not a directory`); }
  const name = args.string("name") ?? listen;
  const log = hostLog(name, (text) => process.stderr.write(text));
  const dashboard = args.string("dashboard");
  if (dashboard !== undefined) { try { parseDashboardAddress(dashboard); } catch (error) { throw new UsageError((error as Error).message); } }
  const tls = loadTls({ cert: args.string("tls-cert"), key: args.string("tls-key"), ca: args.string("tls-ca") });
  useTls(tls); // also for the links departures open as a client (kills forwarded, has-guest)
  const host = new Host({
    tls, name, host: match[1], port: Number(match[2]), root, token: args.string("token"), peers: args.strings("peer"),
    join: args.strings("join"), capacity: capacityOption(args), labels: labelOption(args), ...balanceOption(args),
    maxMemoryBytes: args.has("max-memory") ? parseSize("--max-memory", args.string("max-memory")!) : undefined,
    dashboard, translate: !args.flag("no-jit"), log: (line, level) => log.line(line, level), stateDir: stateDirOption(args),
  });
  try {
    host.replication.record.load();
  } catch (error) {
    throw new CliError("host", `--state-dir: ${(error as Error).message}`);
  }
  try {
    await host.listen();
  } catch (error) {
    if (error instanceof JoinRefused || error instanceof DashboardRefused) { await host.close(); throw new CliError("host", error.message); }
    const words = errnoWords((error as NodeJS.ErrnoException).code);
    if (words) throw new CliError("host", `${listen}: ${words}`);
    throw error;
  }
  const signal = await stopSignal(host, args, log);
  log.info(`host ${name} stopping (${signal})`);
  await host.close();
  log.info(`host ${name} stopped`);
  return 0;
}

/**
 * Waits for a SIGINT or SIGTERM after which the host may stop: it drains its
 * guests first (--drain-to, --drain-dir), and while some still run here it
 * refuses to stop, saying why, unless --force.
 */
async function stopSignal(host: Host, args: Parsed, log: HostLog): Promise<NodeJS.Signals> {
  const plan = { to: args.strings("drain-to"), dir: args.string("drain-dir") };
  if (plan.dir !== undefined) mkdirSync(plan.dir, { recursive: true });
  for (;;) {
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once("SIGINT", () => done("SIGINT"));
      process.once("SIGTERM", () => done("SIGTERM"));
    });
    let left = host.liveGuests();
    if (left.length > 0 && (plan.to.length > 0 || plan.dir !== undefined)) {
      log.info(`${signal}: draining ${left.length} guest(s) ${plan.dir !== undefined ? `into ${plan.dir}` : `to ${plan.to.join(", ")}`}`);
      left = await host.drain(plan);
    }
    if (left.length === 0 || args.flag("force")) return signal;
    log.warn(`${signal}: not stopping: ${left.length} guest(s) still run here (${left.map((g) => g.info.id).join(", ")}); ` +
      "give --drain-to URL or --drain-dir DIR, or --force to stop them with the host");
  }
}

/** --state-dir DIR, made if missing. */
function stateDirOption(args: Parsed): string | undefined {
  const dir = args.string("state-dir");
  if (dir === undefined) return undefined;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--state-dir ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return resolve(dir);
}
