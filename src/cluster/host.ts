// `roam host`: a long-running process that runs many guests at once (each in
// slices, interleaved on the event loop) and serves clients and other hosts
// over WebSocket (src/net/protocol.ts, docs/PROTOCOL.md).

import { WebSocketServer, type WebSocket } from "ws";
import { Core } from "../machine/core.js";
import { MachineGuest } from "../guest/machine-guest.js";
import { ProcessGuest } from "../guest/process-guest.js";
import type { RunnableGuest } from "../guest/runnable.js";
import { MigrationReceiver, type PreparedGuest, type ReceivingHost } from "../migration/destination.js";
import type { PostcopyPages } from "../machine/postcopy-pages.js";
import { MigrationFailed, migrateOut } from "../migration/source.js";
import { epochMs, trace, tracing } from "../migration/trace.js";
import { STRATEGIES, type MigrationStats, type Strategy } from "../migration/stats.js";
import { connect, Peer } from "../net/peer.js";
import { bool, bytes, num, optNum, optStr, ProtocolError, str, strList, type Message } from "../net/protocol.js";
import { decodeSnapshot, encodeSnapshot, SnapshotError, type GuestSnapshot } from "../snapshot/snapshot.js";
import { HostedGuest } from "./hosted-guest.js";
import { RemoteFileClient } from "./remote-files.js";
import { FILE_REQUESTS, HomeFiles } from "./home-files.js";
import { Members } from "./members.js";
import type { Socket } from "node:net";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";

export interface HostOptions {
  name: string;
  host: string;
  port: number;
  root: string; // sandbox directory for process-mode guests' files
  token?: string; // required from every client and host when set
  peers?: string[]; // hosts known as cluster members from the start (`--peer`): see src/cluster/members.ts
  translate?: boolean;
  log?: (line: string) => void;
  /** Called at named points of each outgoing migration (tests cut connections there; traces time them). */
  onMigrationPoint?: (guest: string, point: string, cut: () => void) => void;
}

const KEEP_ENDED = 32; // ended guests listed by ps (their output kept for late attaches)

export class Host implements ReceivingHost {
  readonly guests = new Map<string, HostedGuest>();
  readonly migrations = new Map<string, MigrationStats[]>(); // by guest id, kept after the guest leaves
  /** Migrations arriving now, by guest id (a second, urgent-page connection joins its arrival). */
  readonly arrivals = new Map<string, MigrationReceiver>();
  private server: WebSocketServer | undefined;
  private listeningUrl: string | undefined;
  private readonly peers = new Set<Peer>();
  /** Reaches files of guests that came from elsewhere and still have them open there. */
  private readonly remoteFiles: RemoteFileClient;
  /** Files of this host's sandbox that guests which moved away still have open: their capabilities. */
  readonly homeFiles: HomeFiles;
  /** The only hosts this host contacts on its own (never a URL read from a snapshot). */
  readonly members: Members;

  constructor(readonly options: HostOptions) {
    this.members = new Members(options.peers);
    this.remoteFiles = new RemoteFileClient(options.token, this.members, (line) => this.log(line));
    this.homeFiles = new HomeFiles(options.root);
  }

  get name(): string {
    return this.options.name;
  }

  get url(): string {
    if (this.listeningUrl) return this.listeningUrl;
    const address = this.server?.address();
    const port = typeof address === "object" && address ? address.port : this.options.port;
    return `ws://${this.options.host}:${port}`;
  }

  async listen(): Promise<void> {
    await Core.load(); // compile the core now, not when the first guest arrives
    keepCompiledCode();
    if (tracing) this.traceGc();
    this.server = new WebSocketServer({ host: this.options.host, port: this.options.port, maxPayload: 80 << 20, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("listening", () => resolve());
      this.server!.once("error", reject);
    });
    this.server.on("connection", (ws, request) => {
      request.socket.setNoDelay(true); // as on outgoing links (src/net/peer.ts): small frames leave at once
      this.accept(ws, request.socket);
    });
    this.listeningUrl = this.url; // asked for every arriving guest: not a system call each time
    this.log(`host ${this.name} listening on ${this.url}`);
  }

  async close(): Promise<void> {
    for (const hosted of this.guests.values()) hosted.kill();
    for (const peer of this.peers) peer.terminate();
    this.remoteFiles.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** ROAM_TRACE: garbage-collection pauses, on the same epoch-ms timeline as the migration phases (outliers in downtime). */
  private traceGc(): void {
    const kinds: Record<number, string> = {
      [constants.NODE_PERFORMANCE_GC_MINOR]: "minor", [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
      [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental", [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
    };
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
        trace(`[${this.name}] gc ${kinds[kind] ?? kind} ${e.duration.toFixed(2)} ms (at ${(performance.timeOrigin + e.startTime).toFixed(3)})`);
      }
    }).observe({ entryTypes: ["gc"] });
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  // ---- Connections -------------------------------------------------------------------

  private accept(ws: WebSocket, socket: Socket): void {
    const peer = new Peer(ws, (error) => peer.fail(undefined, `bad frame: ${error.message}`), socket);
    this.peers.add(peer);
    let greeted = false;
    let hostPeer = false; // said role "host" and passed the token check
    let receiver: MigrationReceiver | undefined;
    const detachers: Array<() => void> = [];
    void peer.closed.then(() => {
      this.peers.delete(peer);
      for (const d of detachers) d();
    });
    peer.onMessage((m) => {
      void (async () => {
        try {
          if (!greeted) {
            if (m.t !== "hello") throw new ProtocolError("say hello first");
            if (this.options.token !== undefined && m.token !== this.options.token) {
              peer.fail(m, "bad token");
              peer.close(4001, "bad token");
              return;
            }
            greeted = true;
            if (m.role === "host") {
              hostPeer = true;
              receiver = new MigrationReceiver(this, peer);
              if (typeof m.url === "string") this.members.learn(m.url); // an authenticated host: a member
            }
            peer.reply(m, { name: this.name, version: 1 });
            return;
          }
          if (m.t === "mig-urgent" && receiver) {
            // A second connection for a migration under way: its pages go to that arrival.
            const arrival = this.arrivals.get(str(m, "guest"));
            if (!arrival) throw new ProtocolError(`no migration of ${str(m, "guest")} is arriving here`);
            receiver = arrival;
            peer.reply(m);
            return;
          }
          if (receiver && (await receiver.handle(m, peer))) return;
          if (FILE_REQUESTS.has(m.t)) {
            if (!hostPeer) throw new ProtocolError(`${m.t}: files are served to host peers only`);
            peer.reply(m, this.homeFiles.serve(m));
            return;
          }
          await this.request(peer, m, detachers);
        } catch (error) {
          const known = error instanceof ProtocolError || error instanceof SnapshotError || error instanceof MigrationFailed;
          if (!known) this.log(`error handling ${m.t}: ${(error as Error).stack ?? error}`);
          peer.fail(m, (error as Error).message);
        }
      })();
    });
  }

  private guest(m: Message): HostedGuest {
    const id = str(m, "guest");
    const hosted = this.guests.get(id);
    if (!hosted) throw new ProtocolError(`no guest ${id} on ${this.name}`);
    return hosted;
  }

  private async request(peer: Peer, m: Message, detachers: Array<() => void>): Promise<void> {
    switch (m.t) {
      case "run": {
        const kind = optStr(m, "kind") ?? "process";
        if (kind !== "process" && kind !== "machine") throw new ProtocolError(`run: kind '${kind}' is neither process nor machine`);
        const start = {
          elf: bytes(m, "elf"), program: str(m, "program"), argv: strList(m, "argv"),
          envp: m.envp === undefined ? [] : strList(m, "envp"), ramBytes: optNum(m, "ramBytes", 1 << 20, 1 << 30),
        };
        let guest: RunnableGuest;
        try {
          guest = kind === "machine" ? MachineGuest.start(await this.guestOptions(), start) : ProcessGuest.start(await this.guestOptions(), start);
        } catch (error) {
          throw new ProtocolError(`run: ${start.program}: ${(error as Error).message}`);
        }
        const hosted = this.adopt(guest);
        if (bool(m, "attach")) detachers.push(this.attach(peer, hosted, 0));
        hosted.start();
        peer.reply(m, { guest: guest.info });
        return;
      }
      case "ps":
        peer.reply(m, {
          host: this.name,
          guests: [...this.guests.values()].map((h) => ({
            ...h.info, status: h.status, instret: Number(h.instret), exitCode: h.exitCode, movedTo: h.movedTo,
            dependencies: h.dependencies(),
          })),
        });
        return;
      case "attach": {
        const hosted = this.guest(m);
        detachers.push(this.attach(peer, hosted, optNum(m, "from", 0) ?? 0));
        peer.reply(m, { guest: hosted.info, status: hosted.status, inputOffset: hosted.console.acceptedInput });
        return;
      }
      case "input": {
        const hosted = this.guest(m);
        if (hosted.status !== "running") { peer.reply(m, { inputOffset: hosted.console.acceptedInput }); return; }
        const accepted = hosted.console.pushInput(num(m, "offset", 0), bytes(m, "data"));
        if (bool(m, "end")) hosted.console.endInput();
        peer.reply(m, { inputOffset: accepted });
        return;
      }
      case "kill": {
        const hosted = this.guest(m);
        hosted.kill();
        peer.reply(m);
        return;
      }
      case "migrate":
        await this.migrate(peer, m);
        return;
      case "checkpoint": {
        // Like CRIU's dump: the guest stops here and leaves as a snapshot.
        const hosted = this.guest(m);
        if (hosted.status !== "running" && hosted.status !== "frozen") throw new ProtocolError(`guest ${hosted.info.id} is ${hosted.status}`);
        await hosted.freeze();
        const snapshot = encodeSnapshot(hosted.guest.snapshot());
        const leave = bool(m, "leaveRunning");
        if (leave) hosted.thaw();
        else { hosted.moved("checkpoint"); this.guests.delete(hosted.info.id); }
        peer.reply(m, { snapshot });
        return;
      }
      case "restore": {
        const snapshot = decodeSnapshot(bytes(m, "snapshot"));
        if (this.guests.has(snapshot.guest.id)) throw new ProtocolError(`guest ${snapshot.guest.id} already runs on ${this.name}`);
        const guest = snapshot.guest.kind === "machine"
          ? MachineGuest.restore(await this.guestOptions(), snapshot)
          : ProcessGuest.restore(await this.guestOptions(), snapshot);
        const hosted = this.adopt(guest);
        if (bool(m, "attach")) detachers.push(this.attach(peer, hosted, guest.console.outputOffset));
        hosted.start();
        peer.reply(m, { guest: guest.info });
        return;
      }
      case "stats": {
        const id = str(m, "guest");
        peer.reply(m, {
          migrations: this.migrations.get(id) ?? [], running: this.guests.has(id),
          dependencies: this.guests.get(id)?.dependencies() ?? [],
        });
        return;
      }
      case "has-guest": {
        const hosted = this.guests.get(str(m, "guest"));
        peer.reply(m, { running: hosted?.status === "running" });
        return;
      }
      default:
        throw new ProtocolError(`unknown message type '${m.t}'`);
    }
  }

  /** Streams a guest's console to a client from `from` on; returns the detacher. */
  private attach(peer: Peer, hosted: HostedGuest, from: number): () => void {
    const id = hosted.info.id;
    for (const chunk of hosted.console.outputSince(Math.max(from, hosted.console.keptFrom))) {
      peer.send({ t: "out", guest: id, offset: chunk.offset, data: chunk.data, stream: chunk.stream });
    }
    if (hosted.status === "exited" || hosted.status === "killed") {
      peer.send({ t: "exit", guest: id, code: hosted.exitCode, report: hosted.report, status: hosted.status });
      return () => {};
    }
    const offOutput = hosted.console.onOutput((offset, data, stream) => peer.send({ t: "out", guest: id, offset, data, stream }));
    const offEnd = hosted.onEnd(() => {
      if (hosted.status === "moved") peer.send({ t: "moved", guest: id, to: hosted.movedTo, outputOffset: hosted.console.outputOffset });
      else peer.send({ t: "exit", guest: id, code: hosted.exitCode, report: hosted.report, status: hosted.status });
    });
    return () => { offOutput(); offEnd(); };
  }

  /**
   * A guest ended here: its core and RAM go; its status and output stay for
   * `ps` and late attaches, for the most recent few only.
   */
  private finished(hosted: HostedGuest): void {
    this.log(`guest ${hosted.info.id} ${hosted.status} (${hosted.exitCode})`);
    hosted.release();
    const ended = [...this.guests.values()].filter((h) => h.status !== "running" && h.status !== "frozen");
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.guests.delete(old.info.id);
  }

  private adopt(guest: RunnableGuest): HostedGuest {
    const hosted = new HostedGuest(guest, { exited: (h) => this.finished(h) });
    this.guests.set(guest.info.id, hosted);
    return hosted;
  }

  private async guestOptions(core?: Core) {
    return {
      core: core ?? (await Core.load()), root: this.options.root, hostName: this.name, hostUrl: this.url, translate: this.options.translate,
      warn: (message: string) => this.log(message), remoteFiles: this.remoteFiles, homeFiles: this.homeFiles,
    };
  }

  // ---- Migration ---------------------------------------------------------------------------

  private async migrate(client: Peer, m: Message): Promise<void> {
    const hosted = this.guest(m);
    if (hosted.status !== "running") throw new ProtocolError(`guest ${hosted.info.id} is ${hosted.status}, not running`);
    const to = str(m, "to");
    const strategy = (optStr(m, "strategy") ?? "precopy") as Strategy;
    if (!STRATEGIES.includes(strategy)) throw new ProtocolError(`unknown strategy '${strategy}' (${STRATEGIES.join(", ")})`);
    const traceStart = performance.now();
    const target = await connect(to, { role: "host", token: optStr(m, "token") ?? this.options.token, name: this.name, url: this.url }).catch((error) => {
      throw new MigrationFailed(`destination ${to}: ${(error as Error).message}`);
    });
    const history = this.migrations.get(hosted.info.id) ?? [];
    this.migrations.set(hosted.info.id, history);
    try {
      const stats = await migrateOut(hosted, target, this.name, to, {
        strategy,
        maxDowntimeMs: optNum(m, "maxDowntimeMs", 0) ?? 5,
        bandwidthBytesPerSecond: optNum(m, "bandwidth", 1),
        maxRounds: optNum(m, "maxRounds", 1, 1000),
        openUrgentChannel: () => connect(to, { role: "host", token: optStr(m, "token") ?? this.options.token, name: this.name, url: this.url }),
        checkpoint: (point) => {
          if (tracing) trace(`[${this.name}] migration ${hosted.info.id} ${point} +${(performance.now() - traceStart).toFixed(2)} ms (at ${epochMs().toFixed(3)})`);
          this.options.onMigrationPoint?.(hosted.info.id, point, () => target.terminate());
        },
        onProgress: (s) => client.send({ t: "migrate-progress", rid: undefined, guest: hosted.info.id, stats: s }),
        onCommitted: () => {
          hosted.moved(to);
          this.guests.delete(hosted.info.id);
          // The source keeps the frozen core only while postcopy may still need its pages.
          if (strategy !== "postcopy" && strategy !== "hybrid") hosted.release();
        },
      });
      history.push(stats);
      this.members.learn(to); // a host this one migrated a guest to
      if ((hosted.status as string) === "moved") hosted.release();
      client.reply(m, { stats });
    } catch (error) {
      const failure = error as MigrationFailed & { stats?: MigrationStats; committed?: boolean };
      if (failure.stats) history.push(failure.stats);
      if (failure.committed && (hosted.status as string) !== "moved") await this.settleUncertain(hosted, to, m);
      throw error;
    } finally {
      target.close();
    }
  }

  /**
   * The commit went out but its answer did not come back: ask the destination
   * whether the guest runs there before running it here, so there are never two.
   */
  private async settleUncertain(hosted: HostedGuest, to: string, m: Message): Promise<void> {
    try {
      const peer = await connect(to, { role: "client", token: optStr(m, "token") ?? this.options.token });
      const reply = await peer.request({ t: "has-guest", guest: hosted.info.id }, 5000);
      peer.close();
      if (reply.running === true) { hosted.moved(to); this.guests.delete(hosted.info.id); return; }
    } catch {
      // unreachable: it cannot be running there as far as anyone can tell
    }
    hosted.thaw();
  }

  // ---- ReceivingHost -------------------------------------------------------------------------

  hasGuest(id: string): boolean {
    return this.guests.has(id);
  }

  arriving(id: string, receiver: MigrationReceiver | undefined): void {
    if (receiver) this.arrivals.set(id, receiver);
    else this.arrivals.delete(id);
  }

  prepare(core: Core, snapshot: GuestSnapshot, pages: PostcopyPages): PreparedGuest {
    const options = {
      core, root: this.options.root, hostName: this.name, hostUrl: this.url, translate: this.options.translate,
      warn: (s: string) => this.log(s), remoteFiles: this.remoteFiles, homeFiles: this.homeFiles,
    };
    const guest: RunnableGuest = snapshot.guest.kind === "machine"
      ? MachineGuest.restore(options, snapshot, true, pages)
      : ProcessGuest.restore(options, snapshot, true, pages);
    return {
      update: (later, changed) => guest.update(later, changed),
      start: () => {
        if (this.guests.has(guest.info.id)) throw new ProtocolError(`guest ${guest.info.id} already runs on ${this.name}`);
        this.adopt(guest).start();
        this.log(`guest ${guest.info.id} arrived`);
      },
      discard: () => {},
    };
  }
}

/**
 * A host runs for days, and its migration code (freeze, state changes, commit)
 * runs once per move, minutes apart. V8 throws away the bytecode and the type
 * feedback of a function that has not run for a few major collections, and a
 * page stream of 256 MiB causes dozens of those: each freeze then ran cold,
 * recompiled, 3-5x slower (0.1-0.3 ms a step where a warm step takes 0.03; about
 * half of a postcopy resume). The bytecode of a host is a few MB; keep it.
 */
function keepCompiledCode(): void {
  setFlagsFromString("--no-flush-bytecode");
}
