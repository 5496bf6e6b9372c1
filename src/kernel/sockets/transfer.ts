// Moving bytes through sockets, and what poll sees of one: a stream's write to
// its peer (what fits, or wait), a datagram to a receiver, a read of the
// receive queue, with Linux's answers when a side has shut down, closed or
// reset. -EAGAIN means "nothing now": the calls wait, or return it for a
// non-blocking socket. Nothing here touches guest memory.

import { Errno } from "../errno.js";
import { AF_UNIX, unnamed } from "./addresses.js";
import type { DatagramReceiver } from "./peer.js";
import { UDP_MAX, type Socket } from "./socket.js";
import type { Sockets } from "./table.js";

export const POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10;
const POLLRDNORM = 0x40, POLLWRNORM = 0x100;

/** What a socket's peer sees as the sender (recvfrom on AF_UNIX; datagrams of either family). */
export function senderAddress(socket: Socket): Uint8Array {
  return socket.local ?? unnamed(socket.domain);
}

/** A write on a connected stream or seqpacket socket: bytes taken, or -errno (-EPIPE: the caller raises SIGPIPE). */
export function sendStream(sockets: Sockets, socket: Socket, data: Uint8Array): number {
  if (!socket.connected) return socket.isTcp ? -Errno.EPIPE : -Errno.ENOTCONN;
  if (socket.isTcp && socket.error) return -socket.takeError();
  if (socket.writeShut) return -Errno.EPIPE;
  const peer = sockets.peerOf(socket);
  if (!peer) {
    // TCP: the first write after the peer closed is sent, and answered by a reset; the next fails.
    if (socket.isTcp && !socket.resetSent) { socket.resetSent = true; return data.length; }
    return -Errno.EPIPE;
  }
  const room = peer.room();
  if (socket.type === 5) {
    if (data.length > socket.received.capacity) return -Errno.EMSGSIZE; // "too large to be sent atomically"
    if (room < data.length) return -Errno.EAGAIN;
    peer.deliver(Uint8Array.from(data), senderAddress(socket));
    return data.length;
  }
  if (data.length === 0) return 0;
  if (room === 0) return -Errno.EAGAIN;
  const n = Math.min(room, data.length);
  peer.deliver(data.slice(0, n), socket.domain === AF_UNIX ? senderAddress(socket) : null);
  return n;
}

/**
 * A datagram from `socket` to `to` (null: an IPv4 port nobody has bound,
 * where UDP drops it). A full AF_UNIX receiver makes the sender wait; a full UDP one drops it.
 */
export function sendDatagram(socket: Socket, to: DatagramReceiver | null, data: Uint8Array): number {
  if (socket.domain === AF_UNIX ? data.length > socket.received.capacity : data.length > UDP_MAX) return -Errno.EMSGSIZE;
  if (socket.writeShut) return -Errno.EPIPE;
  if (!to) return data.length;
  if (to.room() < data.length || to.refusing()) {
    if (socket.domain !== AF_UNIX) return data.length;
    return to.refusing() ? -Errno.EPIPE : -Errno.EAGAIN;
  }
  to.deliver(Uint8Array.from(data), senderAddress(socket));
  return data.length;
}

export interface Received { data: Uint8Array; from: Uint8Array | null; length: number }

/**
 * A read of up to `max` bytes: what is queued, end of file (empty) once the
 * peer sends no more, or -errno. `waitAll` (MSG_WAITALL) takes nothing until
 * all of `max` is there, or no more can come.
 */
export function receive(sockets: Sockets, socket: Socket, max: number, peek: boolean, waitAll: boolean): Received | number {
  const q = socket.received;
  if (socket.isStream && !socket.connected) return socket.isTcp ? -Errno.ENOTCONN : -Errno.EINVAL;
  if (q.count === 0) {
    if (socket.error) return -socket.takeError();
    if (socket.readShut || socket.peerShut) return { data: new Uint8Array(0), from: null, length: 0 };
    return -Errno.EAGAIN;
  }
  if (waitAll && !q.records && q.size < max && !socket.peerShut && !socket.error && q.room > 0) return -Errno.EAGAIN;
  const got = q.take(max, peek);
  if (!peek) {
    sockets.changed(); // a writer may wait for room
    sockets.ackLater(socket); // a writer in another guest learns of it from an ack
    if (!socket.isStream && socket.datagrams.roomAppeared()) sockets.datagramAcksLater(socket); // ... or is asked to send again
  }
  return got;
}

/** poll(2) bits for a socket (before masking by the events asked for). */
export function socketReadiness(sockets: Sockets, socket: Socket): number {
  const error = socket.error ? POLLERR : 0;
  if (socket.listening) return (socket.pending.length > 0 ? POLLIN | POLLRDNORM : 0) | error;
  if (!socket.isStream) {
    return (socket.received.count > 0 || socket.error ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM | error;
  }
  if (socket.dialing) return 0; // its connect waits for the other guest's answer
  if (!socket.connected) return POLLOUT | POLLWRNORM | POLLHUP | error; // "a stream socket that is not connected": hung up
  let bits = error;
  if (socket.received.count > 0 || socket.peerShut || socket.readShut || socket.error) bits |= POLLIN | POLLRDNORM;
  const peer = sockets.peerOf(socket);
  if (socket.writeShut || !peer || peer.room() > 0) bits |= POLLOUT | POLLWRNORM;
  // AF_UNIX: a peer that closed shut both ways; TCP: its FIN only ends reading, a reset ends both.
  const hungUp = socket.isTcp ? socket.resetSent : socket.peerClosed;
  if (hungUp || (socket.writeShut && socket.peerShut)) bits |= POLLHUP;
  return bits;
}
