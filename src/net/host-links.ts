// One lasting link from this host to each other host, carrying the messages
// guests send each other (docs/MESSAGES.md) in order. A host opens its own link
// to each host it sends to, so each link carries one direction; answers travel
// on the other host's link back.
//
// A link is reliable as long as both hosts live, which is the first half of
// the guarantee that no guest message is lost: every message carries the
// link's sequence number, the receiver acknowledges what it took (a cumulative
// `gm-ack`, one per burst), and a connection that closes with messages not yet
// acknowledged is opened again and they are sent again; the receiver drops the
// ones it had already taken (same sender epoch, sequence not above the last).
// A host that cannot be reached for 10 s gives its messages back to
// the caller (`undeliverable`), which decides what becomes of them.

import { randomBytes } from "node:crypto";
import { connect, type Peer } from "./peer.js";
import type { TlsIdentity } from "./tls.js";

/** A message between guests, as a host link carries it (the fields are docs/MESSAGES.md's). */
export type GuestMessage = Record<string, unknown> & { to: string; from: string; kind: string };

export interface HostLinksOptions {
  /** This host's URL, said in each link's hello so the other host knows where answers go. */
  selfUrl: () => string;
  token?: string;
  tls?: TlsIdentity;
  /** Messages that could not reach `url` (it did not answer for `giveUpMs`). */
  undeliverable: (url: string, messages: GuestMessage[]) => void;
  /** How long a host may not answer before its messages are given back (default 10 s). */
  giveUpMs?: number;
}

const GIVE_UP_MS = 10_000;

interface Unacked { seq: number; message: GuestMessage }

class Link {
  private peer: Peer | undefined;
  private connecting: Promise<void> | undefined;
  private nextSeq = 1;
  private readonly unacked: Unacked[] = [];
  private failingSince: number | undefined;

  /** This link's own: a receiver tells a reconnection of it (same epoch) from another link or a restarted host. */
  private readonly epoch = randomBytes(8).toString("hex");

  constructor(private readonly url: string, private readonly options: HostLinksOptions) {}

  send(message: GuestMessage): void {
    const entry = { seq: this.nextSeq++, message };
    this.unacked.push(entry);
    if (this.peer?.open) this.transmit(entry);
    else void this.open();
  }

  /** The other host took every message up to `seq`. */
  acked(seq: number): void {
    let n = 0;
    while (n < this.unacked.length && this.unacked[n].seq <= seq) n++;
    if (n) this.unacked.splice(0, n);
  }

  get pending(): number {
    return this.unacked.length;
  }

  close(): void {
    this.peer?.close();
  }

  private transmit({ seq, message }: Unacked): void {
    this.peer!.send({ t: "gm", link: this.epoch, seq, message });
  }

  private open(): Promise<void> {
    this.connecting ??= (async () => {
      try {
        const peer = await connect(this.url, { role: "host", token: this.options.token, tls: this.options.tls, url: this.options.selfUrl() });
        this.peer = peer;
        this.failingSince = undefined;
        peer.onMessage((m) => { if (m.t === "gm-ack" && m.link === this.epoch && typeof m.seq === "number") this.acked(m.seq); });
        void peer.closed.then(() => this.lost());
        for (const entry of this.unacked) this.transmit(entry); // again, after a closed link: the other side drops what it had
      } catch {
        this.failingSince ??= Date.now();
        setTimeout(() => this.retry(), 200).unref();
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private lost(): void {
    this.peer = undefined;
    if (this.unacked.length) void this.open();
  }

  private retry(): void {
    if (this.unacked.length === 0) return;
    if (this.failingSince !== undefined && Date.now() - this.failingSince > (this.options.giveUpMs ?? GIVE_UP_MS)) {
      const messages = this.unacked.splice(0).map((u) => u.message);
      this.failingSince = undefined;
      this.options.undeliverable(this.url, messages);
      return;
    }
    void this.open();
  }
}

export class HostLinks {
  private readonly links = new Map<string, Link>();
  /** What each sending link's messages up to are taken here: `epoch` -> the highest sequence taken. */
  private readonly taken = new Map<string, number>();

  constructor(private readonly options: HostLinksOptions) {}

  /** Sends `message` to the host at `url`, after every earlier message to it. */
  send(url: string, message: GuestMessage): void {
    let link = this.links.get(url);
    if (!link) { link = new Link(url, this.options); this.links.set(url, link); }
    link.send(message);
  }

  /**
   * A `gm` frame arrived on a link from another host: its message, or
   * undefined for one taken before (sent again after a reconnection). The
   * acknowledgement goes back on the same connection, after the current burst.
   */
  receive(frame: Record<string, unknown>, answer: (ack: Record<string, unknown>) => void): GuestMessage | undefined {
    const epoch = String(frame.link), seq = Number(frame.seq);
    if (!Number.isInteger(seq)) return undefined;
    const last = this.taken.get(epoch) ?? 0;
    // One taken before is acknowledged again: the acknowledgement may have been lost with the old connection.
    this.scheduleAck(epoch, answer);
    if (seq <= last) return undefined;
    this.taken.set(epoch, seq);
    return frame.message as GuestMessage;
  }

  private readonly ackDue = new Map<string, (ack: Record<string, unknown>) => void>();

  private scheduleAck(epoch: string, answer: (ack: Record<string, unknown>) => void): void {
    if (this.ackDue.has(epoch)) { this.ackDue.set(epoch, answer); return; }
    this.ackDue.set(epoch, answer);
    setImmediate(() => {
      const send = this.ackDue.get(epoch);
      this.ackDue.delete(epoch);
      send?.({ t: "gm-ack", link: epoch, seq: this.taken.get(epoch) });
    });
  }

  /** Messages sent and not yet acknowledged, per host: a host's residual traffic. */
  pending(): Map<string, number> {
    return new Map([...this.links].map(([url, link]) => [url, link.pending]));
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}
