// AF_UNIX datagrams to another guest, as Linux gives them within one machine:
// nothing is lost, one sender's datagrams arrive in the order sent, and a
// sender whose receiver is full waits for room (unix_dgram_sendmsg sleeps in
// unix_wait_for_peer) instead of losing the datagram. UDP needs none of this:
// it may drop, and does.
//
// Across guests a sender cannot look at the receiver's queue, so each pair of
// sockets (sender, receiver) runs Go-Back-N over the hosts' messages:
//   - the sender numbers its datagrams (`seq`) and keeps each one until the
//     receiver has accepted it; what it keeps is bounded by a window, and a
//     send that finds the window full waits as a send to a full local socket;
//   - the receiver accepts only the next expected `seq`, and answers with a
//     `dgram-ack` (batched per run of calls) saying how far it has accepted;
//   - a datagram that finds the receive queue full, or arrives ahead of one
//     still missing (routes overtake each other during a move), is not
//     accepted; the receiver asks the sender to send again from the expected
//     one (`resend`) — at once for a gap, once room appears for a full queue.
// Each sending half has a random `pair` id that its datagrams and their acks
// carry: a receiver that sees a new id for a sender starts that pair afresh,
// and a sender ignores acks for another id. A guest restored from a
// checkpoint (not a migration, whose state is current) takes new ids and
// numbers what it kept from 0 again, and its receiving halves take the next
// seq each sender sends as the expected one: its peers went on without it.
// A guest taken over by its backup (issue 13) goes on from a state its peers
// have not gone past (its messages were held until that state was committed):
// it keeps its ids and numbers, sends again what it kept, and asks each sender
// to send again from the seq it expects.
// Both halves are kernel state and travel in the snapshot. Plain data, no
// kernel types, as stream-channel.ts is for streams.

/** How many bytes a sender keeps unaccepted for one receiver before its sends wait (net.core.wmem_default, as SO_SNDBUF). */
export const DATAGRAM_WINDOW = 212992;

export interface Unaccepted { seq: number; data: Uint8Array; fromName: Uint8Array }

/** The sending half of one pair, kept by the sending socket. */
export interface OutboundState { guest: string; socket: number; pair: number; nextSeq: number; unaccepted: Unaccepted[] }

/** The receiving half of one pair, kept by the receiving socket. */
export interface InboundState {
  guest: string;
  socket: number;
  pair: number; // the sending half's id
  expected: number; // the next seq it accepts
  blocked: boolean; // it refused `expected` for want of room: a resend is owed when room appears
  // The next ack asks for a resend. Every datagram dropped for a gap sets it: only an ask sent after the drop is
  // sure to reach the sender after it sent that datagram, so an earlier ask may not cover it. Asks coalesce per
  // run of calls, as acks do.
  resendOwed: boolean;
  ackOwed: boolean;
}

/** What the receiver does with an arriving datagram. */
export type Arrival = "accept" | "drop";

/** What a `dgram-ack` says to sending half `pair`: all before `upTo` is accepted; `resend`: send again from `upTo`. */
export interface DatagramAck { pair: number; upTo: number; resend: boolean }

const newPairId = () => 1 + Math.floor(Math.random() * 0x7ffffffe);

const key = (guest: string, socket: number) => `${guest}\n${socket}`;

export interface DatagramOrderState { outbound: OutboundState[]; inbound: InboundState[]; adopting: boolean }

export class DatagramOrder {
  private readonly out = new Map<string, OutboundState>();
  private readonly in = new Map<string, InboundState>();
  /** Restored from a checkpoint: a sender not heard from since starts at whatever seq comes. */
  private adopting = false;

  // ---- the sending half ----

  /** Bytes a new datagram to (guest, socket) may have before the send waits. */
  room(guest: string, socket: number): number {
    const pair = this.out.get(key(guest, socket));
    if (!pair) return DATAGRAM_WINDOW;
    return Math.max(0, DATAGRAM_WINDOW - pair.unaccepted.reduce((sum, d) => sum + d.data.length, 0));
  }

  /** Numbers and keeps a datagram for (guest, socket); returns its pair id and seq. */
  send(guest: string, socket: number, data: Uint8Array, fromName: Uint8Array): { pair: number; seq: number } {
    const k = key(guest, socket);
    let pair = this.out.get(k);
    if (!pair) this.out.set(k, (pair = { guest, socket, pair: newPairId(), nextSeq: 0, unaccepted: [] }));
    const seq = pair.nextSeq++;
    pair.unaccepted.push({ seq, data, fromName });
    return { pair: pair.pair, seq };
  }

  /**
   * An ack from (guest, socket): accepted datagrams are forgotten; returns
   * those to send again (all that are left, for a resend). Acks overtake each
   * other, so an old one only forgets less; one for another pair id is stale.
   */
  acked(guest: string, socket: number, ack: DatagramAck): { pair: number; again: Unaccepted[] } {
    const pair = this.out.get(key(guest, socket));
    if (!pair || pair.pair !== ack.pair) return { pair: 0, again: [] };
    pair.unaccepted = pair.unaccepted.filter((d) => d.seq >= ack.upTo);
    return { pair: pair.pair, again: ack.resend ? [...pair.unaccepted] : [] };
  }

  /** This guest was restored from a checkpoint: see the head of this file. */
  restoredFromCheckpoint(): void {
    for (const pair of this.out.values()) {
      pair.pair = newPairId();
      pair.unaccepted.forEach((d, i) => (d.seq = i));
      pair.nextSeq = pair.unaccepted.length;
    }
    this.in.clear();
    this.adopting = true;
  }

  /** Taken over by its backup: every receiving half asks its sender to send again from the seq it expects. */
  takenOver(): void {
    for (const pair of this.in.values()) pair.resendOwed = pair.ackOwed = true;
  }

  /** What `restoredFromCheckpoint` (newly numbered) or `takenOver` left to send: every kept datagram, per receiver. */
  everythingKept(): Array<{ guest: string; socket: number; pair: number; again: Unaccepted[] }> {
    return [...this.out.values()].filter((p) => p.unaccepted.length > 0).map((p) => ({ guest: p.guest, socket: p.socket, pair: p.pair, again: [...p.unaccepted] }));
  }

  // ---- the receiving half ----

  /** A datagram `seq` from (guest, socket) arrives; `fits`: the receive queue has room for it. */
  arrive(guest: string, socket: number, pairId: number, seq: number, fits: boolean): Arrival {
    const pair = this.inbound(guest, socket, pairId, seq);
    if (seq < pair.expected) {
      pair.ackOwed = true; // a copy of one accepted: the sender learns again how far we are
      return "drop";
    }
    if (seq > pair.expected) {
      if (!pair.blocked) pair.resendOwed = pair.ackOwed = true; // a gap: send again from the expected one
      return "drop";
    }
    if (!fits) {
      pair.blocked = true;
      return "drop";
    }
    pair.expected++;
    pair.blocked = false;
    pair.ackOwed = true;
    return "accept";
  }

  /** The program read: pairs refused for want of room ask for a resend. Returns whether any ack is owed. */
  roomAppeared(): boolean {
    for (const pair of this.in.values()) {
      if (pair.blocked) {
        pair.blocked = false;
        pair.resendOwed = pair.ackOwed = true;
      }
    }
    return this.acksOwed();
  }

  acksOwed(): boolean {
    for (const pair of this.in.values()) if (pair.ackOwed) return true;
    return false;
  }

  /** The acks owed, each to (guest, socket), and forgets that they are owed. */
  takeAcks(): Array<{ guest: string; socket: number; ack: DatagramAck }> {
    const acks: Array<{ guest: string; socket: number; ack: DatagramAck }> = [];
    for (const pair of this.in.values()) {
      if (!pair.ackOwed) continue;
      acks.push({ guest: pair.guest, socket: pair.socket, ack: { pair: pair.pair, upTo: pair.expected, resend: pair.resendOwed } });
      pair.ackOwed = pair.resendOwed = false;
    }
    return acks;
  }

  /** The receiving half for (guest, socket): a new one for a pair id not seen before, expecting seq 0 (or `seq`, adopting). */
  private inbound(guest: string, socket: number, pairId: number, seq: number): InboundState {
    const k = key(guest, socket);
    let pair = this.in.get(k);
    if (!pair || pair.pair !== pairId) {
      const expected = this.adopting && !pair ? seq : 0;
      this.in.set(k, (pair = { guest, socket, pair: pairId, expected, blocked: false, resendOwed: false, ackOwed: false }));
    }
    return pair;
  }

  // ---- the snapshot ----

  state(): DatagramOrderState {
    return {
      outbound: [...this.out.values()].map((p) => ({ ...p, unaccepted: p.unaccepted.map((d) => ({ ...d })) })),
      inbound: [...this.in.values()].map((p) => ({ ...p })),
      adopting: this.adopting,
    };
  }

  static restore(s: DatagramOrderState | undefined): DatagramOrder {
    const order = new DatagramOrder();
    order.adopting = s?.adopting ?? false;
    for (const p of s?.outbound ?? []) {
      const unaccepted = p.unaccepted.map((d) => ({ seq: d.seq, data: Uint8Array.from(d.data), fromName: Uint8Array.from(d.fromName) }));
      order.out.set(key(p.guest, p.socket), { guest: p.guest, socket: p.socket, pair: p.pair, nextSeq: p.nextSeq, unaccepted });
    }
    for (const p of s?.inbound ?? []) order.in.set(key(p.guest, p.socket), { ...p });
    return order;
  }

  get empty(): boolean {
    return this.out.size === 0 && this.in.size === 0 && !this.adopting;
  }

  /** (guest, socket) is gone: what was kept for it is dropped, as Linux drops a dead socket's queue. */
  forget(guest: string, socket: number): void {
    this.out.delete(key(guest, socket));
  }
}
