// One socket as the kernel keeps it: its family and type, its name, the
// listener's queue of connections not yet accepted, a connected stream's link
// to its peer, the receive queue, shutdown and error state, and the options a
// program set. Plain data with a stable id (an open file description of kind
// "socket" names it), so it travels in a snapshot with the bytes in flight.

import { AF_INET, SOCK_STREAM, type Domain, type SocketName, type SocketType } from "./addresses.js";
import { DatagramOrder, type DatagramOrderState } from "./datagram-order.js";
import { ReceiveQueue, type Delivery } from "./queue.js";
import type { Syn } from "./remote-connections.js";
import { StreamChannel, type ChannelState } from "./stream-channel.js";

/**
 * A connected stream's other end: another socket of this kernel, or a socket of
 * another guest (`socket` 0 while its syn waits for an accept or a refuse).
 */
export type PeerLink = { kind: "local"; socket: number } | { kind: "remote"; guest: string; socket: number };

/** How many bytes a stream or seqpacket socket holds unread before its peer's writes wait (Linux: about the peer's SO_SNDBUF). */
export const STREAM_CAPACITY = 212992;
/** A datagram socket's receive queue (net.core.rmem_default). */
export const DATAGRAM_CAPACITY = 212992;
/** The largest UDP payload: 65535 - 8 (UDP header) - 20 (IP header). */
export const UDP_MAX = 65507;
/** Where SO_RCVTIMEO and SO_SNDTIMEO keep their microseconds in a socket's options (level:option of the _NEW numbers). */
export const RCVTIMEO_KEY = "1:66", SNDTIMEO_KEY = "1:67";
/** net.core.somaxconn: listen's backlog is cut to it. */
export const SOMAXCONN = 4096;

export interface SocketState {
  id: number;
  domain: Domain;
  type: SocketType;
  protocol: number;
  listening: boolean;
  backlog: number;
  pending: number[]; // connections a listener has not accepted yet (socket ids), oldest first
  name: SocketName | null; // bound in the names (null: none, or an accepted socket sharing its listener's port)
  local: Uint8Array | null; // what getsockname reports (null: unnamed)
  remote: Uint8Array | null; // getpeername; a datagram socket's default destination
  peer: PeerLink | null; // a connected stream's other end, while it is open
  connected: boolean; // a stream that was connected (it stays so after its peer goes)
  connecting: boolean; // TCP: a non-blocking connect said EINPROGRESS; the next connect says 0
  received: Delivery[]; // bytes and datagrams not read yet
  readShut: boolean; // shutdown(SHUT_RD) here, or the peer refuses more (AF_UNIX)
  writeShut: boolean; // shutdown(SHUT_WR) here: writes fail with EPIPE
  peerShut: boolean; // the peer sends no more: reads see end of file after the queue
  peerClosed: boolean; // the peer is gone (writes: EPIPE; TCP takes one write first, as its RST is on the way)
  resetSent: boolean; // TCP: a write after the peer closed drew its reset; the next one fails
  error: number; // a pending error (SO_ERROR), reported once
  options: Array<[number, number, number]>; // (level, option, value) as setsockopt left them
  channel: ChannelState | null; // a stream to another guest: its sequence numbers, credit and reorder queue
  // AF_UNIX datagrams to and from other guests: what it sent and they have not accepted, what it accepted (absent: none)
  datagrams?: DatagramOrderState;
  waitingSyns?: Syn[]; // a listener: connects from other guests waiting for room in its backlog, oldest first (absent: none)
  dialed?: SocketName; // a connect to another guest waiting for its answer: the name it asked for (its syn is sent again after a takeover)
  lingerUntilMs?: number; // closed, its bytes and fin not yet acked by the other guest: kept until then, or this (guest ms)
  syn?: SynRetry; // that connect's retries of its syn (remote-connections.ts; absent in schema 4: retried at once)
}

/** A connect's syn retries (remote-connections.ts retrySyn): how many went, and when the next one goes (guest monotonic ms). */
export interface SynRetry { retries: number; nextAtMs: number }

export class Socket {
  listening = false;
  backlog = 0;
  pending: number[] = [];
  name: SocketName | null = null;
  local: Uint8Array | null = null;
  remote: Uint8Array | null = null;
  peer: PeerLink | null = null;
  connected = false;
  connecting = false;
  readShut = false;
  writeShut = false;
  peerShut = false;
  peerClosed = false;
  resetSent = false;
  error = 0;
  channel: StreamChannel | null = null;
  datagrams = new DatagramOrder();
  waitingSyns: Syn[] = [];
  dialed: SocketName | null = null;
  syn: SynRetry | null = null;
  /** Closed by its program but its last bytes or fin not acked yet (table.ts close): kept until then, at most until this. */
  lingerUntilMs: number | null = null;
  readonly options = new Map<string, number>(); // "level:option" -> value
  received: ReceiveQueue;

  constructor(readonly id: number, readonly domain: Domain, readonly type: SocketType, readonly protocol: number) {
    this.received = new ReceiveQueue(type !== SOCK_STREAM, type === SOCK_STREAM || type === 5 ? STREAM_CAPACITY : DATAGRAM_CAPACITY);
  }

  get isStream(): boolean {
    return this.type !== 2; // SOCK_STREAM and SOCK_SEQPACKET are connection-oriented
  }

  /** A connect to another guest waits for its accept or refuse. */
  get dialing(): boolean {
    return this.peer?.kind === "remote" && this.peer.socket === 0;
  }

  get isTcp(): boolean {
    return this.domain === AF_INET && this.type === SOCK_STREAM;
  }

  /** A pending error, taken (sock_error: "the error is cleared once read"). */
  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  state(): SocketState {
    return {
      id: this.id, domain: this.domain, type: this.type, protocol: this.protocol,
      listening: this.listening, backlog: this.backlog, pending: [...this.pending],
      name: this.name && { ...this.name }, local: this.local && Uint8Array.from(this.local), remote: this.remote && Uint8Array.from(this.remote),
      peer: this.peer && { ...this.peer }, connected: this.connected, connecting: this.connecting, received: this.received.state(),
      readShut: this.readShut, writeShut: this.writeShut, peerShut: this.peerShut, peerClosed: this.peerClosed,
      resetSent: this.resetSent, error: this.error, channel: this.channel && this.channel.state(),
      ...(this.datagrams.empty ? {} : { datagrams: this.datagrams.state() }),
      ...(this.waitingSyns.length === 0 ? {} : { waitingSyns: this.waitingSyns.map((syn) => ({ ...syn, name: { ...syn.name } })) }),
      ...(this.dialed && this.dialing ? { dialed: { ...this.dialed } } : {}),
      ...(this.syn && this.dialing ? { syn: { ...this.syn } } : {}),
      ...(this.lingerUntilMs === null ? {} : { lingerUntilMs: this.lingerUntilMs }),
      options: [...this.options].map(([key, value]) => { const [level, option] = key.split(":").map(Number); return [level, option, value]; }),
    };
  }

  static restore(s: SocketState): Socket {
    const socket = new Socket(s.id, s.domain, s.type, s.protocol);
    Object.assign(socket, {
      listening: s.listening, backlog: s.backlog, pending: [...s.pending], name: s.name && { ...s.name },
      local: s.local && Uint8Array.from(s.local), remote: s.remote && Uint8Array.from(s.remote), peer: s.peer && { ...s.peer },
      connected: s.connected, connecting: s.connecting, readShut: s.readShut, writeShut: s.writeShut, peerShut: s.peerShut, peerClosed: s.peerClosed,
      resetSent: s.resetSent, error: s.error,
    });
    for (const [level, option, value] of s.options) socket.options.set(`${level}:${option}`, value);
    socket.received = ReceiveQueue.restore(socket.received.records, socket.received.capacity, s.received);
    socket.channel = s.channel ? StreamChannel.restore(s.channel, socket.received.capacity) : null;
    socket.datagrams = DatagramOrder.restore(s.datagrams);
    socket.dialed = s.dialed ? { ...s.dialed } : null;
    socket.lingerUntilMs = s.lingerUntilMs ?? null;
    // A dialing socket from schema 4 kept no schedule: its syn goes again at the first check, then as a fresh one's.
    socket.syn = s.syn ? { ...s.syn } : socket.dialing ? { retries: 0, nextAtMs: 0 } : null;
    socket.waitingSyns = (s.waitingSyns ?? []).map((syn) => ({ ...syn, name: { ...syn.name }, address: syn.address && Uint8Array.from(syn.address) }));
    return socket;
  }
}
