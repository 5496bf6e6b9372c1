// A host's side of `roam migrate GID --children home --pid P`: one process of a
// guest's tree moves alone to another host, and this host — the tree's home —
// forwards between it and its family (src/kernel/lone-process.ts).
//
// At home:    move(): freeze the guest, send the process's image (proc-adopt),
//             leave a proxy; then serve proc-io (its pipe and terminal I/O),
//             proc-poll (their readiness), proc-kill (its signals to the
//             family), proc-wait and proc-reap (its children that stayed),
//             proc-stopped and proc-exit (its stops and its end), and pass
//             signals for it on (proc-signal). Counts what it forwards. A
//             process whose host is gone ends here as killed.
// Elsewhere:  adopt() a process that arrives alone as a guest of its own, send
//             its stops and its end home, and take signals for it.

import { ProcessGuest } from "../guest/process-guest.js";
import type { RunnableGuest } from "../guest/runnable.js";
import { sendSignal } from "../kernel/deliver.js";
import type { OpenFile } from "../kernel/files.js";
import type { Kernel } from "../kernel/kernel.js";
import { cannotTakeOut, forwarded, imageOf, leaveProxy, type Home, type ProcessImage } from "../kernel/lone-process.js";
import { homeExit, homeIo, homeKill, homePoll, homeReap, homeStopped, homeWait } from "../kernel/lone-home.js";
import { endTask } from "../kernel/process-tree.js";
import { homeChildChanged } from "../kernel/lone-satellite.js";
import { SIGCHLD, SIGKILL, type SigInfo } from "../kernel/signals.js";
import { connect, type Peer } from "../net/peer.js";
import { bytes, num, ProtocolError, str, type Message } from "../net/protocol.js";
import { isLive, type HostedGuest } from "./hosted-guest.js";

/** How long the host a process moved to may stay out of reach before its family at home sees it killed. */
const LOST_MS = 5_000;

export const LONE_PROCESS_REQUESTS: ReadonlySet<string> = new Set(["proc-adopt", "proc-io", "proc-poll", "proc-kill", "proc-wait", "proc-reap", "proc-stopped", "proc-exit", "proc-signal"]);

/** What the home forwarded for a guest's processes that moved alone: the residual dependency `roam stats` shows. */
export interface Forwarding {
  messages: number;
  bytes: number;
  away: Array<{ pid: number; host: string; guest: string }>;
}

export interface LoneProcessHost {
  readonly name: string;
  readonly url: string;
  readonly token?: string;
  readonly members: { learn(url: string): void };
  readonly guests: Map<string, HostedGuest>;
  log(line: string): void;
  /** A guest of this host for a process arriving alone (its root made as a run's would be). */
  makeGuest(start: { id: string; program: string; argv: string[]; ramBytes: number; root: string; image: ProcessImage; home: Home; elf?: Uint8Array }): Promise<HostedGuest>;
  issueCapability(guest: HostedGuest, satellite: string, file: OpenFile): string;
}

export class LoneProcesses {
  readonly forwarding = new Map<string, Forwarding>(); // by home guest id
  private readonly peers = new Map<string, Promise<Peer>>();
  private closing = false;

  constructor(private readonly host: LoneProcessHost) {}

  /** `migrate --children home --pid P`: P of `hosted` runs on `to` from now on; this host stays its family's home. */
  async move(hosted: HostedGuest, pid: number, to: string): Promise<{ pid: number; to: string; guest: string }> {
    if (hosted.info.kind !== "process") throw new ProtocolError(`guest ${hosted.info.id} is a machine: it has no processes to move alone`);
    return hosted.exclusively("migration", `process ${pid} moving alone to ${to}`, async () => {
      const kernel = kernelOf(hosted);
      if (hosted.guest.receivingPages) throw new ProtocolError(`guest ${hosted.info.id} is still receiving its memory by postcopy; move its processes once that completes`);
      const why = cannotTakeOut(kernel, pid);
      if (why) throw new ProtocolError(`guest ${hosted.info.id}: ${why}`);
      const peer = await this.peer(to);
      await hosted.freeze();
      try {
        const satellite = `${hosted.info.id}-${pid}`;
        const home: Home = { url: this.host.url, guest: hosted.info.id };
        const image = imageOf(kernel, pid, (file) => this.fileOut(hosted, satellite, file, home));
        const task = kernel.tasks.get(pid)!;
        await peer.request({
          t: "proc-adopt", guest: satellite, home: home.url, homeGuest: home.guest, image,
          program: hosted.info.program, argv: [task.name], ramBytes: hosted.info.ramBytes, root: hosted.info.root,
          // What /proc/self/exe is when it runs the guest's own program (BusyBox's shell runs its applets so).
          ...(task.exe === "" && kernel.program.length ? { elf: kernel.program } : {}),
        }, 60_000);
        const away = { host: to, guest: satellite };
        leaveProxy(kernel, pid, away);
        this.watch(hosted, kernel);
        void this.watchSatellite(hosted, kernel, pid, away);
        this.counts(hosted.info.id).away.push({ pid, host: to, guest: satellite });
        this.host.log(`guest ${hosted.info.id}: process ${pid} (${task.name}) moved alone to ${to} as ${satellite}; this host forwards for it`);
        return { pid, to, guest: satellite };
      } finally {
        hosted.thaw();
      }
    });
  }

  /**
   * The link between a process that moved alone and its family (the home it
   * asks, the exit it sends home, the signals the home passes on) is the two
   * hosts', not part of either guest's snapshot: a move or a checkpoint of
   * either guest would cut it. Refused with why. `alone`: the request moves
   * another process of the home guest alone, which keeps the home here.
   */
  refuseMove(hosted: HostedGuest, what: string, alone = false): void {
    const guest = hosted.holdsCore ? hosted.guest : undefined;
    if (!(guest instanceof ProcessGuest)) return;
    const home = guest.process.home;
    if (home) throw new ProtocolError(`guest ${hosted.info.id} is a process that moved here alone from ${home.guest} on ${home.url}: its family reaches it through this host, so it cannot be ${what} (it ends here)`);
    const away = [...guest.process.tasks.values()].find((t) => t.away && t.status !== "zombie");
    if (away && !alone) throw new ProtocolError(`guest ${hosted.info.id}: its process ${away.pid} runs alone on ${away.away!.host} and reaches its family through this host, so the guest cannot be ${what} until that process ends`);
  }

  /** What one of the moving process's descriptions becomes there. */
  private fileOut(hosted: HostedGuest, satellite: string, file: OpenFile, home: Home): OpenFile {
    if (file.kind === "pipe" || file.kind === "terminal") return forwarded(file, home);
    if (file.kind === "file" || file.kind === "directory") {
      if (file.home) return { ...file };
      return { ...file, home: home.url, cap: this.host.issueCapability(hosted, satellite, file) };
    }
    return { ...file };
  }

  /** Signals for a proxy go on to where its process runs. */
  private watch(hosted: HostedGuest, kernel: Kernel): void {
    kernel.onAwaySignal = (task, sig, info) => {
      const away = task.away!;
      this.count(hosted.info.id, 0);
      // What siginfo says (who sent it; for SIGCHLD which child, and how it ended) goes with it.
      const about = { code: info.code, pid: info.pid ?? 0, status: info.status ?? 0 };
      const group = info.group === undefined ? {} : { group: info.group };
      void this.peer(away.host).then((p) => p.request({ t: "proc-signal", guest: away.guest, sig, info: about, ...group })).catch((error: Error) => {
        this.host.log(`guest ${hosted.info.id}: signal ${sig} for process ${task.pid} on ${away.host} not delivered: ${error.message}`);
      });
    };
  }

  /**
   * The process's host is gone: the link to it closed and cannot be made
   * again for LOST_MS. Its family here sees it killed (SIGKILL), as when a
   * machine dies under a process: its parent's wait returns, its pipe ends
   * close (its writers get EPIPE, its readers EOF), the guest may move again.
   */
  private async watchSatellite(hosted: HostedGuest, kernel: Kernel, pid: number, away: { host: string; guest: string }): Promise<void> {
    const task = kernel.tasks.get(pid)!;
    const stillAway = (): boolean => !this.closing && isLive(hosted.status) && kernel.tasks.get(pid) === task && task.away === away && task.status !== "zombie";
    let why = "";
    for (let again = false; ; again = true) {
      const since = Date.now();
      let peer: Peer | undefined;
      while (!peer && stillAway() && Date.now() - since < LOST_MS) {
        peer = await this.peer(away.host).catch((error: Error) => { why = error.message; return undefined; });
        if (!peer) await new Promise((resolve) => setTimeout(resolve, LOST_MS / 10));
      }
      if (!stillAway()) return;
      if (!peer) break;
      // A host that answers again at that URL may be a new one, without the process.
      const there = !again || (await peer.request({ t: "proc-signal", guest: away.guest, sig: 0 }).then((r) => r.delivered === true, () => false));
      if (!stillAway()) return;
      if (!there) { why = `${away.host} answers again, but no longer runs ${away.guest}`; break; }
      await peer.closed;
      why = "its link closed";
    }
    this.host.log(`guest ${hosted.info.id}: process ${pid} on ${away.host} is lost (${why}): it ends here as killed (SIGKILL)`);
    endTask(kernel, task, SIGKILL);
  }

  private counts(guest: string): Forwarding {
    let f = this.forwarding.get(guest);
    if (!f) this.forwarding.set(guest, (f = { messages: 0, bytes: 0, away: [] }));
    return f;
  }

  private count(guest: string, size: number): void {
    const f = this.counts(guest);
    f.messages++;
    f.bytes += size;
  }

  /** A request about processes that moved alone (from a host peer). */
  async serve(m: Message): Promise<Record<string, unknown>> {
    if (m.t === "proc-adopt") return this.adopt(m);
    if (m.t === "proc-signal") return this.signalHere(m);
    const hosted = this.host.guests.get(str(m, "guest"));
    if (!hosted || hosted.info.kind !== "process" || !hosted.holdsCore) throw new ProtocolError(`no running guest ${str(m, "guest")} here`);
    const kernel = kernelOf(hosted);
    const pid = num(m, "pid", 1, 0x7fffffff);
    const task = kernel.tasks.get(pid);
    if (!task?.away) throw new ProtocolError(`process ${pid} of guest ${hosted.info.id} is not away from here`);
    switch (m.t) {
      case "proc-io": {
        const op = str(m, "op") === "write" ? "write" : "read";
        const data = op === "write" ? bytes(m, "data") : undefined;
        const answer = await homeIo(kernel, pid, num(m, "file", 1, Number.MAX_SAFE_INTEGER), op, op === "read" ? num(m, "count", 0, 1 << 20) : 0, data);
        this.count(hosted.info.id, (data?.length ?? 0) + ((answer.data as Uint8Array | undefined)?.length ?? 0));
        return answer;
      }
      case "proc-poll": {
        const files = Array.isArray(m.files) ? (m.files as Array<Record<string, unknown>>) : [];
        const asks = files.map((f) => ({ file: Number(f.file), events: Number(f.events) & 0xffff }));
        this.count(hosted.info.id, 0);
        return { revents: await homePoll(kernel, pid, asks, num(m, "waitMs", 0, 3_600_000)) };
      }
      case "proc-wait":
        this.count(hosted.info.id, 0);
        return homeWait(kernel, pid, num(m, "idtype", 0, 2), num(m, "id", -0x7fffffff, 0x7fffffff), num(m, "options", 0, 0x7fffffff));
      case "proc-reap":
        this.count(hosted.info.id, 0);
        homeReap(kernel, pid, num(m, "child", 1, 0x7fffffff), str(m, "what"));
        return {};
      case "proc-kill":
        this.count(hosted.info.id, 0);
        return { result: homeKill(kernel, pid, num(m, "target", -0x7fffffff, 0x7fffffff), num(m, "sig", 0, 64)) };
      case "proc-stopped":
        this.count(hosted.info.id, 0);
        homeStopped(kernel, task, str(m, "what") === "stopped" ? "stopped" : "continued", num(m, "sig", 0, 64));
        return {};
      case "proc-exit":
        this.count(hosted.info.id, 0);
        homeExit(kernel, task, num(m, "status", 0, 0xffff), m.cpuNs, m.childrenCpuNs);
        return {};
      default:
        throw new ProtocolError(`unknown request ${m.t}`);
    }
  }

  /**
   * A signal from home for the process that moved here; one sent to its
   * process group (or to all) reaches that group's processes here too. A
   * SIGCHLD also makes its waits ask home again, even when it is ignored here.
   */
  private signalHere(m: Message): Record<string, unknown> {
    const hosted = this.host.guests.get(str(m, "guest"));
    if (!hosted || hosted.status !== "running") return { delivered: false };
    const kernel = kernelOf(hosted);
    const sig = num(m, "sig", 0, 64); // 0: is it still here? (as kill(2)'s signal 0)
    const about = (m.info ?? {}) as Record<string, unknown>;
    const info: SigInfo = { signo: sig, code: Number(about.code ?? 0), pid: Number(about.pid ?? 0), status: Number(about.status ?? 0) };
    const group = m.group === undefined ? undefined : num(m, "group", -1, 0x7fffffff);
    const live = [...kernel.tasks.values()].filter((t) => t.status !== "zombie");
    const targets = group === undefined ? live.filter((t) => t.pid === kernel.firstPid) : live.filter((t) => group === -1 || t.pgid === group);
    for (const t of targets) sendSignal(kernel, t, sig, info);
    if (sig === SIGCHLD) homeChildChanged(kernel);
    return { delivered: true };
  }

  /** A process arriving alone: a guest of its own here; its end goes home. */
  private async adopt(m: Message): Promise<Record<string, unknown>> {
    const home: Home = { url: str(m, "home"), guest: str(m, "homeGuest") };
    this.host.members.learn(home.url); // its files and family are served from there
    const hosted = await this.host.makeGuest({
      id: str(m, "guest"), program: str(m, "program"), argv: (m.argv as string[]) ?? [], ramBytes: num(m, "ramBytes", 1 << 20, 1 << 30),
      root: str(m, "root"), image: m.image as ProcessImage, home, elf: m.elf instanceof Uint8Array ? m.elf : undefined,
    });
    const kernel = kernelOf(hosted);
    const pid = kernel.firstPid;
    const process = kernel.tasks.get(pid)!; // its CPU times go home with its status (the tree forgets it when it ends)
    // Its stops and goings-on go home, where its parent waits (on the same link as its exit, so before it).
    kernel.onStopReport = (code, sig) => {
      void this.peer(home.url)
        .then((p) => p.request({ t: "proc-stopped", guest: home.guest, pid, what: code === 5 ? "stopped" : "continued", sig }))
        .catch((error: Error) => this.host.log(`guest ${hosted.info.id}: its stop or continue could not be sent home to ${home.url}: ${error.message}`));
    };
    hosted.onEnd(() => {
      const status = kernel.firstStatus ?? ((hosted.exitCode ?? 137) > 128 ? (hosted.exitCode ?? 137) - 128 : ((hosted.exitCode ?? 0) & 0xff) << 8);
      const cpu = { cpuNs: process.cpuInstructions.toString(), childrenCpuNs: process.childrenCpuNs.toString() };
      void this.peer(home.url)
        .then((p) => p.request({ t: "proc-exit", guest: home.guest, pid, status, ...cpu }))
        .catch((error: Error) => this.host.log(`guest ${hosted.info.id}: its exit could not be sent home to ${home.url}: ${error.message}`));
    });
    hosted.start();
    this.host.log(`guest ${hosted.info.id} arrived alone: process ${pid} of ${home.guest}, whose home is ${home.url}`);
    return { guest: hosted.info.id };
  }

  /** A host link to `url`, made once and made again when it has closed. */
  private async peer(url: string): Promise<Peer> {
    const cached = this.peers.get(url);
    if (cached) {
      const p = await cached.catch(() => undefined);
      if (p?.open) return p;
      this.peers.delete(url);
    }
    const fresh = connect(url, { role: "host", token: this.host.token, name: this.host.name, url: this.host.url });
    this.peers.set(url, fresh);
    fresh.catch(() => this.peers.delete(url));
    return fresh;
  }

  close(): void {
    this.closing = true;
    for (const peer of this.peers.values()) void peer.then((p) => p.close(), () => {});
    this.peers.clear();
  }
}

function kernelOf(hosted: HostedGuest): Kernel {
  const guest = hosted.holdsCore ? hosted.guest : undefined;
  if (!(guest instanceof ProcessGuest)) throw new ProtocolError(`guest ${hosted.info.id} is not a running process guest here`);
  return guest.process;
}
