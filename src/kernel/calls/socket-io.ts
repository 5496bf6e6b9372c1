// Sending and receiving on sockets: sendto, recvfrom, sendmsg, recvmsg (with
// iovecs), and what read(2) and write(2) do on a socket descriptor. A call
// with nothing to do yet waits (the ecall runs again on a change) unless the
// socket is non-blocking or MSG_DONTWAIT is given ("EAGAIN"). EPIPE on a
// stream raises SIGPIPE unless MSG_NOSIGNAL. Ancillary data (SCM_RIGHTS,
// SCM_CREDENTIALS) is not supported: a control buffer is refused with EOPNOTSUPP.

import { sendToThread } from "../deliver.js";
import { Errno } from "../errno.js";
import { SIGPIPE } from "../signals.js";
import { AF_UNIX, SOCK_DGRAM, inetOf, parseInet, parseUnix, unnamed } from "../sockets/addresses.js";
import { autobindInet, inetDestination, inetTarget, remoteInetTarget, unixTarget, type RemoteTarget } from "../sockets/endpoints.js";
import type { DatagramReceiver } from "../sockets/peer.js";
import { RCVTIMEO_KEY, SNDTIMEO_KEY, Socket } from "../sockets/socket.js";
import { receive, sendDatagram, sendStream, type Received } from "../sockets/transfer.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import type { Handler } from "./call-args.js";
import { addressArg, addressWritable, socketOf, waitOr, writeAddress } from "./sockets.js";

const PROT_WRITE = 2;
export const MSG_OOB = 1, MSG_PEEK = 2, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000;
const MAX_IO = 1 << 20;
const UIO_MAXIOV = 1024;
const MSGHDR = 28; // name, namelen, iov, iovlen, control, controllen, flags: u32 each on riscv32

/** Where a datagram goes: a receiver, null (an IPv4 port nobody has bound: UDP drops it), or -errno. */
function datagramTarget(c: SyscallContext, socket: Socket, dest: Uint8Array | null): DatagramReceiver | null | number {
  const sockets = c.kernel.sockets;
  const receiver = (target: Socket | RemoteTarget) =>
    target instanceof Socket ? sockets.receiverOf(target) : sockets.remoteReceiver(socket, target.guest, target.socket);
  if (socket.domain === AF_UNIX) {
    if (dest) {
      const address = parseUnix(dest, false);
      if (typeof address === "number") return address;
      const target = unixTarget(sockets, c.files, address, SOCK_DGRAM);
      return typeof target === "number" ? target : receiver(target);
    }
    if (!socket.peer) return -Errno.ENOTCONN;
    if (socket.peer.kind === "remote") return sockets.remoteReceiver(socket, socket.peer.guest, socket.peer.socket);
    const peer = sockets.get(socket.peer.socket);
    return peer ? receiver(peer) : -Errno.ECONNREFUSED; // the socket it connected to has closed
  }
  let to;
  if (dest) {
    const address = parseInet(dest, false);
    if (typeof address === "number") return address;
    to = inetDestination(sockets, address);
    if (typeof to === "number") return to;
  } else if (socket.remote) to = inetOf(socket.remote);
  else return -Errno.EDESTADDRREQ; // "The socket is not connection-mode, and no peer address is set"
  const bound = autobindInet(sockets, socket, to.address);
  if (bound < 0) return bound;
  const target = inetTarget(sockets, "udp", to) ?? remoteInetTarget(sockets, "udp", to);
  return target ? receiver(target) : null;
}

/** Sends `data` on `fd` (to `dest`, if given): the count sent, or -errno, or a wait. */
export function socketSend(c: SyscallContext, fd: number, data: Uint8Array, flags: number, dest: Uint8Array | null): SyscallOutcome | number {
  const s = socketOf(c, fd);
  if (typeof s === "number") return s;
  const { socket, file } = s;
  const sockets = c.kernel.sockets;
  if (flags & MSG_OOB && socket.domain === AF_UNIX) return -Errno.EOPNOTSUPP;
  let r: number;
  if (socket.isStream) {
    // AF_UNIX: "The connection-mode socket was connected already but a recipient was specified" (TCP ignores the address).
    if (dest && socket.domain === AF_UNIX) return socket.connected ? -Errno.EISCONN : -Errno.EOPNOTSUPP;
    r = sendStream(sockets, socket, data);
    if (r === -Errno.EPIPE && !(flags & MSG_NOSIGNAL)) raiseSigpipe(c);
  } else {
    if (socket.error && !dest) return -socket.takeError(); // an earlier datagram's "Connection refused"
    const to = datagramTarget(c, socket, dest);
    if (typeof to === "number") return to;
    r = sendDatagram(socket, to, data);
    // A connected UDP socket learns that nobody listens (the ICMP port unreachable) at once on loopback.
    if (to === null && r >= 0 && !dest) socket.error = Errno.ECONNREFUSED;
  }
  return waitOr(c, s, r, (flags & MSG_DONTWAIT) !== 0, SNDTIMEO_KEY);
}

function raiseSigpipe(c: SyscallContext): void {
  const task = c.kernel.tasks.get(c.pid);
  if (task) sendToThread(c.kernel, task, SIGPIPE, { signo: SIGPIPE, code: 0, pid: c.pid });
}

/** Receives up to `max` bytes on `fd`: what came (and from whom), or -errno, or a wait. */
export function socketReceive(c: SyscallContext, fd: number, max: number, flags: number): { got: Received; socket: Socket } | SyscallOutcome | number {
  const s = socketOf(c, fd);
  if (typeof s === "number") return s;
  const { socket, file } = s;
  if (flags & MSG_OOB) return socket.domain === AF_UNIX ? -Errno.EOPNOTSUPP : -Errno.EINVAL;
  const got = receive(c.kernel.sockets, socket, max, (flags & MSG_PEEK) !== 0, (flags & MSG_WAITALL) !== 0 && socket.isStream);
  if (typeof got === "number") return waitOr(c, s, got, (flags & MSG_DONTWAIT) !== 0, RCVTIMEO_KEY);
  if (socket.options.has(RCVTIMEO_KEY)) c.sleepDeadline = undefined; // this call's wait, if it waited, is over
  return { got, socket };
}

/** The address recvfrom reports: a datagram's sender, an AF_UNIX stream's peer; TCP reports none. */
function sourceOf(socket: Socket, got: Received): Uint8Array {
  if (got.from) return got.from;
  if (socket.domain === AF_UNIX) return socket.remote ?? unnamed(AF_UNIX);
  return new Uint8Array(0);
}

function sendto(c: SyscallContext, fd: number, buf: number, length: number, flags: number, pointer: number, addressLength: number): SyscallOutcome | number {
  const data = c.space.read(buf, Math.min(length, MAX_IO));
  if (!data) return -Errno.EFAULT;
  let dest: Uint8Array | null = null;
  if (pointer !== 0 && addressLength !== 0) {
    const raw = addressArg(c, pointer, addressLength);
    if (typeof raw === "number") return raw;
    dest = raw;
  }
  return socketSend(c, fd | 0, data, flags, dest);
}

function recvfrom(c: SyscallContext, fd: number, buf: number, length: number, flags: number, pointer: number, lengthPointer: number): SyscallOutcome | number {
  const max = Math.min(length, MAX_IO);
  // Everything the call writes is made writable (and here) before anything is taken from the queue.
  if (!c.space.ensure(buf, max, PROT_WRITE) || !addressWritable(c, pointer, lengthPointer)) return -Errno.EFAULT;
  const r = socketReceive(c, fd | 0, max, flags);
  if (typeof r === "number" || "kind" in r) return r;
  if (!c.space.write(buf, r.got.data)) return -Errno.EFAULT;
  const written = writeAddress(c, pointer, lengthPointer, sourceOf(r.socket, r.got));
  if (written < 0) return written;
  return flags & MSG_TRUNC && r.socket.received.records ? r.got.length : r.got.data.length;
}

interface MessageHeader { name: number; nameLength: number; iov: Array<[number, number]>; control: number; controlLength: number }

/** struct msghdr and its iovecs: -EFAULT for a bad pointer, -EMSGSIZE for more than UIO_MAXIOV vectors. */
function messageHeader(c: SyscallContext, pointer: number): MessageHeader | number {
  const raw = c.space.read(pointer, MSGHDR);
  if (!raw) return -Errno.EFAULT;
  const v = new DataView(raw.buffer, raw.byteOffset, MSGHDR);
  const count = v.getUint32(12, true);
  if (count > UIO_MAXIOV) return -Errno.EMSGSIZE;
  const vectors = count === 0 ? new Uint8Array(0) : c.space.read(v.getUint32(8, true), count * 8);
  if (!vectors) return -Errno.EFAULT;
  const iv = new DataView(vectors.buffer, vectors.byteOffset, vectors.length);
  const iov: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) iov.push([iv.getUint32(i * 8, true), iv.getUint32(i * 8 + 4, true)]);
  if (iov.some(([, len]) => len > 0x7fffffff)) return -Errno.EINVAL;
  return { name: v.getUint32(0, true), nameLength: v.getUint32(4, true), iov, control: v.getUint32(16, true), controlLength: v.getUint32(20, true) };
}

function sendmsg(c: SyscallContext, fd: number, pointer: number, flags: number): SyscallOutcome | number {
  const h = messageHeader(c, pointer);
  if (typeof h === "number") return h;
  if (h.control !== 0 && h.controlLength !== 0) return -Errno.EOPNOTSUPP; // no SCM_RIGHTS or credentials here
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [base, len] of h.iov) {
    const n = Math.min(len, MAX_IO - total);
    const part = n === 0 ? new Uint8Array(0) : c.space.read(base, n);
    if (!part) return -Errno.EFAULT;
    parts.push(part);
    total += n;
  }
  const data = Buffer.concat(parts);
  let dest: Uint8Array | null = null;
  if (h.name !== 0 && h.nameLength !== 0) {
    const raw = addressArg(c, h.name, h.nameLength);
    if (typeof raw === "number") return raw;
    dest = raw;
  }
  return socketSend(c, fd | 0, new Uint8Array(data.buffer, data.byteOffset, data.length), flags, dest);
}

function recvmsg(c: SyscallContext, fd: number, pointer: number, flags: number): SyscallOutcome | number {
  const h = messageHeader(c, pointer);
  if (typeof h === "number") return h;
  if (!c.space.ensure(pointer, MSGHDR, PROT_WRITE)) return -Errno.EFAULT;
  if (h.name !== 0 && h.nameLength > 0 && !c.space.ensure(h.name, Math.min(h.nameLength, 128), PROT_WRITE)) return -Errno.EFAULT;
  let room = 0;
  for (const [base, len] of h.iov) {
    const n = Math.min(len, MAX_IO - room);
    if (n > 0 && !c.space.ensure(base, n, PROT_WRITE)) return -Errno.EFAULT;
    room += n;
  }
  const r = socketReceive(c, fd | 0, room, flags);
  if (typeof r === "number" || "kind" in r) return r;
  const { data } = r.got;
  let at = 0;
  for (const [base, len] of h.iov) {
    if (at >= data.length) break;
    const n = Math.min(len, data.length - at);
    c.space.write(base, data.subarray(at, at + n));
    at += n;
  }
  const source = sourceOf(r.socket, r.got);
  const nameLength = h.name === 0 ? 0 : Math.min(h.nameLength, source.length);
  if (nameLength > 0) c.space.write(h.name, source.subarray(0, nameLength));
  const truncated = r.socket.received.records && r.got.length > data.length;
  const out = new DataView(new ArrayBuffer(4));
  out.setUint32(0, h.name === 0 ? 0 : source.length, true);
  c.space.write(pointer + 4, new Uint8Array(out.buffer.slice(0)));
  out.setUint32(0, 0, true);
  c.space.write(pointer + 20, new Uint8Array(out.buffer.slice(0))); // msg_controllen: no ancillary data
  out.setUint32(0, truncated ? MSG_TRUNC : 0, true);
  c.space.write(pointer + 24, new Uint8Array(out.buffer.slice(0)));
  return flags & MSG_TRUNC && r.socket.received.records ? r.got.length : data.length;
}

export const SOCKET_IO_CALLS = new Map<number, [string, Handler]>([
  [206, ["sendto", sendto]],
  [207, ["recvfrom", recvfrom]],
  [211, ["sendmsg", sendmsg]],
  [212, ["recvmsg", recvmsg]],
]);
