// A socket's receive queue: what peers delivered and the socket has not read.
// A stream reads across what was delivered as one run of bytes; SOCK_SEQPACKET
// and SOCK_DGRAM read one record at a time ("each read ... returns one
// message"; the rest of a longer one is discarded, MSG_TRUNC says so), each
// datagram with the address it came from. Plain data: it travels in a snapshot.

export interface Delivery {
  data: Uint8Array;
  from: Uint8Array | null; // the sender's sockaddr (datagrams; null on a stream)
}

export class ReceiveQueue {
  private items: Delivery[] = [];
  private queued = 0;

  constructor(readonly records: boolean, public capacity: number) {}

  get size(): number { return this.queued; }
  get count(): number { return this.items.length; }
  get room(): number { return Math.max(0, this.capacity - this.queued); }

  /** Queues `data` (the queue keeps it: pass a buffer nobody else changes). */
  push(data: Uint8Array, from: Uint8Array | null = null): void {
    if (!this.records && data.length === 0) return;
    this.items.push({ data, from });
    this.queued += data.length;
  }

  /** What FIONREAD reports: every byte queued, or a datagram socket's next datagram (Linux's unix_inq_len, udp_ioctl). */
  readable(datagrams: boolean): number {
    return datagrams ? this.items[0]?.data.length ?? 0 : this.queued;
  }

  /**
   * Up to `max` bytes: a stream's next bytes, or the first record cut to `max`
   * (`truncated` then holds its full length). `peek` leaves the queue as it was (MSG_PEEK).
   */
  take(max: number, peek: boolean): { data: Uint8Array; from: Uint8Array | null; length: number } {
    if (this.records) {
      const first = this.items[0];
      if (!first) return { data: new Uint8Array(0), from: null, length: 0 };
      if (!peek) { this.items.shift(); this.queued -= first.data.length; }
      return { data: first.data.subarray(0, max), from: first.from, length: first.data.length };
    }
    const out = new Uint8Array(Math.min(max, this.queued));
    let at = 0, index = 0;
    while (at < out.length) {
      const item = this.items[index];
      const n = Math.min(item.data.length, out.length - at);
      out.set(item.data.subarray(0, n), at);
      at += n;
      if (peek) { index++; continue; }
      if (n === item.data.length) this.items.shift();
      else this.items[0] = { data: item.data.subarray(n), from: null };
    }
    if (!peek) this.queued -= out.length;
    return { data: out, from: null, length: out.length };
  }

  /** Everything queued, for a snapshot. */
  state(): Delivery[] {
    return this.items.map((d) => ({ data: Uint8Array.from(d.data), from: d.from && Uint8Array.from(d.from) }));
  }

  static restore(records: boolean, capacity: number, items: Delivery[]): ReceiveQueue {
    const q = new ReceiveQueue(records, capacity);
    for (const d of items) q.push(Uint8Array.from(d.data), d.from && Uint8Array.from(d.from));
    return q;
  }
}
