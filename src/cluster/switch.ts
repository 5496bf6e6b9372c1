// A host's router for the messages guests send each other (docs/MESSAGES.md).
// A message from a guest here goes to its peer's kernel if that guest runs
// here, else over a host link to where the directory says it is (or through
// its origin). A message arriving for a guest that is not running here is
// disposed of as that guest's forwarding approach says: queued while it is
// frozen or arriving, forwarded along the address left when it went, or
// refused with a nack, on which the sending host locates the guest (asking
// every host it knows) and sends again. Hosts never drop a message silently;
// the receiving kernel orders and deduplicates stream bytes by sequence.

import { randomBytes } from "node:crypto";
import type { GuestMessage, HostLinks } from "../net/host-links.js";
import { forwardingApproach, type Disposal, type GuestPlace, type Routed } from "./forwarding/index.js";
import { MessageCounts } from "./message-counts.js";

/** A guest of this host, as the switch sees it. */
export interface SwitchGuest {
  state: "running" | "frozen" | "arriving";
  place: GuestPlace;
  /** Its kernel takes the message (only called while running). */
  deliver(message: GuestMessage): void;
}

export interface SwitchHost {
  readonly url: string;
  /** Every other host this one knows (where a lost guest is looked for). */
  knownHosts(): string[];
  /** The guest `id` if it is on this host (running, frozen for a migration, or arriving by one). */
  guestHere(id: string): SwitchGuest | undefined;
  log(line: string): void;
  /** A socket name announcement from another host (src/cluster/name-registry.ts). */
  nameHeard?(m: Record<string, unknown>): void;
  /** A guest that started here ended on another host (its published ports close here). */
  endedElsewhere?(guest: string): void;
  /** Whether this host keeps a backup of guest `id` (src/replication/backup.ts): it may take it over any moment. */
  keepsReplica?(id: string): boolean;
}

/** Control messages between switches ride the same links as guests' messages, in order with them. */
const CONTROL = new Set(["nack", "located", "where", "here", "absent", "name", "member", "ended"]);

export class Switch {
  readonly directory = new Map<string, GuestPlace>(); // guests elsewhere, as last heard
  readonly counts = new MessageCounts(() => this.host.url);
  private readonly queued = new Map<string, Routed[]>(); // for guests frozen or arriving here
  private readonly left = new Map<string, { to: string; approach: GuestPlace["forwarding"]; lastUsed: number }>(); // forwarding addresses
  private readonly correspondents = new Map<string, Set<string>>(); // guest here -> hosts it exchanged messages with
  private readonly lost = new Map<string, Routed[]>(); // refused messages, by guest, until it is found
  private readonly idPrefix = randomBytes(4).toString("hex");
  private nextId = 1;

  constructor(private readonly host: SwitchHost, private readonly links: Pick<HostLinks, "send">) {}

  /** A guest here sends a message. */
  fromGuest(message: GuestMessage, fromPlace: GuestPlace): void {
    const routed: Routed = { ...message, id: `${this.idPrefix}-${this.nextId++}`, hops: [], sentAt: Date.now(), fromPlace };
    this.counts.of(message.from).sent++;
    const at = this.host.guestHere(message.to) ? this.host.url : this.directory.get(message.to)?.at;
    if (at !== undefined) this.counts.exchanged(message.from, at, dataLength(message)); // where its peer is, as far as this host knows
    this.route(routed);
  }

  /** A frame from another host's link: a guest's message or a switch's control message. */
  fromLink(message: Record<string, unknown>): void {
    if (CONTROL.has(String(message.kind)) && message.to === "") { this.control(message); return; }
    const routed = message as Routed;
    this.learnSender(routed);
    this.route(routed);
  }

  /** Sends `m` on towards its guest: into its kernel here, or to the next host. */
  private route(m: Routed): void {
    const here = this.host.guestHere(m.to);
    if (here) { this.arrivedHere(m, here); return; }
    const place = this.directory.get(m.to);
    // A forwarding address disposes of messages that came here for a guest that left (types 2 and 3). One that
    // starts here (a guest of this host's, or sent again after a nack) goes where the directory says, which the
    // departure set and later news updates: under resend it would otherwise be refused here for ever.
    const gone = this.left.get(m.to);
    if (gone && (m.hops.length > 0 || !place)) {
      gone.lastUsed = Date.now();
      this.dispose(m, forwardingApproach(gone.approach).afterLeaving(gone.to));
      return;
    }
    if (!place) { this.refuse(m, "no such guest here"); return; }
    const next = forwardingApproach(place.forwarding).route(place, this.host.url);
    if (next === this.host.url) { this.refuse(m, "no such guest here"); return; }
    this.pass(m, next);
  }

  private arrivedHere(m: Routed, guest: SwitchGuest): void {
    if (guest.state !== "running") {
      this.dispose(m, guest.state === "arriving" ? { do: "queue" } : forwardingApproach(guest.place.forwarding).whileFrozen());
      return;
    }
    // Into the kernel on a later turn, in order, as a network would: a message from a guest of this host arrives
    // while its sender is still inside the system call that sent it, and an answer taken there (an accept during
    // the connect) would wake nobody — the caller has not started to wait yet.
    this.inbox.push(m);
    if (this.inbox.length === 1) setImmediate(() => this.deliverInbox());
  }

  private readonly inbox: Routed[] = [];

  /** Whether messages wait to go into kernels here (a running guest then ends its batch, so they do soon). */
  hasInbox(): boolean {
    return this.inbox.length > 0;
  }

  private deliverInbox(): void {
    for (const m of this.inbox.splice(0)) {
      const guest = this.host.guestHere(m.to);
      if (guest?.state === "running") this.deliverNow(m, guest);
      else this.route(m); // it froze or left meanwhile: as its approach says
    }
  }

  private deliverNow(m: Routed, guest: SwitchGuest): void {
    if (m.fromPlace) this.noteCorrespondent(m.to, m.fromPlace.at);
    if (m.fromPlace) this.counts.exchanged(m.to, m.fromPlace.at, dataLength(m));
    const counts = this.counts.of(m.to);
    counts.received++;
    counts.hops(m.hops.length);
    counts.latency(Date.now() - m.sentAt);
    guest.deliver(m);
  }

  private dispose(m: Routed, disposal: Disposal): void {
    const counts = this.counts.of(m.to);
    if (disposal.do === "queue") {
      counts.queued++;
      this.queued.set(m.to, [...(this.queued.get(m.to) ?? []), m]);
    } else if (disposal.do === "forward") {
      counts.forwarded++;
      counts.forwardedBytes += dataLength(m);
      if (disposal.tellSender && m.fromPlace && m.fromPlace.at !== this.host.url) this.control1(m.fromPlace.at, { kind: "located", guest: m.to, at: disposal.to });
      this.pass(m, disposal.to);
    } else this.refuse(m, disposal.reason);
  }

  private pass(m: Routed, to: string): void {
    this.links.send(to, { ...m, hops: [...m.hops, this.host.url] });
  }

  /** A nack to the host the message left from (hops[0]), which looks for the guest; here, it is looked for at once. */
  private refuse(m: Routed, reason: string): void {
    this.counts.of(m.to).refused++;
    const senderHost = m.hops[0];
    if (senderHost === undefined || senderHost === this.host.url) this.lookFor(m);
    else this.control1(senderHost, { kind: "nack", message: m, reason });
  }

  /** A message a host link gave back (its host did not answer): a guest's is sent again once its guest is found; a switch's hint is let go. */
  lostOnTheWay(m: GuestMessage): void {
    if (m.to !== "") this.lookFor({ ...(m as Routed), hops: [] });
  }

  // ---- Migrations of guests here ----------------------------------------------------------

  /** The guest `id` started here (arrived by a migration, or restored): what waited for it goes in, in order. */
  started(id: string): void {
    if (this.left.delete(id)) this.counts.of(id).addressEndedAt = Date.now();
    this.directory.delete(id);
    const waiting = this.queued.get(id) ?? [];
    this.queued.delete(id);
    for (const m of waiting) this.route(m);
  }

  /** The guest `id` committed to `to`: its forwarding address stays here; those who should be told are told. */
  departed(id: string, place: GuestPlace): void {
    const approach = forwardingApproach(place.forwarding);
    this.left.set(id, { to: place.at, approach: place.forwarding, lastUsed: Date.now() });
    this.directory.set(id, place);
    const counts = this.counts.of(id);
    counts.addressHeldSince = Date.now();
    counts.addressEndedAt = undefined;
    this.sweepLater();
    const told = new Set<string>();
    if (approach.tellsCorrespondents) for (const url of this.correspondents.get(id) ?? []) told.add(url);
    if (approach.tellsOrigin && place.origin !== this.host.url) told.add(place.origin);
    told.delete(place.at);
    for (const url of told) this.control1(url, { kind: "located", guest: id, at: place.at });
    this.correspondents.delete(id);
    // Type 1 messages: sent on behind the guest (they reach its new host after the state: that host queues them until it starts).
    const waiting = this.queued.get(id) ?? [];
    this.queued.delete(id);
    for (const m of waiting) this.dispose(m, approach.afterLeaving(place.at).do === "refuse" ? { do: "refuse", reason: "moved" } : { do: "forward", to: place.at, tellSender: false });
  }

  /**
   * A forwarding address that no message used for ADDRESS_IDLE_MS ends (the
   * residual dependency is over): senders have learnt the newer place, or no
   * one writes to the guest. A late message then finds no address and is
   * refused, so its sender's host looks the guest up, as resend does.
   */
  private sweepLater(): void {
    if (this.sweeping) return;
    this.sweeping = setInterval(() => {
      const now = Date.now();
      for (const [id, address] of this.left) {
        if (now - address.lastUsed < ADDRESS_IDLE_MS) continue;
        this.left.delete(id);
        this.counts.of(id).addressEndedAt = now;
      }
      if (this.left.size === 0) { clearInterval(this.sweeping); this.sweeping = undefined; }
    }, 1000);
    this.sweeping.unref();
  }

  private sweeping: NodeJS.Timeout | undefined;

  /** A migration of `id` failed or was cancelled: it runs here again, and what waited goes in. */
  stayed(id: string): void {
    this.started(id);
  }

  // ---- Between switches -------------------------------------------------------------------

  /** A switch's message to every other host it knows. */
  broadcast(fields: Record<string, unknown>): void {
    for (const url of this.host.knownHosts()) this.control1(url, fields);
  }

  /**
   * A guest ended here but started on `origin`: that host hears so after the
   * guest's last messages to it (the link keeps their order), so a published
   * port's relay there has every byte the guest sent before it closes.
   */
  endedHere(guest: string, origin: string): void {
    if (origin !== this.host.url) this.control1(origin, { kind: "ended", guest });
  }

  /** A switch's message to one host, in order with the guests' messages to it. */
  tell(url: string, fields: Record<string, unknown>): void {
    this.control1(url, fields);
  }

  private control1(url: string, fields: Record<string, unknown>): void {
    this.links.send(url, { to: "", from: "", ...fields } as GuestMessage);
  }

  /** A switch's message from another host; one whose fields do not hold is ignored, with a line in the log. */
  private control(m: Record<string, unknown>): void {
    const why = controlFault(m);
    if (why) { this.host.log(`a ${String(m.kind)} from another host was ignored: ${why}`); return; }
    const guest = String(m.guest ?? "");
    switch (m.kind) {
      case "located": this.learnPlace(guest, String(m.at)); return;
      case "nack": this.lookFor(m.message as Routed); return;
      case "where": {
        // Only a running guest is "here": one frozen or arriving is asked again (LOOK_AGAIN_MS) until it runs somewhere.
        // So is a replica kept here (issue 13): its primary may have died and this host be taking it over, so saying
        // "absent" could make the asker give up on a guest about to run (its streams reset).
        const here = this.host.guestHere(guest);
        const asker = String(m.asker);
        if (here?.state === "running") this.control1(asker, { kind: "here", guest, place: { ...here.place, at: this.host.url } });
        else if (!here && !this.left.has(guest) && !this.host.keepsReplica?.(guest)) this.control1(asker, { kind: "absent", guest, host: this.host.url });
        return;
      }
      case "absent": this.absent(guest, String(m.host)); return;
      case "here": this.found(guest, m.place as GuestPlace); return;
      case "name": this.host.nameHeard?.(m); return;
      case "member": return; // a host said hello on its link: learnt as a member there (src/cluster/members.ts)
      case "ended": this.directory.delete(guest); this.host.endedElsewhere?.(guest); return;
    }
  }

  /**
   * A refused message waits until its guest is found; the first one asks
   * every known host, again after each silence of LOOK_AGAIN_MS (a frozen
   * guest is found, refuses again, and is asked again until it runs), and gives up after GIVE_UP_MS.
   */
  private lookFor(m: Routed): void {
    const waiting = this.lost.get(m.to);
    if (waiting) { waiting.push(m); return; }
    this.lost.set(m.to, [m]);
    this.counts.of(m.to).resent++;
    const started = Date.now();
    const ask = () => {
      if (!this.lost.has(m.to)) return;
      const here = this.host.guestHere(m.to);
      if (here?.state === "running") { this.found(m.to, here.place); return; }
      const hosts = this.host.knownHosts();
      if (Date.now() - started > GIVE_UP_MS || (hosts.length === 0 && !here)) { this.giveUp(m.to); return; }
      this.absentAt.set(m.to, new Set());
      for (const url of hosts) this.control1(url, { kind: "where", guest: m.to, asker: this.host.url });
      setTimeout(ask, LOOK_AGAIN_MS).unref();
    };
    ask();
  }

  /** Hosts that said they have nothing of a guest being looked for (this round). */
  private readonly absentAt = new Map<string, Set<string>>();

  /** Every known host said it has nothing of `guest` (and it is not here): it is gone. */
  private absent(guest: string, host: string): void {
    const said = this.absentAt.get(guest);
    if (!said || !this.lost.has(guest)) return;
    said.add(host);
    if (this.host.guestHere(guest) || this.left.has(guest)) return;
    if (this.host.knownHosts().every((url) => said.has(url))) this.giveUp(guest);
  }

  private found(guest: string, place: GuestPlace): void {
    if (!this.host.guestHere(guest)) this.directory.set(guest, place);
    const left = this.left.get(guest);
    if (left) left.to = place.at;
    const waiting = this.lost.get(guest) ?? [];
    this.lost.delete(guest);
    this.absentAt.delete(guest);
    for (const m of waiting) this.route({ ...m, hops: [] });
  }

  /** Its guest is nowhere: the senders' kernels hear so (a connect is refused, a stream reset, a datagram dropped). */
  private giveUp(guest: string): void {
    const waiting = this.lost.get(guest) ?? [];
    this.lost.delete(guest);
    this.absentAt.delete(guest);
    this.host.log(`messages for guest ${guest}: no host knows it; ${waiting.length} given up`);
    for (const m of waiting) {
      if (m.kind === "dgram") { this.counts.of(guest).dropped++; continue; }
      if (m.kind === "reset" || m.kind === "refuse") continue;
      // No fromPlace: the lost guest's place is not learnt from it.
      const answer = { to: m.from, from: guest, kind: m.kind === "syn" ? "refuse" : "reset", conn: reversed(m.conn) };
      this.route({ ...answer, id: `${this.idPrefix}-${this.nextId++}`, hops: [], sentAt: Date.now() } as unknown as Routed);
    }
  }

  private learnPlace(guest: string, at: string): void {
    if (this.host.guestHere(guest)) return;
    const known = this.directory.get(guest);
    if (known) this.directory.set(guest, { ...known, at });
    const left = this.left.get(guest);
    if (left) left.to = at; // an old host's forwarding address (or the origin's) points to the newest place
  }

  /** A message says where its sender runs: replies go straight there. */
  private learnSender(m: Routed): void {
    if (!m.fromPlace || this.host.guestHere(m.from)) return;
    this.directory.set(m.from, m.fromPlace);
  }

  private noteCorrespondent(guest: string, host: string): void {
    if (host === this.host.url) return;
    let set = this.correspondents.get(guest);
    if (!set) { set = new Set(); this.correspondents.set(guest, set); }
    set.add(host);
  }
}

const isUrl = (v: unknown) => typeof v === "string" && /^wss?:\/\/\S+$/.test(v) && v.length < 1024;
const isPlace = (v: unknown) => typeof v === "object" && v !== null && isUrl((v as GuestPlace).at) && isUrl((v as GuestPlace).origin)
  && ["resend", "origin", "traversal", "update"].includes((v as GuestPlace).forwarding);

/** What is wrong with a switch's message, or undefined. */
function controlFault(m: Record<string, unknown>): string | undefined {
  if (["located", "where", "here", "absent", "ended"].includes(String(m.kind)) && (typeof m.guest !== "string" || m.guest === "")) return "no guest named";
  if (m.kind === "located" && !isUrl(m.at)) return "at is not a host URL";
  if (m.kind === "where" && !isUrl(m.asker)) return "asker is not a host URL";
  if (m.kind === "here" && !isPlace(m.place)) return "place is not {at, origin, forwarding}";
  if (m.kind === "absent" && !isUrl(m.host)) return "host is not a host URL";
  if (m.kind === "nack") {
    const r = m.message as Record<string, unknown> | undefined;
    if (typeof r !== "object" || r === null || typeof r.to !== "string" || r.to === "" || !Array.isArray(r.hops)) return "message is not a guest's message";
  }
  return undefined;
}

const LOOK_AGAIN_MS = 20;
const ADDRESS_IDLE_MS = 5000;
const GIVE_UP_MS = 10_000;

function reversed(conn: unknown): unknown {
  return Array.isArray(conn) && conn.length === 2 ? [conn[1], conn[0]] : conn;
}

function dataLength(m: GuestMessage): number {
  return m.data instanceof Uint8Array ? m.data.length : 0;
}

/** The host a message was first sent from (where its sender's host waits for a nack). */
function originOf(m: Routed): string {
  return m.hops[0] ?? m.fromPlace.at;
}
