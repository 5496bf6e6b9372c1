// Streams between guests: connect(2) to a listener another guest bound sends
// a `syn` and waits for its `accept` or `refuse`; the listening kernel makes
// the server's socket on `syn` and queues it for accept(2). A full backlog is
// refused at once (ECONNREFUSED), as Linux's AF_UNIX does; a TCP client of
// Linux would retry its SYN instead, which a program cannot tell from a
// refusal it retries itself, so both families do the same here.

import { Errno } from "../errno.js";
import { inetSockaddr, unnamed, type SocketName } from "./addresses.js";
import type { Socket } from "./socket.js";
import { StreamChannel } from "./stream-channel.js";
import type { Sockets } from "./table.js";

/** A syn, as the listening kernel reads it. */
export interface Syn {
  from: string;
  client: number; // the connecting socket's id
  name: SocketName;
  window: number;
  domain: number;
  type: number;
  address: Uint8Array | null; // the client's own address (what the server's getpeername reports)
}

/** connect(2) to `name`, bound by a socket of guest `guest`: sends the syn; the call waits (-EAGAIN) for the answer. */
export function dial(sockets: Sockets, socket: Socket, guest: string, name: SocketName, remote: Uint8Array | null): number {
  socket.peer = { kind: "remote", guest, socket: 0 };
  socket.remote = remote;
  socket.connecting = true;
  sockets.send(guest, {
    kind: "syn", conn: [socket.id, 0], name, window: socket.received.room,
    domain: socket.domain, type: socket.type, address: socket.local,
  });
  return -Errno.EAGAIN;
}

/** The server's end of a connection from another guest already made (the syn came twice). */
function existing(sockets: Sockets, from: string, client: number): Socket | undefined {
  return sockets.all().find((s) => s.peer?.kind === "remote" && s.peer.guest === from && s.peer.socket === client);
}

/** A syn came: a server's socket waits in the listener's queue, and the client is told; or it is refused. */
export function takeSyn(sockets: Sockets, syn: Syn): void {
  const again = existing(sockets, syn.from, syn.client);
  if (again) {
    sockets.send(syn.from, { kind: "accept", conn: [again.id, syn.client], window: again.received.room });
    return;
  }
  const listener = sockets.resolve(sockets.names.lookup(syn.name));
  // "No-one listening on the remote address", another type of socket, or a full queue.
  if (!listener?.listening || listener.domain !== syn.domain || listener.type !== syn.type || listener.pending.length > listener.backlog) {
    sockets.send(syn.from, { kind: "refuse", conn: [0, syn.client] });
    return;
  }
  const server = sockets.create(listener.domain, listener.type, listener.protocol);
  for (const [key, value] of listener.options) server.options.set(key, value);
  server.local = syn.name.kind === "inet" ? inetSockaddr(syn.name) : listener.local;
  server.remote = syn.address ?? unnamed(server.domain);
  server.peer = { kind: "remote", guest: syn.from, socket: syn.client };
  server.connected = true;
  server.channel = new StreamChannel(server.type === 5, syn.window, server.received.capacity);
  listener.pending.push(server.id);
  sockets.send(syn.from, { kind: "accept", conn: [server.id, syn.client], window: server.received.room });
  sockets.changed();
}

/** The listener's guest accepted: the connect that waits completes. */
export function takeAccept(sockets: Sockets, socket: Socket, from: string, server: number, window: number): void {
  if (socket.peer?.kind !== "remote" || socket.peer.guest !== from || !socket.dialing) {
    if (socket.peer?.kind === "remote" && socket.peer.guest === from && socket.peer.socket === server) return; // a duplicate
    sockets.send(from, { kind: "reset", conn: [socket.id, server] }); // not a connect of this socket's: the server's end goes
    return;
  }
  socket.peer = { kind: "remote", guest: from, socket: server };
  socket.connected = true;
  socket.channel = new StreamChannel(socket.type === 5, window, socket.received.capacity);
  sockets.changed();
}

/** The listener's guest refused: the connect fails with ECONNREFUSED. */
export function takeRefuse(sockets: Sockets, socket: Socket, from: string): void {
  if (!socket.dialing || socket.peer?.kind !== "remote" || socket.peer.guest !== from) return;
  socket.peer = null;
  socket.remote = null;
  socket.error = Errno.ECONNREFUSED;
  sockets.changed();
}

