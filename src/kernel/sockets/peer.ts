// A connected stream's other end, as the calls see it: how much it takes now
// (credit), bytes delivered to it, and what it is told when this end shuts
// down or closes; and a datagram's receiver. LocalPeer and LocalReceiver are
// sockets in the same kernel; a peer or receiver in another guest (on another
// host) can implement the same interfaces without any change to the calls.

import { Errno } from "../errno.js";
import type { Socket } from "./socket.js";

export interface StreamPeer {
  /** Bytes it takes now: a write of more waits (or takes what fits). */
  room(): number;
  /** Puts `data` in its receive queue (`from`: this end's address, for recvfrom on AF_UNIX). */
  deliver(data: Uint8Array, from: Uint8Array | null): void;
  /** This end sends no more (shutdown SHUT_WR, or close): its reads see end of file after what is queued. */
  endOfStream(): void;
  /** This end takes no more (AF_UNIX shutdown SHUT_RD): its writes fail with EPIPE. */
  refuseWrites(): void;
  /** This end closed; `unread` bytes were left in its queue, which resets the connection ("Connection reset by peer"). */
  closed(unread: boolean): void;
}

/** The peer is a socket of this kernel: each change wakes whoever waits on it. */
export class LocalPeer implements StreamPeer {
  constructor(private readonly other: Socket, private readonly changed: () => void) {}

  room(): number {
    return this.other.received.room;
  }

  deliver(data: Uint8Array, from: Uint8Array | null): void {
    // Also after its SHUT_RD: Linux's TCP still queues what comes, and a read returns it.
    this.other.received.push(data, from);
    this.changed();
  }

  endOfStream(): void {
    this.other.peerShut = true;
    this.changed();
  }

  refuseWrites(): void {
    this.other.writeShut = true; // unix_shutdown: the peer's sk_shutdown gets SEND_SHUTDOWN
    this.changed();
  }

  closed(unread: boolean): void {
    this.other.peerShut = true;
    this.other.peerClosed = true;
    this.other.peer = null;
    if (unread) {
      this.other.error = Errno.ECONNRESET;
      this.other.resetSent = true; // TCP: the reset has come, so writes fail at once
    }
    this.changed();
  }
}

/** Where a datagram goes: a bound socket, here or (later) in another guest. */
export interface DatagramReceiver {
  /** Bytes it takes now. */
  room(): number;
  /** It refuses more (shutdown SHUT_RD): AF_UNIX senders get EPIPE. */
  refusing(): boolean;
  deliver(data: Uint8Array, from: Uint8Array): void;
}

export class LocalReceiver implements DatagramReceiver {
  constructor(private readonly socket: Socket, private readonly changed: () => void) {}

  room(): number {
    return this.socket.received.room;
  }

  refusing(): boolean {
    return this.socket.readShut;
  }

  deliver(data: Uint8Array, from: Uint8Array): void {
    this.socket.received.push(data, from);
    this.changed();
  }
}
