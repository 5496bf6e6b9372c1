// Stream connections: listen(2), connect(2) to a listener of this kernel
// (which makes the server's socket at once and queues it, as Linux's loopback
// connects without waiting), accept(2), and shutdown(2).

import { Errno } from "../errno.js";
import { AF_INET, inetSockaddr, unnamed, type InetAddress } from "./addresses.js";
import { admitWaitingSyns } from "./remote-connections.js";
import { SOMAXCONN, type Socket } from "./socket.js";
import type { Sockets } from "./table.js";

/** listen(2): an unbound TCP socket takes an ephemeral port first; an unbound AF_UNIX one is EINVAL. */
export function listen(sockets: Sockets, socket: Socket, backlog: number): number {
  if (!socket.isStream) return -Errno.EOPNOTSUPP; // "The socket is not of a type that supports the listen() operation"
  if (socket.connected) return -Errno.EINVAL;
  if (!socket.local) {
    if (socket.domain !== AF_INET) return -Errno.EINVAL;
    const port = sockets.names.ephemeralPort("tcp", 0);
    if (port === undefined) return -Errno.EADDRINUSE;
    const name = { kind: "inet" as const, protocol: "tcp" as const, address: 0, port };
    const bound = sockets.names.bind(name, sockets.ref(socket));
    if (bound < 0) return bound;
    socket.name = name;
    socket.local = inetSockaddr({ address: 0, port });
  }
  // "If the backlog argument is greater than the value in /proc/sys/net/core/somaxconn, then it is silently capped".
  socket.backlog = backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog;
  socket.listening = true;
  admitWaitingSyns(sockets, socket); // listen again with a longer backlog: connects that waited for room come in
  sockets.changed();
  return 0;
}

/** What connect(2) says of a stream socket before it looks for the listener. */
export function connectable(socket: Socket): number {
  if (socket.listening) return socket.isTcp ? -Errno.EISCONN : -Errno.EINVAL;
  if (socket.connected) return -Errno.EISCONN; // "The socket is already connected"
  return 0;
}

/**
 * Connects `socket` to `listener`: the server's end is made now and waits in
 * the listener's queue for accept(2). A full queue is -EAGAIN (the caller waits).
 * `dialled`: the IPv4 address and port the client asked for (what the server's end is named).
 */
export function connectStream(sockets: Sockets, socket: Socket, listener: Socket, dialled?: InetAddress): number {
  if (!listener.listening) return -Errno.ECONNREFUSED; // "No-one listening on the remote address"
  if (listener.pending.length > listener.backlog) return -Errno.EAGAIN;
  const server = sockets.create(listener.domain, listener.type, listener.protocol);
  for (const [key, value] of listener.options) server.options.set(key, value);
  server.local = dialled ? inetSockaddr(dialled) : listener.local;
  server.remote = socket.local ?? unnamed(socket.domain);
  socket.remote = dialled ? inetSockaddr(dialled) : listener.local;
  sockets.link(socket, server);
  listener.pending.push(server.id);
  sockets.changed();
  return 0;
}

/** accept(2): the oldest connection waiting, or -EAGAIN. */
export function accept(sockets: Sockets, listener: Socket): Socket | number {
  if (!listener.isStream) return -Errno.EOPNOTSUPP;
  if (!listener.listening) return -Errno.EINVAL; // "Socket is not listening for connections"
  const id = listener.pending.shift();
  if (id === undefined) return -Errno.EAGAIN;
  admitWaitingSyns(sockets, listener); // a connect from another guest waiting for room in the queue
  sockets.changed(); // ... or one of this guest's
  return sockets.get(id) ?? -Errno.ECONNABORTED;
}

export const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

/** shutdown(2): "further receptions will be disallowed" (SHUT_RD), "further transmissions" (SHUT_WR), or both. */
export function shutdown(sockets: Sockets, socket: Socket, how: number): number {
  if (how < 0 || how > 2) return -Errno.EINVAL;
  if (socket.domain === AF_INET && !socket.connected && !socket.remote && !socket.listening) return -Errno.ENOTCONN;
  const peer = socket.isStream ? sockets.peerOf(socket) : undefined;
  if (how !== SHUT_WR) {
    socket.readShut = true;
    if (socket.domain !== AF_INET) peer?.refuseWrites();
  }
  if (how !== SHUT_RD) {
    socket.writeShut = true;
    peer?.endOfStream();
  }
  sockets.changed();
  return 0;
}
