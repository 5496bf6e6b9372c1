// The sockets section of a process-mode snapshot (src/kernel/sockets/), field
// by field, and what it says of the rest: every socket description names a
// socket that is there, every socket is open or waits in a listener's queue,
// a stream's peer names it back, no name is bound twice.

import type { OpenFile } from "../kernel/files.js";
import type { SocketName } from "../kernel/sockets/addresses.js";
import type { Delivery } from "../kernel/sockets/queue.js";
import { STREAM_CAPACITY, DATAGRAM_CAPACITY, type SocketState } from "../kernel/sockets/socket.js";
import type { SocketsState } from "../kernel/sockets/table.js";
import { bad, bool, bytes, describe, int, list, oneOf, own, record, schemaVersion, text, u32 } from "./schema.js";

const MAX_SOCKETS = 65536;
const MAX_QUEUED = 1 << 16; // deliveries in one receive queue

export function checkSockets(value: unknown, at: string): SocketsState | undefined {
  if (value === undefined) return undefined; // a schema-2 snapshot from before sockets
  const m = record(value, at);
  schemaVersion(m, at, 1);
  const nextId = int(own(m, "nextId"), `${at}.nextId`, 1, 0x7fffffff);
  const seen = new Set<number>();
  const sockets = list(own(m, "sockets"), `${at}.sockets`, MAX_SOCKETS).map((entry, i) => {
    const s = checkSocket(entry, `${at}.sockets[${i}]`);
    if (seen.has(s.id) || s.id >= nextId) bad(`${at}.sockets[${i}].id`, `${s.id} is used twice or not below nextId`);
    seen.add(s.id);
    return s;
  });
  return { schemaVersion: 1, address: u32(own(m, "address"), `${at}.address`), nextId, nextEphemeral: int(own(m, "nextEphemeral"), `${at}.nextEphemeral`, 0, 65535), sockets };
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
  const peer = own(m, "peer");
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
    peer: peer === null ? null : { kind: oneOf(own(record(peer, `${at}.peer`), "kind"), `${at}.peer.kind`, ["local"] as const), socket: int(own(peer as Record<string, unknown>, "socket"), `${at}.peer.socket`, 1, 0x7fffffff) },
    connected: bool(own(m, "connected"), `${at}.connected`), connecting: bool(own(m, "connecting"), `${at}.connecting`), received,
    readShut: bool(own(m, "readShut"), `${at}.readShut`), writeShut: bool(own(m, "writeShut"), `${at}.writeShut`),
    peerShut: bool(own(m, "peerShut"), `${at}.peerShut`), peerClosed: bool(own(m, "peerClosed"), `${at}.peerClosed`),
    resetSent: bool(own(m, "resetSent"), `${at}.resetSent`), error: int(own(m, "error"), `${at}.error`, 0, 4095), options,
  };
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
    if (s.peer && s.type !== 2) {
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
    if (!open.has(s.id) && !waiting.has(s.id)) bad(`${at}.sockets.sockets[${i}]`, `socket ${s.id} is neither open nor waiting to be accepted`);
  });
}
