// Streams between guests: connect(2) to a listener another guest bound sends
// a `syn` and waits for its `accept` or `refuse`; the listening kernel makes
// the server's socket on `syn` and queues it for accept(2). A syn that finds
// the backlog full waits at the listener, unanswered, until an accept(2)
// makes room: the connect waits, as Linux's AF_UNIX connect sleeps in
// unix_wait_for_peer and a TCP client's SYN is retried until one is taken.
// The waiting syns are the listener's state and travel in the snapshot; the
// listener's close refuses them (ECONNREFUSED).
//
// A syn (or its accept) can die on the way: with a replicated listener's
// primary (issue 13: its backup goes on from an epoch that never saw it),
// so the connecting side sends it again as TCP retransmits a SYN: 1 s after
// the first, then doubling, six retries (Linux's tcp_syn_retries), and the
// connect fails with ETIMEDOUT 127 s after the first syn, as on Linux.
// AF_UNIX between guests follows the same schedule (a local AF_UNIX connect
// cannot lose its syn). A listener that already made the connection answers
// a copy with the same accept (`existing`), so a retry is harmless.

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
  socket.dialed = name;
  socket.syn = { retries: 0, nextAtMs: sockets.clockMs() + SYN_FIRST_RETRY_MS };
  sendSyn(sockets, socket);
  sockets.timerDue(socket.syn.nextAtMs);
  return -Errno.EAGAIN;
}

/** TCP's initial retransmission timeout for a SYN (RFC 6298 2.1, Linux TCP_TIMEOUT_INIT): 1 s, doubled at each retry. */
export const SYN_FIRST_RETRY_MS = 1000;
/** How many times a syn is sent again (Linux net.ipv4.tcp_syn_retries): the connect gives up at 127 s. */
export const SYN_RETRIES = 6;

/**
 * `socket`'s connect waits for its answer and its next retry is due at `now`
 * (guest monotonic ms): its syn goes again, or after the last retry's wait the
 * connect fails, "Connection timed out". Returns when the next is due.
 */
export function retrySyn(sockets: Sockets, socket: Socket, now: number): number {
  const syn = socket.syn;
  if (!syn || !socket.dialing) return Infinity;
  if (now < syn.nextAtMs) return syn.nextAtMs;
  if (syn.retries >= SYN_RETRIES) {
    socket.peer = null;
    socket.remote = null;
    socket.dialed = null;
    socket.syn = null;
    socket.error = Errno.ETIMEDOUT;
    sockets.changed();
    return Infinity;
  }
  syn.retries++;
  syn.nextAtMs = now + SYN_FIRST_RETRY_MS * 2 ** syn.retries;
  sendSyn(sockets, socket);
  return syn.nextAtMs;
}

/** The syn of a connect that waits (again after a takeover by the backup: a copy the listener has seen is answered again). */
export function sendSyn(sockets: Sockets, socket: Socket): void {
  if (!socket.dialing || !socket.dialed || socket.peer?.kind !== "remote") return;
  sockets.send(socket.peer.guest, {
    kind: "syn", conn: [socket.id, 0], name: socket.dialed, window: socket.received.room,
    domain: socket.domain, type: socket.type, address: socket.local,
  });
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
  // "No-one listening on the remote address", or another type of socket.
  if (!listener?.listening || listener.domain !== syn.domain || listener.type !== syn.type) {
    sockets.send(syn.from, { kind: "refuse", conn: [0, syn.client] });
    return;
  }
  if (listener.pending.length > listener.backlog || listener.waitingSyns.length > 0) {
    const waiting = listener.waitingSyns.some((w) => w.from === syn.from && w.client === syn.client);
    if (!waiting) listener.waitingSyns.push(syn); // (a copy of one waiting changes nothing)
    return;
  }
  queueConnection(sockets, listener, syn);
}

/** accept(2) made room in `listener`'s backlog: the syns that waited for it are taken, oldest first. */
export function admitWaitingSyns(sockets: Sockets, listener: Socket): void {
  while (listener.waitingSyns.length > 0 && listener.pending.length <= listener.backlog) {
    queueConnection(sockets, listener, listener.waitingSyns.shift()!);
  }
}

/** The listener closed: the syns waiting at it are refused. */
export function refuseWaitingSyns(sockets: Sockets, listener: Socket): void {
  for (const syn of listener.waitingSyns.splice(0)) sockets.send(syn.from, { kind: "refuse", conn: [0, syn.client] });
}

/** The server's end of the connection `syn` asked for, queued for accept(2); its client is told. */
function queueConnection(sockets: Sockets, listener: Socket, syn: Syn): void {
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

