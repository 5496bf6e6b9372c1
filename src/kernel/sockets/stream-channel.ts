// One direction pair of a stream between two ends that talk in messages
// (docs/MESSAGES.md): sequence numbers both ways, the credit the other end
// gave (ack + window), the reorder queue of segments that overtook others,
// duplicates dropped, and the other end's fin. Plain data with no kernel
// types, so a host relaying a published port speaks the same protocol; a
// RemotePeer (remote-peer.ts) wraps it for a socket.
//
// Hosts deliver every message at least once but routes may overtake each
// other after a migration: so order and duplicates are this class's job, and
// nothing is ever sent twice by it.

/** The stream messages, without their addressing (to, from, conn). */
export type StreamMessage =
  | { kind: "data"; seq: number; data: Uint8Array }
  | { kind: "ack"; ack: number; window: number }
  /** No more data after `seq`; `closed`: the end is gone, not just shut for writing. */
  | { kind: "fin"; seq: number; closed: boolean }
  | { kind: "reset" };

export interface Segment { seq: number; data: Uint8Array }

export interface ChannelState {
  records: boolean; // SOCK_SEQPACKET: each data message is one record and counts one byte more
  sent: number; // the seq of the next byte sent
  limit: number; // the other end takes bytes below this (its highest ack + window)
  expected: number; // the seq of the next byte taken
  reorder: Segment[]; // segments ahead of `expected`, by seq
  finAt: number; // the other end's fin: where its stream ends (-1: none came)
  peerGone: boolean; // its fin said it closed
  finSent: boolean;
}

/** What a message taken gives: bytes (or records) now in order, and whether an ack is owed. */
export interface Taken { data: Uint8Array[]; ackOwed: boolean }

export class StreamChannel {
  private s: ChannelState;

  /** `window`: what the other end said it takes first (its syn's or accept's). */
  constructor(records: boolean, window: number, private readonly capacity: number) {
    this.s = { records, sent: 0, limit: window, expected: 0, reorder: [], finAt: -1, peerGone: false, finSent: false };
  }

  /** Bytes that may be sent now (a record needs its length plus one). */
  room(): number {
    return Math.max(0, this.s.limit - this.s.sent - (this.s.records ? 1 : 0));
  }

  /** The message that carries `data` (the caller checked room()). */
  send(data: Uint8Array): StreamMessage {
    const seq = this.s.sent;
    this.s.sent += data.length + (this.s.records ? 1 : 0);
    return { kind: "data", seq, data };
  }

  /** The fin: after every byte sent so far. */
  finish(closed: boolean): StreamMessage {
    this.s.finSent = true;
    return { kind: "fin", seq: this.s.sent, closed };
  }

  get finSent(): boolean { return this.s.finSent; }

  /** The ack to send: every byte before `expected` came; `window` more fit (the receive queue's room). */
  ack(window: number): StreamMessage {
    return { kind: "ack", ack: this.s.expected, window };
  }

  /** The other end sends no more: its fin came and every byte before it. */
  get ended(): boolean {
    return this.s.finAt >= 0 && this.s.expected >= this.s.finAt;
  }

  /** The other end closed (and everything it sent has been taken). */
  get peerGone(): boolean {
    return this.ended && this.s.peerGone;
  }

  /** Takes a data, ack or fin message (a reset is the caller's). */
  take(m: StreamMessage): Taken {
    if (m.kind === "ack") {
      // Acks can overtake each other too: the credit only grows.
      this.s.limit = Math.max(this.s.limit, m.ack + m.window);
      return { data: [], ackOwed: false };
    }
    if (m.kind === "fin") {
      if (this.s.finAt < 0 || m.seq === this.s.finAt) this.s.finAt = m.seq;
      this.s.peerGone ||= m.closed;
      return { data: [], ackOwed: false };
    }
    if (m.kind !== "data") return { data: [], ackOwed: false };
    return { data: this.takeData({ seq: m.seq, data: m.data }), ackOwed: true };
  }

  private length(segment: Segment): number {
    return segment.data.length + (this.s.records ? 1 : 0);
  }

  private takeData(segment: Segment): Uint8Array[] {
    const end = segment.seq + this.length(segment);
    if (end <= this.s.expected) return []; // a duplicate: dropped (the ack owed says so again)
    if (segment.seq > this.s.expected) {
      this.hold(segment);
      return [];
    }
    const out = [this.trim(segment)];
    this.s.expected = end;
    while (this.s.reorder.length > 0 && this.s.reorder[0].seq <= this.s.expected) {
      const next = this.s.reorder.shift()!;
      const nextEnd = next.seq + this.length(next);
      if (nextEnd <= this.s.expected) continue;
      out.push(this.trim(next));
      this.s.expected = nextEnd;
    }
    return out;
  }

  /** A stream segment that starts before `expected` (an overlap): only its new bytes. Records never overlap. */
  private trim(segment: Segment): Uint8Array {
    if (this.s.records || segment.seq >= this.s.expected) return segment.data;
    return segment.data.subarray(this.s.expected - segment.seq);
  }

  /** A segment ahead of the next expected byte waits, once, if it lies within what this end can hold. */
  private hold(segment: Segment): void {
    if (segment.seq + this.length(segment) > this.s.expected + this.capacity) return; // beyond any credit given: not ours to keep
    const r = this.s.reorder;
    let i = 0;
    while (i < r.length && r[i].seq < segment.seq) i++;
    if (r[i]?.seq === segment.seq) return; // a duplicate of one waiting
    r.splice(i, 0, { seq: segment.seq, data: Uint8Array.from(segment.data) });
  }

  state(): ChannelState {
    return { ...this.s, reorder: this.s.reorder.map((g) => ({ seq: g.seq, data: Uint8Array.from(g.data) })) };
  }

  static restore(s: ChannelState, capacity: number): StreamChannel {
    const channel = new StreamChannel(s.records, 0, capacity);
    channel.s = { ...s, reorder: s.reorder.map((g) => ({ seq: g.seq, data: Uint8Array.from(g.data) })) };
    return channel;
  }
}
