// Sockets' setup calls: socket, socketpair, bind, listen, accept, accept4,
// connect, shutdown, getsockname, getpeername (riscv32 generic numbers). The
// sockets themselves are the kernel's (src/kernel/sockets/); sending and
// receiving are in socket-io.ts, options in socket-options.ts. The man pages'
// words for each error.

import { Errno } from "../errno.js";
import { O_NONBLOCK, O_RDWR, type OpenFile } from "../files.js";
import {
  AF_INET, AF_UNIX, AF_UNSPEC, SOCKADDR_STORAGE, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_SEQPACKET, SOCK_STREAM,
  inetSockaddr, parseInet, parseUnix, unixSockaddr, unnamed, type Domain, type SocketType,
} from "../sockets/addresses.js";
import { accept, connectable, connectStream, listen, shutdown } from "../sockets/connections.js";
import { autobindInet, bindInet, bindUnix, inetDestination, inetTarget, remoteInetTarget, unixTarget } from "../sockets/endpoints.js";
import { dial } from "../sockets/remote-connections.js";
import { RCVTIMEO_KEY, Socket } from "../sockets/socket.js";
import { checkProtocol } from "../sockets/table.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import { guarded, type Handler } from "./call-args.js";

const PROT_WRITE = 2;

/** The socket behind `fd`: -EBADF when it is no descriptor, -ENOTSOCK when it is not a socket. */
export function socketOf(c: SyscallContext, fd: number): { file: OpenFile; socket: Socket } | number {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF; // "sockfd is not a valid file descriptor"
  const socket = file.kind === "socket" && file.socket !== undefined ? c.kernel.sockets.get(file.socket) : undefined;
  if (!socket) return -Errno.ENOTSOCK; // "The file descriptor sockfd does not refer to a socket"
  return { file, socket };
}

/** An address the program passes: its bytes, or -EINVAL (longer than sockaddr_storage), -EFAULT. */
export function addressArg(c: SyscallContext, pointer: number, length: number): Uint8Array | number {
  if ((length | 0) < 0 || length > SOCKADDR_STORAGE) return -Errno.EINVAL;
  if (length === 0) return new Uint8Array(0);
  return c.space.read(pointer, length) ?? -Errno.EFAULT;
}

/**
 * Writes `address` where the program asked (value-result length: "truncated
 * if the buffer provided is too small", the length set to the full size).
 * A null pointer asks for nothing.
 */
export function writeAddress(c: SyscallContext, pointer: number, lengthPointer: number, address: Uint8Array): number {
  if (pointer === 0 || lengthPointer === 0) return 0;
  const raw = c.space.read(lengthPointer, 4);
  if (!raw) return -Errno.EFAULT;
  const room = new DataView(raw.buffer, raw.byteOffset, 4).getInt32(0, true);
  if (room < 0) return -Errno.EINVAL;
  if (!c.space.write(pointer, address.subarray(0, Math.min(room, address.length)))) return -Errno.EFAULT;
  return c.space.write(lengthPointer, Uint8Array.from(new Uint8Array(Uint32Array.of(address.length).buffer))) ? 0 : -Errno.EFAULT;
}

/** Whether the program's address and length pointers can take an answer (checked before a connection is taken). */
export function addressWritable(c: SyscallContext, pointer: number, lengthPointer: number): boolean {
  if (pointer === 0 || lengthPointer === 0) return true;
  const raw = c.space.read(lengthPointer, 4);
  if (!raw || !c.space.ensure(lengthPointer, 4, PROT_WRITE)) return false;
  const room = new DataView(raw.buffer, raw.byteOffset, 4).getInt32(0, true);
  return room <= 0 || c.space.ensure(pointer, room, PROT_WRITE);
}

/** A new description and descriptor for `socket`. */
function install(c: SyscallContext, socket: Socket, flags: number, fd?: number): number {
  const file = c.kernel.openFiles.create({
    path: `socket:[${socket.id}]`, flags: O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0), mode: 0, position: 0, kind: "socket", socket: socket.id,
  });
  const cloexec = (flags & SOCK_CLOEXEC) !== 0;
  return fd === undefined ? c.files.add(file, cloexec) : c.files.install(fd, file, cloexec);
}

/** The (domain, type) socket(2) and socketpair(2) may make: or the errno Linux gives. */
function kindOf(domain: number, type: number, protocol: number): { domain: Domain; type: SocketType; flags: number } | number {
  const flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
  const base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (domain !== AF_UNIX && domain !== AF_INET) return -Errno.EAFNOSUPPORT; // "The implementation does not support the specified address family" (AF_INET6 too)
  if ((base & ~0xf) !== 0) return -Errno.EINVAL; // "Invalid flags in type"
  if (domain === AF_UNIX && base === 3) return kindOf(domain, SOCK_DGRAM | flags, protocol); // unix_create: "SOCK_RAW ... treated as SOCK_DGRAM"
  if (domain === AF_UNIX && base !== SOCK_STREAM && base !== SOCK_DGRAM && base !== SOCK_SEQPACKET) return -Errno.ESOCKTNOSUPPORT;
  if (domain === AF_INET && base !== SOCK_STREAM && base !== SOCK_DGRAM) return -Errno.ESOCKTNOSUPPORT; // raw sockets are not offered
  const p = checkProtocol(domain as Domain, base as SocketType, protocol);
  if (p < 0) return p; // "The protocol type or the specified protocol is not supported within this domain"
  return { domain: domain as Domain, type: base as SocketType, flags };
}

function socket(c: SyscallContext, domain: number, type: number, protocol: number): number {
  const kind = kindOf(domain, type, protocol);
  if (typeof kind === "number") return kind;
  return guarded(() => {
    c.files.lowestFreeFd(); // EMFILE before a socket is made
    const s = c.kernel.sockets.create(kind.domain, kind.type, protocol);
    return install(c, s, kind.flags);
  });
}

/** socketpair(2): two connected AF_UNIX sockets ("EOPNOTSUPP: The specified protocol does not support creation of socket pairs"). */
function socketpair(c: SyscallContext, domain: number, type: number, protocol: number, pointer: number): number {
  const kind = kindOf(domain, type, protocol);
  if (typeof kind === "number") return kind;
  if (kind.domain !== AF_UNIX) return -Errno.EOPNOTSUPP;
  if (!c.space.ensure(pointer, 8, PROT_WRITE)) return -Errno.EFAULT;
  return guarded(() => {
    const first = c.files.lowestFreeFd();
    const second = c.files.lowestFreeFd(first + 1);
    const sockets = c.kernel.sockets;
    const a = sockets.create(kind.domain, kind.type, protocol), b = sockets.create(kind.domain, kind.type, protocol);
    if (kind.type === SOCK_DGRAM) {
      a.peer = { kind: "local", socket: b.id };
      b.peer = { kind: "local", socket: a.id };
    } else sockets.link(a, b);
    a.remote = unnamed(AF_UNIX);
    b.remote = unnamed(AF_UNIX);
    install(c, a, kind.flags, first);
    install(c, b, kind.flags, second);
    try {
      c.space.write(pointer, new Uint8Array(Uint32Array.of(first, second).buffer));
      return 0;
    } catch (error) {
      // A page that has not arrived yet (the call runs again): undo both ends, as pipe2 does.
      c.files.close(first);
      c.files.close(second);
      throw error;
    }
  });
}

function bind(c: SyscallContext, fd: number, pointer: number, length: number): number {
  const s = socketOf(c, fd | 0);
  if (typeof s === "number") return s;
  const raw = addressArg(c, pointer, length);
  if (typeof raw === "number") return raw;
  const sockets = c.kernel.sockets;
  if (s.socket.domain === AF_UNIX) {
    const address = parseUnix(raw, true);
    if (typeof address === "number") return address;
    return guarded(() => bindUnix(sockets, c.files, s.socket, address));
  }
  const address = parseInet(raw, true);
  if (typeof address === "number") return address;
  return bindInet(sockets, s.socket, address);
}

/**
 * What a call that got -EAGAIN (nothing now) does: returns it on a non-blocking
 * socket or with MSG_DONTWAIT, else waits — for ever, or until the socket's
 * SO_RCVTIMEO/SO_SNDTIMEO (`timeout`) passes: "the call will return ... EAGAIN
 * ... if no data were transferred". The deadline is kept in guest time across
 * the ecall's runs, as a sleep's is.
 */
export function waitOr(c: SyscallContext, s: { file: OpenFile; socket: Socket }, r: number, dontWait = false, timeout?: string): SyscallOutcome | number {
  const us = timeout === undefined ? 0 : s.socket.options.get(timeout) ?? 0;
  if (r !== -Errno.EAGAIN || dontWait || s.file.flags & O_NONBLOCK) {
    if (us) c.sleepDeadline = undefined;
    return r;
  }
  if (!us) return { kind: "block-event" };
  const now = c.clock.monotonicNs();
  c.sleepDeadline ??= now + BigInt(us) * 1000n;
  if (now >= c.sleepDeadline) {
    c.sleepDeadline = undefined;
    return -Errno.EAGAIN;
  }
  return { kind: "block-event", deadlineNs: c.sleepDeadline };
}

function connect(c: SyscallContext, fd: number, pointer: number, length: number): SyscallOutcome | number {
  const s = socketOf(c, fd | 0);
  if (typeof s === "number") return s;
  const raw = addressArg(c, pointer, length);
  if (typeof raw === "number") return raw;
  const { socket } = s;
  if (raw.length >= 2 && raw[0] + (raw[1] << 8) === AF_UNSPEC && !socket.isStream) {
    // "Connectionless sockets may dissolve the association by connecting to an address with the sa_family member of sockaddr set to AF_UNSPEC"
    socket.peer = null;
    socket.remote = null;
    return 0;
  }
  if (socket.isStream) {
    if (socket.connecting) {
      // A connect to another guest waits for its answer ("A previous connection attempt has not yet been completed").
      if (socket.dialing) return s.file.flags & O_NONBLOCK ? -Errno.EALREADY : { kind: "block-event" };
      socket.connecting = false;
      // It was refused: said once (here, or by SO_ERROR), then the socket may connect again.
      if (!socket.connected && socket.error) return -socket.takeError();
      // The connect that reported EINPROGRESS (or waited) has completed: the next call says so once, then EISCONN.
      if (socket.connected) return 0;
    }
    const state = connectable(socket);
    if (state < 0) return state;
  }
  return socket.domain === AF_UNIX ? connectUnix(c, s.file, socket, raw) : connectInet(c, s.file, socket, raw);
}

/** An AF_UNIX stream joins the listener's queue; a datagram socket takes the target as its default destination. */
function connectUnix(c: SyscallContext, file: OpenFile, socket: Socket, raw: Uint8Array): SyscallOutcome | number {
  const address = parseUnix(raw, false);
  if (typeof address === "number") return address;
  const target = unixTarget(c.kernel.sockets, c.files, address, socket.type);
  if (typeof target === "number") return target;
  if (!(target instanceof Socket)) {
    if (!socket.isStream) {
      socket.peer = { kind: "remote", guest: target.guest, socket: target.socket };
      socket.remote = unixSockaddr(address);
      return 0;
    }
    return dialOut(c, file, socket, dial(c.kernel.sockets, socket, target.guest, target.name, unixSockaddr(address)));
  }
  if (!socket.isStream) {
    socket.peer = { kind: "local", socket: target.id };
    socket.remote = target.local;
    return 0;
  }
  return waitOr(c, { file, socket }, connectStream(c.kernel.sockets, socket, target));
}

/** TCP connects to a listener on the guest's network; UDP only takes a default destination (and a port). */
function connectInet(c: SyscallContext, file: OpenFile, socket: Socket, raw: Uint8Array): SyscallOutcome | number {
  const sockets = c.kernel.sockets;
  const address = parseInet(raw, false);
  if (typeof address === "number") return address;
  const to = inetDestination(sockets, address);
  if (typeof to === "number") return to;
  const remote = socket.isStream ? remoteInetTarget(sockets, "tcp", to) : undefined;
  if (socket.isStream && !remote) {
    const listener = inetTarget(sockets, "tcp", to);
    if (!listener?.listening) return -Errno.ECONNREFUSED;
  }
  const bound = autobindInet(sockets, socket, to.address);
  if (bound < 0) return bound;
  if (remote) return dialOut(c, file, socket, dial(sockets, socket, remote.guest, remote.name, inetSockaddr(to)));
  if (!socket.isStream) {
    socket.remote = inetSockaddr(to);
    return 0;
  }
  const r = waitOr(c, { file, socket }, connectStream(sockets, socket, inetTarget(sockets, "tcp", to)!, to));
  // "The socket is nonblocking and the connection cannot be completed immediately": Linux's TCP says so even on loopback.
  if (r === 0 && file.flags & O_NONBLOCK) { socket.connecting = true; return -Errno.EINPROGRESS; }
  return r;
}

/** A connect that sent its syn: non-blocking, EINPROGRESS ("cannot be completed immediately"); else it waits for the answer. */
function dialOut(c: SyscallContext, file: OpenFile, socket: Socket, r: number): SyscallOutcome | number {
  if (file.flags & O_NONBLOCK) return -Errno.EINPROGRESS;
  return waitOr(c, { file, socket }, r);
}

function accept4(c: SyscallContext, fd: number, pointer: number, lengthPointer: number, flags: number): SyscallOutcome | number {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -Errno.EINVAL; // "Invalid value in flags"
  const s = socketOf(c, fd | 0);
  if (typeof s === "number") return s;
  if (!addressWritable(c, pointer, lengthPointer)) return -Errno.EFAULT;
  return guarded(() => {
    c.files.lowestFreeFd(); // EMFILE leaves the connection queued
    const taken = accept(c.kernel.sockets, s.socket);
    if (typeof taken === "number") return waitOr(c, s, taken, false, RCVTIMEO_KEY);
    if (s.socket.options.has(RCVTIMEO_KEY)) c.sleepDeadline = undefined; // this call's wait, if it waited, is over
    const newFd = install(c, taken, flags);
    writeAddress(c, pointer, lengthPointer, taken.remote ?? unnamed(taken.domain));
    return newFd;
  });
}

function getName(c: SyscallContext, fd: number, pointer: number, lengthPointer: number, peer: boolean): number {
  const s = socketOf(c, fd | 0);
  if (typeof s === "number") return s;
  const { socket } = s;
  let address: Uint8Array;
  if (peer) {
    if (!socket.remote || (socket.isStream && !socket.connected)) return -Errno.ENOTCONN; // "The socket is not connected"
    address = socket.remote;
  } else address = socket.local ?? unnamed(socket.domain);
  if (pointer === 0 || lengthPointer === 0) return -Errno.EFAULT;
  return writeAddress(c, pointer, lengthPointer, address);
}

export const SOCKET_CALLS = new Map<number, [string, Handler]>([
  [198, ["socket", socket]],
  [199, ["socketpair", socketpair]],
  [200, ["bind", bind]],
  [201, ["listen", (c, fd, backlog) => {
    const s = socketOf(c, fd | 0);
    return typeof s === "number" ? s : listen(c.kernel.sockets, s.socket, backlog | 0);
  }]],
  [202, ["accept", (c, fd, pointer, lengthPointer) => accept4(c, fd, pointer, lengthPointer, 0)]],
  [242, ["accept4", accept4]],
  [203, ["connect", connect]],
  [210, ["shutdown", (c, fd, how) => {
    const s = socketOf(c, fd | 0);
    return typeof s === "number" ? s : shutdown(c.kernel.sockets, s.socket, how | 0);
  }]],
  [204, ["getsockname", (c, fd, pointer, lengthPointer) => getName(c, fd, pointer, lengthPointer, false)]],
  [205, ["getpeername", (c, fd, pointer, lengthPointer) => getName(c, fd, pointer, lengthPointer, true)]],
]);
