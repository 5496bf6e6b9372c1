// A WebSocket as far as Peer uses one, for driving a Host in-process: frames
// go in through deliver() (as "message" events), the host's frames come out
// through send(), and answers are kept by request id.
import { EventEmitter } from "node:events";
import { pack } from "msgpackr";
import { decode, type Message } from "../../src/net/protocol.js";
import type { Host } from "../../src/cluster/host.js";

/** A WebSocket as far as Peer uses one: frames in through "message", frames out through send(). */
export class FakeSocket extends EventEmitter {
  binaryType = "nodebuffer";
  readyState = 1; // OPEN
  readonly answers = new Map<number, Message>();
  private readonly waiters = new Map<number, (m: Message) => void>();
  send(data: Uint8Array, _options?: unknown, done?: () => void): void {
    const m = decode(Buffer.from(data));
    if (typeof m.rid === "number") {
      this.answers.set(m.rid, m);
      this.waiters.get(m.rid)?.(m);
    }
    done?.();
  }
  deliver(message: Record<string, unknown>): void {
    this.emit("message", Buffer.from(pack({ v: 2, ...message })), true);
  }
  answer(rid: number): Promise<Message> {
    const known = this.answers.get(rid);
    return known ? Promise.resolve(known) : new Promise((resolve) => this.waiters.set(rid, resolve));
  }
  close(): void { this.readyState = 3; this.emit("close"); }
  terminate(): void { this.close(); }
}

/** Hands `socket` to `host` as if it had just connected (Host.accept is private: this is the tests' way in). */
export function connectFake(host: Host, socket = new FakeSocket()): FakeSocket {
  // The TCP socket under it, as far as the host looks at one (who it is, whether a frame is half-read).
  const tcp = { remoteAddress: "in-process", remotePort: 0, readableLength: 0 };
  (host as unknown as { accept(ws: unknown, socket: unknown): void }).accept(socket, tcp);
  return socket;
}
