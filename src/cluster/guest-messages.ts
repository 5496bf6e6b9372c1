// A host's part in messages between guests (docs/MESSAGES.md): its links to
// other hosts, its switch, and the glue between them and the host's guests —
// which guests are here and in what state, where each is reachable, and the
// moments a migration changes that (a guest starts here, leaves, stays).

import { HostLinks, type GuestMessage } from "../net/host-links.js";
import type { TlsIdentity } from "../net/tls.js";
import type { GuestInfo } from "../snapshot/snapshot.js";
import { guestAddress } from "../kernel/sockets/addresses.js";
import { ProtocolError } from "../net/protocol.js";
import { DEFAULT_FORWARDING, FORWARDING_APPROACHES, type GuestPlace } from "./forwarding/index.js";
import type { HostedGuest } from "./hosted-guest.js";
import { NameRegistry } from "./name-registry.js";
import { Switch, type SwitchGuest } from "./switch.js";

export interface MessagingHost {
  readonly url: string;
  readonly guests: ReadonlyMap<string, HostedGuest>;
  /** Guests arriving by a migration (their id), not yet started here. */
  isArriving(id: string): boolean;
  knownHosts(): string[];
  log(line: string): void;
  /** A guest that started here ended on another host. */
  endedElsewhere(guest: string): void;
  /** Whether this host keeps a backup of guest `id` (it may take it over any moment). */
  keepsReplica?(id: string): boolean;
}

/** What is wrong with a guest message's envelope (to, from, kind, hops, fromPlace), or undefined. */
export function envelopeFault(m: unknown): string | undefined {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return "is not a map";
  const r = m as Record<string, unknown>;
  if (typeof r.to !== "string" || typeof r.from !== "string" || typeof r.kind !== "string") return "needs to, from and kind (text)";
  if (r.to.length > 128 || r.from.length > 128 || r.kind.length > 16) return "has an over-long to, from or kind";
  if (r.to === "") return undefined; // a switch's own message: its fields are read with care where it is taken
  if (!Array.isArray(r.hops) || r.hops.length > 64 || !r.hops.every((h) => typeof h === "string")) return "needs hops (a list of host URLs)";
  if (typeof r.sentAt !== "number" || typeof r.id !== "string") return "needs id and sentAt";
  const place = r.fromPlace as Record<string, unknown> | undefined;
  if (place !== undefined && (typeof place !== "object" || place === null || typeof place.at !== "string" || typeof place.origin !== "string"
    || !(FORWARDING_APPROACHES as readonly unknown[]).includes(place.forwarding))) return "has a fromPlace that is not {at, origin, forwarding}";
  return undefined;
}

/** Where `info`'s guest is reachable when it runs on `at`. */
export function placeOf(info: GuestInfo, at: string): GuestPlace {
  return { at, origin: info.origin ?? at, forwarding: info.forwarding ?? DEFAULT_FORWARDING };
}

export class GuestMessaging {
  readonly links: HostLinks;
  readonly switch: Switch;
  readonly names: NameRegistry;
  /** Ends of streams this host holds itself (a published port's relay), by id: always here, always running. */
  readonly endpoints = new Map<string, (message: GuestMessage) => void>();

  constructor(private readonly host: MessagingHost, auth: { token?: string; tls?: TlsIdentity }) {
    this.links = new HostLinks({
      selfUrl: () => host.url, token: auth.token, tls: auth.tls,
      undeliverable: (url, messages) => {
        host.log(`host ${url} did not answer for 10 s: ${messages.length} guest message(s) for it are looked for elsewhere`);
        for (const m of messages) this.switch.lostOnTheWay(m);
      },
    });
    this.switch = new Switch({
      get url() { return host.url; }, knownHosts: () => host.knownHosts(), guestHere: (id) => this.guestHere(id), log: (line) => host.log(line),
      nameHeard: (m) => this.names.heard(m), endedElsewhere: (guest) => host.endedElsewhere(guest),
      keepsReplica: (id) => host.keepsReplica?.(id) ?? false,
    }, this.links);
    this.names = new NameRegistry({ broadcast: (fields) => this.switch.broadcast(fields), tell: (url, fields) => this.switch.tell(url, fields) });
  }

  /**
   * A `gm` frame on a link from another host; `answer` sends on the same
   * connection (its acknowledgement). Its envelope is checked here (the kernel
   * checks a guest message's own fields): a malformed one is refused with a
   * ProtocolError naming what is wrong, and nothing else happens.
   */
  frame(frame: Record<string, unknown>, answer: (m: Record<string, unknown>) => void): void {
    if (typeof frame.link !== "string" || !Number.isSafeInteger(frame.seq)) throw new ProtocolError("gm: needs link (text) and seq (an integer)");
    const why = envelopeFault(frame.message);
    if (why) throw new ProtocolError(`gm: message ${why}`);
    const message = this.links.receive(frame, answer);
    if (message) this.switch.fromLink(message);
  }

  /** A guest of this host sends a message to another guest (`from` names it); a replicated one's waits for its epoch. */
  send(message: GuestMessage): void {
    const hosted = this.host.guests.get(message.from);
    if (!hosted) return; // it ended in the same turn
    if (hosted.heldMessages) hosted.heldMessages.hold(message);
    else this.switch.fromGuest(message, placeOf(hosted.info, this.host.url));
  }

  /** A held message of a guest here goes now (its epoch was acknowledged: src/replication/held-messages.ts). */
  sendHeld(message: GuestMessage): void {
    const hosted = this.host.guests.get(message.from);
    if (hosted) this.switch.fromGuest(message, placeOf(hosted.info, this.host.url));
  }

  private guestHere(id: string): SwitchGuest | undefined {
    const endpoint = this.endpoints.get(id);
    if (endpoint) return { state: "running", place: { at: this.host.url, origin: this.host.url, forwarding: DEFAULT_FORWARDING }, deliver: endpoint };
    const hosted = this.host.guests.get(id);
    if (hosted && (hosted.status === "running" || hosted.status === "frozen")) {
      return { state: hosted.status, place: placeOf(hosted.info, this.host.url), deliver: (m) => hosted.receiveMessage(m) };
    }
    if (this.host.isArriving(id)) return { state: "arriving", place: { at: this.host.url, origin: "", forwarding: DEFAULT_FORWARDING }, deliver: () => {} };
    return undefined;
  }

  /** Whether a guest with this IPv4 address runs here, is known elsewhere, or has bound a name the cluster heard of. */
  addressKnown(address: number): boolean {
    for (const id of this.host.guests.keys()) if (guestAddress(id) === address) return true;
    for (const id of this.switch.directory.keys()) if (guestAddress(id) === address) return true;
    return this.names.hasAddress(address);
  }

  /** A host this one just learned of: it hears the names this host's guests bound. */
  newMember(url: string): void {
    this.names.introduce(url, (guest) => this.host.guests.has(guest));
  }

  close(): void {
    this.links.close();
  }
}
