// One direction pair of a stream between two ends that talk in messages
// (docs/MESSAGES.md): sequence numbers both ways, the credit the other end
// gave (ack + window), the reorder queue of segments that overtook others,
// duplicates dropped, and the other end's fin. Plain data with no kernel
// types, so a host relaying a published port speaks the same protocol; a
// RemotePeer (remote-peer.ts) wraps it for a socket.
//
// Hosts deliver every message at least once but routes may overtake each
// other after a migration: so order and duplicates are this class's job.
// Each end also keeps what it sent until the other end acks it (at most the
// other end's window): when the other end's guest was taken over by its
// backup (issue 13), it goes on from an older state and asks for everything
// after its own ack again (an ack with `resend`), and gets it from here.

/** The stream messages, without their addressing (to, from, conn). */
export type StreamMessage =
  | { kind: "data"; seq: number; data: Uint8Array }
  /**
   * `resend`: the sender went on from an older state (its backup took it over); send again all from `ack`.
   * `fin`: the sender has taken the fin too (a closed end that lingers for it may go).
   */
  | { kind: "ack"; ack: number; window: number; resend?: boolean; fin?: boolean }
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
  finClosed: boolean; // the fin sent said `closed`
  acked: number; // the other end took every byte before this (its highest ack)
  unacked: Segment[]; // what was sent from `acked` on, by seq: kept to be sent again if the other end asks
}

/** What a message taken gives: bytes (or records) now in order, whether an ack is owed, and what must be sent again. */
export interface Taken { data: Uint8Array[]; ackOwed: boolean; again: StreamMessage[] }

export class StreamChannel {
  private s: ChannelState;

  /** `window`: what the other end said it takes first (its syn's or accept's). */
  constructor(records: boolean, window: number, private readonly capacity: number) {
    this.s = { records, sent: 0, limit: window, expected: 0, reorder: [], finAt: -1, peerGone: false, finSent: false, finClosed: false, acked: 0, unacked: [] };
  }

  /** Bytes that may be sent now (a record needs its length plus one). */
  room(): number {
    return Math.max(0, this.s.limit - this.s.sent - (this.s.records ? 1 : 0));
  }

  /** The message that carries `data` (the caller checked room()). */
  send(data: Uint8Array): StreamMessage {
    const seq = this.s.sent;
    this.s.sent += data.length + (this.s.records ? 1 : 0);
    this.s.unacked.push({ seq, data: Uint8Array.from(data) });
    return { kind: "data", seq, data };
  }

  /** The fin: after every byte sent so far. */
  finish(closed: boolean): StreamMessage {
    this.s.finSent = true;
    this.s.finClosed = closed;
    return { kind: "fin", seq: this.s.sent, closed };
  }

  /** Bytes kept until the other end acks them (at most the window it gave). */
  get keptBytes(): number {
    return this.s.unacked.reduce((n, g) => n + g.data.length, 0);
  }

  /**
   * What to send again for an other end that has every byte before `from`:
   * the kept segments that reach past it (whole: the receiver trims what it
   * has), and the fin if one was sent.
   */
  sendAgainFrom(from: number): StreamMessage[] {
    const again: StreamMessage[] = this.s.unacked.filter((g) => g.seq + this.length(g) > from).map((g) => ({ kind: "data", seq: g.seq, data: g.data }));
    if (this.s.finSent) again.push({ kind: "fin", seq: this.s.sent, closed: this.s.finClosed });
    return again;
  }

  /**
   * This end goes on from an older state than the other end may have seen
   * (its backup took its guest over): everything the other end may lack goes
   * again, and the ack asks the other end to send again what this end lacks.
   */
  restart(window: number): StreamMessage[] {
    return [...this.sendAgainFrom(this.s.acked), { kind: "ack", ack: this.s.expected, window, resend: true, ...(this.ended ? { fin: true } : {}) }];
  }

  get finSent(): boolean { return this.s.finSent; }

  /** The ack to send: every byte before `expected` came; `window` more fit (the receive queue's room). */
  ack(window: number): StreamMessage {
    return { kind: "ack", ack: this.s.expected, window, ...(this.ended ? { fin: true } : {}) };
  }

  /** A data message whose every byte was taken already (a copy sent again). */
  isDuplicate(m: { seq: number; data: Uint8Array }): boolean {
    return m.seq + this.length(m) <= this.s.expected;
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
      this.forgetBefore(Math.min(m.ack, this.s.sent));
      // A restarted other end: what it lacks goes again, and it hears how far this end got (it may lack that ack too).
      const again = m.resend ? this.sendAgainFrom(m.ack) : [];
      return { data: [], ackOwed: m.resend === true, again };
    }
    if (m.kind === "fin") {
      if (this.s.finAt < 0 || m.seq === this.s.finAt) this.s.finAt = m.seq;
      this.s.peerGone ||= m.closed;
      return { data: [], ackOwed: true, again: [] }; // the ack says the fin came, once every byte before it has
    }
    if (m.kind !== "data") return { data: [], ackOwed: false, again: [] };
    return { data: this.takeData({ seq: m.seq, data: m.data }), ackOwed: true, again: [] };
  }

  /** The other end took every byte before `ack`: what was kept for it below that goes. */
  private forgetBefore(ack: number): void {
    if (ack <= this.s.acked) return;
    this.s.acked = ack;
    const u = this.s.unacked;
    let n = 0;
    while (n < u.length && u[n].seq + this.length(u[n]) <= ack) n++;
    if (n > 0) u.splice(0, n);
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
    return { ...this.s, reorder: copy(this.s.reorder), unacked: copy(this.s.unacked) };
  }

  /** A channel as `state()` gave it; one from before kept bytes (no `unacked`) keeps nothing it sent before. */
  static restore(s: ChannelState, capacity: number): StreamChannel {
    const channel = new StreamChannel(s.records, 0, capacity);
    channel.s = { ...s, reorder: copy(s.reorder), finClosed: s.finClosed ?? false, acked: s.acked ?? s.sent, unacked: copy(s.unacked ?? []) };
    return channel;
  }
}

function copy(segments: Segment[]): Segment[] {
  return segments.map((g) => ({ seq: g.seq, data: Uint8Array.from(g.data) }));
}
