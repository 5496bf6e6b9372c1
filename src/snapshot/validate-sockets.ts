// The sockets section of a process-mode snapshot (src/kernel/sockets/), field
// by field, and what it says of the rest: every socket description names a
// socket that is there, every socket is open or waits in a listener's queue,
// a stream's peer names it back, no name is bound twice.

import type { OpenFile } from "../kernel/files.js";
import type { SocketName } from "../kernel/sockets/addresses.js";
import { DATAGRAM_WINDOW, type DatagramOrderState, type InboundState, type OutboundState, type Unaccepted } from "../kernel/sockets/datagram-order.js";
import type { Delivery } from "../kernel/sockets/queue.js";
import { SYN_RETRIES, type Syn } from "../kernel/sockets/remote-connections.js";
import { STREAM_CAPACITY, DATAGRAM_CAPACITY, type PeerLink, type SocketState, type SynRetry } from "../kernel/sockets/socket.js";
import type { ChannelState } from "../kernel/sockets/stream-channel.js";
import type { SocketsState } from "../kernel/sockets/table.js";
import { bad, bool, bytes, describe, int, list, nonEmptyText, nonNegative, oneOf, own, record, schemaVersion, text, u32 } from "./schema.js";

const MAX_SOCKETS = 65536;
const MAX_QUEUED = 1 << 16; // deliveries in one receive queue

export function checkSockets(value: unknown, at: string): SocketsState | undefined {
  if (value === undefined) return undefined; // a schema-2 snapshot from before sockets
  const m = record(value, at);
  // Version 1 (before streams between guests) has no channels, version 2 no datagrams kept for other guests, version 3
  // no bytes a stream keeps until acked, version 4 no syn retries: all read as version 5 without them.
  if (![1, 2, 3, 4].includes(own(m, "schemaVersion") as number)) schemaVersion(m, at, 5);
  const nextId = int(own(m, "nextId"), `${at}.nextId`, 1, 0x7fffffff);
  const seen = new Set<number>();
  const sockets = list(own(m, "sockets"), `${at}.sockets`, MAX_SOCKETS).map((entry, i) => {
    const s = checkSocket(entry, `${at}.sockets[${i}]`);
    if (seen.has(s.id) || s.id >= nextId) bad(`${at}.sockets[${i}].id`, `${s.id} is used twice or not below nextId`);
    seen.add(s.id);
    return s;
  });
  return { schemaVersion: 5, address: u32(own(m, "address"), `${at}.address`), nextId, nextEphemeral: int(own(m, "nextEphemeral"), `${at}.nextEphemeral`, 0, 65535), sockets };
}

function checkSocket(value: unknown, at: string): SocketState {
  const m = record(value, at);
  const type = oneOf(own(m, "type"), `${at}.type`, [1, 2, 5] as const);
  const domain = oneOf(own(m, "domain"), `${at}.domain`, [1, 2] as const);
  const capacity = type === 2 ? DATAGRAM_CAPACITY : STREAM_CAPACITY;
  const address = (v: unknown, p: string) => {
    if (v === null) return null;
    const b = bytes(v, p);
    if (b.length < 2 || b.length > 128) bad(p, `${b.length} bytes is no socket address`);
    return b;
  };
  const received = list(own(m, "received"), `${at}.received`, MAX_QUEUED).map((d, i): Delivery => {
    const r = record(d, `${at}.received[${i}]`);
    return { data: bytes(own(r, "data"), `${at}.received[${i}].data`), from: address(own(r, "from"), `${at}.received[${i}].from`) };
  });
  const queued = received.reduce((n, d) => n + d.data.length, 0);
  if (queued > capacity) bad(`${at}.received`, `${queued} bytes queued in a socket that holds ${capacity}`);
  const peer = checkPeer(own(m, "peer"), `${at}.peer`);
  const options = list(own(m, "options"), `${at}.options`, 64).map((o, i): [number, number, number] => {
    const t = list(o, `${at}.options[${i}]`, 3);
    if (t.length !== 3) bad(`${at}.options[${i}]`, "not [level, option, value]");
    return [u32(t[0], `${at}.options[${i}][0]`), u32(t[1], `${at}.options[${i}][1]`), int(t[2], `${at}.options[${i}][2]`, -0x80000000, 2 ** 52)];
  });
  return {
    id: int(own(m, "id"), `${at}.id`, 1, 0x7fffffff), domain, type, protocol: int(own(m, "protocol"), `${at}.protocol`, 0, 255),
    listening: bool(own(m, "listening"), `${at}.listening`), backlog: int(own(m, "backlog"), `${at}.backlog`, -0x80000000, 4096),
    pending: list(own(m, "pending"), `${at}.pending`, 4097).map((id, i) => int(id, `${at}.pending[${i}]`, 1, 0x7fffffff)),
    name: checkName(own(m, "name"), `${at}.name`),
    local: address(own(m, "local"), `${at}.local`), remote: address(own(m, "remote"), `${at}.remote`),
    peer,
    connected: bool(own(m, "connected"), `${at}.connected`), connecting: bool(own(m, "connecting"), `${at}.connecting`), received,
    readShut: bool(own(m, "readShut"), `${at}.readShut`), writeShut: bool(own(m, "writeShut"), `${at}.writeShut`),
    peerShut: bool(own(m, "peerShut"), `${at}.peerShut`), peerClosed: bool(own(m, "peerClosed"), `${at}.peerClosed`),
    resetSent: bool(own(m, "resetSent"), `${at}.resetSent`), error: int(own(m, "error"), `${at}.error`, 0, 4095), options,
    channel: m.channel === undefined || m.channel === null ? null : checkChannel(m.channel, `${at}.channel`, type === 5, capacity),
    ...(m.datagrams === undefined ? {} : { datagrams: checkDatagrams(m.datagrams, `${at}.datagrams`) }),
    ...(m.dialed === undefined ? {} : { dialed: checkName(m.dialed, `${at}.dialed`) ?? bad(`${at}.dialed`, "is no socket name") }),
    ...(m.syn === undefined ? {} : { syn: checkSynRetry(m.syn, `${at}.syn`) }),
    ...(m.lingerUntilMs === undefined ? {} : { lingerUntilMs: nonNegative(m.lingerUntilMs, `${at}.lingerUntilMs`) }),
    ...(m.waitingSyns === undefined ? {} : { waitingSyns: list(m.waitingSyns, `${at}.waitingSyns`, MAX_SOCKETS).map((w, i) => checkSyn(w, `${at}.waitingSyns[${i}]`)) }),
  };
}

/** A connect's syn retries (remote-connections.ts retrySyn). */
function checkSynRetry(value: unknown, at: string): SynRetry {
  const m = record(value, at);
  return { retries: int(own(m, "retries"), `${at}.retries`, 0, SYN_RETRIES), nextAtMs: nonNegative(own(m, "nextAtMs"), `${at}.nextAtMs`) };
}

/** A connect from another guest waiting at a listener for room in its backlog (remote-connections.ts). */
function checkSyn(value: unknown, at: string): Syn {
  const m = record(value, at);
  const address = own(m, "address");
  return {
    from: nonEmptyText(own(m, "from"), `${at}.from`, 64), client: int(own(m, "client"), `${at}.client`, 1, 0x7fffffff),
    name: checkName(own(m, "name"), `${at}.name`)!, window: int(own(m, "window"), `${at}.window`, 0, 0x7fffffff),
    domain: oneOf(own(m, "domain"), `${at}.domain`, [1, 2] as const), type: oneOf(own(m, "type"), `${at}.type`, [1, 5] as const),
    address: address === null ? null : bytes(address, `${at}.address`),
  };
}

/** AF_UNIX datagrams kept for other guests until accepted, and how far it accepted theirs (datagram-order.ts). */
function checkDatagrams(value: unknown, at: string): DatagramOrderState {
  const m = record(value, at);
  const seq = (v: unknown, p: string) => int(v, p, 0, Number.MAX_SAFE_INTEGER);
  const pair = (r: Record<string, unknown>, p: string) => ({
    guest: nonEmptyText(own(r, "guest"), `${p}.guest`, 64), socket: int(own(r, "socket"), `${p}.socket`, 1, 0x7fffffff),
    pair: int(own(r, "pair"), `${p}.pair`, 1, 0x7fffffff),
  });
  const outbound = list(own(m, "outbound"), `${at}.outbound`, MAX_SOCKETS).map((o, i): OutboundState => {
    const p = `${at}.outbound[${i}]`, r = record(o, p);
    const nextSeq = seq(own(r, "nextSeq"), `${p}.nextSeq`);
    let kept = 0;
    const unaccepted = list(own(r, "unaccepted"), `${p}.unaccepted`, MAX_QUEUED).map((d, j): Unaccepted => {
      const q = record(d, `${p}.unaccepted[${j}]`);
      const data = bytes(own(q, "data"), `${p}.unaccepted[${j}].data`);
      kept += data.length;
      return { seq: seq(own(q, "seq"), `${p}.unaccepted[${j}].seq`), data, fromName: bytes(own(q, "fromName"), `${p}.unaccepted[${j}].fromName`) };
    });
    if (kept > DATAGRAM_WINDOW) bad(`${p}.unaccepted`, `${kept} bytes kept where the window is ${DATAGRAM_WINDOW}`);
    if (unaccepted.some((d, j) => d.seq >= nextSeq || (j > 0 && d.seq !== unaccepted[j - 1].seq + 1))) bad(`${p}.unaccepted`, "seqs are not consecutive below nextSeq");
    return { ...pair(r, p), nextSeq, unaccepted };
  });
  const inbound = list(own(m, "inbound"), `${at}.inbound`, MAX_SOCKETS).map((o, i): InboundState => {
    const p = `${at}.inbound[${i}]`, r = record(o, p);
    return {
      ...pair(r, p), expected: seq(own(r, "expected"), `${p}.expected`), blocked: bool(own(r, "blocked"), `${p}.blocked`),
      resendOwed: bool(own(r, "resendOwed"), `${p}.resendOwed`), ackOwed: bool(own(r, "ackOwed"), `${p}.ackOwed`),
    };
  });
  return { outbound, inbound, adopting: bool(own(m, "adopting"), `${at}.adopting`) };
}

function checkPeer(value: unknown, at: string): PeerLink | null {
  if (value === null) return null;
  const p = record(value, at);
  const kind = oneOf(own(p, "kind"), `${at}.kind`, ["local", "remote"] as const);
  if (kind === "local") return { kind, socket: int(own(p, "socket"), `${at}.socket`, 1, 0x7fffffff) };
  // socket 0: a connect whose answer has not come.
  return { kind, guest: nonEmptyText(own(p, "guest"), `${at}.guest`, 64), socket: int(own(p, "socket"), `${at}.socket`, 0, 0x7fffffff) };
}

/** A stream to another guest: its sequence numbers, credit, and the segments waiting in its reorder queue. */
function checkChannel(value: unknown, at: string, records: boolean, capacity: number): ChannelState {
  const m = record(value, at);
  const seq = (key: string, min = 0) => int(own(m, key), `${at}.${key}`, min, Number.MAX_SAFE_INTEGER);
  const expected = seq("expected");
  let held = 0;
  const reorder = list(own(m, "reorder"), `${at}.reorder`, MAX_QUEUED).map((g, i) => {
    const r = record(g, `${at}.reorder[${i}]`);
    const segment = { seq: int(own(r, "seq"), `${at}.reorder[${i}].seq`, expected + 1, Number.MAX_SAFE_INTEGER), data: bytes(own(r, "data"), `${at}.reorder[${i}].data`) };
    held += segment.data.length;
    return segment;
  });
  if (held > capacity) bad(`${at}.reorder`, `${held} bytes wait in a socket that holds ${capacity}`);
  if (reorder.some((g, i) => i > 0 && g.seq <= reorder[i - 1].seq)) bad(`${at}.reorder`, "segments are not in order of seq");
  if (bool(own(m, "records"), `${at}.records`) !== records) bad(`${at}.records`, "does not match the socket's type");
  const sent = seq("sent");
  return {
    records, sent, limit: seq("limit"), expected, reorder, finAt: seq("finAt", -1),
    peerGone: bool(own(m, "peerGone"), `${at}.peerGone`), finSent: bool(own(m, "finSent"), `${at}.finSent`),
    ...checkKept(m, at, records, sent),
  };
}

/**
 * What a stream keeps until its other end acks it (schema 4; before, nothing
 * was kept): whole segments, in order of seq and apart, each reaching past
 * the highest ack and none past what was sent (so no more than was sent
 * beyond an ack: the credit bounds it).
 */
function checkKept(m: Record<string, unknown>, at: string, records: boolean, sent: number): Pick<ChannelState, "acked" | "unacked" | "finClosed"> {
  if (own(m, "acked") === undefined) return { acked: sent, unacked: [], finClosed: false };
  const acked = int(own(m, "acked"), `${at}.acked`, 0, sent);
  let next = -1;
  const unacked = list(own(m, "unacked"), `${at}.unacked`, MAX_QUEUED).map((g, i) => {
    const r = record(g, `${at}.unacked[${i}]`);
    const segment = { seq: int(own(r, "seq"), `${at}.unacked[${i}].seq`, 0, sent), data: bytes(own(r, "data"), `${at}.unacked[${i}].data`) };
    const end = segment.seq + segment.data.length + (records ? 1 : 0);
    if (end <= acked || end > sent || segment.seq < next) bad(`${at}.unacked[${i}]`, `bytes ${segment.seq}-${end} are not between acked ${acked} and sent ${sent}, in order`);
    next = end;
    return segment;
  });
  return { acked, unacked, finClosed: bool(own(m, "finClosed"), `${at}.finClosed`) };
}

function checkName(value: unknown, at: string): SocketName | null {
  if (value === null) return null;
  const m = record(value, at);
  const kind = oneOf(own(m, "kind"), `${at}.kind`, ["path", "abstract", "inet"] as const);
  if (kind === "path") {
    const path = text(own(m, "path"), `${at}.path`, 4096);
    if (!path.startsWith("/")) bad(`${at}.path`, "not an absolute guest path");
    return { kind, path };
  }
  if (kind === "abstract") {
    const name = text(own(m, "name"), `${at}.name`, 2 * 108);
    if (!/^([0-9a-f]{2})*$/.test(name)) bad(`${at}.name`, `${describe(name)} is not hex`);
    return { kind, name, type: oneOf(own(m, "type"), `${at}.type`, [1, 2, 5] as const) };
  }
  return {
    kind, protocol: oneOf(own(m, "protocol"), `${at}.protocol`, ["tcp", "udp"] as const),
    address: u32(own(m, "address"), `${at}.address`), port: int(own(m, "port"), `${at}.port`, 1, 65535),
  };
}

/** What the sockets say of the descriptions, and of each other. */
export function checkSocketReferences(sockets: SocketsState | undefined, files: OpenFile[], at: string): void {
  const byId = new Map((sockets?.sockets ?? []).map((s) => [s.id, s]));
  const open = new Set<number>();
  for (const f of files) {
    if (f.kind !== "socket") continue;
    if (!byId.has(f.socket!)) bad(`${at}.openFiles`, `open file ${f.id} is socket ${f.socket}, which is not there`);
    if (open.has(f.socket!)) bad(`${at}.openFiles`, `socket ${f.socket} has two open file descriptions`);
    open.add(f.socket!);
  }
  const waiting = new Set<number>();
  const names = new Set<string>();
  sockets?.sockets.forEach((s, i) => {
    const p = `${at}.sockets.sockets[${i}]`;
    for (const id of s.pending) {
      if (!byId.has(id) || waiting.has(id) || open.has(id)) bad(`${p}.pending`, `socket ${id} is not a connection waiting only here`);
      waiting.add(id);
    }
    if (s.peer?.kind === "local" && s.type !== 2) {
      const other = byId.get(s.peer.socket);
      if (other?.peer?.socket !== s.id) bad(`${p}.peer`, `socket ${s.peer.socket} is not connected back to socket ${s.id}`);
    }
    if (s.name) {
      const key = JSON.stringify(s.name);
      if (names.has(key)) bad(`${p}.name`, "bound twice");
      names.add(key);
    }
  });
  sockets?.sockets.forEach((s, i) => {
    const lingering = s.lingerUntilMs !== undefined;
    if (lingering && (open.has(s.id) || waiting.has(s.id) || s.peer?.kind !== "remote" || !s.channel)) {
      bad(`${at}.sockets.sockets[${i}]`, `socket ${s.id} lingers but is open, waiting, or no stream to another guest`);
    }
    if (!open.has(s.id) && !waiting.has(s.id) && !lingering) bad(`${at}.sockets.sockets[${i}]`, `socket ${s.id} is neither open nor waiting to be accepted`);
  });
}
