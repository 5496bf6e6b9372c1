// Where socket names are resolved: the one interface a kernel asks to bind a
// name, let it go, and find the listener or datagram receiver behind one.
// LocalNames is the in-guest implementation (every name is this guest's); a
// host can pass a cluster-wide one in the kernel's options instead, so that an
// abstract name or an address:port bound here is found from other guests.
//
// A socket is named by { guest, socket id }: `guest` is "" for this kernel.

import { Errno } from "../errno.js";
import { INADDR_ANY, type SocketName } from "./addresses.js";

export interface SocketRef { guest: string; socket: number }

export interface SocketNames {
  /** Binds `name` to `socket`: 0, or -EADDRINUSE when it is taken ("The given address is already in use"). */
  bind(name: SocketName, socket: SocketRef): number;
  /** The socket let it go (closed). */
  unbind(name: SocketName, socket: SocketRef): void;
  /** The socket bound to `name`: for an IPv4 name, one bound to that address or to INADDR_ANY. */
  lookup(name: SocketName): SocketRef | undefined;
  /** A free port of `protocol` for a socket that connects or sends before it binds; undefined when none is left. */
  ephemeralPort(protocol: "tcp" | "udp", address: number): number | undefined;
  /** Whether some guest has this IPv4 address (connect to one nobody has: ENETUNREACH); unknown when absent. */
  hasGuest?(address: number): boolean;
}

/** Linux's ip_local_port_range default. */
export const EPHEMERAL_FIRST = 32768, EPHEMERAL_LAST = 60999;

const keyOf = (name: SocketName) =>
  name.kind === "inet" ? `${name.protocol}:${name.address}:${name.port}` : name.kind === "path" ? `path:${name.path}` : `abstract:${name.type}:${name.name}`;

/** The names of one guest: a map, nothing else (it is rebuilt from the sockets on restore). */
export class LocalNames implements SocketNames {
  private readonly bound = new Map<string, SocketRef>();
  private readonly ports = new Map<string, Set<number>>(); // "tcp:port" -> the addresses bound on it
  nextEphemeral = EPHEMERAL_FIRST;

  bind(name: SocketName, socket: SocketRef): number {
    const key = keyOf(name);
    if (name.kind === "inet") {
      // INADDR_ANY takes the port on every address, so it clashes with any address on it, and every address with it.
      const on = this.ports.get(`${name.protocol}:${name.port}`) ?? new Set<number>();
      if (on.has(name.address) || on.has(INADDR_ANY) || (name.address === INADDR_ANY && on.size > 0)) return -Errno.EADDRINUSE;
      on.add(name.address);
      this.ports.set(`${name.protocol}:${name.port}`, on);
    } else if (name.kind === "abstract" && this.bound.has(key)) return -Errno.EADDRINUSE;
    // A path's socket file decides whether the path is in use (the file may have been unlinked and bound again).
    this.bound.set(key, socket);
    return 0;
  }

  unbind(name: SocketName, socket: SocketRef): void {
    const key = keyOf(name);
    const held = this.bound.get(key);
    if (!held || held.guest !== socket.guest || held.socket !== socket.socket) return;
    this.bound.delete(key);
    if (name.kind === "inet") this.ports.get(`${name.protocol}:${name.port}`)?.delete(name.address);
  }

  lookup(name: SocketName): SocketRef | undefined {
    const exact = this.bound.get(keyOf(name));
    if (exact || name.kind !== "inet") return exact;
    return this.bound.get(keyOf({ ...name, address: INADDR_ANY }));
  }

  ephemeralPort(protocol: "tcp" | "udp", address: number): number | undefined {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    for (let i = 0; i < span; i++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
      const on = this.ports.get(`${protocol}:${port}`);
      if (!on || (!on.has(address) && !on.has(INADDR_ANY) && !(address === INADDR_ANY && on.size > 0))) return port;
    }
    return undefined;
  }
}
