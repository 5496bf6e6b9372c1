// Helpers for the end-to-end tests: real `roam host` processes on loopback,
// and the `roam` CLI run as a user would run it (its own process, its own
// stdin/stdout/exit status). Every child is tracked and killed by
// `stopAll()` (afterAll), and by a last-resort exit hook; every wait has a
// time limit and names what it was waiting for when it runs out.
//
// Needs `npm run build` (bin/roam.js runs dist/).

import { afterEach } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { roamCommand } from "../../bench/common.js";
import { connect, type Peer } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import type { TlsIdentity } from "../../src/net/tls.js";
export { openGate } from "../process-cases.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const ROAM = join(REPO, "bin/roam.js");
export const elfPath = (name: string): string => join(REPO, "guests/bin/process", `${name}.elf`);

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string | (() => string), everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(everyMs);
  }
}

/**
 * `node bin/roam.js ARGS`, with pipes for stdin, stdout and stderr; with `asCommand`, bin/roam.js itself as the `roam`
 * command runs it (its first lines start Node: the Node running the tests, first on PATH).
 */
export class Proc {
  readonly child: ChildProcess;
  private readonly out: Buffer[] = [];
  err = "";
  exited: Exited | undefined;
  readonly closed: Promise<Exited>;
  readonly startedAt = Date.now();

  /** `env`: added to the test's environment; a variable given as undefined is left out. */
  constructor(readonly args: string[], env: Record<string, string | undefined> = {}, asCommand = false) {
    const base = { ...process.env };
    delete base.ROAM_HOST; // the tests say --on and --token themselves
    delete base.ROAM_TOKEN;
    delete base.ROAM_DEBUG;
    const command = asCommand ? roamCommand(args) : { binary: process.execPath, args: [ROAM, ...args], env: {} };
    this.child = spawn(command.binary, command.args, { cwd: REPO, env: { ...base, ...command.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    children.add(this.child);
    this.child.stdout!.on("data", (d: Buffer) => this.out.push(d));
    this.child.stderr!.on("data", (d: Buffer) => (this.err += d.toString()));
    this.child.stdin!.on("error", () => {}); // EPIPE once it has exited
    this.closed = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        children.delete(this.child);
        this.exited = { code, signal };
        resolve(this.exited);
      });
    });
  }

  get stdout(): Buffer {
    return Buffer.concat(this.out);
  }

  get text(): string {
    return this.stdout.toString();
  }

  get pid(): number {
    return this.child.pid!;
  }

  write(data: string | Buffer): void {
    this.child.stdin!.write(data);
  }

  endInput(): void {
    this.child.stdin!.end();
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** Waits for the process to end; after `timeoutMs` kills it and throws. */
  async wait(timeoutMs: number): Promise<Exited> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const result = await Promise.race([this.closed, timeout]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.kill("SIGKILL");
      throw new Error(`roam ${this.args.join(" ")} still running after ${timeoutMs} ms\nstdout: ${this.text.slice(-2000)}\nstderr: ${this.err.slice(-2000)}`);
    }
    return result;
  }

  describe(): string {
    return `roam ${this.args.join(" ")} -> ${JSON.stringify(this.exited)}\nstdout: ${this.text.slice(-1500)}\nstderr: ${this.err.slice(-1500)}`;
  }
}

export interface CliResult {
  code: number | null;
  out: Buffer; // stdout, as bytes
  stdout: string;
  stderr: string;
  ms: number;
  describe: () => string;
}

/** Runs one CLI command to its end (stdin: `input`, then EOF); `command`: as the `roam` command (see Proc). */
export async function roam(args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string | undefined>; command?: boolean } = {}): Promise<CliResult> {
  const p = new Proc(args, options.env, options.command);
  if (options.input !== undefined) p.write(options.input);
  p.endInput();
  const exited = await p.wait(options.timeoutMs ?? 30_000);
  return { code: exited.code, out: p.stdout, stdout: p.text, stderr: p.err, ms: Date.now() - p.startedAt, describe: () => p.describe() };
}

/** A `roam host` process on a loopback port the OS picked. */
export class HostProc {
  url = "";

  private constructor(readonly name: string, readonly proc: Proc) {}

  /** `extra`: more `roam host` options. Test hosts stop with their guests (--force) unless `extra` says how to drain. */
  static async start(options: { name: string; root: string; token?: string; peers?: string[]; timeoutMs?: number; extra?: string[] }): Promise<HostProc> {
    const args = ["host", "--listen", "127.0.0.1:0", "--name", options.name, "--root", options.root, ...(options.extra ?? ["--force"])];
    if (options.token !== undefined) args.push("--token", options.token);
    for (const peer of options.peers ?? []) args.push("--peer", peer);
    const host = new HostProc(options.name, new Proc(args));
    const listening = /host \S+ listening on (ws:\/\/127\.0\.0\.1:\d+)/;
    await waitUntil(() => listening.test(host.proc.err) || host.proc.exited !== undefined, options.timeoutMs ?? 20_000, () => `host ${options.name} to listen (log: ${host.proc.err})`);
    const match = listening.exec(host.proc.err);
    if (!match) throw new Error(`host ${options.name} did not start: ${host.proc.describe()}`);
    host.url = match[1];
    return host;
  }

  get log(): string {
    return this.proc.err;
  }

  get alive(): boolean {
    return this.proc.exited === undefined;
  }

  /** kill -9 */
  async crash(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.wait(5000);
  }

  /** SIGTERM (the host closes cleanly), SIGKILL if it has not ended in 5 s. */
  async stop(): Promise<Exited> {
    if (!this.alive) return this.proc.exited!;
    this.proc.kill("SIGTERM");
    try {
      return await this.proc.wait(5000);
    } catch {
      return this.proc.exited ?? { code: null, signal: "SIGKILL" };
    }
  }
}

/** Starts hosts named `names` (in parallel) sharing one sandbox root. */
export async function startHosts(names: string[], root: string, token?: string): Promise<HostProc[]> {
  return Promise.all(names.map((name) => HostProc.start({ name, root, token })));
}

/** Ends every process these helpers started (hosts gently, then everything else). */
export async function stopAll(hosts: HostProc[] = []): Promise<void> {
  await Promise.all(hosts.map((h) => h.stop()));
  for (const child of [...children]) child.kill("SIGKILL");
  await waitUntil(() => children.size === 0, 5000, "child processes to end").catch(() => {});
}

/** The hosts and scratch root one test starts: stopped and removed after each test (call once, at a file's top). */
export function perTest(): { hosts: HostProc[]; root: { path: string; remove: () => void } | undefined } {
  const state: { hosts: HostProc[]; root: { path: string; remove: () => void } | undefined } = { hosts: [], root: undefined };
  afterEach(async () => {
    await stopAll(state.hosts);
    state.hosts = [];
    state.root?.remove();
    state.root = undefined;
  });
  return state;
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `roam-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * `roam run --on URL [--root R] NAME.elf ARGS` attached, as a terminal would run it (`elf`: a guest of guests/bin/process by
 * name, or a path); resolves once the guest id is printed.
 */
export async function runAttached(on: string, elf: string, args: string[], options: { token?: string; ram?: string; root?: string } = {}): Promise<{ proc: Proc; id: string }> {
  const flags = ["--on", on];
  if (options.root !== undefined) flags.push("--root", options.root); // "." shares the host's root, where the test put its files
  if (options.token !== undefined) flags.push("--token", options.token);
  if (options.ram !== undefined) flags.push("--ram", options.ram);
  const proc = new Proc(["run", ...flags, elf.includes("/") ? elf : elfPath(elf), ...args]);
  const started = /roam: guest (\S+) on (\S+)/;
  await waitUntil(() => started.test(proc.err) || proc.exited !== undefined, 20_000, () => `the guest id from ${proc.describe()}`);
  const match = started.exec(proc.err);
  if (!match) throw new Error(`roam run did not start the guest: ${proc.describe()}`);
  return { proc, id: match[1] };
}

export interface PsEntry {
  id: string;
  status: string;
  instret: number;
  argv: string[];
  exitCode?: number;
}

export async function ps(on: string, token?: string): Promise<PsEntry[]> {
  const r = await roam(["ps", "--on", on, "--json", ...(token ? ["--token", token] : [])]);
  if (r.code !== 0) throw new Error(`roam ps failed: ${r.describe()}`);
  return JSON.parse(r.stdout) as PsEntry[];
}

export interface Stats {
  guest: string;
  strategy: string;
  status: string;
  from: string;
  to: string;
  totalMs: number;
  setupMs: number;
  downtimeMs: number;
  rounds: Array<{ round: number; pages: number; bytes: number; ms: number }>;
  pagesSent: number;
  zeroPagesSkipped: number;
  bytes: number;
  throughputMBps: number;
  throttlePercent: number;
  postcopy?: { faults: number; pushedPages: number; faultLatencyP50Ms: number; faultLatencyP99Ms: number; dependencyEndedMs: number };
  residualDependency: string;
  error?: string;
}

/** `roam migrate GID --on FROM --to TO --strategy S --json ...`; the parsed stats when it exits 0. */
export async function migrate(id: string, from: string, to: string, strategy: string, extra: string[] = []): Promise<{ result: CliResult; stats?: Stats }> {
  const result = await roam(["migrate", id, "--on", from, "--to", to, "--strategy", strategy, "--json", ...extra], { timeoutMs: 60_000 });
  return { result, stats: result.code === 0 ? (JSON.parse(result.stdout) as Stats) : undefined };
}

/** One line for the log: the figures a migration reported. */
export function figures(s: Stats): string {
  const pc = s.postcopy ? `, postcopy ${s.postcopy.faults} faults / ${s.postcopy.pushedPages} pushed, p99 ${s.postcopy.faultLatencyP99Ms.toFixed(2)} ms, dependency ${s.postcopy.dependencyEndedMs.toFixed(1)} ms` : "";
  return `${s.strategy} ${s.from} -> ${s.to}: downtime ${s.downtimeMs.toFixed(2)} ms, total ${s.totalMs.toFixed(1)} ms, ${s.rounds.length} rounds, ${s.pagesSent} pages, ${(s.bytes / 1048576).toFixed(2)} MiB, ${s.zeroPagesSkipped} zero pages skipped, throttle ${s.throttlePercent}%${pc}`;
}

/** `ps` over a direct connection (no CLI start-up): for polling a host quickly. */
/** This host's own load vector count (membership.ts makes one each ~0.5 s). */
async function selfSeq(url: string): Promise<number> {
  const peer = await connect(url, { role: "client" });
  try {
    return ((await peer.request({ t: "cluster" })).members as Array<{ seq: number }>)[0].seq;
  } finally {
    peer.close();
  }
}

/** Waits until `url` has made `n` more load vectors: that many rounds of its balancer have passed (an event, not a delay). */
export async function vectorsLater(url: string, n: number): Promise<void> {
  const start = await selfSeq(url);
  const deadline = Date.now() + 60_000;
  while ((await selfSeq(url)) < start + n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} more load vectors from ${url}`);
    await sleep(200);
  }
}

/** A request over a direct connection (no CLI start-up: a guest runs on meanwhile); its reply. */
export async function ask(url: string, message: { t: string } & Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const peer = await connect(url, { role: "client" });
  try {
    return await peer.request(message, timeoutMs);
  } finally {
    peer.close();
  }
}

export async function quickPs(url: string, token?: string): Promise<PsEntry[]> {
  const peer = await connect(url, { role: "client", token });
  try {
    return (await peer.request({ t: "ps" }, 20_000)).guests as PsEntry[];
  } finally {
    peer.close();
  }
}

/** How many TCP connections to local port `port` are established (Linux /proc/net/tcp; -1 when unavailable). */
export function establishedTo(port: number): number {
  if (!existsSync("/proc/net/tcp")) return -1;
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)
    .filter((line) => { const f = line.trim().split(/\s+/); return f[1]?.endsWith(`:${hex}`) && f[3] === "01"; }).length;
}

export const portOf = (url: string): number => Number(new URL(url).port);

/**
 * A checkpoint over the protocol, as `roam checkpoint` takes it: the snapshot
 * arrives as checkpoint-data chunks, then the client confirms it has the file
 * (only then does the host let the guest go). Returns the file's bytes.
 */
export async function checkpointOver(peer: Peer, guest: string, leaveRunning = false): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const off = peer.onMessage((m) => { if (m.t === "checkpoint-data" && m.guest === guest) chunks.push(m.data as Uint8Array); });
  try {
    await peer.request({ t: "checkpoint", guest, leaveRunning });
    await peer.request({ t: "checkpoint-saved", guest });
    return Buffer.concat(chunks);
  } finally {
    off();
  }
}

/** A guest's output as a client following it from host to host sees it (over the protocol, in this process). */
export interface Followed {
  /** Bytes of output received so far. */
  readonly offset: number;
  output(): Buffer;
  /** The guest's `exit` event. */
  readonly exited: Promise<Message>;
}

/** Attaches at `url` and follows guest `id` wherever it moves, taking each output byte once. */
export async function followGuest(url: string, id: string, options: { tls?: TlsIdentity } = {}): Promise<Followed> {
  const chunks: Buffer[] = [];
  let offset = 0;
  let done!: (m: Message) => void;
  const exited = new Promise<Message>((resolve) => (done = resolve));
  const attach = async (at: string): Promise<void> => {
    const peer = await connect(at, { role: "client", tls: options.tls });
    peer.onMessage((m) => {
      if (m.t === "out" && m.guest === id) {
        const data = Buffer.from(m.data as Uint8Array);
        const start = m.offset as number;
        if (start + data.length > offset) { chunks.push(data.subarray(offset - start)); offset = start + data.length; }
      } else if (m.t === "moved" && m.guest === id) {
        peer.close();
        // A follower that cannot reach the next host ends with that as its "exit", for the test to report.
        attach(String(m.to)).catch((error: Error) => done({ v: 2, t: "exit", guest: id, code: -1, report: `could not follow: ${error.message}` }));
      } else if (m.t === "exit" && m.guest === id) {
        peer.close();
        done(m);
      }
    });
    await peer.request({ t: "attach", guest: id, from: offset });
  };
  await attach(url);
  return { get offset() { return offset; }, output: () => Buffer.concat(chunks), exited };
}

/** A port nobody listens on now (the kernel picks it; closed again at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A client of the host at `url`, and `run`: starts a process-mode guest there (16 MiB, the host's root) and gives its id. */
export async function guestStarter(url: string): Promise<{ client: Peer; run: (program: string, argv: string[]) => Promise<string> }> {
  const client = await connect(url, { role: "client" });
  const run = async (program: string, argv: string[]): Promise<string> => {
    const ran = await client.request({ t: "run", program, argv: [program, ...argv], elf: readFileSync(elfPath(program)), ramBytes: 16 << 20, root: "." });
    return (ran.guest as { id: string }).id;
  };
  return { client, run };
}
