// The sockets of one guest (the kernel keeps one table, as it keeps its pipes):
// made by socket(2), socketpair(2) and accept(2), found by id from an open
// file description, closed with their description's last descriptor. Names
// go through a SocketNames (names.ts), a stream's other end through a
// StreamPeer (peer.ts), so both can later reach other guests.

import { Errno } from "../errno.js";
import { AF_INET, AF_UNIX, type Domain, type SocketName, type SocketType } from "./addresses.js";
import type { Unaccepted } from "./datagram-order.js";
import { LocalNames, type SocketNames } from "./names.js";
import { LocalPeer, LocalReceiver, type DatagramReceiver, type StreamPeer } from "./peer.js";
import { refuseWaitingSyns, retrySyn, sendSyn } from "./remote-connections.js";
import { RemotePeer, RemoteReceiver, type GuestNetwork, type OutMessage, type ShutRead } from "./remote-peer.js";
import { Socket, type SocketState } from "./socket.js";
import type { StreamMessage } from "./stream-channel.js";
import { nowMs } from "../../machine/host-clock.js";

export interface SocketsState {
  // 5: a connect to another guest retries its syn (a socket's `syn`), a closed stream lingers until acked
  // (`lingerUntilMs`); 4: a stream's channel keeps what it sent until acked (`acked`, `unacked`, `finClosed`); 3: AF_UNIX datagrams to
  // other guests kept until accepted (a socket's `datagrams`); 2: streams to other guests (a socket's remote peer and
  // channel). 1 to 4 are read as 5 without what they lack.
  schemaVersion: 5;
  address: number; // the guest's IPv4 address (addresses.ts guestAddress)
  nextId: number;
  nextEphemeral: number; // the next ephemeral port LocalNames tries
  sockets: SocketState[];
}

/** How long a closed stream lingers for its other end's ack at most (Linux's tcp_fin_timeout, 60 s). */
export const LINGER_MS = 60_000;

export class Sockets {
  private readonly byId = new Map<number, Socket>();
  private nextId = 1;
  /** The way to other guests (a host's switch); without one, every name is this guest's. */
  network: GuestNetwork | undefined;
  /** This guest's id: the `from` of its messages. */
  guestId = "";
  /** Sockets to other guests that owe an ack: sent together once the current run of calls is over. */
  private readonly acksOwed = new Set<number>();
  /** Sockets that owe other guests a `dgram-ack` (datagram-order.ts), sent with the stream acks. */
  private readonly datagramAcksOwed = new Set<number>();
  /** No timer (syn retry, linger's end) is due before this (guest monotonic ms; one that went may leave it early). */
  private timerAt = Infinity;
  /** The guest's monotonic clock in ms (the kernel's, which a snapshot carries on): syn retries and lingering are timed by it. */
  clockMs: () => number = () => Math.floor(nowMs());

  /**
   * `names`: where names are bound and found (a host may pass a cluster-wide one);
   * `address`: the guest's IPv4 address; `changed`: wakes processes waiting on anything.
   */
  constructor(readonly names: SocketNames, public address: number, readonly changed: () => void) {}

  create(domain: Domain, type: SocketType, protocol: number): Socket {
    const socket = new Socket(this.nextId++, domain, type, protocol);
    this.byId.set(socket.id, socket);
    return socket;
  }

  get(id: number): Socket | undefined {
    return this.byId.get(id);
  }

  all(): Socket[] {
    return [...this.byId.values()];
  }

  /** A connected stream's other end, while there is one. */
  peerOf(socket: Socket): StreamPeer | undefined {
    if (!socket.peer) return undefined;
    if (socket.peer.kind === "remote") {
      return socket.channel && !socket.dialing ? new RemotePeer(socket, (m) => this.sendOn(socket, m)) : undefined;
    }
    const other = this.byId.get(socket.peer.socket);
    return other && new LocalPeer(other, this.changed);
  }

  /** The receiver of datagrams that `sender` sends to socket `socket` of guest `guest`. */
  remoteReceiver(sender: Socket, guest: string, socket: number): DatagramReceiver {
    if (sender.domain !== AF_UNIX) {
      return new RemoteReceiver((data, from) => this.send(guest, { kind: "dgram", conn: [sender.id, socket], data, fromName: from }));
    }
    // AF_UNIX: numbered and kept until accepted, so none is lost and a full receiver makes the sender wait.
    const order = sender.datagrams;
    return new RemoteReceiver((data, from) => {
      const { pair, seq } = order.send(guest, socket, data, from);
      this.send(guest, { kind: "dgram", conn: [sender.id, socket], data, fromName: from, pair, seq });
    }, () => order.room(guest, socket));
  }

  /** `socket`'s AF_UNIX datagram acks owed to other guests go out once the current run of calls is over. */
  datagramAcksLater(socket: Socket): void {
    if (!socket.datagrams.acksOwed()) return;
    if (this.acksOwed.size === 0 && this.datagramAcksOwed.size === 0) queueMicrotask(() => this.sendAcks());
    this.datagramAcksOwed.add(socket.id);
  }

  /** `sender`'s datagrams of `pair` to (guest, socket) that must go again (a resend, or a restore from a checkpoint). */
  resendDatagrams(sender: Socket, guest: string, socket: number, pair: number, again: Unaccepted[]): void {
    for (const d of again) this.send(guest, { kind: "dgram", conn: [sender.id, socket], data: d.data, fromName: d.fromName, pair, seq: d.seq });
  }

  /** The receiver of datagrams sent to `socket`. */
  receiverOf(socket: Socket): DatagramReceiver {
    return new LocalReceiver(socket, this.changed);
  }

  /** When this guest last sent or took a message to or from another guest (nowMs(); -Infinity: never). */
  lastRemoteAt = -Infinity;

  /** Sends `message` to a guest (dropped when there is no network: nothing can have connected then). */
  send(to: string, message: Record<string, unknown> & { kind: string }): void {
    this.lastRemoteAt = nowMs();
    this.network?.send({ ...message, to, from: this.guestId } as OutMessage);
  }

  /** A stream message for `socket`'s remote end. */
  sendOn(socket: Socket, m: StreamMessage | ShutRead): void {
    if (socket.peer?.kind !== "remote") return;
    this.send(socket.peer.guest, { ...m, conn: [socket.id, socket.peer.socket] });
  }

  /**
   * `socket` took data or its program read: its remote end learns the new ack
   * and window, once for all that happened in this run of calls (a microtask).
   */
  ackLater(socket: Socket): void {
    if (socket.peer?.kind !== "remote" || !socket.channel) return;
    if (this.acksOwed.size === 0 && this.datagramAcksOwed.size === 0) queueMicrotask(() => this.sendAcks());
    this.acksOwed.add(socket.id);
  }

  /**
   * A guest restored from a checkpoint asks each of its streams to other
   * guests whether the other end still has it, with an ack (which changes
   * nothing for an end that does): one whose end is gone, or its guest, is
   * answered with a reset (ECONNRESET here), rather than waiting for ever.
   */
  probeRemoteStreams(): void {
    for (const socket of this.byId.values()) {
      if (!socket.dialing) this.ackLater(socket);
      // AF_UNIX datagrams: numbered afresh and sent again (datagram-order.ts says why).
      socket.datagrams.restoredFromCheckpoint();
      for (const { guest, socket: to, pair, again } of socket.datagrams.everythingKept()) this.resendDatagrams(socket, guest, to, pair, again);
    }
  }

  /**
   * This guest was taken over by its backup (issue 13): it goes on from the
   * last epoch the backup committed, and its streams' other ends may have
   * seen less (what the dead primary sent was lost on its way) or more (what
   * they sent it after that epoch). Each stream sends again what it kept
   * unacknowledged and asks its other end, with an ack that says `resend`,
   * for everything after its own ack. AF_UNIX datagrams likewise, by their
   * numbers (datagram-order.ts).
   */
  resumeAfterTakeover(): void {
    for (const socket of this.byId.values()) {
      socket.datagrams.takenOver();
      for (const { guest, socket: to, pair, again } of socket.datagrams.everythingKept()) this.resendDatagrams(socket, guest, to, pair, again);
      this.datagramAcksLater(socket);
      if (socket.dialing) sendSyn(this, socket); // its accept may have come to the dead primary
      if (socket.dialing || socket.peer?.kind !== "remote" || !socket.channel) continue;
      for (const m of socket.channel.restart(socket.received.room)) this.sendOn(socket, m);
    }
  }

  /** A timer is due at `at` (guest monotonic ms). */
  timerDue(at: number): void {
    this.timerAt = Math.min(this.timerAt, at);
  }

  /** When the next timer is due (guest monotonic ms; Infinity: none): the kernel wakes for it. */
  get nextTimerMs(): number {
    return this.timerAt;
  }

  /**
   * What is due at `now`: connects whose syn retry is due send it again or
   * time out (remote-connections.ts retrySyn); closed streams that lingered
   * LINGER_MS unanswered go.
   */
  runTimers(now = this.clockMs()): void {
    if (now < this.timerAt) return;
    this.timerAt = Infinity;
    for (const socket of [...this.byId.values()]) {
      if (socket.syn) this.timerDue(retrySyn(this, socket, now));
      if (socket.lingerUntilMs === null) continue;
      if (now >= socket.lingerUntilMs) this.forget(socket);
      else this.timerDue(socket.lingerUntilMs);
    }
  }

  /** A closed stream that lingered is let go: its other end has everything, reset it, or never answered. */
  forget(socket: Socket): void {
    if (socket.lingerUntilMs !== null) this.byId.delete(socket.id);
  }

  private sendAcks(): void {
    for (const id of this.acksOwed) {
      const socket = this.byId.get(id);
      if (socket?.channel) this.sendOn(socket, socket.channel.ack(socket.received.room));
    }
    this.acksOwed.clear();
    for (const id of this.datagramAcksOwed) {
      const socket = this.byId.get(id);
      for (const { guest, socket: to, ack } of socket?.datagrams.takeAcks() ?? []) {
        this.send(guest, { kind: "dgram-ack", conn: [id, to], pair: ack.pair, upTo: ack.upTo, resend: ack.resend });
      }
    }
    this.datagramAcksOwed.clear();
  }

  /** Joins two streams of this kernel (socketpair, connect to a listener here). */
  link(a: Socket, b: Socket): void {
    a.peer = { kind: "local", socket: b.id };
    b.peer = { kind: "local", socket: a.id };
    a.connected = b.connected = true;
  }

  /** The ref a name is bound to for a socket of this kernel. */
  ref(socket: Socket): { guest: string; socket: number } {
    return { guest: "", socket: socket.id };
  }

  /** The socket a name's ref leads to, if it is this kernel's. */
  resolve(ref: { guest: string; socket: number } | undefined): Socket | undefined {
    return ref && ref.guest === "" ? this.byId.get(ref.socket) : undefined;
  }

  /**
   * The last descriptor of `socket` closed: its name goes, connections waiting
   * on a listener are reset, and a connected peer sees end of file (or a reset
   * when bytes were left unread: "Connection reset by peer"). A stream to
   * another guest that ends with a fin lingers, as Linux's FIN_WAIT, until
   * the other end acks its last bytes and the fin (or resets, or LINGER_MS
   * pass): a takeover by the backup sends them again if they died on the way.
   */
  close(socket: Socket, neverAccepted = false): void {
    if (!this.byId.has(socket.id) || socket.lingerUntilMs !== null) return;
    const unread = socket.received.count > 0 || neverAccepted;
    const lingers = socket.isStream && socket.peer?.kind === "remote" && socket.channel !== null && !socket.dialing && !unread;
    if (!lingers) this.byId.delete(socket.id);
    if (socket.name) this.names.unbind(socket.name, this.ref(socket));
    for (const id of socket.pending) {
      const waiting = this.byId.get(id);
      if (waiting) this.close(waiting, true);
    }
    refuseWaitingSyns(this, socket);
    // unix_release_sock: "if (!skb_queue_empty(&sk->sk_receive_queue) || embrion) skpair->sk_err = ECONNRESET".
    // A datagram socket's peer is not told: its sends find the socket gone ("Connection refused").
    if (socket.isStream) this.peerOf(socket)?.closed(unread);
    if (lingers) {
      socket.name = null;
      socket.lingerUntilMs = this.clockMs() + LINGER_MS;
      this.timerDue(socket.lingerUntilMs);
    }
    this.changed();
  }

  state(): SocketsState {
    return {
      schemaVersion: 5, address: this.address, nextId: this.nextId,
      nextEphemeral: this.names instanceof LocalNames ? this.names.nextEphemeral : 0,
      sockets: this.all().map((s) => s.state()),
    };
  }

  /** Puts back the sockets of a snapshot, their names bound again. */
  restore(s: SocketsState): void {
    if (![1, 2, 3, 4, 5].includes(s.schemaVersion)) throw new Error(`sockets: unknown schema version ${s.schemaVersion}`);
    // A name this table already holds for the same socket stays bound: a destination restores a guest more than
    // once (prestate, then final state), and unbinding in between would tell every host the name had gone, so a
    // datagram sent elsewhere in that moment would find nobody (ECONNREFUSED).
    const nameOf = (id: number, name: SocketName | null) => (name ? `${id}:${JSON.stringify(name)}` : "");
    const restored = new Set(s.sockets.map((state) => nameOf(state.id, state.name)));
    const kept = new Set<string>();
    for (const socket of this.all()) {
      if (!socket.name) continue;
      const key = nameOf(socket.id, socket.name);
      if (restored.has(key)) kept.add(key);
      else this.names.unbind(socket.name, this.ref(socket));
    }
    this.byId.clear();
    this.timerAt = Infinity;
    this.address = s.address;
    this.nextId = s.nextId;
    if (this.names instanceof LocalNames && s.nextEphemeral) this.names.nextEphemeral = s.nextEphemeral;
    for (const state of s.sockets) {
      const socket = Socket.restore(state);
      this.byId.set(socket.id, socket);
      if (socket.syn) this.timerDue(socket.syn.nextAtMs);
      if (socket.lingerUntilMs !== null) this.timerDue(socket.lingerUntilMs);
      if (socket.name && !kept.has(nameOf(socket.id, socket.name)) && this.names.bind(socket.name, this.ref(socket)) < 0) {
        throw new Error(`sockets: socket ${socket.id}'s name is bound twice in the snapshot`);
      }
    }
  }
}

/** What a family says of its protocol argument: 0 or the one protocol of the type; anything else EPROTONOSUPPORT. */
export function checkProtocol(domain: Domain, type: SocketType, protocol: number): number {
  if (protocol === 0) return 0;
  if (domain === AF_INET && ((type === 1 && protocol === 6) || (type === 2 && protocol === 17))) return 0; // IPPROTO_TCP, IPPROTO_UDP
  return -Errno.EPROTONOSUPPORT;
}
