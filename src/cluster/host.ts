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
import { MigrationFailed } from "../migration/source.js";
import { tracing } from "../migration/trace.js";
import type { MigrationStats } from "../migration/stats.js";
import { guardConnection, type Guard } from "../net/connection-guard.js";
import { Peer } from "../net/peer.js";
import { exposureWarning, hostLinkRefusal, registerHostIdentity, serverTlsOptions, tokensEqual, type TlsIdentity } from "../net/tls.js";
import { optNum, optStr, PROTOCOL_VERSION, ProtocolError, str, type Message } from "../net/protocol.js";
import { join } from "node:path";
import { SnapshotError, type GuestInfo, type GuestSnapshot } from "../snapshot/snapshot.js";
import { CheckpointSaves, saveCheckpointHere, Upload } from "./checkpoints.js";
import { defaultMaxMemory, MemoryBudget, NoRoom } from "./memory-budget.js";
import { forwardKill, migrateGuest } from "./departures.js";
import { GuestBusy, HostedGuest, isLive } from "./hosted-guest.js";
import { RemoteFileClient } from "./remote-files.js";
import { FILE_REQUESTS, HomeFiles } from "./home-files.js";
import { LONE_PROCESS_REQUESTS, LoneProcesses, type LoneProcessHost } from "./lone-processes.js";
import { guestRootOn, normalGuestRoot } from "../guest/guest-root.js";
import { hostUrlKey, Members } from "./members.js";
import type { PolicyName } from "./balance/policy.js";
import { CLUSTER_HOST_REQUESTS, HostCluster } from "./host-cluster.js";
import { CLIENT_REQUESTS } from "./requests/index.js";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { GuestMessaging, placeOf } from "./guest-messages.js";
import { ClusterNames } from "./cluster-names.js";
import { PublishedPorts } from "./published-ports.js";
import { guestAddress } from "../kernel/sockets/addresses.js";
import type { GuestMessage } from "../net/host-links.js";
import type { Socket } from "node:net";
import { keepCompiledCode, traceGc } from "./host-runtime.js";
import { openDashboard, type Dashboard } from "../web/dashboard.js";
import { Replications } from "../replication/replications.js";
import { DEFAULT_EPOCH_MS, MAX_EPOCH_MS, MIN_EPOCH_MS } from "../replication/epoch.js";

export type LogLevel = "info" | "warn" | "error";

export interface HostOptions {
  name: string;
  host: string;
  port: number;
  root: string; // sandbox directory for process-mode guests' files
  token?: string; // required from every client and host when set
  /**
   * PEM contents (src/net/tls.ts). With `cert` and `key` the host listens on
   * wss:// and presents them to the hosts it connects to; with `ca` it verifies
   * the hosts it reaches, and requires host links to it to present a
   * certificate that CA signed.
   */
  tls?: TlsIdentity;
  /** How long a connection may take to say hello, and to deliver one frame (tests shorten them). */
  connectionLimits?: { helloMs: number; frameMs: number };
  /** Guest RAM this host takes on at most (default: 3/4 of the machine's memory). */
  maxMemoryBytes?: number;
  peers?: string[]; // hosts known as cluster members from the start (`--peer`): see src/cluster/members.ts
  /** `--join`: members to join the cluster through (src/cluster/membership.ts); one is enough. */
  join?: string[];
  /** `--capacity`: instructions per second for all its guests together (src/cluster/capacity.ts). */
  capacity?: number;
  /** `--label`: what this host offers; a guest's `requires` must be among them. */
  labels?: string[];
  /** `--balance`: sender, receiver or symmetric (src/cluster/balance/). */
  balance?: PolicyName;
  /** `--balance ...,locality`: guests move next to the hosts they exchange most data with (src/cluster/balance/locality.ts). */
  locality?: boolean;
  /** `--dashboard HOST:PORT`: serve the cluster's live web page there (src/web/dashboard.ts). */
  dashboard?: string;
  translate?: boolean;
  /** Where the host's log lines go; `level` when the host knows how loud a line is. */
  log?: (line: string, level?: LogLevel) => void;
  /** `--state-dir`: what must outlive the host (replication: the guests its replicas took over, which fence old primaries). */
  stateDir?: string;
  /** Called at named points of each outgoing migration (tests cut connections there; traces time them). */
  onMigrationPoint?: (guest: string, point: string, cut: () => void) => void;
}

const KEEP_ENDED = 32; // ended guests listed by ps (their output kept for late attaches)

/** One connection to a host (Host.accept), from a client or another host, and what its hello made of it. */
interface Link {
  readonly peer: Peer;
  readonly socket: Socket;
  readonly from: string; // address:port
  readonly guard: Guard;
  greeted: boolean;
  hostPeer: boolean; // said role "host" and passed the token check
  receiver?: MigrationReceiver;
  linkFrom: string; // a host link: the host's URL, as its hello says
  readonly detachers: Array<() => void>;
}

export class Host implements ReceivingHost {
  readonly guests = new Map<string, HostedGuest>();
  readonly migrations = new Map<string, MigrationStats[]>(); // by guest id, kept after the guest leaves
  /** Migrations arriving now, by guest id (a second, urgent-page connection joins its arrival). */
  readonly arrivals = new Map<string, MigrationReceiver>();
  private server: WebSocketServer | undefined;
  private httpsServer: HttpsServer | undefined;
  private forgetIdentity = () => {};
  private listeningUrl: string | undefined;
  private dashboard: Dashboard | undefined;
  private readonly peers = new Set<Peer>();
  /** Reaches files of guests that came from elsewhere and still have them open there. */
  private readonly remoteFiles: RemoteFileClient;
  /** Files of this host's sandbox that guests which moved away still have open: their capabilities. */
  readonly homeFiles: HomeFiles;
  /** The only hosts this host contacts on its own (never a URL read from a snapshot). */
  readonly members: Members;
  /** The guest RAM this host takes on (--max-memory). */
  readonly budget: MemoryBudget;
  /** Checkpoints waiting for their client's word that the file is safe. */
  readonly checkpointSaves = new CheckpointSaves();
  /** Guests that moved on or were checkpointed, by id: not listed, but a kill or an attach follows them. */
  readonly gone = new Map<string, HostedGuest>();
  /** Snapshot files arriving for `restore`, by connection. */
  readonly uploads = new WeakMap<Peer, Upload>();
  /** Processes that moved alone (--children home): those whose home this is, and those that arrived. */
  readonly lone: LoneProcesses;
  /** Ports published for guests started here (roam run --publish): outside TCP clients relayed to them. */
  readonly ports: PublishedPorts;
  /** Messages between guests: links to other hosts and the switch (docs/MESSAGES.md). */
  readonly messaging: GuestMessaging;
  /** Membership, load vectors, --capacity, --label and placement (src/cluster/host-cluster.ts). */
  readonly cluster: HostCluster;
  /** Guests replicated from here, and replicas kept here for other hosts (src/replication/). */
  readonly replication = new Replications(this);

  constructor(readonly options: HostOptions) {
    this.members = new Members(options.peers);
    this.remoteFiles = new RemoteFileClient(options.token, this.members, (line) => this.log(line), options.tls);
    this.homeFiles = new HomeFiles();
    this.budget = new MemoryBudget(options.maxMemoryBytes ?? defaultMaxMemory(), options.name, () => this.memoryInUse());
    const host = this; // the url is known only once it listens: read it then
    this.messaging = new GuestMessaging({
      get url() { return host.url; },
      guests: this.guests,
      isArriving: (id) => this.arrivals.has(id),
      keepsReplica: (id) => this.replication.keepsReplica(id),
      knownHosts: () => [...new Set([...this.members.list(), ...this.hostsToAsk])].filter((url) => url !== hostUrlKey(host.url)),
      log: (line) => this.log(line),
      endedElsewhere: (id) => {
        const here = this.guests.get(id);
        if (here && (here.status === "running" || here.status === "frozen")) return; // not what another host may end
        this.ports.unpublish(id);
      },
    }, { token: options.token, tls: options.tls });
    this.ports = new PublishedPorts({
      get url() { return host.url; },
      send: (message, place) => this.messaging.switch.fromGuest(message, place),
      log: (line) => this.log(line),
    });
    this.messaging.endpoints.set(this.ports.endpoint, (m) => this.ports.receive(m));
    this.members.onNew = (url) => { if (url !== hostUrlKey(host.url)) this.messaging.newMember(url); };
    this.cluster = new HostCluster(this, { token: options.token, tls: options.tls, capacity: options.capacity, labels: options.labels, balance: options.balance, locality: options.locality });
    this.remoteFiles.onTraffic = (guest, home, n) => this.messaging.switch.counts.exchanged(guest, home, n);
    this.remoteFiles.holdFor = (guest) => { const held = this.guests.get(guest)?.heldMessages; return held && ((go) => held.holdAction(go)); };
    this.lone = new LoneProcesses({
      name: options.name, get url() { return host.url; }, token: options.token, members: this.members, guests: this.guests,
      log: (line) => this.log(line),
      makeGuest: (start) => this.adoptLoneProcess(start),
      issueCapability: (hosted, satellite, file) => this.homeFiles.within(guestRootOn(this.options.root, hosted.info.root)).issue(satellite, file.id, file),
    });
  }

  /** A process arriving alone becomes a guest here (its root within this host's --root, as its home's guest had). */
  private async adoptLoneProcess(start: Parameters<LoneProcessHost["makeGuest"]>[0]): Promise<HostedGuest> {
    this.budget.check(start.ramBytes, `proc-adopt: ${start.program}`);
    const options = await this.guestOptions(start.root, "proc-adopt");
    const guest = ProcessGuest.adopt(options, { ...start, root: normalGuestRoot(start.root) });
    return this.adopt(guest);
  }

  /** The RAM of every guest whose core this host holds (a postcopy source keeps its core until the last page left). */
  private memoryInUse(): number {
    let sum = 0;
    for (const hosted of [...this.guests.values(), ...this.gone.values()]) if (hosted.holdsCore) sum += hosted.info.ramBytes;
    return sum;
  }

  get name(): string {
    return this.options.name;
  }

  /** A balancer's move (src/cluster/balance/): precopy, as a drain moves guests. */
  async migrateAway(id: string, to: string): Promise<void> {
    const hosted = this.guests.get(id);
    if (!hosted) throw new ProtocolError(`no guest ${id} on ${this.name}`);
    this.cluster.refuseDestination(hosted.info, to);
    await migrateGuest(this, hosted, undefined, { v: PROTOCOL_VERSION, t: "migrate", guest: id, to, strategy: "precopy" } as Message);
  }

  /** Messages between guests sent and received here so far (for the load vector). */
  messagesSoFar(): number {
    return this.messaging.switch.counts.total();
  }

  get token(): string | undefined {
    return this.options.token;
  }

  get stateDir(): string | undefined {
    return this.options.stateDir;
  }

  get onMigrationPoint(): HostOptions["onMigrationPoint"] {
    return this.options.onMigrationPoint;
  }

  get url(): string {
    if (this.listeningUrl) return this.listeningUrl;
    const address = this.server?.address();
    const port = typeof address === "object" && address ? address.port : this.options.port;
    return `${this.options.tls?.cert ? "wss" : "ws"}://${this.options.host}:${port}`;
  }

  async listen(): Promise<void> {
    await Core.load(); // compile the core now, not when the first guest arrives
    keepCompiledCode();
    if (tracing) traceGc(this.name);
    const { host, port, tls, token } = this.options;
    const frames = { maxPayload: 80 << 20, perMessageDeflate: false };
    if (tls?.cert) {
      this.httpsServer = createHttpsServer(serverTlsOptions(tls));
      this.server = new WebSocketServer({ server: this.httpsServer, ...frames });
      this.httpsServer.listen(port, host);
    } else this.server = new WebSocketServer({ host, port, ...frames });
    await new Promise<void>((resolve, reject) => {
      const listening = this.httpsServer ?? this.server!;
      listening.once("listening", () => resolve());
      listening.once("error", reject);
    });
    this.forgetIdentity = registerHostIdentity(this.name, tls);
    this.server.on("connection", (ws, request) => {
      request.socket.setNoDelay(true); // as on outgoing links (src/net/peer.ts): small frames leave at once
      this.accept(ws, request.socket);
    });
    this.listeningUrl = this.url; // asked for every arriving guest: not a system call each time
    this.log(`host ${this.name} listening on ${this.url}`);
    // The hosts named with --peer learn this one (its link's hello), and tell it the socket names their guests bound.
    this.messaging.switch.broadcast({ kind: "member" });
    await this.cluster.start(this.options.join ?? []);
    if (this.options.dashboard !== undefined) this.dashboard = await openDashboard(this.options.dashboard, this.cluster, this);
    const warning = exposureWarning(host, Number(/:(\d+)$/.exec(this.url)![1]), tls?.cert !== undefined, token !== undefined);
    if (warning) this.log(warning);
  }

  async close(): Promise<void> {
    this.replication.close(); // before the links go: a stopping backup drops its replicas, it does not take them over
    for (const hosted of this.guests.values()) hosted.kill();
    for (const peer of this.peers) peer.terminate();
    this.cluster.close();
    await this.dashboard?.close();
    this.remoteFiles.close();
    this.lone.close();
    this.messaging.close();
    this.ports.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => {
      if (!this.httpsServer) { resolve(); return; }
      this.httpsServer.close(() => resolve());
      this.httpsServer.closeAllConnections(); // handshakes that never became a WebSocket
    });
    this.forgetIdentity();
  }

  log(line: string, level?: LogLevel): void {
    this.options.log?.(line, level);
  }

  // ---- Connections -------------------------------------------------------------------

  private accept(ws: WebSocket, socket: Socket): void {
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    const peer = new Peer(ws, (error) => {
      this.log(`bad frame from ${from}: ${error.message}`, "warn");
      peer.fail(error.rid === undefined ? undefined : { rid: error.rid } as Message, `bad frame: ${error.message}`);
    }, socket);
    this.peers.add(peer);
    const guard = guardConnection(ws, socket, (reason) => this.log(`closed the connection from ${from}: ${reason}`, "warn"), this.options.connectionLimits);
    const link: Link = { peer, socket, from, guard, greeted: false, hostPeer: false, linkFrom: from, detachers: [] };
    void peer.closed.then(() => {
      this.peers.delete(peer);
      for (const d of link.detachers) d();
    });
    peer.onMessage((m) => void this.onLinkMessage(link, m));
  }

  /** One message on a connection: its hello first, then a migration's own links, then every other request. */
  private async onLinkMessage(link: Link, m: Message): Promise<void> {
    try {
      if (!link.greeted) { this.greet(link, m); return; }
      if (this.joinsMigration(link, m)) return;
      await this.serveLink(link, m);
    } catch (error) {
      const known = error instanceof ProtocolError || error instanceof SnapshotError || error instanceof MigrationFailed || error instanceof GuestBusy || error instanceof NoRoom;
      // One line; the stack only for a developer who asks (ROAM_DEBUG): a host's log is read by people.
      if (!known) this.log(`error handling ${m.t}: ${(process.env.ROAM_DEBUG ? (error as Error).stack : (error as Error).message) ?? error}`, "error");
      link.peer.fail(m, (error as Error).message);
    }
  }

  /** A connection's hello: the token, and for a host link its client certificate (with TLS); a host becomes a member. */
  private greet(link: Link, m: Message): void {
    const { peer, from } = link;
    if (m.t !== "hello") throw new ProtocolError("say hello first");
    if (this.options.token !== undefined && !tokensEqual(m.token, this.options.token)) {
      if (m.role === "host") this.log(`refused a host link from ${from}${typeof m.url === "string" ? ` (${m.url})` : ""}: bad token`, "warn");
      peer.fail(m, "bad token");
      peer.close(4001, "bad token");
      return;
    }
    const refusal = m.role === "host" ? hostLinkRefusal(link.socket, this.options.tls, this.name) : undefined;
    if (refusal) {
      this.log(`refused a host link from ${from}: ${refusal}`);
      peer.fail(m, refusal);
      peer.close(4003, "no verified client certificate");
      return;
    }
    link.greeted = true;
    link.guard.greeted();
    if (m.role === "host") {
      link.hostPeer = true;
      link.receiver = new MigrationReceiver(this, peer, typeof m.url === "string" ? m.url : undefined);
      if (typeof m.url === "string") this.members.learn(m.url); // an authenticated host: a member
      if (typeof m.url === "string") link.linkFrom = m.url;
    }
    peer.reply(m, { name: this.name, version: 1 });
  }

  /**
   * A host link that belongs to a migration already under way: the source's link again after a break (postcopy
   * recovery, src/migration/destination.ts), or its second connection for urgent pages. True if `m` was one.
   */
  private joinsMigration(link: Link, m: Message): boolean {
    if (!link.receiver || (m.t !== "mig-resume" && m.t !== "mig-urgent")) return false;
    const arrival = this.arrivals.get(str(m, "guest"));
    if (m.t === "mig-resume") {
      if (!arrival) {
        if (!this.arrivedWhole(str(m, "guest"))) throw new ProtocolError(`no migration of ${str(m, "guest")} is arriving here`);
        link.peer.reply(m, { missing: new Uint8Array(0) }); // nothing left to send: the source completes
        return true;
      }
      link.receiver = arrival;
      arrival.resume(link.peer, m);
      return true;
    }
    // Its pages go to that arrival (none: it ended whole).
    if (arrival) link.receiver = arrival;
    else if (!this.arrivedWhole(str(m, "guest"))) throw new ProtocolError(`no migration of ${str(m, "guest")} is arriving here`);
    link.peer.reply(m);
    return true;
  }

  /** Every request after the hello: the cluster's, guests' messages, replication, a migration, a lone process's, files, a client's. */
  private async serveLink(link: Link, m: Message): Promise<void> {
    const { peer, hostPeer } = link;
    const hostsOnly = (what: string) => { if (!hostPeer) throw new ProtocolError(`${m.t}: ${what}`); };
    if (CLUSTER_HOST_REQUESTS.has(m.t)) { hostsOnly("served to host peers only"); peer.reply(m, await this.cluster.serveHost(m)); return; }
    if (m.t === "gm") {
      if (!hostPeer) throw new ProtocolError("gm: guests' messages come from host peers only");
      this.messaging.frame(m, (answer) => peer.send(answer as { t: string }));
      return;
    }
    if (hostPeer && (await this.replication.serve(peer, m, link.linkFrom))) return;
    if (link.receiver && (await link.receiver.handle(m, peer))) return;
    if (LONE_PROCESS_REQUESTS.has(m.t)) { hostsOnly("served to host peers only"); peer.reply(m, await this.lone.serve(m)); return; }
    if (FILE_REQUESTS.has(m.t)) { hostsOnly("files are served to host peers only"); peer.reply(m, this.homeFiles.serve(m)); return; }
    await this.request(peer, m, link.detachers);
  }

  /** The guest a request names: one here (running or ended), else one that moved on from here. */
  guest(m: Message): HostedGuest {
    const id = str(m, "guest");
    const hosted = this.guests.get(id) ?? this.gone.get(id);
    if (!hosted) throw new ProtocolError(`no guest ${id} on ${this.name}`);
    return hosted;
  }

  /** A client's request, by its type (requests/: one function each, by area). */
  private async request(peer: Peer, m: Message, detachers: Array<() => void>): Promise<void> {
    const handle = CLIENT_REQUESTS[m.t];
    if (!handle) throw new ProtocolError(`unknown message type '${m.t}'`);
    await handle(this, peer, m, detachers);
  }

  /** run --replicate: the guest starts once the backup has its first epoch; if the backup cannot be reached, it never starts. */
  async startReplicated(hosted: HostedGuest, m: Message): Promise<void> {
    try {
      await this.replication.replicate(hosted, str(m, "replicate"), this.epochOf(m), optStr(m, "token") ?? this.token);
    } catch (error) {
      hosted.kill();
      throw new ProtocolError(`run: --replicate: ${(error as Error).message}`);
    }
  }

  epochOf(m: Message): number {
    return optNum(m, "epochMs", MIN_EPOCH_MS, MAX_EPOCH_MS) ?? DEFAULT_EPOCH_MS;
  }

  /** A replicated guest's move is run by its replication (src/replication/move.ts). */
  moveReplicated(hosted: HostedGuest, to: string, move: (signal: AbortSignal) => Promise<MigrationStats>): Promise<MigrationStats> | undefined {
    return this.replication.move(hosted, to, move);
  }

  backupCandidates(info: GuestInfo, exclude: string[]): string[] {
    return this.cluster.backupCandidates(info, exclude);
  }

  refusesArrival(id: string, from: string | undefined): string | undefined {
    return this.replication.refusesArrival(id, from);
  }

  /** Replication: the backup took the guest over (this copy was fenced); it runs there, and clients follow it. */
  fenced(hosted: HostedGuest, owner: string): void {
    hosted.moved(owner);
    this.departed(hosted);
    hosted.release();
  }

  /** Replication: a message the guest sent goes now that its epoch was acknowledged (output commit). */
  sendHeldMessage(message: GuestMessage): void {
    this.messaging.sendHeld(message);
  }

  /** Replication: the members told to a backup (rep-begin). */
  memberUrls(): string[] {
    return this.members.list();
  }

  /**
   * Replication: a primary's members, asked where a guest is (not members here: a backup does not pick new backups
   * among them, nor serve them files, until it hears of them itself).
   */
  learnHostsToAsk(urls: string[]): void {
    for (const url of urls) {
      try { this.hostsToAsk.add(hostUrlKey(url)); } catch { /* not a host URL: ignored */ }
    }
  }

  private readonly hostsToAsk = new Set<string>();

  /** Gives back memory reserved for a replica that was dropped. */
  unreserve(id: string): void {
    this.budget.release(id);
  }

  /** Streams a guest's console to a client from `from` on; returns the detacher. */
  attach(peer: Peer, hosted: HostedGuest, from: number): () => void {
    const id = hosted.info.id;
    for (const chunk of hosted.console.outputSince(Math.max(from, hosted.console.keptFrom))) {
      peer.send({ t: "out", guest: id, offset: chunk.offset, data: chunk.data, stream: chunk.stream });
    }
    if (hosted.status === "moved") {
      peer.send({ t: "moved", guest: id, to: hosted.movedTo, outputOffset: hosted.console.outputOffset });
      return () => {};
    }
    if (!isLive(hosted.status)) {
      peer.send({ t: "exit", guest: id, code: hosted.exitCode, report: hosted.report, status: hosted.status });
      return () => {};
    }
    const offOutput = hosted.console.onOutput((offset, data, stream) => peer.send({ t: "out", guest: id, offset, data, stream }));
    const offEnd = hosted.onEnd(() => {
      if (hosted.status === "moved") peer.send({ t: "moved", guest: id, to: hosted.movedTo, outputOffset: hosted.console.outputOffset });
      else peer.send({ t: "exit", guest: id, code: hosted.exitCode, report: hosted.report, status: hosted.status });
    });
    // Replicated: where the client goes if this host dies (src/replication/).
    if (hosted.backup) peer.send({ t: "replica", guest: id, url: hosted.backup });
    const offBackup = hosted.onBackup((url) => peer.send({ t: "replica", guest: id, url: url ?? null }));
    // Its terminal's job stopped: the client stops with it, and continues it when continued (`continue`). One that
    // attaches to a job already stopped stops at once: `fg` in its shell continues the job.
    const offStopped = hosted.console.onJobStopped((sig) => peer.send({ t: "stopped", guest: id, sig }));
    const stoppedBy = hosted.guest instanceof ProcessGuest ? hosted.guest.jobStoppedBy() : 0;
    if (stoppedBy) peer.send({ t: "stopped", guest: id, sig: stoppedBy });
    return () => { offOutput(); offEnd(); offBackup(); offStopped(); };
  }

  /**
   * A guest ended here: its core and RAM go; its status and output stay for
   * `ps` and late attaches, for the most recent few only.
   */
  private finished(hosted: HostedGuest): void {
    this.log(`guest ${hosted.info.id} ${hosted.status} (${hosted.exitCode})`);
    hosted.release();
    this.messaging.names.dropGuest(hosted.info.id); // its sockets closed with it
    this.ports.unpublish(hosted.info.id);
    if (hosted.info.origin) this.messaging.switch.endedHere(hosted.info.id, hosted.info.origin);
    const ended = [...this.guests.values()].filter((h) => h.status !== "running" && h.status !== "frozen");
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.guests.delete(old.info.id);
  }

  adopt(guest: RunnableGuest): HostedGuest {
    const hosted = new HostedGuest(guest, {
      exited: (h) => { this.cluster.stopped(h.info.id); this.finished(h); },
      started: (h) => { this.cluster.running(h); this.messaging.switch.started(h.info.id); },
    });
    this.guests.set(guest.info.id, hosted);
    return hosted;
  }

  async guestOptions(root: string, what: string) {
    return this.guestOptionsOn(await Core.load(), root, what);
  }

  /** How a guest whose files are in `root` (GuestInfo.root, made here if missing) runs on this host; `what` names the request refused. */
  private guestOptionsOn(core: Core, root: string, what: string) {
    let dir: string;
    try {
      dir = guestRootOn(this.options.root, root);
    } catch (error) {
      throw new ProtocolError(`${what}: ${(error as Error).message}`);
    }
    return {
      core, root: dir, hostName: this.name, hostUrl: this.url, translate: this.options.translate,
      warn: (message: string) => this.log(message), remoteFiles: this.remoteFiles, homeFiles: this.homeFiles.within(dir),
      sendMessage: (message: GuestMessage) => this.messaging.send(message),
      yieldWanted: () => this.messaging.switch.hasInbox(),
      socketNames: (guestId: string, guestRoot: string) => new ClusterNames(guestId, guestRoot, guestAddress(guestId), this.messaging.names, (a) => this.messaging.addressKnown(a)),
    };
  }

  // ---- Draining before a stop ---------------------------------------------------------------

  /** The guests that live here now (what stopping the host would end). */
  liveGuests(): HostedGuest[] {
    return [...this.guests.values()].filter((hosted) => isLive(hosted.status));
  }

  /**
   * Empties this host before it stops, one guest at a time: each moves to one
   * of `to` (taken in turn; if one refuses, the next is tried), or is saved
   * into `dir` as GID.snap. Returns the guests still here after that.
   */
  async drain(plan: { to?: string[]; dir?: string }): Promise<HostedGuest[]> {
    const targets = plan.to ?? [];
    let next = 0;
    for (const hosted of this.liveGuests()) {
      const id = hosted.info.id;
      try {
        if (plan.dir !== undefined) {
          const file = join(plan.dir, `${id}.snap`);
          const letGo = () => { hosted.moved("checkpoint"); this.departed(hosted); hosted.release(); };
          await hosted.exclusively("checkpoint", "a checkpoint", () => saveCheckpointHere(hosted, file, letGo));
          this.log(`guest ${id} checkpointed to ${file} (drain)`);
          continue;
        }
        for (let tried = 0; tried < targets.length && isLive(hosted.status); tried++) {
          const to = targets[next++ % targets.length];
          const request = { v: PROTOCOL_VERSION, t: "migrate", guest: id, to, strategy: "precopy" } as Message;
          await migrateGuest(this, hosted, undefined, request).catch(() => {}); // logged by migrateGuest; the next target is tried
        }
      } catch (error) {
        this.log(`guest ${id} could not be drained: ${(error as Error).message}`, "error");
      }
    }
    return this.liveGuests();
  }

  // ---- Ordering kills against migrations and checkpoints ----------------------------------

  /**
   * Kills a guest, after whatever is being done to it: a migration or
   * checkpoint that can still be undone is cancelled (the guest stays here and
   * dies here); one past its commit finishes, and the kill follows the guest
   * to where it now runs. Returns the host where it was killed.
   */
  async kill(hosted: HostedGuest, how: "kill" | "interrupt" = "kill"): Promise<string> {
    if (hosted.status !== "moved") await hosted.settleOperation(`the guest is being ${how === "kill" ? "killed" : "interrupted"}`);
    if (hosted.status === "moved" && hosted.movedTo !== "checkpoint") return forwardKill(hosted, how);
    if (!isLive(hosted.status)) throw new ProtocolError(`guest ${hosted.info.id} ${hosted.describeEnd()}; nothing to ${how}`);
    if (how === "interrupt") hosted.interrupt();
    else hosted.kill();
    this.log(`guest ${hosted.info.id} ${how === "kill" ? "killed" : "interrupted (Ctrl-C)"}`);
    return this.name;
  }

  departed(hosted: HostedGuest): void {
    const id = hosted.info.id;
    this.cluster.stopped(id);
    this.guests.delete(id);
    this.gone.delete(id);
    this.gone.set(id, hosted);
    for (const old of [...this.gone.keys()].slice(0, Math.max(0, this.gone.size - KEEP_ENDED))) this.gone.delete(old);
    if (hosted.movedTo && hosted.movedTo !== "checkpoint") this.messaging.switch.departed(id, placeOf(hosted.info, hosted.movedTo));
  }

  /** Refuses a guest that is alive here already, or arriving (one running copy at most), or that does not fit the memory budget. */
  admit(info: GuestInfo): void {
    if (this.hasGuest(info.id)) throw new ProtocolError(`guest ${info.id} already runs on ${this.name}`);
    this.cluster.admit(info, `guest ${info.id}`);
    this.budget.check(info.ramBytes, `guest ${info.id}`);
  }

  // ---- ReceivingHost -------------------------------------------------------------------------

  /** Whether guest `id` lives here, or is arriving: an ended guest of that id (kept for ps) does not count. */
  hasGuest(id: string): boolean {
    const hosted = this.guests.get(id);
    return (hosted !== undefined && isLive(hosted.status)) || this.arrivals.has(id);
  }

  lose(id: string, reason: string): void {
    const hosted = this.guests.get(id);
    if (!hosted) return;
    this.log(`guest ${id} ${reason}`, "error");
    hosted.lose(reason);
  }

  reserve(info: GuestInfo): void {
    this.cluster.admit(info, `guest ${info.id}`); // at mig-begin: before any page is sent
    this.budget.reserve(info.id, info.ramBytes, `guest ${info.id}`);
  }

  /**
   * With no arrival of guest `id` pending: whether it came here whole, that is, it is here (or was: it ran, ended or
   * moved on) and was not lost waiting for pages. Its postcopy source may still come back (the link broke after the
   * last page landed but before the source heard so): it is told nothing is missing.
   */
  private arrivedWhole(id: string): boolean {
    const hosted = this.guests.get(id);
    return hosted !== undefined && hosted.status !== "lost";
  }

  arriving(id: string, receiver: MigrationReceiver | undefined): void {
    if (receiver) this.arrivals.set(id, receiver);
    else {
      this.arrivals.delete(id);
      this.budget.release(id);
    }
  }

  prepare(core: Core, snapshot: GuestSnapshot, pages: PostcopyPages): PreparedGuest {
    const options = this.guestOptionsOn(core, snapshot.guest.root, `guest ${snapshot.guest.id}`);
    const guest: RunnableGuest = snapshot.guest.kind === "machine"
      ? MachineGuest.restore(options, snapshot, true, pages)
      : ProcessGuest.restore(options, snapshot, true, pages);
    return {
      update: (later, changed) => guest.update(later, changed),
      start: () => {
        const here = this.guests.get(guest.info.id);
        if (here && isLive(here.status)) throw new ProtocolError(`guest ${guest.info.id} already runs on ${this.name}`);
        this.budget.release(guest.info.id); // counted as a guest from now on
        this.adopt(guest).start();
        this.log(`guest ${guest.info.id} arrived`, "info"); // a level given: no pattern to match inside the guest's first slice
      },
      discard: () => {},
    };
  }
}


