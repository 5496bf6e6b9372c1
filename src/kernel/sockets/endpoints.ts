// Binding a socket's name, and finding the socket behind an address a program
// connects or sends to: AF_UNIX paths in the sandbox (the socket file says the
// path is in use), the abstract namespace, and IPv4 on the guest's virtual
// network, where 127.0.0.0/8 and the guest's own address are the guest itself.

import { Errno } from "../errno.js";
import { SandboxError, type FileTable } from "../files.js";
import {
  AF_UNIX, INADDR_ANY, LOOPBACK, inetSockaddr, isLoopback, unixSockaddr, type InetAddress, type SocketName, type UnixAddress,
} from "./addresses.js";
import { makeSocketFile } from "./socket-files.js";
import type { Socket } from "./socket.js";
import type { Sockets } from "./table.js";

const S_IFSOCK = 0o140000;

/** bind(2) of an AF_UNIX socket: a path (its file made), an abstract name, or none given (autobind). */
export function bindUnix(sockets: Sockets, files: FileTable, socket: Socket, address: UnixAddress): number {
  if (socket.local) return -Errno.EINVAL; // "The socket is already bound to an address"
  let name: SocketName;
  let shown: UnixAddress = address;
  if (address.kind === "path") {
    let target = files.resolve(-100, address.path, "nofollow");
    if (target.stat !== null || target.device !== undefined) return -Errno.EADDRINUSE;
    target = files.ownCopy(target, "nofollow"); // in a directory of the base layer: that directory made in the root first
    makeSocketFile(target.host, 0o777 & ~files.umask);
    name = { kind: "path", path: target.guest };
  } else if (address.kind === "abstract") {
    name = { kind: "abstract", name: Buffer.from(address.name).toString("hex"), type: socket.type };
  } else {
    // Autobind: "a unique name in the abstract namespace ... five bytes in the character set [0-9a-f]".
    for (let n = 0; ; n++) {
      if (n === 0x100000) return -Errno.ENOSPC;
      const auto = Buffer.from(((socket.id * 2654435761 + n) >>> 0 & 0xfffff).toString(16).padStart(5, "0"));
      name = { kind: "abstract", name: auto.toString("hex"), type: socket.type };
      if (!sockets.names.lookup(name)) { shown = { kind: "abstract", name: auto }; break; }
    }
  }
  const bound = sockets.names.bind(name, sockets.ref(socket));
  if (bound < 0) return bound;
  socket.name = name;
  socket.local = unixSockaddr(shown);
  return 0;
}

/** An IPv4 address of this guest: INADDR_ANY, loopback, or its own. */
const isOwn = (sockets: Sockets, address: number) => address === INADDR_ANY || isLoopback(address) || address === sockets.address;

/** bind(2) of an AF_INET socket; port 0 takes an ephemeral port. */
export function bindInet(sockets: Sockets, socket: Socket, at: InetAddress): number {
  if (socket.local) return -Errno.EINVAL;
  if (!isOwn(sockets, at.address)) return -Errno.EADDRNOTAVAIL; // "A nonexistent interface was requested"
  const protocol = socket.type === 1 ? "tcp" : "udp";
  const port = at.port || sockets.names.ephemeralPort(protocol, at.address);
  if (port === undefined) return -Errno.EADDRINUSE;
  const name: SocketName = { kind: "inet", protocol, address: at.address, port };
  const bound = sockets.names.bind(name, sockets.ref(socket));
  if (bound < 0) return bound;
  socket.name = name;
  socket.local = inetSockaddr({ address: at.address, port });
  return 0;
}

/** An unbound AF_INET socket that connects or sends takes an ephemeral port on the address that reaches `towards`. */
export function autobindInet(sockets: Sockets, socket: Socket, towards: number): number {
  if (socket.local) return 0;
  const from = isLoopback(towards) ? LOOPBACK : sockets.address;
  const r = bindInet(sockets, socket, { address: from, port: 0 });
  return r === -Errno.EADDRINUSE ? -Errno.EAGAIN : r; // "Insufficient entries in the routing cache" / no port left
}

/** 10.77.0.0/16: the guests' virtual network (addresses.ts guestAddress). */
const isGuestNetwork = (address: number) => address >>> 16 === ((10 << 8) | 77);

/**
 * Where an IPv4 destination leads: this guest (INADDR_ANY means it too),
 * another guest's address (the names find its sockets), or -ENETUNREACH for an
 * address no guest has ("Network is unreachable").
 */
export function inetDestination(sockets: Sockets, to: InetAddress): InetAddress | number {
  if (!isOwn(sockets, to.address)) {
    if (!isGuestNetwork(to.address) || !sockets.network || sockets.names.hasGuest?.(to.address) === false) return -Errno.ENETUNREACH;
    return to;
  }
  return { address: to.address === INADDR_ANY ? LOOPBACK : to.address, port: to.port };
}

/** A socket of another guest that a name leads to. */
export interface RemoteTarget { guest: string; socket: number; name: SocketName }

/**
 * The socket an AF_UNIX address leads to, of the caller's type: a path with no
 * file is ENOENT, one that is no socket or nobody's ECONNREFUSED, another type EPROTOTYPE.
 * A name another guest bound leads to that guest.
 */
export function unixTarget(sockets: Sockets, files: FileTable, address: UnixAddress, type: number): Socket | RemoteTarget | number {
  let name: SocketName;
  if (address.kind === "path") {
    let target;
    try {
      target = files.resolve(-100, address.path, "follow");
    } catch (error) {
      if (error instanceof SandboxError) return -error.errno;
      throw error;
    }
    if (target.stat === null) return -Errno.ENOENT;
    if ((target.stat.mode & 0o170000) !== S_IFSOCK) return -Errno.ECONNREFUSED;
    name = { kind: "path", path: target.guest };
  } else if (address.kind === "abstract") name = { kind: "abstract", name: Buffer.from(address.name).toString("hex"), type };
  else return -Errno.EINVAL;
  const ref = sockets.names.lookup(name);
  if (ref && ref.guest !== "") return { guest: ref.guest, socket: ref.socket, name }; // its guest checks the type
  const socket = sockets.resolve(ref);
  if (!socket || socket.domain !== AF_UNIX) return -Errno.ECONNREFUSED;
  if (socket.type !== type) return -Errno.EPROTOTYPE;
  return socket;
}

/** The IPv4 socket bound to `to` for `protocol` (TCP: listening or not), if any. */
export function inetTarget(sockets: Sockets, protocol: "tcp" | "udp", to: InetAddress): Socket | undefined {
  return sockets.resolve(sockets.names.lookup({ kind: "inet", protocol, address: to.address, port: to.port }));
}

/** The IPv4 socket of another guest bound to `to`, if that is where `to` leads. */
export function remoteInetTarget(sockets: Sockets, protocol: "tcp" | "udp", to: InetAddress): RemoteTarget | undefined {
  const name: SocketName = { kind: "inet", protocol, address: to.address, port: to.port };
  const ref = sockets.names.lookup(name);
  return ref && ref.guest !== "" ? { guest: ref.guest, socket: ref.socket, name } : undefined;
}
