// What a host counts of the messages between guests, per guest: what `roam
// stats` shows as the cost of each forwarding approach (hops, forwarding, the
// messages refused and sent again) and its residual dependencies (forwarding
// addresses still held here, and when each ended).

export class GuestMessageCounts {
  sent = 0; // by this guest while it ran here
  received = 0; // delivered into its kernel here
  queued = 0; // held here while it was frozen or arriving
  forwarded = 0; // passed on by this host after it left (or through its origin)
  forwardedBytes = 0;
  refused = 0; // nacked here (resend)
  resent = 0; // located again and sent again by this host
  dropped = 0; // datagrams given up on (their guest was found nowhere)
  hopCounts: number[] = []; // delivered messages by the hosts they passed: [0 hops, 1 hop, ...]
  latencyMs: number[] = []; // the last delivered messages' times from send to delivery (a window)
  addressHeldSince: number | undefined; // a forwarding address for it is held here since then
  addressEndedAt: number | undefined;
  /** Bytes of data it exchanged while here (messages both ways, files read and written at another host), by the other end's host URL (this host's own: between guests here). */
  readonly exchanged = new Map<string, number>();

  hops(n: number): void {
    while (this.hopCounts.length <= n) this.hopCounts.push(0);
    this.hopCounts[n]++;
  }

  latency(ms: number): void {
    this.latencyMs.push(ms);
    if (this.latencyMs.length > LATENCY_WINDOW) this.latencyMs.splice(0, this.latencyMs.length - LATENCY_WINDOW);
  }

  /** Plain data for `roam stats`. */
  report(): Record<string, unknown> {
    const sorted = [...this.latencyMs].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
    return {
      sent: this.sent, received: this.received, queued: this.queued, forwarded: this.forwarded, forwardedBytes: this.forwardedBytes,
      refused: this.refused, resent: this.resent, dropped: this.dropped, hops: this.hopCounts,
      latencyMs: { p50: at(0.5), p99: at(0.99) },
      forwardingAddress: this.addressHeldSince === undefined ? null
        : { since: new Date(this.addressHeldSince).toISOString(), ended: this.addressEndedAt === undefined ? null : new Date(this.addressEndedAt).toISOString() },
    };
  }
}

const LATENCY_WINDOW = 10_000;

export class MessageCounts {
  private readonly byGuest = new Map<string, GuestMessageCounts>();
  /** Bytes of data guests here exchanged with other hosts so far (a counter: the load vector's crossing rate). */
  crossingBytes = 0;

  constructor(private readonly selfUrl: () => string) {}

  /** Guest `guest` here exchanged `bytes` with a guest or file at `host` (a URL; this host's own when local). */
  exchanged(guest: string, host: string, bytes: number): void {
    const at = host.replace(/\/$/, "");
    const counts = this.of(guest).exchanged;
    counts.set(at, (counts.get(at) ?? 0) + bytes);
    if (at !== this.selfUrl().replace(/\/$/, "")) this.crossingBytes += bytes;
  }

  of(guest: string): GuestMessageCounts {
    let counts = this.byGuest.get(guest);
    if (!counts) { counts = new GuestMessageCounts(); this.byGuest.set(guest, counts); }
    return counts;
  }

  has(guest: string): boolean {
    return this.byGuest.has(guest);
  }

  /** Messages sent and received here by every guest so far (the load vector's traffic). */
  total(): number {
    let sum = 0;
    for (const c of this.byGuest.values()) sum += c.sent + c.received;
    return sum;
  }
}
