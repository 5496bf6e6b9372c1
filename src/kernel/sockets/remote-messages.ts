// A message from another guest, for this kernel's sockets (docs/MESSAGES.md):
// every field checked first — a malformed one, from a host that is not ours
// to trust, is dropped with one warning and nothing else happens — then
// routed by `conn[1]` to its socket. A stream message for a socket that is
// no longer here is answered with a reset, so the other end stops waiting.

import { Errno } from "../errno.js";
import { AF_INET, unnamed, type SocketName } from "./addresses.js";
import { takeAccept, takeRefuse, takeSyn } from "./remote-connections.js";
import type { Socket } from "./socket.js";
import type { StreamMessage } from "./stream-channel.js";
import type { Sockets } from "./table.js";

const KINDS = new Set(["syn", "accept", "refuse", "data", "ack", "fin", "reset", "dgram", "dgram-ack", "dgram-gone", "shutrd"]);
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

class Malformed extends Error {}

function count(m: Record<string, unknown>, field: string, max = MAX_SEQ): number {
  const v = m[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) throw new Malformed(`${field} is not a count`);
  return v;
}

function bytes(m: Record<string, unknown>, field: string, nullable = false): Uint8Array | null {
  const v = m[field];
  if (nullable && (v === null || v === undefined)) return null;
  if (!(v instanceof Uint8Array)) throw new Malformed(`${field} is not bytes`);
  return v;
}

function conn(m: Record<string, unknown>): [number, number] {
  const c = m.conn;
  const id = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= 0x7fffffff;
  if (!Array.isArray(c) || c.length !== 2 || !id(c[0]) || !id(c[1])) throw new Malformed("conn is not [socket, socket]");
  return [c[0], c[1]];
}

function socketName(v: unknown): SocketName {
  const n = (v ?? {}) as Record<string, unknown>;
  if (n.kind === "path" && typeof n.path === "string" && n.path.startsWith("/")) return { kind: "path", path: n.path };
  if (n.kind === "abstract" && typeof n.name === "string" && /^([0-9a-f]{2}){0,108}$/.test(n.name) && [1, 2, 5].includes(n.type as number)) {
    return { kind: "abstract", name: n.name, type: n.type as number };
  }
  if (n.kind === "inet" && (n.protocol === "tcp" || n.protocol === "udp") && typeof n.address === "number" && typeof n.port === "number"
    && Number.isInteger(n.address) && n.address >= 0 && n.address <= 0xffffffff && Number.isInteger(n.port) && n.port > 0 && n.port < 65536) {
    return { kind: "inet", protocol: n.protocol, address: n.address, port: n.port };
  }
  throw new Malformed("name is no socket name");
}

/** The stream message in `m` (data, ack, fin, reset), its fields checked. */
function streamMessage(kind: string, m: Record<string, unknown>): StreamMessage {
  if (kind === "data") return { kind, seq: count(m, "seq"), data: bytes(m, "data")! };
  if (kind === "ack") {
    if (m.resend !== undefined && typeof m.resend !== "boolean") throw new Malformed("resend is not true or false");
    return { kind, ack: count(m, "ack"), window: count(m, "window", 0x7fffffff), resend: m.resend === true, fin: m.fin === true };
  }
  if (kind === "fin") return { kind, seq: count(m, "seq"), closed: m.closed === true };
  return { kind: "reset" };
}

/** Takes one message from another guest; `warn` hears of one that is malformed. */
export function receiveMessage(sockets: Sockets, message: Record<string, unknown>, warn: (text: string) => void): void {
  try {
    route(sockets, message);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    warn(`sockets: a message from ${String(message.from).slice(0, 40)} was dropped: ${error.message}`);
  }
}

function route(sockets: Sockets, m: Record<string, unknown>): void {
  const kind = m.kind;
  if (typeof kind !== "string" || !KINDS.has(kind)) throw new Malformed(`kind ${String(kind).slice(0, 20)} is unknown`);
  if (typeof m.from !== "string" || m.from === "") throw new Malformed("from is not a guest id");
  const from = m.from;
  const [theirs, mine] = conn(m);
  if (kind === "syn") {
    const domain = count(m, "domain"), type = count(m, "type");
    takeSyn(sockets, { from, client: theirs, name: socketName(m.name), window: count(m, "window", 0x7fffffff), domain, type, address: bytes(m, "address", true) });
    return;
  }
  const socket = sockets.get(mine);
  if (kind === "dgram") {
    const data = bytes(m, "data")!, sender = bytes(m, "fromName", true);
    if (sender && (sender.length < 2 || sender.length > 128)) throw new Malformed("fromName is no socket address");
    const seq = m.seq === undefined ? null : count(m, "seq");
    const order = seq === null ? null : { guest: from, socket: theirs, pair: count(m, "pair", 0x7fffffff), seq };
    if (socket) takeDatagram(sockets, socket, data, sender, order);
    else if (seq !== null) sockets.send(from, { kind: "dgram-gone", conn: [mine, theirs] }); // its sender stops keeping them
    return;
  }
  if (kind === "dgram-ack") {
    const ack = { pair: count(m, "pair", 0x7fffffff), upTo: count(m, "upTo"), resend: m.resend === true };
    if (!socket) return;
    const { pair, again } = socket.datagrams.acked(from, theirs, ack);
    sockets.resendDatagrams(socket, from, theirs, pair, again);
    sockets.changed(); // a sender waiting for room may go on
    return;
  }
  if (kind === "dgram-gone") {
    if (socket) takeDatagramGone(sockets, socket, from, theirs);
    return;
  }
  if (kind === "accept") {
    const window = count(m, "window", 0x7fffffff);
    if (socket) takeAccept(sockets, socket, from, theirs, window);
    else sockets.send(from, { kind: "reset", conn: [mine, theirs] }); // its client went: the server's end goes too
    return;
  }
  if (kind === "refuse") {
    if (socket) takeRefuse(sockets, socket, from);
    return;
  }
  if (kind === "shutrd") {
    // The other end's SHUT_RD (AF_UNIX): this end's writes fail with EPIPE from now on, as after a local peer's.
    const fromPeer = socket?.peer?.kind === "remote" && socket.peer.guest === from && socket.peer.socket === theirs;
    if (fromPeer && socket.domain !== AF_INET) {
      socket.writeShut = true;
      sockets.changed();
    }
    return;
  }
  const stream = streamMessage(kind, m);
  if (!socket) {
    if (kind !== "reset") sockets.send(from, { kind: "reset", conn: [mine, theirs] });
    return;
  }
  if (socket.dialing) return; // an answer may overtake the accept; the stream starts with it
  if (socket.peer?.kind !== "remote" || socket.peer.guest !== from || socket.peer.socket !== theirs || !socket.channel) {
    // A segment for a connection this socket no longer has (reset, closed by its peer, or the sender was restored from
    // an older checkpoint): as a TCP segment for no connection, answered with a reset.
    if (kind !== "reset") sockets.send(from, { kind: "reset", conn: [mine, theirs] });
    return;
  }
  if (socket.lingerUntilMs !== null) takeLingering(sockets, socket, stream);
  else takeStream(sockets, socket, stream);
}

/**
 * A message for a closed stream that lingers until its other end has its
 * last bytes and fin (table.ts close): an ack that says the fin came, or a
 * reset, lets it go; copies of what it took are acked again; new data is
 * answered with a reset, as a TCP socket closed without reading answers
 * with RST.
 */
function takeLingering(sockets: Sockets, socket: Socket, m: StreamMessage): void {
  const channel = socket.channel!;
  if (m.kind === "reset") return sockets.forget(socket);
  if (m.kind === "data" && !channel.isDuplicate(m)) {
    sockets.sendOn(socket, { kind: "reset" });
    return sockets.forget(socket);
  }
  const taken = channel.take(m);
  for (const again of taken.again) sockets.sendOn(socket, again); // its other end was taken over by its backup
  if (m.kind === "ack" && m.fin) return sockets.forget(socket);
  if (taken.ackOwed) sockets.sendOn(socket, channel.ack(0));
}

/** Who sent a numbered AF_UNIX datagram: guest, socket, pair id, seq. */
interface DatagramOrigin { guest: string; socket: number; pair: number; seq: number }

/**
 * A datagram: queued with its sender's address, or dropped when the socket is
 * no datagram socket or shut for reading, or (UDP) full. An AF_UNIX one comes
 * numbered (`order`): taken only in its sender's order and only when it fits,
 * else its sender keeps it and sends it again (datagram-order.ts).
 */
function takeDatagram(sockets: Sockets, socket: Socket, data: Uint8Array, sender: Uint8Array | null, order: DatagramOrigin | null): void {
  if (socket.isStream) return;
  if (order) {
    const fits = socket.readShut || socket.received.room >= data.length;
    const arrival = socket.datagrams.arrive(order.guest, order.socket, order.pair, order.seq, fits);
    sockets.datagramAcksLater(socket);
    if (arrival === "drop" || socket.readShut) return;
  } else if (socket.readShut || socket.received.room < data.length) return;
  socket.received.push(Uint8Array.from(data), sender ? Uint8Array.from(sender) : unnamed(socket.domain));
  sockets.changed();
}

/**
 * The socket `socket` sent to is gone: what it kept for it goes, and a socket
 * connected to it learns, as unix_dgram_sendmsg tells of a dead peer, on its
 * next send: "Connection refused" (then, unconnected, ENOTCONN).
 */
function takeDatagramGone(sockets: Sockets, socket: Socket, guest: string, gone: number): void {
  socket.datagrams.forget(guest, gone);
  if (socket.peer?.kind === "remote" && socket.peer.guest === guest && socket.peer.socket === gone) {
    socket.peer = null;
    socket.error = Errno.ECONNREFUSED;
  }
  sockets.changed();
}

/** A data, ack, fin or reset for a connected socket: queued in order, credit taken, end of file or reset seen. */
function takeStream(sockets: Sockets, socket: Socket, m: StreamMessage): void {
  if (m.kind === "reset") {
    socket.peerShut = socket.peerClosed = true;
    socket.error = Errno.ECONNRESET;
    socket.resetSent = true; // the reset has come: writes fail at once
    socket.peer = null;
    sockets.changed();
    return;
  }
  const channel = socket.channel!;
  const taken = channel.take(m);
  for (const again of taken.again) sockets.sendOn(socket, again); // its other end was taken over by its backup
  for (const data of taken.data) socket.received.push(data, null);
  // The fin came (and every byte before it): acked now, before the peer link goes, so a closed end lingering for it goes.
  if (taken.ackOwed && channel.ended) sockets.sendOn(socket, channel.ack(socket.received.room));
  else if (taken.ackOwed) sockets.ackLater(socket);
  if (channel.ended) socket.peerShut = true;
  if (channel.peerGone) {
    socket.peerClosed = true;
    socket.peer = null;
  }
  sockets.changed();
}
