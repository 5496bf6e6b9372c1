// A connected stream whose other end is a socket of another guest: what the
// calls see as a StreamPeer, carried as messages (docs/MESSAGES.md) through
// the kernel's way out. Its StreamChannel (stream-channel.ts) keeps the
// sequence numbers and the credit; this class only says which message goes.

import type { DatagramReceiver, StreamPeer } from "./peer.js";
import type { Socket } from "./socket.js";
import type { StreamMessage } from "./stream-channel.js";

/** A message between guests as the kernel sends it (the host's switch adds its routing fields). */
export type OutMessage = Record<string, unknown> & { to: string; from: string; kind: string };

/** The kernel's way out to other guests: a host's switch, or a test's network. */
export interface GuestNetwork {
  send(message: OutMessage): void;
}

/** AF_UNIX SHUT_RD told to the other end: not part of the byte stream, so outside the stream protocol. */
export interface ShutRead { kind: "shutrd" }

export class RemotePeer implements StreamPeer {
  /** `socket`: this end (its peer link is remote and its channel set); `send`: a stream message for its other end. */
  constructor(private readonly socket: Socket, private readonly send: (m: StreamMessage | ShutRead) => void) {}

  private get channel() {
    return this.socket.channel!;
  }

  room(): number {
    return this.channel.room();
  }

  deliver(data: Uint8Array): void {
    this.send(this.channel.send(data));
  }

  endOfStream(): void {
    if (!this.channel.finSent) this.send(this.channel.finish(false));
  }

  /** AF_UNIX SHUT_RD: the other end's writes fail with EPIPE from now on (unix_shutdown sets the peer's SEND_SHUTDOWN). */
  refuseWrites(): void {
    this.send({ kind: "shutrd" });
  }

  closed(unread: boolean): void {
    // Unread bytes reset the connection ("Connection reset by peer"), else the other end reads to end of file.
    this.send(unread ? { kind: "reset" } : this.channel.finish(true));
  }
}

/**
 * A datagram socket of another guest. Its room is not known here: UDP sends
 * and a receiver that is full or shut drops it, as UDP may; AF_UNIX keeps
 * what it sent until the receiver accepted it (datagram-order.ts), and its
 * room is what is left of that window.
 */
export class RemoteReceiver implements DatagramReceiver {
  constructor(private readonly send: (data: Uint8Array, from: Uint8Array) => void, private readonly window?: () => number) {}

  room(): number {
    return this.window ? this.window() : Number.MAX_SAFE_INTEGER;
  }

  refusing(): boolean {
    return false;
  }

  deliver(data: Uint8Array, from: Uint8Array): void {
    this.send(data, from);
  }
}
