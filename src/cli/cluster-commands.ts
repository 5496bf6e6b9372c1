// The commands that talk to hosts: `roam host` starts one; the others are its
// clients (run --on, ps, attach, kill, migrate, checkpoint, restore, stats),
// plus `roam inspect`, which reads a checkpoint file locally.

import { readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Host } from "../cluster/host.js";
import { formatStats, STRATEGIES, type MigrationStats } from "../migration/stats.js";
import { connect, type Peer } from "../net/peer.js";
import { loadTls, useTls } from "../net/tls.js";
import { decodeSnapshot, SnapshotError } from "../snapshot/snapshot.js";
import { Attachment } from "./attachment.js";
import { saveCheckpoint, uploadAndRestore } from "./checkpoint-transfer.js";
import { parseSize } from "./parse-numbers.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";

const DEFAULT_HOST = "ws://127.0.0.1:7001";
const hostUrl = (on: string | undefined) => on ?? process.env.ROAM_HOST ?? DEFAULT_HOST;
const tokenOf = (t: string | undefined) => t ?? process.env.ROAM_TOKEN;

/** `tlsCa`: --tls-ca (else $ROAM_TLS_CA); it verifies every host this command reaches, a guest's next host too. */
async function client(on: string | undefined, token: string | undefined, tlsCa?: string): Promise<Peer> {
  useTls(loadTls({ ca: tlsCa }));
  return connect(hostUrl(on), { role: "client", token: tokenOf(token) });
}

// ---- roam host -------------------------------------------------------------------------------

export const HOST_HELP = `Usage: roam host [--listen HOST:PORT] [--name NAME] [--root DIR] [--token T] [--no-jit]
                 [--tls-cert FILE --tls-key FILE] [--tls-ca FILE]

Runs a host: a long-running process that runs guests for clients and sends
them to (and takes them from) other hosts, over WebSocket.

  --listen HOST:PORT   where to listen (default 127.0.0.1:7001)
  --name NAME          this host's name (default: HOST:PORT)
  --root DIR           sandbox root for process-mode guests' files (default: .)
  --token T            require this token from every client and host
  --tls-cert FILE      listen on wss:// with this certificate (PEM), also shown to the hosts it connects to
  --tls-key FILE       the certificate's private key (PEM)
  --tls-ca FILE        verify the hosts it reaches against this CA (default $ROAM_TLS_CA, else the system's CAs),
                       and require hosts connecting to it to present a certificate it signed
  --no-jit             interpret only
  --max-memory SIZE    guest RAM this host takes on at most, e.g. 4G (default: 3/4 of the machine's memory);
                       a run, restore or migration that does not fit is refused with what is free
`;

export async function hostCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: { listen: { type: "string" }, name: { type: "string" }, root: { type: "string" }, token: { type: "string" }, "no-jit": { type: "boolean" }, "max-memory": { type: "string" }, "tls-cert": { type: "string" }, "tls-key": { type: "string" }, "tls-ca": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) { process.stdout.write(HOST_HELP); return 0; }
  const listen = values.listen ?? "127.0.0.1:7001";
  const match = /^(.*):(\d+)$/.exec(listen);
  if (!match) throw new UsageError(`--listen ${listen}: expected HOST:PORT`);
  const tls = loadTls({ cert: values["tls-cert"], key: values["tls-key"], ca: values["tls-ca"] });
  useTls(tls); // also for the links departures open as a client (kills forwarded, has-guest)
  const host = new Host({
    tls, name: values.name ?? listen, host: match[1], port: Number(match[2]), root: resolve(values.root ?? "."), token: values.token,
    translate: values["no-jit"] !== true, maxMemoryBytes: values["max-memory"] ? parseSize("--max-memory", values["max-memory"]) : undefined, log: (line) => process.stderr.write(`[${values.name ?? listen}] ${line}\n`),
  });
  await host.listen();
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await host.close();
  return 0;
}

// ---- Clients -------------------------------------------------------------------------------

function common() {
  return { on: { type: "string" as const }, token: { type: "string" as const }, "tls-ca": { type: "string" as const }, help: { type: "boolean" as const, short: "h" } };
}

/** `roam run --on ws://HOST prog.elf [args]`: starts it there, prints the id, attaches unless --detach. */
export async function remoteRun(args: string[], kind: "process" | "machine" = "process"): Promise<number> {
  let split = args.length;
  const valued = new Set(["--on", "--token", "--tls-ca", "--ram", "--root", "--max-instructions"]);
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith("-")) { split = i; break; }
    if (valued.has(args[i])) i++;
  }
  const { values } = parseArgs({ args: args.slice(0, split), strict: true, options: { ...common(), detach: { type: "boolean" }, ram: { type: "string" } } });
  const [program, ...rest] = args.slice(split);
  if (!program) throw new UsageError("roam run --on: which program?");
  const peer = await client(values.on, values.token, values["tls-ca"]);
  const reply = await peer.request({
    t: "run", kind, program: basename(program), argv: [program, ...rest], elf: readFileSync(program),
    ramBytes: values.ram ? parseSize("--ram", values.ram) : undefined,
  });
  peer.close();
  const id = (reply.guest as { id: string }).id;
  if (values.detach) { process.stdout.write(id + "\n"); return 0; }
  process.stderr.write(`roam: guest ${id} on ${hostUrl(values.on)}\n`);
  return attachTerminal(hostUrl(values.on), id, tokenOf(values.token), 0);
}

export async function attachCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: common() });
  if (positionals.length !== 1) throw new UsageError("usage: roam attach GID [--on ws://HOST]");
  useTls(loadTls({ ca: values["tls-ca"] }));
  return attachTerminal(hostUrl(values.on), positionals[0], tokenOf(values.token), -1);
}

/** Streams a guest's output to ours and our stdin to it, following it across hosts. */
async function attachTerminal(url: string, id: string, token: string | undefined, from: number): Promise<number> {
  let attachment: Attachment;
  // -1: a late attach shows what the host still keeps of the output.
  attachment = new Attachment(url, id, (data, stream) => (stream === 2 ? process.stderr : process.stdout).write(data), token, Math.max(from, 0),
    (to) => { if (to !== "checkpoint") process.stderr.write(`roam: guest ${id} moved to ${to}\n`); });
  await attachment.start();
  const onData = (chunk: Buffer) => attachment.input(chunk);
  const onEnd = () => attachment.endInput();
  process.stdin.on("data", onData);
  process.stdin.on("end", onEnd);
  const result = await attachment.done;
  process.stdin.off("data", onData);
  process.stdin.off("end", onEnd);
  process.stdin.pause();
  if (result.report) process.stderr.write(`roam: guest ${id}: ${result.report}\n`);
  return result.code;
}

export async function psCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...common(), json: { type: "boolean" } } });
  const peer = await client(values.on, values.token, values["tls-ca"]);
  const reply = await peer.request({ t: "ps" });
  peer.close();
  const guests = reply.guests as Array<Record<string, unknown>>;
  if (values.json) { process.stdout.write(JSON.stringify(guests, null, 2) + "\n"); return 0; }
  process.stdout.write(`${"GUEST".padEnd(15)}${"KIND".padEnd(9)}${"STATUS".padEnd(9)}${"INSTRUCTIONS".padStart(14)}  PROGRAM\n`);
  for (const g of guests) {
    process.stdout.write(`${String(g.id).padEnd(15)}${String(g.kind).padEnd(9)}${String(g.status).padEnd(9)}${String(g.instret).padStart(14)}  ${(g.argv as string[]).join(" ")}\n`);
  }
  return 0;
}

export async function killCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: common() });
  if (positionals.length !== 1) throw new UsageError("usage: roam kill GID [--on ws://HOST]");
  const peer = await client(values.on, values.token, values["tls-ca"]);
  await peer.request({ t: "kill", guest: positionals[0] });
  peer.close();
  return 0;
}

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

export async function migrateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: { ...common(), to: { type: "string" }, strategy: { type: "string" }, "max-downtime": { type: "string" }, bandwidth: { type: "string" }, json: { type: "boolean" } },
  });
  if (positionals.length !== 1 || !values.to) throw new UsageError("usage: roam migrate GID --to ws://OTHER [--strategy stop-copy|precopy|postcopy|hybrid] [--max-downtime 5ms] [--bandwidth 200MB/s] [--json]");
  const strategy = values.strategy ?? "precopy";
  if (!STRATEGIES.includes(strategy as never)) throw new UsageError(`--strategy ${strategy}: one of ${STRATEGIES.join(", ")}`);
  const peer = await client(values.on, values.token, values["tls-ca"]);
  const bar = process.stderr.isTTY && !values.json;
  peer.onMessage((m) => {
    if (m.t !== "migrate-progress" || !bar) return;
    const s = m.stats as MigrationStats;
    const mib = (s.bytes / 1048576).toFixed(1);
    const round = s.rounds.length ? ` round ${s.rounds.length}` : "";
    process.stderr.write(`\r\x1b[K${s.status}${round}: ${mib} MiB sent, ${s.pagesSent} pages${s.throttlePercent ? `, throttle ${s.throttlePercent}%` : ""}`);
  });
  try {
    const reply = await peer.request({
      t: "migrate", guest: positionals[0], to: values.to, strategy,
      maxDowntimeMs: values["max-downtime"] ? parseDuration(values["max-downtime"]) : undefined,
      bandwidth: values.bandwidth ? parseBandwidth(values.bandwidth) : undefined,
      token: tokenOf(values.token),
    });
    if (bar) process.stderr.write("\r\x1b[K");
    const stats = reply.stats as MigrationStats;
    process.stdout.write(values.json ? JSON.stringify(stats, null, 2) + "\n" : formatStats(stats) + "\n");
    return 0;
  } finally {
    peer.close();
  }
}

export async function checkpointCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...common(), output: { type: "string", short: "o" }, "leave-running": { type: "boolean" } } });
  if (positionals.length !== 1 || !values.output) throw new UsageError("usage: roam checkpoint GID -o FILE [--on ws://HOST] [--leave-running]");
  const peer = await client(values.on, values.token, values["tls-ca"]);
  const bar = transferBar("saving");
  try {
    const size = await saveCheckpoint(peer, positionals[0], values.output, values["leave-running"] === true, bar.update);
    bar.done();
    process.stderr.write(`roam: guest ${positionals[0]} saved to ${values.output} (${size} bytes)\n`);
  } finally {
    bar.done();
    peer.close();
  }
  return 0;
}

export async function restoreCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...common(), attach: { type: "boolean" } } });
  if (positionals.length !== 1) throw new UsageError("usage: roam restore FILE [--on ws://HOST] [--attach]");
  const bytes = readFileSync(positionals[0]);
  let snapshot;
  try {
    snapshot = decodeSnapshot(bytes); // refuse a bad file here, before sending it anywhere
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    process.stderr.write(`roam: ${positionals[0]}: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const peer = await client(values.on, values.token, values["tls-ca"]);
  const bar = transferBar("sending");
  let reply;
  try {
    reply = await uploadAndRestore(peer, positionals[0], false, bar.update);
  } finally {
    bar.done();
    peer.close();
  }
  const id = (reply.guest as { id: string }).id;
  if (!values.attach) { process.stdout.write(id + "\n"); return 0; }
  return attachTerminal(hostUrl(values.on), id, tokenOf(values.token), snapshot.console.outputOffset);
}

export async function statsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...common(), json: { type: "boolean" } } });
  if (positionals.length !== 1) throw new UsageError("usage: roam stats GID [--on ws://HOST] [--json]");
  const peer = await client(values.on, values.token, values["tls-ca"]);
  const reply = await peer.request({ t: "stats", guest: positionals[0] });
  peer.close();
  const history = reply.migrations as MigrationStats[];
  if (values.json) { process.stdout.write(JSON.stringify(history, null, 2) + "\n"); return 0; }
  if (history.length === 0) process.stdout.write(`no migrations of ${positionals[0]} from this host\n`);
  for (const s of history) process.stdout.write(formatStats(s) + "\n\n");
  return 0;
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

export async function inspectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  if (positionals.length !== 1) throw new UsageError("usage: roam inspect FILE [--json]");
  let snapshot;
  try {
    snapshot = decodeSnapshot(readFileSync(positionals[0]));
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    process.stderr.write(`roam: ${positionals[0]}: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const hart = new DataView(snapshot.hart.buffer, snapshot.hart.byteOffset, snapshot.hart.byteLength);
  const process_ = snapshot.process;
  const summary = {
    guest: snapshot.guest,
    pc: "0x" + hart.getUint32(132, true).toString(16),
    privilege: ["U", "S", "?", "M"][hart.getUint32(136, true)] ?? "?",
    instructionsRetired: hart.getBigUint64(168, true).toString(),
    ramPages: snapshot.ram.indices.length,
    ramBytesStored: snapshot.ram.data.length,
    console: { outputOffset: snapshot.console.outputOffset, pendingInput: snapshot.console.pendingInput.length, inputEnded: snapshot.console.inputEnded },
    openFiles: process_?.files.files.map(([fd, f]) => ({ fd, path: f.path, kind: f.kind, position: f.position, flags: f.flags })),
    regions: process_?.addressSpace.regions.map((r) => ({ start: "0x" + r.start.toString(16), end: "0x" + r.end.toString(16), prot: r.prot, kind: r.kind })),
    guestClockNs: process_?.guestClockNs,
    pendingSleepUntilNs: process_?.sleepDeadlineNs,
  };
  if (values.json) { process.stdout.write(JSON.stringify(summary, null, 2) + "\n"); return 0; }
  const g = snapshot.guest;
  const lines = [
    `guest ${g.id}: ${g.kind} mode, ${g.argv.join(" ")}`,
    `started ${g.createdAt}; snapshot taken on ${g.host}`,
    `hart: pc ${summary.pc}, ${summary.privilege}-mode, ${summary.instructionsRetired} instructions retired`,
    `RAM: ${g.ramBytes >> 20} MiB, ${summary.ramPages} non-zero pages stored`,
    `console: ${summary.console.outputOffset} bytes of output so far, ${summary.console.pendingInput} bytes of input waiting${summary.console.inputEnded ? ", input ended" : ""}`,
  ];
  if (summary.openFiles) for (const f of summary.openFiles) lines.push(`fd ${f.fd}: ${f.kind} ${f.path} at ${f.position}`);
  if (summary.regions) lines.push(`memory map: ${summary.regions.map((r) => `${r.kind} ${r.start}-${r.end}`).join(", ")}`);
  if (summary.pendingSleepUntilNs) lines.push(`blocked in a sleep until guest time ${summary.pendingSleepUntilNs} ns`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}
