// One guest's socket names when it runs on a host (docs/MESSAGES.md): its own
// names as in a lone kernel (LocalNames: EADDRINUSE among its own sockets,
// loopback, ephemeral ports), and besides, the names other guests can reach
// are bound in the host's cluster-wide registry — abstract AF_UNIX names, a
// path in a root (shared roots let guests meet there), and an IPv4 port on the
// guest's own address (a bind to INADDR_ANY counts as its own address; one to
// 127.0.0.1 stays inside the guest). A lookup that is none of the guest's own
// asks the registry: a socket of another guest comes back as {guest, socket}.

import { Errno } from "../kernel/errno.js";
import { dottedQuad, INADDR_ANY, isLoopback, type SocketName } from "../kernel/sockets/addresses.js";
import { LocalNames, type SocketRef } from "../kernel/sockets/names.js";
import type { NameRegistry } from "./name-registry.js";

export class ClusterNames extends LocalNames {
  /** `addressKnown`: whether some guest of the cluster, as far as this host knows, has that IPv4 address. */
  constructor(
    private readonly guest: string, private readonly root: string, private readonly address: number, private readonly registry: NameRegistry,
    private readonly addressKnown: (address: number) => boolean = () => true,
  ) {
    super();
  }

  /** A 10.77 address no guest has is unreachable (ENETUNREACH), one a guest has without a listener refuses (ECONNREFUSED). */
  hasGuest(address: number): boolean {
    return address === this.address || this.addressKnown(address);
  }

  bind(name: SocketName, socket: SocketRef): number {
    const result = super.bind(name, socket);
    if (result < 0) return result;
    const key = this.keyOf(name, true);
    if (key !== undefined && !this.registry.bind(key, this.guest, socket.socket)) {
      super.unbind(name, socket);
      return -Errno.EADDRINUSE; // "The given address is already in use": by a guest elsewhere
    }
    return 0;
  }

  unbind(name: SocketName, socket: SocketRef): void {
    super.unbind(name, socket);
    const key = this.keyOf(name, true);
    if (key !== undefined) this.registry.unbind(key, this.guest, socket.socket);
  }

  lookup(name: SocketName): SocketRef | undefined {
    // An IPv4 address of another guest is never this one's (a lone kernel's LocalNames takes any address as its own).
    const elsewhere = name.kind === "inet" && !isLoopback(name.address) && name.address !== INADDR_ANY && name.address !== this.address;
    const mine = elsewhere ? undefined : super.lookup(name);
    if (mine) return mine;
    const key = this.keyOf(name, false);
    const binding = key === undefined ? undefined : this.registry.lookup(key);
    if (!binding) return undefined;
    return binding.guest === this.guest ? { guest: "", socket: binding.socket } : { guest: binding.guest, socket: binding.socket };
  }

  /**
   * The registry's key of a name; undefined for one only this guest sees (an
   * IPv4 name on a loopback address, or, looked up, one of its own addresses).
   */
  private keyOf(name: SocketName, binding: boolean): string | undefined {
    if (name.kind === "abstract") return `abstract:${name.type}:${name.name}`;
    if (name.kind === "path") return `path:${this.root}:${name.path}`;
    if (isLoopback(name.address)) return undefined;
    const address = binding && name.address === INADDR_ANY ? this.address : name.address;
    if (!binding && address === this.address) return undefined; // the guest itself: LocalNames answered
    return `${name.protocol}:${dottedQuad(address)}:${name.port}`;
  }
}
