// Which hosts make up the cluster, and how loaded each is: a decentralised
// exchange of load vectors, as MOSIX spreads them. No host coordinates.
//
//   - Every EXCHANGE_MS (with jitter) a host makes its vector (load-vector.ts)
//     and sends it, with the freshest few vectors it holds of others, to
//     FANOUT random members; the answer carries the receiver's own and its
//     freshest few (push-pull). A member silent for PROBE_MS is sent to as
//     well, so its silence is tested directly, not left to chance.
//   - Each vector says how old it is (ms since its host made it, as the
//     sender knew it), so a relayed vector does not make a dead host look
//     fresh: a member whose newest vector anyone has is older than DOWN_MS is
//     marked down, and leaves decisions (placement sees only members up).
//   - `roam host --join URL` sends the first exchange to URL and takes the
//     whole table back: joining any one member is enough, the others learn
//     the newcomer from the vectors that follow. The link is a host link
//     (hello with the token): a wrong token is refused there.
//
// Every member learnt is added to Members (members.ts): the hosts this host
// contacts on its own and gives its token to.

import { connect, type Peer } from "../net/peer.js";
import type { TlsIdentity } from "../net/tls.js";
import { isLoadVector, type LoadVector } from "./load-vector.js";
import { hostUrlKey, type Members } from "./members.js";
import { nowMs } from "../machine/host-clock.js";

export const EXCHANGE_MS = 500;
const FANOUT = 2;
const RELAYED = 4; // others' vectors sent along with one's own
const PROBE_MS = 1000;
/** A member none of whose vectors is this fresh is down. */
export const DOWN_MS = 3000;
const ANSWER_MS = 2000;

export interface MemberView extends LoadVector {
  state: "self" | "up" | "down";
  /** How old the newest vector of it is, ms. */
  ageMs: number;
}

interface Entry { vector: LoadVector; heardAt: number; down: boolean }

export interface MembershipOptions {
  selfUrl: () => string;
  /** A new vector of this host (each call is a new measurement). */
  makeVector: () => LoadVector;
  members: Members;
  token?: string;
  tls?: TlsIdentity;
  log: (line: string, level: "info" | "warn") => void;
  /** A member was just marked down (`why`: the log's words): moves to it under way are cancelled (departures.ts). */
  onDown?: (url: string, why: string) => void;
}

export class JoinRefused extends Error {}

export class Membership {
  private readonly table = new Map<string, Entry>();
  private readonly links = new Map<string, Promise<Peer>>();
  private mine: LoadVector | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MembershipOptions) {}

  /**
   * Starts the exchange, joining through `urls` first: any one that answers is
   * enough (the others are tried, and logged when they do not answer); throws
   * JoinRefused, saying why, when none does, or when one refuses the token.
   */
  async start(urls: string[]): Promise<void> {
    this.mine = this.options.makeVector();
    const failures: string[] = [];
    for (const url of urls) {
      let key: string;
      try { key = hostUrlKey(url); } catch (error) { throw new JoinRefused(`--join ${(error as Error).message}`); }
      try {
        await this.exchangeWith(key, true);
        this.options.members.learn(key);
      } catch (error) {
        const why = (error as Error).message;
        if (why === "bad token") throw new JoinRefused(`--join ${url}: refused: wrong token (give the cluster's --token)`);
        failures.push(`--join ${url}: ${why}`);
      }
    }
    if (urls.length && failures.length === urls.length) throw new JoinRefused(failures.join("; "));
    for (const failure of failures) this.options.log(`${failure} (joined through another member)`, "warn");
    const tick = () => { this.tick(); this.timer = setTimeout(tick, EXCHANGE_MS * (0.75 + Math.random() * 0.5)); this.timer.unref(); };
    tick();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const link of this.links.values()) void link.then((peer) => peer.close(), () => {});
    this.links.clear();
  }

  /** An exchange from another host (a host link): takes its vectors, answers with ours. */
  receive(vectors: unknown): { vectors: Array<LoadVector & { ageMs: number }> } {
    this.merge(vectors);
    return { vectors: this.outgoing(undefined) };
  }

  /** Every member this host knows of, itself first. */
  view(): MemberView[] {
    const now = nowMs();
    const self = this.mine ? [{ ...this.mine, state: "self" as const, ageMs: 0 }] : [];
    return [...self, ...[...this.table.values()].map((e) => ({ ...e.vector, url: shown(e.vector.url), state: e.down ? "down" as const : "up" as const, ageMs: Math.round(now - e.heardAt) }))];
  }

  /** The members a decision may use: this host and every member up. */
  up(): LoadVector[] {
    return this.view().filter((m) => m.state !== "down");
  }

  /** What this host knows of `url` (undefined: not a member it has heard of). */
  about(url: string): MemberView | undefined {
    let key: string;
    try { key = hostUrlKey(url); } catch { return undefined; }
    return this.view().find((m) => hostUrlKey(m.url) === key);
  }

  /** A request to the member at `url` on the kept host link (a receiver asking for work). */
  async ask(url: string, message: { t: string } & Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    return (await this.link(hostUrlKey(url), false)).request(message, timeoutMs);
  }

  private tick(): void {
    this.mine = this.options.makeVector();
    this.markDown();
    const now = nowMs();
    const others = this.options.members.list().filter((url) => url !== this.self());
    const silent = others.filter((url) => { const e = this.table.get(url); return !e || now - e.heardAt > PROBE_MS; });
    const targets = new Set(pickRandom(others, FANOUT));
    for (const url of silent) targets.add(url);
    for (const url of targets) void this.exchangeWith(url, false).catch(() => {}); // silence is what marks a member down
  }

  private async exchangeWith(url: string, joining: boolean): Promise<void> {
    const peer = await this.link(url, joining);
    const answer = await peer.request({ t: "load", vectors: this.outgoing(url) }, ANSWER_MS);
    this.merge(answer.vectors, url);
  }

  /** A kept host link to `url` (opened again after it closes). */
  private link(url: string, joining: boolean): Promise<Peer> {
    const open = this.links.get(url);
    if (open) return open.then((peer) => (peer.open ? peer : this.reopen(url, joining)), () => this.reopen(url, joining));
    return this.reopen(url, joining);
  }

  private reopen(url: string, joining: boolean): Promise<Peer> {
    const opening = connect(url, { role: "host", token: this.options.token, tls: this.options.tls, url: this.options.selfUrl() });
    this.links.set(url, opening);
    opening.catch(() => { if (this.links.get(url) === opening && !joining) this.links.delete(url); });
    return opening;
  }

  /** Our vector and the freshest few others (not the receiver's own, nor any down). */
  private outgoing(to: string | undefined): Array<LoadVector & { ageMs: number }> {
    const now = nowMs();
    const others = [...this.table.values()].filter((e) => !e.down && e.vector.url !== to)
      .sort((a, b) => b.heardAt - a.heardAt).slice(0, RELAYED);
    return [{ ...this.mine!, ageMs: 0 }, ...others.map((e) => ({ ...e.vector, ageMs: Math.round(now - e.heardAt) }))];
  }

  private merge(vectors: unknown, via?: string): void {
    if (!Array.isArray(vectors)) return;
    const now = nowMs();
    for (const raw of vectors) {
      if (!isLoadVector(raw)) continue;
      const said = (raw as LoadVector & { ageMs?: unknown }).ageMs;
      const ageMs = typeof said === "number" && Number.isFinite(said) ? Math.max(0, said) : 0;
      let url: string;
      try { url = hostUrlKey(raw.url); } catch { continue; }
      if (url === this.self()) continue;
      const vector = ownFields(raw, url);
      const heardAt = now - ageMs;
      const known = this.table.get(url);
      if (known && !newer(vector, known.vector)) continue;
      this.table.set(url, { vector, heardAt: Math.max(heardAt, known?.heardAt ?? -Infinity), down: known?.down ?? false });
      if (!known) {
        this.options.members.learn(url);
        this.options.log(`member ${vector.name} (${shown(url)}) joined the cluster${via && via !== url ? ` (heard from ${shown(via)})` : ""}`, "info");
      }
    }
    this.markDown();
  }

  private markDown(): void {
    const now = nowMs();
    for (const [url, entry] of this.table) {
      const silentMs = now - entry.heardAt;
      if (!entry.down && silentMs > DOWN_MS) {
        entry.down = true;
        const why = `member ${entry.vector.name} (${shown(url)}) is down: no load vector for ${(silentMs / 1000).toFixed(1)} s`;
        this.options.log(why, "warn");
        this.options.onDown?.(url, why);
      } else if (entry.down && silentMs <= DOWN_MS) {
        entry.down = false;
        this.options.log(`member ${entry.vector.name} (${shown(url)}) is up again`, "info");
      }
    }
  }

  private self(): string {
    return hostUrlKey(this.options.selfUrl());
  }
}

/** A member's URL as people write it: ws://HOST:PORT, without the slash hostUrlKey adds. */
const shown = (url: string): string => url.replace(/\/$/, "");

/** A vector from the network rebuilt from its known fields only (nothing else rides along into views and relays). */
function ownFields(v: LoadVector, url: string): LoadVector {
  return {
    url, name: v.name.slice(0, 200), incarnation: v.incarnation, seq: v.seq, capacity: v.capacity, labels: v.labels.slice(0, 64),
    speed: typeof v.speed === "number" && Number.isFinite(v.speed) && v.speed > 0 ? v.speed : null, // null from a host that does not measure it
    guests: v.guests, runnable: v.runnable, ipsGiven: v.ipsGiven, ipsWanted: v.ipsWanted, memoryUsed: v.memoryUsed,
    memoryFree: v.memoryFree, dirtyBytesPerSecond: v.dirtyBytesPerSecond, messagesPerSecond: v.messagesPerSecond,
    crossingBytesPerSecond: Number.isFinite(v.crossingBytesPerSecond) ? v.crossingBytesPerSecond : 0, // 0 from a host that does not measure it
  };
}

/** Whether `a` is a later vector of its host than `b`. */
function newer(a: LoadVector, b: LoadVector): boolean {
  return a.incarnation > b.incarnation || (a.incarnation === b.incarnation && a.seq > b.seq);
}

function pickRandom<T>(items: T[], n: number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < n && pool.length) picked.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]);
  return picked;
}
