// The commands that are a host's clients: run --on, ps, attach, kill, migrate,
// checkpoint, restore, stats. Each says which host with --on (or $ROAM_HOST)
// and, when the host wants one, --token (or $ROAM_TOKEN).

import { formatReplication, type ReplicationStats } from "../replication/epoch.js";
import { FORWARDING_APPROACHES } from "../cluster/forwarding/approach.js";
import { basename } from "node:path";
import { formatStats, STRATEGIES, type MigrationStats } from "../migration/stats.js";
import { connect, type Peer } from "../net/peer.js";
import { RemoteError } from "../net/remote-error.js";
import { loadTls, useTls } from "../net/tls.js";
import type { Message } from "../net/protocol.js";
import { decodeSnapshot, SnapshotError } from "../snapshot/snapshot.js";
import { closest, type CommandSpec, type Parsed } from "./args.js";
import { CLIENT_OPTIONS, DEFAULT_HOST } from "./client-options.js";
import { Attachment, type AttachResult } from "./attachment.js";
import { formatProgress } from "./progress-line.js";
import { saveCheckpoint, uploadAndRestore } from "./checkpoint-transfer.js";
import { attachGuestTerminal, holdTerminal } from "./terminal.js";
import { isTerminalDescriptor } from "./direct-output.js";
import { stopWithJob } from "./stop-with-job.js";
import { CliError, fileError } from "./failure.js";
import { parseSize } from "./parse-numbers.js";
import { readElf, readInputFile } from "./read-input.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";
import { clusterPs, clusterStats } from "./cluster-view.js";

export function hostUrl(args: Parsed, option = "on"): string {
  const url = args.string(option) ?? process.env.ROAM_HOST ?? DEFAULT_HOST;
  if (!/^wss?:\/\/[^/]/.test(url)) {
    throw new UsageError(`${args.has(option) ? `--${option} ${url}` : `ROAM_HOST=${url}`}: expected a host's address, e.g. ${DEFAULT_HOST}`);
  }
  return url;
}

export const tokenOf = (args: Parsed) => args.string("token") ?? process.env.ROAM_TOKEN;

/** --tls-ca (else $ROAM_TLS_CA) verifies every host this command reaches, a guest's next host too. */
export async function client(args: Parsed): Promise<Peer> {
  useTls(loadTls({ ca: args.string("tls-ca") }));
  return connect(hostUrl(args), { role: "client", token: tokenOf(args) });
}

/** Sends one request and closes the connection, whatever the answer. */
export async function ask(args: Parsed, message: Omit<Message, "v" | "rid">): Promise<Message> {
  return askAt(hostUrl(args), args, message);
}

/** Sends one request to the host at `url` and closes the connection, whatever the answer. */
export async function askAt(url: string, args: Parsed, message: Omit<Message, "v" | "rid">): Promise<Message> {
  useTls(loadTls({ ca: args.string("tls-ca") }));
  const peer = await connect(url, { role: "client", token: tokenOf(args) });
  try {
    return await peer.request(message);
  } finally {
    peer.close();
  }
}

// ---- run --on ----------------------------------------------------------------------------

/** `roam run --on URL prog.elf [args]`: starts it there, prints the id, attaches unless --detach. */
export async function remoteRun(args: Parsed, kind: "process" | "machine", localOnly: string[]): Promise<number> {
  for (const name of localOnly) if (args.has(name)) throw new UsageError(`--${name} is for a run here, not with --on`);
  const [program, ...rest] = args.positionals;
  const ram = args.string("ram");
  const ramBytes = ram === undefined ? undefined : parseSize("--ram", ram);
  const { bytes } = readElf(program);
  const requires = args.strings("require").flatMap((r) => r.split(",")).filter((r) => r !== "");
  const prefers = args.strings("prefer").flatMap((r) => r.split(",")).filter((r) => r !== "");
  const url = args.string("on") === "cluster" ? await placeOnCluster(args, requires, ramBytes ?? (kind === "machine" ? 128 << 20 : 64 << 20)) : hostUrl(args);
  // --root names a directory within the host's root (shared with guests naming the same); without it the guest gets its own.
  const root = args.string("root");
  const forwarding = args.string("forwarding");
  if (forwarding !== undefined && !FORWARDING_APPROACHES.includes(forwarding as never)) throw new UsageError(`--forwarding ${forwarding}: one of ${FORWARDING_APPROACHES.join(", ")}`);
  const replication = await replicationOf(args);
  const reply = await askAt(url, args, {
    t: "run", kind, ...(requires.length ? { requires } : {}), ...(prefers.length ? { prefers } : {}), program: basename(program), argv: [program, ...rest], elf: bytes, ramBytes, ...(root === undefined ? {} : { root }), ...(forwarding === undefined ? {} : { forwarding }),
    ...(args.strings("publish").length ? { publish: args.strings("publish") } : {}),
    ...replication,
    ...terminalOf(kind, args.flag("detach"), args.flag("tty")),
  });
  const id = (reply.guest as { id: string }).id;
  if (args.flag("detach")) { process.stdout.write(id + "\n"); return 0; }
  // With --replicate, the client knows the backup from the start: its host dying before it said "replica" (its word
  // may be on the way) is followed there too.
  return attachTerminal(url, id, tokenOf(args), 0, `guest ${id} on ${url}`, replication.replicate);
}

/**
 * A process-mode guest run from a terminal (stdin and stdout TTYs, not --detach), or with --tty, gets one of its own,
 * of this terminal's size (24x80 without one), as `roam run` here gives it: Linux's line discipline and job control,
 * which travel with it.
 */
function terminalOf(kind: "process" | "machine", detach: boolean, tty: boolean): { terminal?: { rows: number; columns: number } } {
  const fromTerminal = isTerminalDescriptor(0) && isTerminalDescriptor(1);
  if (kind !== "process" || !(tty || (fromTerminal && !detach))) return {};
  return { terminal: { rows: (fromTerminal && process.stdout.rows) || 24, columns: (fromTerminal && process.stdout.columns) || 80 } };
}

/** run --replicate URL [--epoch TIME]: the run request's fields. */
async function replicationOf(args: Parsed): Promise<{ replicate?: string; epochMs?: number }> {
  const url = args.string("replicate");
  if (url === undefined) {
    if (args.has("epoch")) throw new UsageError("--epoch goes with --replicate");
    return {};
  }
  const { backupUrl, epochOption } = await import("./replicate-command.js");
  return { replicate: backupUrl("replicate", url), epochMs: epochOption(args) };
}

/** `--on cluster`: asks a member (--via, else $ROAM_HOST) where the guest should run; says which and why. */
async function placeOnCluster(args: Parsed, requires: string[], ramBytes: number): Promise<string> {
  const reply = await askAt(hostUrl(args, "via"), args, { t: "place", requires, ramBytes });
  process.stderr.write(`roam: placed on ${String(reply.name)} (${String(reply.url)}): ${String(reply.reason)}\n`);
  return String(reply.url);
}

// ---- attach, ps, kill ---------------------------------------------------------------------

export const ATTACH_SPEC: CommandSpec = {
  name: "attach", usage: "GID [options]", positionals: ["GID"], options: CLIENT_OPTIONS,
  summary: "attach the terminal to a guest, following it across moves",
  about: `Shows the guest's output (what the host still keeps of it, then as it comes)
and sends the terminal's input to it; when the guest moves to another host,
the terminal follows it. Ends when the guest ends, with its exit code.`,
  footer: `Keys, when the terminal is a TTY:
  Ctrl-]   detach: this client leaves, the guest runs on (exit code 0)
  Ctrl-C   a machine-mode guest gets the byte 0x03; a process-mode guest is
           interrupted, as Ctrl-C ends roam run (exit code 130)
  Ctrl-D   a machine-mode guest gets the byte 0x04; for a process-mode guest, on
           an empty line, the end of its input (a program reading to EOF ends)
A machine-mode guest gets every key as typed (its UART echoes), and so does a
process-mode guest started from a terminal (run --on on a TTY): it has a
terminal of its own (Ctrl-C, Ctrl-Z and Ctrl-D are its keys, as in roam run),
which moves with it; any other process-mode guest gets whole lines, edited
here. The same holds for run --on, boot --on and restore --attach. Exit code:
the guest's; 137 killed, 1 lost (or its host).`,
};

export async function attachCommand(args: Parsed): Promise<number> {
  useTls(loadTls({ ca: args.string("tls-ca") }));
  return attachTerminal(hostUrl(args), args.positionals[0], tokenOf(args), -1);
}

const EXIT_KILLED = 137;

/** Streams a guest's output to ours and our terminal to it, following it across hosts, until it ends or we detach. */
async function attachTerminal(url: string, id: string, token: string | undefined, from: number, announce?: string, backup?: string): Promise<number> {
  // Keys typed from here on wait, unechoed, for the terminal attached below (see holdTerminal); the announcement
  // comes after, since a user reading it may type at once.
  const held = holdTerminal();
  let lastByte = 0x0a; // of what we wrote to stdout, so our last words start a line of their own
  const show = (data: Uint8Array, stream: number) => {
    if (stream !== 2 && data.length > 0) lastByte = data[data.length - 1];
    (stream === 2 ? process.stderr : process.stdout).write(data);
  };
  const say = (line: string) => {
    if (lastByte !== 0x0a && process.stdout.isTTY) process.stderr.write("\r\n");
    lastByte = 0x0a;
    process.stderr.write(`roam: ${line}\n`);
  };
  if (announce !== undefined) say(announce);
  // -1: a late attach shows what the host still keeps of the output.
  const attachment = new Attachment(url, id, show, token, Math.max(from, 0), {
    moved: (to) => { if (to !== "checkpoint") say(`guest ${id} moved to ${to}`); },
    failover: (to) => say(`the host of ${id} is gone; following it to its backup ${to}`),
    gap: (_, keptFrom) => say(`output before byte ${keptFrom} is no longer kept`),
    stopped: (sig) => stopWithGuestJob(sig),
  });
  if (backup !== undefined) attachment.knowBackup(backup);
  // The guest's job stopped (Ctrl-Z): this client stops with it, as `roam run` here does, so the user's shell has its
  // terminal back; continued (`fg`), the client takes raw mode again and the job continues.
  // A job already stopped when we attach is said before our terminal is the guest's: the stop waits for it.
  let terminal: ReturnType<typeof attachGuestTerminal> | undefined;
  let stopBeforeTerminal = 0;
  const stopWithGuestJob = (sig: number) => {
    if (!terminal) { stopBeforeTerminal = sig; return; }
    const held = terminal;
    stopWithJob(sig, { release: () => held.suspend?.(), resume: () => held.resume?.() }, () => attachment.continueGuest());
  };
  // Until our terminal is the guest's (which needs the host's answer: how keys go depends on the guest's kind), a
  // SIGINT (a terminal's Ctrl-C is a held byte by now, so: kill -INT, or a client without a terminal) would stop this
  // client and leave the guest running: it is kept instead, and given to the guest once attached.
  let earlyInterrupt = false;
  const onEarlySigint = () => { earlyInterrupt = true; };
  process.on("SIGINT", onEarlySigint);
  try {
    await attachment.start();
  } catch (error) {
    process.off("SIGINT", onEarlySigint);
    held.release();
    // The host that has just taken the guest (run --on: from 0) refuses or drops the attach: it went away meanwhile,
    // which is said as when it goes away later. (`roam attach` to a wrong address says it cannot reach it.)
    if (from === 0 && error instanceof RemoteError && /^(cannot reach |connection closed)/.test(error.message)) {
      say(`lost the connection to ${url}: the host is gone?`);
      return 1;
    }
    throw error;
  }
  let detached!: () => void;
  const detach = new Promise<"detached">((resolve) => (detached = () => resolve("detached")));
  // A cooked terminal echoes to the terminal itself, not into a pipe that stdout may be (`roam attach g1 | tee log`).
  const echo = process.stdout.isTTY || !process.stderr.isTTY ? process.stdout : process.stderr;
  const asTyped = attachment.kind === "machine" || attachment.terminal; // its UART or its line discipline takes the keys
  terminal = attachGuestTerminal(process.stdin, echo, asTyped ? "as typed" : "by line", {
    input: (bytes) => attachment.input(bytes),
    inputEnded: () => attachment.endInput(),
    detach: detached,
    interrupt: () => attachment.interrupt(),
  });
  held.handOver();
  process.off("SIGINT", onEarlySigint);
  if (stopBeforeTerminal) stopWithGuestJob(stopBeforeTerminal);
  if (earlyInterrupt) {
    if (asTyped) attachment.input(Uint8Array.of(0x03)); // a machine guest's UART, or the guest's terminal, gets the byte
    else attachment.interrupt();
  }
  // The guest's terminal follows this one's size (SIGWINCH for its foreground group), from the attach on.
  const onResize = () => attachment.resize(process.stdout.rows ?? 24, process.stdout.columns ?? 80);
  if (attachment.terminal && process.stdout.isTTY) {
    process.stdout.on("resize", onResize);
    if (process.stdout.rows && process.stdout.columns) onResize();
  }
  const result = await Promise.race([attachment.done, detach]);
  process.stdout.off("resize", onResize);
  terminal.detach();
  attachment.close();
  if (result === "detached") { say(`detached from ${id} (it runs on at ${attachment.host})`); return 0; }
  const [line, code] = howItEnded(id, result);
  if (line) say(line);
  return code;
}

/** The client's last line (if any) and exit code for the way the guest's attachment ended. */
function howItEnded(id: string, result: AttachResult): [string | undefined, number] {
  switch (result.status) {
    case "checkpointed": return [`guest ${id} was checkpointed`, 0];
    case "killed": return [`guest ${id} was killed`, EXIT_KILLED];
    case "connection-lost": return [result.report, 1];
    case "lost": return [`guest ${id}: ${result.report ?? "lost"}`, 1];
    default: return [result.report && `guest ${id}: ${result.report}`, result.code];
  }
}

export const PS_SPEC: CommandSpec = {
  name: "ps", usage: "[options]", positionals: [], summary: "list a host's guests (--cluster: every host's)",
  options: [...CLIENT_OPTIONS, { name: "json", help: "print the list as JSON" }, { name: "cluster", help: "the guests of every host up in the host's cluster, with their host" }],
};

export async function psCommand(args: Parsed): Promise<number> {
  if (args.flag("cluster")) return clusterPs(args);
  const reply = await ask(args, { t: "ps" });
  const guests = reply.guests as Array<Record<string, unknown>>;
  if (args.flag("json")) { process.stdout.write(JSON.stringify(guests, null, 2) + "\n"); return 0; }
  const roots = guests.map((g) => (g.kind === "process" ? String(g.root ?? ".") : "-")); // a machine guest has no files
  const rootWidth = Math.max(6, ...roots.map((r) => r.length + 2));
  process.stdout.write(`${"GUEST".padEnd(15)}${"KIND".padEnd(9)}${"STATUS".padEnd(9)}${"INSTRUCTIONS".padStart(14)}  ${"ROOT".padEnd(rootWidth)}PROGRAM\n`);
  guests.forEach((g, i) => {
    process.stdout.write(`${String(g.id).padEnd(15)}${String(g.kind).padEnd(9)}${String(g.busy ? busyWord(String(g.busy)) : g.status).padEnd(9)}${String(g.instret).padStart(14)}  ${roots[i].padEnd(rootWidth)}${(g.argv as string[]).join(" ")}\n`);
    const processes = g.processes as ProcessRow[] | undefined;
    if (processes && processes.length > 1) for (const line of processTree(processes)) process.stdout.write(`${"".padEnd(15)}${line}\n`);
    if (g.replication) process.stdout.write(`${"".padEnd(15)}${formatReplication(g.replication as ReplicationStats)}\n`);
  });
  return 0;
}

interface ProcessRow { pid: number; ppid: number; state: string; name: string; threads?: number }

/** A guest's processes as `ps f` draws them: each under its parent, "\\_ " before a child. */
export function processTree(rows: ProcessRow[]): string[] {
  const pids = new Set(rows.map((r) => r.pid));
  const lines: string[] = [];
  const walk = (row: ProcessRow, depth: number) => {
    lines.push(`${String(row.pid).padStart(6)} ${row.state.padEnd(8)} ${"    ".repeat(Math.max(0, depth - 1))}${depth ? "\\_ " : ""}${row.name}${row.threads ? ` (${row.threads} threads)` : ""}`);
    for (const child of rows.filter((r) => r.ppid === row.pid)) walk(child, depth + 1);
  };
  for (const top of rows.filter((r) => !pids.has(r.ppid))) walk(top, 0);
  return lines;
}

/** ps's STATUS for a guest with an operation under way ("a migration to ws://..." -> "migrating"). */
function busyWord(busy: string): string {
  return busy.startsWith("a migration") ? "migrating" : busy.startsWith("a checkpoint") ? "saving" : busy.startsWith("a replication") ? "running" : "busy";
}

export const KILL_SPEC: CommandSpec = {
  name: "kill", usage: "GID [options]", positionals: ["GID"], options: CLIENT_OPTIONS, summary: "stop a guest",
};

export async function killCommand(args: Parsed): Promise<number> {
  await ask(args, { t: "kill", guest: args.positionals[0] });
  return 0;
}

// ---- migrate, stats ------------------------------------------------------------------------

export const STATS_SPEC: CommandSpec = {
  name: "stats", usage: "GID [options] | --cluster", positionals: ["[GID]"], summary: "a guest's migrations from this host; --cluster: every host's load",
  options: [...CLIENT_OPTIONS, { name: "json", help: "print them as JSON" }, { name: "cluster", help: "instead of a guest's: every host of the cluster, its capacity, load,\nmemory and labels, up or down, as this host knows them" }],
};

export async function statsCommand(args: Parsed): Promise<number> {
  if (args.flag("cluster")) {
    if (args.positionals.length) throw new UsageError("stats: give a GID or --cluster, not both");
    return clusterStats(args);
  }
  const id = args.positionals[0];
  if (id === undefined) throw new UsageError("stats: missing GID (usage: roam stats GID [options] | --cluster)");
  const peer = await client(args);
  let reply: Message;
  try {
    reply = await peer.request({ t: "stats", guest: id }); // an id the host never had is an error there
  } finally {
    peer.close();
  }
  const history = reply.migrations as MigrationStats[];
  const active = reply.active as MigrationStats | undefined;
  if (args.flag("json")) { process.stdout.write(JSON.stringify(history, null, 2) + "\n"); return 0; }
  // Like `info migrate`: what is under way first, then what happened.
  if (active) process.stdout.write(`migration in progress: ${formatProgress(active)}\n\n`);
  else if (reply.status === "lost") process.stdout.write(`guest ${id} is ${String(reply.report)}\n\n`);
  if (reply.replication) process.stdout.write(`${formatReplication(reply.replication as ReplicationStats)}\n\n`);
  if (history.length === 0) process.stdout.write(`no migrations of ${id} from this host\n`);
  for (const s of history) process.stdout.write(formatStats(s) + "\n\n");
  const forwarding = reply.forwarding as { messages: number; bytes: number; away: Array<{ pid: number; host: string; guest: string }> } | undefined;
  if (forwarding) {
    // --children home: this host is the family's home, a residual dependency of the processes that moved alone.
    const where = forwarding.away.map((a) => `process ${a.pid} on ${a.host} (guest ${a.guest})`).join(", ");
    process.stdout.write(`home of ${where}: forwarded ${forwarding.messages} messages, ${forwarding.bytes} bytes\n`);
  }
  return 0;
}

// ---- checkpoint, restore -------------------------------------------------------------------

export const CHECKPOINT_SPEC: CommandSpec = {
  name: "checkpoint", usage: "GID -o FILE [options]", positionals: ["GID"], summary: "stop a guest into a file (like CRIU's dump)",
  options: [
    { name: "output", short: "o", value: "FILE", help: "the file to write (required)" },
    { name: "leave-running", help: "save it but let it carry on running" },
    ...CLIENT_OPTIONS,
  ],
};

export async function checkpointCommand(args: Parsed): Promise<number> {
  const [id] = args.positionals;
  const output = args.string("output");
  if (output === undefined) throw new UsageError("where to? -o FILE is required");
  // The snapshot lands beside the file under a temporary name, is synced and
  // renamed; only then does the host let the guest go (checkpoint-transfer.ts).
  const peer = await client(args);
  const bar = transferBar("saving");
  try {
    const size = await saveCheckpoint(peer, id, output, args.flag("leave-running"), bar.update).catch((error) => { throw fileError(output, error); });
    bar.done();
    process.stderr.write(`roam: guest ${id} saved to ${output} (${size} bytes)\n`);
    return 0;
  } finally {
    bar.done();
    peer.close();
  }
}

export const RESTORE_SPEC: CommandSpec = {
  name: "restore", usage: "FILE [options]", positionals: ["FILE"], summary: "start a guest from a checkpoint file on a host",
  about: "Prints the guest's id; with --attach, attaches the terminal to it instead.",
  options: [{ name: "attach", help: "attach the terminal to the restored guest" }, ...CLIENT_OPTIONS],
};

export async function restoreCommand(args: Parsed): Promise<number> {
  const [file] = args.positionals;
  const bytes = readInputFile(file);
  let snapshot;
  try {
    snapshot = decodeSnapshot(bytes); // refuse a bad file here, before sending it anywhere
  } catch (error) {
    if (error instanceof SnapshotError) throw new CliError(file, error.message, EXIT_USAGE);
    throw error;
  }
  const peer = await client(args);
  const bar = transferBar("sending");
  let reply: Message;
  try {
    reply = await uploadAndRestore(peer, file, false, bar.update);
  } finally {
    bar.done();
    peer.close();
  }
  const id = (reply.guest as { id: string }).id;
  if (!args.flag("attach")) { process.stdout.write(id + "\n"); return 0; }
  return attachTerminal(hostUrl(args), id, tokenOf(args), snapshot.console.outputOffset);
}

/** A one-line progress display on a terminal's stderr for large transfers (nothing when stderr is not a terminal). */
function transferBar(verb: string): { update: (done: number, total: number) => void; done: () => void } {
  let shown = false;
  let last = 0;
  return {
    update: (done, total) => {
      if (!process.stderr.isTTY || total < 16 << 20) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${verb} ${(done / 1048576).toFixed(0)} of ${(total / 1048576).toFixed(0)} MiB (${Math.floor((done / total) * 100)}%)`);
    },
    done: () => { if (shown) process.stderr.write("\r\x1b[K"); shown = false; },
  };
}
