// The socket names bound cluster-wide (docs/MESSAGES.md): AF_UNIX abstract
// names, IPv4 address:port of a guest, path names in a shared root. Each host
// keeps every binding it has heard of; a guest's binding is announced by the
// host it runs on to every host it knows, and a host that learns of a new
// member tells it its own guests' bindings. A binding belongs to a guest, not
// to a host: it stays while its guest migrates, and goes when the socket closes
// or the guest ends.
//
// Two guests on different hosts binding one name within the same moment both
// succeed (each host checks what it has heard); the later announcement, by
// time then guest id, loses in every host's table, so all agree which one a
// connect reaches. Linux would have refused the second bind; documented.

export interface Binding { guest: string; socket: number; at: number } // at: when it was bound (epoch ms)

export interface RegistryLink {
  /** Sends a name announcement to every other host this one knows. */
  broadcast(fields: Record<string, unknown>): void;
  /** Sends announcements to one host. */
  tell(url: string, fields: Record<string, unknown>): void;
}

export class NameRegistry {
  private readonly bindings = new Map<string, Binding>();

  constructor(private readonly link: RegistryLink) {}

  /** A guest here binds `key`; false if another guest holds it (as far as this host has heard). */
  bind(key: string, guest: string, socket: number): boolean {
    const held = this.bindings.get(key);
    if (held && !(held.guest === guest && held.socket === socket)) return false;
    const binding = held ?? { guest, socket, at: Date.now() };
    this.bindings.set(key, binding);
    this.link.broadcast({ kind: "name", op: "bind", key, ...binding });
    return true;
  }

  unbind(key: string, guest: string, socket: number): void {
    const held = this.bindings.get(key);
    if (!held || held.guest !== guest || held.socket !== socket) return;
    this.bindings.delete(key);
    this.link.broadcast({ kind: "name", op: "unbind", key, guest, socket });
  }

  /** Whether some IPv4 name is bound on `address` (its dotted form is part of the key). */
  hasAddress(address: number): boolean {
    const dotted = [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join(".");
    for (const key of this.bindings.keys()) if (key.includes(`:${dotted}:`)) return true;
    return false;
  }

  lookup(key: string): Binding | undefined {
    return this.bindings.get(key);
  }

  /** Every binding of one guest (it ended: they go). */
  dropGuest(guest: string): void {
    for (const [key, b] of this.bindings) if (b.guest === guest) this.unbind(key, b.guest, b.socket);
  }

  /** An announcement from another host. */
  heard(m: Record<string, unknown>): void {
    const key = m.key, guest = m.guest, socket = m.socket;
    if (typeof key !== "string" || typeof guest !== "string" || typeof socket !== "number") return;
    if (m.op === "unbind") {
      const held = this.bindings.get(key);
      if (held?.guest === guest && held.socket === socket) this.bindings.delete(key);
      return;
    }
    const at = typeof m.at === "number" ? m.at : Date.now();
    const held = this.bindings.get(key);
    if (held && (held.at < at || (held.at === at && held.guest <= guest))) return; // the earlier binding wins, everywhere
    this.bindings.set(key, { guest, socket, at });
  }

  /** A host this one just learned of hears the bindings of `guestsHere`. */
  introduce(url: string, guestsHere: (guest: string) => boolean): void {
    for (const [key, b] of this.bindings) if (guestsHere(b.guest)) this.link.tell(url, { kind: "name", op: "bind", key, ...b });
  }
}
