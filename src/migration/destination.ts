// The receiving side of a migration, one per incoming connection from a source
// host. Pages go straight into a fresh core's RAM; the guest is rebuilt from
// the state when it arrives, and starts only on the source's commit. If the
// connection drops before the commit, everything received is dropped: the
// source still has the guest and thaws it.
//
// Postcopy: pages the source has not sent yet are marked missing; a touch
// exits to us, we ask the source for that page and the instruction restarts.

import { HOST_BITMAP } from "../../assembly/layout.js";
import { Core } from "../machine/core.js";
import { createConnection } from "node:net";
import type { Peer } from "../net/peer.js";
import { RESUME_MS } from "./source.js";
import { bytes, ProtocolError, type Message } from "../net/protocol.js";
import type { PostcopyPages } from "../machine/postcopy-pages.js";
import { applyChanges, changedSections, type SnapshotChanges } from "../snapshot/changes.js";
import { decodeSnapshot, type GuestInfo, type GuestSnapshot } from "../snapshot/snapshot.js";
import { epochMs, trace, tracing } from "./trace.js";
import { PAGE, forEachRun, markWritten, prefault, readBatch } from "./pages.js";
import { nowMs } from "../machine/host-clock.js";

/** What the receiver needs from the host it runs in. */
export interface ReceivingHost {
  readonly name: string;
  hasGuest(id: string): boolean;
  /** Admits a guest of this size against the host's memory budget (held until `arriving(id, undefined)`), or throws why not. */
  reserve(info: GuestInfo): void;
  /** Registers (or, with undefined, forgets) the arrival of guest `id`, so a second connection can join it. */
  arriving(id: string, receiver: MigrationReceiver | undefined): void;
  /** The guest that arrived here cannot go on (its postcopy source went away with pages it needs): stop it, saying why. */
  lose(id: string, reason: string): void;
  /** Builds the guest from a snapshot on `core`, whose RAM already holds the pages; not started yet. */
  prepare(core: Core, snapshot: GuestSnapshot, pages: PostcopyPages): PreparedGuest;
  log?(line: string, level?: "info" | "warn" | "error"): void;
  /** Why a guest arriving from host `from` must not start here (replication: its backup took it over), if it must not. */
  refusesArrival?(id: string, from: string | undefined): string | undefined;
}

export interface PreparedGuest {
  /** Brings it up to a later snapshot of the same guest; `changed` names the kernel sections that differ. */
  update(snapshot: GuestSnapshot, changed: ReadonlySet<string>): void;
  start(): void;
  discard(): void;
}


export class MigrationReceiver {
  private core: Core | undefined;
  private info: GuestInfo | undefined;
  private prepared: PreparedGuest | undefined;
  private started = false;
  private stateError: string | undefined; // why the last state could not be used
  private final = false; // the prepared guest holds the final state: a commit may start it
  private base: GuestSnapshot | undefined; // the prestate the prepared guest was built from
  /** The pages a guest arriving by postcopy still waits for (none, until a state says otherwise). */
  private readonly postcopyPages: PostcopyPages = ((receiver: MigrationReceiver) => ({
    isMissing: (page: number) => receiver.isMissing(page),
    fetch: (page: number) => receiver.fetch(page),
    get arriving() { return receiver.missingCount > 0; },
  }))(this);
  private missing: Uint8Array | undefined; // postcopy: bit per page not here yet
  private missingCount = 0;
  private readonly waiters = new Map<number, Array<() => void>>();

  private mark(point: string): void {
    if (tracing) trace(`[${this.host.name}] arrival ${this.info?.id ?? "?"} ${point} at ${epochMs().toFixed(3)} ms`);
  }

  constructor(private readonly host: ReceivingHost, private peer: Peer, private readonly from?: string) {
    this.watch(peer);
  }

  private watch(peer: Peer): void {
    void peer.closed.then(() => {
      if (peer !== this.peer) return; // replaced by a resumed link
      if (!this.started && this.info) {
        // The source cancelled, failed, or could not be waited for (this host stopped answering): it runs the guest.
        this.host.log?.(`arrival of guest ${this.info.id} from ${this.from ?? "a host"} dropped: the connection closed before the commit`, "warn");
        this.prepared?.discard();
      }
      if (this.started && this.missingCount > 0) { void this.awaitSource(); return; } // still findable by mig-resume
      if (this.info) this.host.arriving(this.info.id, undefined);
    });
  }

  /**
   * Postcopy recovery: the link to the source broke while this guest still
   * needs pages from it. The guest runs on; a fault waits. The source opens
   * the link again (mig-resume); if it does not within RESUME_MS, or its
   * host is certainly gone (its port refuses connections), the guest is lost.
   */
  private async awaitSource(): Promise<void> {
    const id = this.info!.id;
    const broken = this.peer;
    const deadline = nowMs() + RESUME_MS;
    this.host.log?.(`guest ${id}: the link to its postcopy source broke with ${this.missingCount} pages not yet here; its faults wait while the source reconnects`, "warn");
    while (this.peer === broken && this.missingCount > 0) {
      if (nowMs() > deadline) return this.sourceGone(`did not come back within ${RESUME_MS / 1000} s`);
      if (this.from !== undefined && (await refuses(this.from))) return this.sourceGone("its host is gone");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** mig-resume: the source's new link after a break; answered with the pages still missing, and waiting faults are asked again. */
  resume(peer: Peer, m: Message): void {
    if (!this.started) throw new ProtocolError(`mig-resume: no broken postcopy of ${this.info?.id ?? "this guest"} here`);
    // The source has given its link up: it may not have closed here yet, or every page may have landed before the
    // source heard so (it is told nothing is missing, and completes on this link).
    const old = this.peer;
    this.peer = peer;
    this.watch(peer);
    if (old.open) old.terminate();
    peer.reply(m, { missing: this.missing ?? new Uint8Array(0) });
    if (this.missingCount === 0) return;
    for (const page of this.waiters.keys()) peer.send({ t: "mig-page-request", page });
    this.host.log?.(`guest ${this.info!.id}: its postcopy source is back; ${this.missingCount} pages to come`, "info");
  }

  /** Handles one migration message (from the main or the urgent connection); returns false if it is not one. */
  async handle(m: Message, from: Peer = this.peer): Promise<boolean> {
    switch (m.t) {
      case "mig-round": from.reply(m); return true;
      case "mig-begin": await this.begin(m); return true;
      case "mig-pages":
        this.pages(m);
        // Postcopy pushes (round 0 on the main connection) are acknowledged, which paces the source.
        if (from === this.peer && m.round === 0) this.peer.send({ t: "mig-pushed" });
        return true;
      case "mig-prestate":
        this.prestate(m);
        this.peer.reply(m);
        return true;
      case "mig-prestate-changes":
        this.prestateChanges(m);
        this.peer.reply(m);
        return true;
      case "mig-state": return this.takeState(m), true;
      case "mig-commit": return this.commit(m), true;
      case "mig-complete": this.peer.reply(m); return true;
      case "mig-abort": this.prepared?.discard(); this.prepared = undefined; this.final = false; return true;
      default: return false;
    }
  }

  private async begin(m: Message): Promise<void> {
    const info = m.guest as GuestInfo;
    if (typeof info !== "object" || info === null || typeof info.id !== "string" || typeof info.ramBytes !== "number") {
      throw new ProtocolError("mig-begin: guest info missing");
    }
    if (!Number.isInteger(info.ramBytes) || info.ramBytes <= 0 || info.ramBytes % PAGE || info.ramBytes > 1 << 30) {
      throw new ProtocolError(`mig-begin: bad RAM size ${info.ramBytes}`);
    }
    if (m.expected !== undefined && !(m.expected instanceof Uint8Array)) throw new ProtocolError("mig-begin: expected must be a bitmap (binary)");
    if (m.expected instanceof Uint8Array && m.expected.length > Math.ceil(info.ramBytes / PAGE / 8)) {
      throw new ProtocolError("mig-begin: expected-page bitmap is longer than RAM");
    }
    if (this.host.hasGuest(info.id)) throw new ProtocolError(`guest ${info.id} already runs on ${this.host.name}`);
    this.host.reserve(info); // before any memory is made
    this.info = info;
    this.host.arriving(info.id, this);
    this.core = await Core.load();
    this.core.init(info.ramBytes);
    // The source has not frozen the guest yet: make the memory of the pages it
    // will send ready now, not inside the downtime. (The core is fresh, all zeros.)
    if (m.expected instanceof Uint8Array) await prefault(this.core.ram, m.expected, () => this.peer.open);
    this.peer.reply(m, { host: this.host.name });
  }

  private pages(m: Message): void {
    if (!this.core || !this.info) throw new ProtocolError("mig-pages before mig-begin");
    const batch = readBatch(bytes(m, "indices"), bytes(m, "data"), bytes(m, "zero"), this.info.ramBytes / PAGE);
    const ram = this.core.ram;
    // One copy per run of consecutive pages, not one per page.
    forEachRun(batch.indices, (page, index, count) => ram.set(batch.data.subarray(index * PAGE, (index + count) * PAGE), page * PAGE));
    markWritten(this.core, batch.indices);
    if (this.missing) for (const page of batch.indices) this.arrived(page);
    for (const page of batch.zero) {
      ram.fill(0, page * PAGE, page * PAGE + PAGE);
      if (this.missing) this.arrived(page);
    }
  }

  private arrived(page: number): void {
    const missing = this.missing;
    if (!missing || !(missing[page >>> 3] & (1 << (page & 7)))) return;
    missing[page >>> 3] &= ~(1 << (page & 7));
    this.missingCount--;
    // A postcopy guest is running: it may have decoded this page's old (absent) contents. Tell the core.
    this.core!.exports.setPagePresent(page, 1);
    const waiting = this.waiters.get(page);
    if (waiting) { this.waiters.delete(page); for (const w of waiting) w(); }
  }

  /**
   * Takes the final state in. It is not answered: a state that cannot be used
   * fails the commit that follows it. Usually it brings only the changes since
   * the prestate, which came (answered) before the freeze and from which the
   * guest was built; it may also be a whole snapshot.
   */
  private takeState(m: Message): void {
    this.stateError = undefined;
    this.final = false;
    try {
      this.finalState(m);
    } catch (error) {
      this.stateError = (error as Error).message;
    }
  }

  private begun(what: string): { core: Core; info: GuestInfo } {
    if (!this.core || !this.info) throw new ProtocolError(`${what} before mig-begin`);
    return { core: this.core, info: this.info };
  }

  private decodeState(m: Message, what: string): GuestSnapshot {
    const snapshot = decodeSnapshot(bytes(m, "snapshot"));
    if (snapshot.guest.id !== this.info!.id) throw new ProtocolError(`${what} for ${snapshot.guest.id}, begun for ${this.info!.id}`);
    return snapshot;
  }

  /** The state before the freeze: the guest is built from it now (an error is the prestate's answer). */
  private prestate(m: Message): void {
    const { core } = this.begun("mig-prestate");
    this.base = undefined;
    this.final = false;
    this.prepared?.discard();
    this.prepared = undefined;
    const snapshot = this.decodeState(m, "mig-prestate");
    this.prepared = this.host.prepare(core, snapshot, this.postcopyPages);
    this.base = snapshot;
    this.mark("prestate prepared");
  }

  /** What changed in the state since the prestate, before the freeze: applied now, and the next changes are counted from it. */
  private prestateChanges(m: Message): void {
    this.begun("mig-prestate-changes");
    if (!this.base || !this.prepared) throw new ProtocolError("mig-prestate-changes without a prestate");
    const changes = m.changes as SnapshotChanges;
    const snapshot = applyChanges(this.base, changes);
    this.prepared.update(snapshot, changedSections(changes));
    this.base = snapshot;
    this.mark("prestate refreshed");
  }

  private finalState(m: Message): void {
    const { core } = this.begun("mig-state");
    this.mark("state received");
    if (m.changes !== undefined) {
      if (!this.base || !this.prepared) throw new ProtocolError("changes without a prestate");
      const changes = m.changes as SnapshotChanges;
      const snapshot = applyChanges(this.base, changes);
      this.mark("state decoded");
      this.markMissing(m);
      this.prepared.update(snapshot, changedSections(changes));
    } else {
      const snapshot = this.decodeState(m, "mig-state");
      this.mark("state decoded");
      this.markMissing(m);
      this.prepared?.discard();
      this.prepared = undefined;
      this.prepared = this.host.prepare(core, snapshot, this.postcopyPages);
    }
    this.base = undefined;
    this.final = true;
    this.mark("guest prepared");
  }

  /** Postcopy: the pages still to come (a bitmap) are marked not present, by the core (one call, 32 pages a step). */
  private markMissing(m: Message): void {
    const core = this.core!;
    const given = m.missing instanceof Uint8Array ? m.missing : new Uint8Array(0);
    if (given.length > Math.ceil(this.info!.ramBytes / PAGE / 8)) throw new ProtocolError("missing-page bitmap is longer than RAM");
    if (given.length === 0) return;
    core.memoryBytes.set(given, HOST_BITMAP);
    const count = core.exports.markMissing(given.length);
    if (count === 0) return;
    this.missing = Uint8Array.from(given);
    this.missingCount = count;
    this.mark("missing marked");
  }

  private isMissing(page: number): boolean {
    return this.missing !== undefined && (this.missing[page >>> 3] & (1 << (page & 7))) !== 0;
  }

  private fetch(page: number): Promise<void> {
    if (!this.isMissing(page)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(page);
      if (list) { list.push(resolve); return; }
      const asked = nowMs();
      this.waiters.set(page, [() => {
        this.peer.send({ t: "mig-fault-served", page, waitedMs: nowMs() - asked });
        resolve();
      }]);
      this.peer.send({ t: "mig-page-request", page });
    });
  }

  /**
   * Postcopy: the source went away with pages this guest still needs, and did
   * not come back. Without them it cannot go on: it is lost, and ps, stats and
   * attached clients say so.
   */
  private sourceGone(why: string): void {
    const missing = this.missingCount;
    this.host.arriving(this.info!.id, undefined);
    this.host.lose(this.info!.id, `lost: its postcopy source went away with ${missing} pages not yet here (${why})`);
    this.missing = undefined;
    this.missingCount = 0;
    const waiting = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const wake of waiting) wake(); // the run loop sees its stop request and ends
  }

  private commit(m: Message): void {
    if (this.stateError !== undefined) throw new ProtocolError(`mig-state: ${this.stateError}`);
    if (!this.prepared || !this.final) throw new ProtocolError("mig-commit before mig-state");
    const refusal = this.host.refusesArrival?.(this.info!.id, this.from);
    if (refusal) throw new ProtocolError(refusal);
    this.started = true;
    // Answer first: the guest's first instruction follows at once, and the source measures downtime to here.
    this.mark("commit received");
    this.peer.reply(m, { startedAt: Date.now() });
    this.prepared.start();
    this.mark("started");
  }
}

/** Whether nothing listens at host URL `url` any more (its port refuses connections): that host is gone. */
function refuses(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    let target: URL;
    try { target = new URL(url); } catch { resolve(false); return; }
    const socket = createConnection({ host: target.hostname, port: Number(target.port || (target.protocol === "wss:" ? 443 : 80)) });
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
    socket.once("connect", () => { socket.destroy(); resolve(false); });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}
