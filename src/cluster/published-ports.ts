// Published ports (`roam run --publish [ADDR:]HOSTPORT:GUESTPORT`, as docker
// run -p): the host a guest started on listens on a real TCP port and carries
// each connection to the guest's listening socket on GUESTPORT, wherever the
// guest runs by then. The host speaks for the outside client as if it were a
// guest (an endpoint of its own, `relay@HOST`), with the same stream messages
// and the same StreamChannel a kernel uses, so the bytes of an outside client
// are neither lost nor repeated when the guest migrates: the publishing host
// relays to wherever the guest is (a residual dependency `roam stats` shows).
// The relay's channel keeps what it sent until the guest acks it, so a guest
// taken over by its backup (issue 13) gets again what its dead primary took.
// Its syn is sent again until answered, as a guest's kernel sends a connect's
// (src/kernel/sockets/remote-connections.ts): a syn the guest's dead primary
// took after its last committed epoch would otherwise leave the client waiting.

import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import { AF_INET, guestAddress, inetSockaddr, SOCK_STREAM } from "../kernel/sockets/addresses.js";
import { SYN_FIRST_RETRY_MS, SYN_RETRIES } from "../kernel/sockets/remote-connections.js";
import { StreamChannel, type StreamMessage } from "../kernel/sockets/stream-channel.js";
import type { GuestMessage } from "../net/host-links.js";
import { ProtocolError } from "../net/protocol.js";
import type { GuestPlace } from "./forwarding/index.js";

export interface PortSpec { address: string; hostPort: number; guestPort: number }

/** `[ADDR:]HOSTPORT:GUESTPORT`; the address defaults to loopback (a guest is not exposed beyond this machine unless asked). */
export function parsePublish(text: string): PortSpec {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):)?(\d{1,5}):(\d{1,5})$/.exec(text);
  const port = (p: string | undefined) => (p !== undefined && +p >= 1 && +p <= 65535 ? +p : NaN);
  if (!m || Number.isNaN(port(m[2])) || Number.isNaN(port(m[3]))) throw new ProtocolError(`publish ${text}: expected [ADDR:]HOSTPORT:GUESTPORT, ports 1-65535`);
  return { address: (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, ""), hostPort: +m[2], guestPort: +m[3] };
}

export interface RelayHost {
  readonly url: string;
  /** Sends a stream message from the relay endpoint to a guest (the switch routes it). */
  send(message: GuestMessage, place: GuestPlace): void;
  log(line: string): void;
}

const RECEIVE_WINDOW = 256 << 10; // what the relay takes from a guest before the outside client reads
const FORWARDING: GuestPlace["forwarding"] = "update";

/** One outside connection, carried to a guest's socket. */
class Relay {
  channel: StreamChannel | undefined;
  guestSocket = 0;
  bytesIn = 0;
  bytesOut = 0;
  private ended = false;
  private synTimer: NodeJS.Timeout | undefined;

  constructor(readonly id: number, readonly guest: string, readonly tcp: TcpSocket, private readonly ports: PublishedPorts) {}

  stopDialing(): void {
    clearTimeout(this.synTimer);
  }

  /** Sends the syn, and again after 1, 2, 4 ... 32 s while no answer came; after that the client's connection is reset. */
  dial(syn: Record<string, unknown>, retries = 0): void {
    this.ports.sendFrom(this, syn);
    this.synTimer = setTimeout(() => {
      if (retries < SYN_RETRIES) this.dial(syn, retries + 1);
      else this.close(true); // "Connection timed out": the guest never answered
    }, SYN_FIRST_RETRY_MS * 2 ** retries).unref();
  }

  /** A message from the guest's socket. */
  take(m: Record<string, unknown>): void {
    // Only an answer to the syn ends its retries: a guest taken over from an epoch that had the connection asks with
    // an ack (resend) before the accept it sends again for the syn's next copy.
    if (m.kind === "accept" || m.kind === "refuse" || m.kind === "reset") clearTimeout(this.synTimer);
    if (m.kind === "accept") {
      const server = Number((m.conn as number[])[0]);
      // A repeated accept; or one for a copy of the syn that came after the guest closed the first connection: its
      // new socket is reset, as a kernel's client resets an accept it did not ask for.
      if (this.channel) { if (server !== this.guestSocket) this.ports.sendFrom(this, { kind: "reset" }, server); return; }
      this.guestSocket = server;
      this.channel = new StreamChannel(false, Number(m.window), RECEIVE_WINDOW);
      this.tcp.resume();
      return;
    }
    // After the guest's fin, a reset (the answer to guestEnded's question) must not cut the bytes still being written.
    if (m.kind === "refuse" || m.kind === "reset") { this.close(!this.ended); return; }
    if (!this.channel) return;
    const taken = this.channel.take(checkedStream(m));
    // The guest was taken over by its backup: it lacks what its dead primary took after the last committed epoch.
    for (const again of taken.again) this.ports.sendFrom(this, again);
    for (const data of taken.data) { this.bytesOut += data.length; this.tcp.write(data); }
    if (taken.ackOwed) this.ports.sendFrom(this, this.channel.ack(RECEIVE_WINDOW));
    if (this.channel.ended && !this.ended) { this.ended = true; this.tcp.end(); }
    this.pump(); // credit may have come
  }

  /** Bytes from the outside client: sent as far as the guest's credit goes; the rest waits with the client paused. */
  private pending: Buffer[] = [];

  outside(data: Buffer): void {
    this.pending.push(data);
    this.pump();
  }

  private pump(): void {
    const channel = this.channel;
    if (!channel) return;
    while (this.pending.length > 0 && channel.room() > 0) {
      const head = this.pending[0];
      const n = Math.min(head.length, channel.room(), 64 << 10);
      this.ports.sendFrom(this, channel.send(head.subarray(0, n)));
      this.bytesIn += n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    if (this.pending.length > 0) this.tcp.pause();
    else this.tcp.resume();
  }

  /** The client shut its writing side (a TCP half-close): it still reads what the guest sends back. */
  outsideEnded(): void {
    if (this.channel && !this.channel.finSent) this.ports.sendFrom(this, this.channel.finish(false));
  }

  /** The client's connection is gone: the guest's socket hears that its peer closed, or is reset if it still sends. */
  outsideClosed(): void {
    if (!this.channel || this.closedByGuest) return;
    if (!this.channel.finSent) this.ports.sendFrom(this, this.channel.finish(true));
    else if (!this.ended) this.ports.sendFrom(this, { kind: "reset" });
  }

  /**
   * Its guest ended. Its last bytes and its fin may still wait in the
   * switch's inbox (delivered on a later turn): the relay asks once more, and
   * either that fin comes first and the client's connection ends cleanly,
   * with every byte, or the switch finds no guest and answers with a reset.
   */
  guestEnded(): void {
    if (!this.channel) { this.close(true); return; }
    this.ports.sendFrom(this, this.channel.ack(RECEIVE_WINDOW));
  }

  private closedByGuest = false;

  /** The guest's side ended the connection (reset, refused, or its fin came and the relay ended the client's side). */
  close(reset: boolean): void {
    clearTimeout(this.synTimer);
    this.closedByGuest = true;
    if (reset) this.tcp.destroy();
    else this.tcp.end();
    this.ports.forget(this);
  }
}

export class PublishedPorts {
  /** This host's endpoint id for relays (a pseudo guest: messages for it come here). */
  readonly endpoint = `relay-${randomBytes(4).toString("hex")}`;
  private readonly servers: Array<{ guest: string; spec: PortSpec; server: Server }> = [];
  private readonly relays = new Map<number, Relay>();
  private nextId = 1;
  readonly totals = new Map<string, { connections: number; bytesIn: number; bytesOut: number }>(); // per guest

  constructor(private readonly host: RelayHost) {}

  /** Listens on `spec` for guest `guest` (throws a one-line error if the port is taken). */
  async publish(guest: string, spec: PortSpec): Promise<void> {
    // Half-open allowed: a client that shuts its writing side still reads the guest's answer, as TCP allows (Node would
    // otherwise end our side the moment the client's FIN comes, and the guest's last bytes would be lost).
    const server = createServer({ allowHalfOpen: true }, (tcp) => this.connection(guest, spec, tcp));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => reject(new ProtocolError(`publish ${spec.address}:${spec.hostPort}: ${error.code ?? error.message}`)));
      server.listen(spec.hostPort, spec.address, () => resolve());
    });
    server.on("error", (error) => this.host.log(`published port ${spec.address}:${spec.hostPort} of guest ${guest}: ${error.message}`));
    this.servers.push({ guest, spec, server });
    this.host.log(`guest ${guest}: port ${spec.guestPort} published on ${spec.address}:${spec.hostPort}`);
  }

  private connection(guest: string, spec: PortSpec, tcp: TcpSocket): void {
    tcp.setNoDelay(true);
    tcp.pause(); // until the guest accepts
    const relay = new Relay(this.nextId++, guest, tcp, this);
    this.relays.set(relay.id, relay);
    const totals = this.totalsOf(guest);
    totals.connections++;
    tcp.on("data", (data: Buffer) => relay.outside(data));
    tcp.on("end", () => relay.outsideEnded());
    tcp.on("error", () => {});
    tcp.on("close", () => {
      relay.outsideClosed();
      relay.stopDialing();
      this.forget(relay);
    });
    const peer = inetSockaddr({ address: ipv4(tcp.remoteAddress), port: tcp.remotePort ?? 0 });
    relay.dial({
      kind: "syn", name: { kind: "inet", protocol: "tcp", address: guestAddress(guest), port: spec.guestPort },
      window: RECEIVE_WINDOW, domain: AF_INET, type: SOCK_STREAM, address: peer,
    });
  }

  /** A message from a guest to this host's relay endpoint. */
  receive(m: GuestMessage): void {
    const conn = m.conn as unknown;
    if (!Array.isArray(conn) || conn.length !== 2) return;
    this.relays.get(Number(conn[1]))?.take(m);
  }

  /** `guestSocket`: another socket of the guest than the relay's (a reset for a connection it did not ask for). */
  sendFrom(relay: Relay, m: StreamMessage | Record<string, unknown>, guestSocket = relay.guestSocket): void {
    const totals = this.totalsOf(relay.guest);
    totals.bytesIn = Math.max(totals.bytesIn, relay.bytesIn);
    this.host.send({ ...(m as Record<string, unknown>), to: relay.guest, from: this.endpoint, conn: [relay.id, guestSocket] } as unknown as GuestMessage,
      { at: this.host.url, origin: this.host.url, forwarding: FORWARDING });
  }

  forget(relay: Relay): void {
    const totals = this.totalsOf(relay.guest);
    totals.bytesOut += relay.bytesOut;
    this.relays.delete(relay.id);
  }

  /** What this host relays for `guest` (stats): its published ports and their connections. */
  report(guest: string): Record<string, unknown> | undefined {
    const ports = this.servers.filter((s) => s.guest === guest).map((s) => `${s.spec.address}:${s.spec.hostPort}->${s.spec.guestPort}`);
    if (ports.length === 0) return undefined;
    const open = [...this.relays.values()].filter((r) => r.guest === guest).length;
    return { ports, openConnections: open, ...this.totalsOf(guest) };
  }

  private totalsOf(guest: string) {
    let t = this.totals.get(guest);
    if (!t) { t = { connections: 0, bytesIn: 0, bytesOut: 0 }; this.totals.set(guest, t); }
    return t;
  }

  /** The guest ended: its ports close; its open connections end as its sockets did (see Relay.guestEnded). */
  unpublish(guest: string): void {
    for (const s of this.servers.filter((x) => x.guest === guest)) s.server.close();
    for (const r of [...this.relays.values()].filter((x) => x.guest === guest)) r.guestEnded();
    this.servers.splice(0, this.servers.length, ...this.servers.filter((x) => x.guest !== guest));
  }

  close(): void {
    for (const s of this.servers) s.server.close();
    for (const r of this.relays.values()) r.tcp.destroy();
    this.relays.clear();
  }
}

/** A stream message from a guest as the channel takes it; an ack's `resend` is true only when it says so. */
function checkedStream(m: Record<string, unknown>): StreamMessage {
  if (m.kind === "ack") return { kind: "ack", ack: Number(m.ack), window: Number(m.window), resend: m.resend === true };
  return m as unknown as StreamMessage;
}

/** An IPv4 address as a number (an IPv6-mapped one too); 0 for anything else. */
function ipv4(address: string | undefined): number {
  const m = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address ?? "");
  return m ? ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0 : 0;
}
