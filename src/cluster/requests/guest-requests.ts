// What clients ask of a host about its guests: start one (run), list them
// (ps), follow one's console (attach, input), end one (kill, interrupt), and
// its figures (stats). Moves of a guest are in move-requests.ts.

import { rmSync } from "node:fs";
import { MachineGuest } from "../../guest/machine-guest.js";
import { ProcessGuest } from "../../guest/process-guest.js";
import { furnishOwnRoot, normalGuestRoot, ownRoot, sharedRoot } from "../../guest/guest-root.js";
import { newGuestId, type RunnableGuest } from "../../guest/runnable.js";
import { bool, bytes, num, optNum, optStr, ProtocolError, str, strList, type Message } from "../../net/protocol.js";
import type { GuestInfo } from "../../snapshot/snapshot.js";
import { DEFAULT_FORWARDING, forwardingName } from "../forwarding/index.js";
import { labelList } from "../placement.js";
import { parsePublish } from "../published-ports.js";
import type { ClientRequest, RequestHost } from "./index.js";

/** run: starts a guest here from an ELF or a bare-metal image, its own sandbox root unless it names one to share. */
const run: ClientRequest = async (host, peer, m, detachers) => {
  const kind = optStr(m, "kind") ?? "process";
  if (kind !== "process" && kind !== "machine") throw new ProtocolError(`run: kind '${kind}' is neither process nor machine`);
  const start = {
    elf: bytes(m, "elf"), program: str(m, "program"), argv: strList(m, "argv"),
    envp: m.envp === undefined ? [] : strList(m, "envp"), ramBytes: optNum(m, "ramBytes", 1 << 20, 1 << 30),
    terminal: terminalSize(m, kind),
  };
  start.ramBytes ??= kind === "machine" ? 128 << 20 : 64 << 20;
  host.budget.check(start.ramBytes, `run: ${start.program}`);
  const id = newGuestId();
  const requires = m.requires === undefined ? [] : labelList(strList(m, "requires"), "run: requires");
  host.cluster.admit({ requires } as GuestInfo, `run: ${start.program}`);
  const root = kind === "machine" ? "." : m.root == null ? ownRoot(id) : sharedRoot(str(m, "root"));
  const options = await host.guestOptions(root, "run");
  let guest: RunnableGuest;
  try {
    if (root === ownRoot(id)) furnishOwnRoot(options.root);
    guest = kind === "machine" ? MachineGuest.start(options, start) : ProcessGuest.start(options, { ...start, id, root: normalGuestRoot(root) });
  } catch (error) {
    if (root === ownRoot(id)) rmSync(options.root, { recursive: true, force: true }); // made for it a moment ago: empty
    throw new ProtocolError(`run: ${start.program}: ${(error as Error).message}`);
  }
  describeGuest(host, guest, m, requires);
  await publishPorts(host, guest, m, kind);
  const hosted = host.adopt(guest);
  if (bool(m, "attach")) detachers.push(host.attach(peer, hosted, 0));
  if (m.replicate !== undefined) await host.startReplicated(hosted, m); // the first epoch starts it
  else hosted.start();
  host.log(`guest ${guest.info.id} started: ${kind} mode, ${start.program}, ${start.ramBytes >> 20} MiB${kind === "process" ? `, root ${guest.info.root}` : ""}`);
  peer.reply(m, { guest: guest.info });
};

/** run's `terminal: {rows, columns}` (a client on a TTY): the guest gets a terminal of that size. */
function terminalSize(m: Message, kind: string): { rows: number; columns: number } | undefined {
  if (m.terminal === undefined) return undefined;
  if (kind !== "process") throw new ProtocolError("run: a terminal is for process-mode guests (a machine's console is its UART)");
  if (typeof m.terminal !== "object" || m.terminal === null) throw new ProtocolError("run: terminal is not {rows, columns}");
  const size = m.terminal as Message;
  return { rows: num(size, "rows", 0, 0xffff), columns: num(size, "columns", 0, 0xffff) };
}

/** resize: the attached client's terminal has a new size. */
const resize: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  const rows = num(m, "rows", 0, 0xffff), columns = num(m, "columns", 0, 0xffff);
  if (hosted.status === "running" && hosted.guest instanceof ProcessGuest) hosted.guest.resizeTerminal(rows, columns);
  peer.reply(m, {});
};

/** continue: an attached client was continued (`fg`) after the guest's job stopped: so is the job. */
const continueJob: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  // Not running here (moved on, frozen): refused, so the client asks where the guest is now.
  if (hosted.status !== "running" || !(hosted.guest instanceof ProcessGuest)) throw new ProtocolError(`continue: guest ${hosted.info.id} is ${hosted.status} here`);
  hosted.guest.continueJob();
  peer.reply(m, {});
};

/** What travels with a new guest: where it started, the labels it needs and prefers, and how its messages find it after it moves (docs/MESSAGES.md). */
function describeGuest(host: RequestHost, guest: RunnableGuest, m: Message, requires: string[]): void {
  guest.info.origin = host.url;
  if (requires.length) guest.info.requires = requires; // every host it is placed on checks it
  const prefers = m.prefers === undefined ? [] : labelList(strList(m, "prefers"), "run: prefers");
  if (prefers.length) guest.info.prefers = prefers; // the hosts it runs on move it towards them
  guest.info.forwarding = m.forwarding === undefined ? DEFAULT_FORWARDING : forwardingName(m.forwarding, "run: forwarding");
}

/** run --publish: the host's TCP ports relayed to the guest's; none if any cannot be had. */
async function publishPorts(host: RequestHost, guest: RunnableGuest, m: Message, kind: string): Promise<void> {
  const published = m.publish === undefined ? [] : strList(m, "publish").map((text) => parsePublish(text));
  if (published.length > 0 && kind !== "process") throw new ProtocolError("run: --publish is for process-mode guests (a machine has no sockets)");
  try {
    for (const spec of published) await host.ports.publish(guest.info.id, spec);
  } catch (error) {
    host.ports.unpublish(guest.info.id);
    throw error;
  }
}

const ps: ClientRequest = async (host, peer, m) => {
  peer.reply(m, {
    host: host.name,
    guests: [...host.guests.values()].map((h) => ({
      ...h.info, status: h.status, instret: Number(h.instret), exitCode: h.exitCode, movedTo: h.movedTo,
      report: h.status === "lost" ? h.report : undefined, busy: h.operation?.description,
      dependencies: h.dependencies(), processes: h.processes(), replication: host.replication.report(h.info.id),
    })).concat(host.replication.psRows() as never[]),
  });
};

const attach: ClientRequest = async (host, peer, m, detachers) => {
  const hosted = host.guest(m);
  detachers.push(host.attach(peer, hosted, optNum(m, "from", 0) ?? 0));
  peer.reply(m, { guest: hosted.info, status: hosted.status, inputOffset: hosted.console.acknowledgedInput });
};

const input: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  // Frozen for a migration, input would miss the state that leaves; a replication's epochs freeze it only for a moment.
  const takesInput = hosted.status === "running" || (hosted.status === "frozen" && hosted.operation?.kind === "replication");
  if (!takesInput) { peer.reply(m, { inputOffset: hosted.console.acknowledgedInput }); return; }
  hosted.console.pushInput(num(m, "offset", 0), bytes(m, "data"));
  if (bool(m, "end")) hosted.console.endInput();
  peer.reply(m, { inputOffset: hosted.console.acknowledgedInput }); // replicated: what the backup has (the client keeps the rest)
};

const kill: ClientRequest = async (host, peer, m) => {
  peer.reply(m, { host: await host.kill(host.guest(m)) });
};

const interrupt: ClientRequest = async (host, peer, m) => {
  peer.reply(m, { host: await host.kill(host.guest(m), "interrupt") });
};

/** stats: a guest's migrations, dependencies, messages, ports and replication, here or (moved on) as this host last knew it. */
const stats: ClientRequest = async (host, peer, m) => {
  const id = str(m, "guest");
  const hosted = host.guests.get(id) ?? host.gone.get(id);
  const replication = host.replication.report(id);
  if (!hosted && !host.migrations.has(id) && !replication) throw new ProtocolError(`no guest ${id} on ${host.name}`);
  peer.reply(m, {
    migrations: host.migrations.get(id) ?? [], running: hosted?.status === "running", status: hosted?.status ?? "moved",
    report: hosted?.report, busy: hosted?.operation?.description, dependencies: hosted?.dependencies() ?? [],
    active: hosted?.operation ? hosted.migrationProgress : undefined,
    forwarding: host.lone.forwarding.get(id),
    messages: host.messaging.switch.counts.has(id) ? host.messaging.switch.counts.of(id).report() : undefined,
    published: host.ports.report(id), replication,
  });
};

const hasGuest: ClientRequest = async (host, peer, m) => {
  peer.reply(m, { running: host.guests.get(str(m, "guest"))?.status === "running" });
};

export const GUEST_REQUESTS: Record<string, ClientRequest> = { run, ps, attach, input, resize, continue: continueJob, kill, interrupt, stats, "has-guest": hasGuest };
