// One end of a WebSocket speaking the protocol: send messages, make requests
// that wait for their answer, watch for pushed events, and send pre-encoded
// frames whose buffers come back when the socket has taken them (the page
// streams' backpressure).

import type { Socket } from "node:net";
import WebSocket from "ws";
import { decode, encode, ProtocolError, type Message } from "./protocol.js";
import { clientTlsOptions, describeConnectError, type TlsIdentity } from "./tls.js";
import { RemoteError } from "./remote-error.js";

export { RemoteError };

type Listener = (m: Message) => void;

export class Peer {
  private nextRid = 1;
  private readonly waiting = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();
  readonly closed: Promise<void>;
  private isClosed = false;

  /** `socket`: the TCP connection under `ws`, if known (for `hold`). */
  constructor(readonly ws: WebSocket, onBadFrame?: (error: ProtocolError) => void, private readonly socket?: Socket) {
    ws.binaryType = "nodebuffer";
    this.closed = new Promise((resolve) => ws.once("close", () => resolve()));
    ws.on("close", () => {
      this.isClosed = true;
      for (const w of this.waiting.values()) w.reject(new RemoteError("connection closed"));
      this.waiting.clear();
    });
    ws.on("error", () => {}); // surfaced through close
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      let m: Message;
      try {
        if (!isBinary) throw new ProtocolError("text frame; the protocol is binary msgpack");
        m = decode(data);
      } catch (error) {
        if (error instanceof ProtocolError) { onBadFrame?.(error); return; }
        throw error;
      }
      if (m.rid !== undefined && this.waiting.has(m.rid) && (m.t === "reply" || m.t === "error")) {
        const w = this.waiting.get(m.rid)!;
        this.waiting.delete(m.rid);
        if (m.t === "error") w.reject(new RemoteError(String(m.message ?? "remote error")));
        else w.resolve(m);
        return;
      }
      for (const listener of this.listeners) listener(m);
    });
  }

  get open(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  send(message: Omit<Message, "v">): void {
    if (this.open) this.ws.send(encode(message));
  }

  /** Sends an already encoded frame; `done` runs once the socket has taken it (so its buffer may be reused). */
  sendEncoded(frame: Uint8Array, done: () => void): void {
    if (!this.open) { done(); return; }
    this.ws.send(frame, { binary: true }, () => done());
  }

  /**
   * Frames sent from now until the returned release is called leave in one
   * write. A migration's freeze sends its last pages, its state and its commit
   * this way: each separate write on loopback woke the other host on this
   * host's core (a socket wake-up is a "sync" one, so the scheduler places the
   * woken side next to its waker), which then ran before this side could send
   * the next frame: ~0.1-0.5 ms of downtime per extra write.
   */
  hold(): () => void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return () => {};
    socket.cork();
    let held = true;
    return () => {
      if (held) socket.uncork();
      held = false;
    };
  }

  /** Sends a request and resolves with its `reply` (or rejects with the `error` text). */
  request(message: Omit<Message, "v" | "rid">, timeoutMs = 0): Promise<Message> {
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      if (!this.open) { reject(new RemoteError("connection closed")); return; }
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) timer = setTimeout(() => { this.waiting.delete(rid); reject(new RemoteError(`${message.t}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
      this.waiting.set(rid, {
        resolve: (m) => { if (timer) clearTimeout(timer); resolve(m); },
        reject: (e) => { if (timer) clearTimeout(timer); reject(e); },
      });
      this.ws.send(encode({ ...message, rid }));
    });
  }

  reply(to: Message, fields: Record<string, unknown> = {}): void {
    this.send({ t: "reply", rid: to.rid, ...fields });
  }

  fail(to: Message | undefined, message: string): void {
    this.send({ t: "error", rid: to?.rid, message });
  }

  onMessage(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** Drops the connection at once (tests use it to cut a migration). */
  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * How long a connection may take to be answered: a host whose process is
 * stopped (or whose machine froze) still completes the TCP handshake, and then
 * never answers the WebSocket upgrade. Without a limit a migration to it, or a
 * balancer's decision, waited for ever.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connects to a host and says hello. A wss:// URL is verified against
 * `options.tls` (else the identity of the host named `name`, else the
 * process's: src/net/tls.ts), which also gives the certificate we present.
 */
export async function connect(url: string, options: { token?: string; role: "client" | "host"; name?: string; url?: string; tls?: TlsIdentity; timeoutMs?: number }): Promise<Peer> {
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  // Between hosts the stream is mostly guest pages. WebSocket masking (there to
  // stop browser traffic from poisoning proxy caches) would XOR every byte in
  // JavaScript at both ends — ~5x slower than the rest of the path — so host
  // links use the all-zero mask, which ws skips on both sides.
  const ws = new WebSocket(url, {
    maxPayload: 80 << 20,
    perMessageDeflate: false,
    handshakeTimeout: timeoutMs,
    ...clientTlsOptions(url, options.role, options.name, options.tls),
    ...(options.role === "host" ? { generateMask: (mask: Uint8Array) => void mask.fill(0) } : {}),
  });
  // Small messages (requests, a postcopy page) must leave at once: with Nagle's
  // algorithm on (Node's default for outgoing sockets; its server sockets have
  // it off) a frame waits for the peer's delayed ACK, which cost postcopy
  // faults up to ~10 ms.
  let socket: Socket | undefined;
  ws.once("upgrade", (response) => {
    socket = response.socket;
    socket.setNoDelay(true);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (error) => {
      const timedOut = /handshake has timed out/.test(error.message);
      reject(new RemoteError(timedOut ? `cannot reach ${url}: no answer to the connection in ${timeoutMs / 1000} s` : describeConnectError(url, error)));
    });
  });
  const peer = new Peer(ws, undefined, socket);
  await peer.request({ t: "hello", role: options.role, token: options.token, name: options.name, url: options.url }, 10_000);
  return peer;
}
