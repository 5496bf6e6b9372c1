// The balancer of one host (`roam host --balance POLICY`): every ROUND_MS it
// asks its policy whether to act (policy.ts), and if so which guest (which.ts)
// goes where (where.ts) — or, receiver-initiated, asks an overloaded member to
// send one here, which that member decides with the same which and where.
// With locality (locality.ts) a round in which the load policy has nothing to
// do may move a guest next to the host it exchanges most data with; and a load
// move never takes a guest where locality would bring it straight back from.
// Every decision is logged with its reason and kept for `roam stats --cluster`
// (decisions, migrations, refusals). After a move it waits COOLDOWN_MS, and
// until a vector of the destination made after the move arrives it counts
// the guest there itself (vectors lag by up to ~1 s: the next round saw the
// member idle still, and sent it another). A member a move to
// which failed may have died, and the membership marks it down only DOWN_MS
// after its last vector: it is left out of decisions for twice that, by which
// time a dead member is marked down (and leaves them for good).

import type { LoadVector } from "../load-vector.js";
import { DOWN_MS } from "../membership.js";
import { balancePolicy, mostToGain, type BalancePolicy, type PolicyName } from "./policy.js";
import { MIN_RESIDENCE_MS, whichGuests, type MovableGuest } from "./which.js";
import type { Locality } from "./locality.js";
import { preferredMove } from "./preference.js";
import { MIN_GAIN, speedOf } from "./speed.js";
import { where } from "./where.js";
import { nowMs } from "../../machine/host-clock.js";

// Every load vector (EXCHANGE_MS); a move waits for one more. They were 1 s and 3 s, which let a host shed at most one
// guest every 3 s while bench:balance's guests mostly live 1-5 s: moves came too late and too few to pay.
const ROUND_MS = 500;
const COOLDOWN_MS = 1000;
const KEPT = 50;

/** How often a balancer decides, how long it waits after a move, and how long it leaves out a member a move to which failed (tests shorten them). */
export interface BalancerTiming { roundMs: number; cooldownMs: number; avoidMs: number }

export interface Decision {
  at: string; // ISO time
  policy: string; // sender, receiver, symmetric, locality or both ("symmetric,locality"); "none": a host without --balance, answering a receiver's request
  action: "migrate" | "ask" | "decline" | "failed";
  guest?: string;
  from: string;
  to: string;
  reason: string;
}

export interface BalancerHost {
  readonly name: string;
  /** This host's newest vector, and the members up (not this host). */
  view(): { self: LoadVector; others: LoadVector[] };
  movable(): MovableGuest[];
  /** Migrates a guest here to `to` (precopy); rejects saying why (the guest then runs on here, or is lost, as the reason says). */
  migrate(guest: string, to: string): Promise<void>;
  /** Whether the guest runs here (after a failed move: thawed, or lost when the destination took the commit and cannot say). */
  runsHere(guest: string): boolean;
  /** Asks the member at `url` to send a guest to this host; its answer. */
  askForGuest(url: string): Promise<{ moved?: string; declined?: string }>;
  log(line: string, level: "info" | "warn"): void;
}

export class Balancer {
  readonly decisions: Decision[] = [];
  readonly counts = { decisions: 0, migrations: 0, refusals: 0, failures: 0 };
  private readonly policy: BalancePolicy | undefined;
  private timer: NodeJS.Timeout | undefined;
  private quietUntil = 0;
  private busy = false;
  private readonly timing: BalancerTiming;
  /**
   * When a move (or a request for work) to a member last failed, by its URL.
   * A failure is the freshest news of a member that may have died, fresher
   * than its vectors (one sent just before it died may still arrive after):
   * no decision picks it for avoidMs, by when the membership has marked a
   * dead member down.
   */
  private readonly failedAt = new Map<string, number>();
  /** Moves from this host that its view of their destination does not show yet, by its URL: when each ended. */
  private readonly sentAt = new Map<string, number[]>();

  /**
   * `policy` undefined: this host takes no load initiative, but answers receivers that ask it for work.
   * `locality`: moves guests next to the hosts they exchange most data with (locality.ts), when the load policy has nothing to do.
   */
  constructor(private readonly host: BalancerHost, policy: PolicyName | undefined, private readonly locality?: Locality, timing: Partial<BalancerTiming> = {}) {
    this.policy = policy === undefined ? undefined : balancePolicy(policy);
    this.timing = { roundMs: ROUND_MS, cooldownMs: COOLDOWN_MS, avoidMs: 2 * DOWN_MS, ...timing };
  }

  get policyName(): string {
    return [this.policy?.name, this.locality ? "locality" : undefined].filter(Boolean).join(",") || "none";
  }

  /** Rounds run on every host, with or without a policy: guests that prefer labels this host lacks move (preference.ts). */
  start(): void {
    const round = () => { void this.round().finally(() => { this.timer = setTimeout(round, this.timing.roundMs); this.timer.unref(); }); };
    this.timer = setTimeout(round, this.timing.roundMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async round(): Promise<void> {
    if (this.busy || nowMs() < this.quietUntil) return;
    const { self, others } = this.view();
    this.locality?.measure(this.host.movable()); // every round, so a load move can ask it (wouldReturn)
    const preferred = preferredMove(self, this.host.movable(), others);
    if (preferred) {
      this.busy = true;
      try {
        await this.migrate(self, preferred.guest.id, preferred.member, preferred.reason);
      } finally {
        this.busy = false;
      }
      return;
    }
    const initiative = this.policy?.whether(self, others);
    if (!initiative) { await this.nearer(self, others); return; }
    this.busy = true;
    try {
      if (initiative.kind === "push") await this.push(self, others, initiative.reason);
      else await this.pull(self, others, initiative.reason);
    } finally {
      this.busy = false;
    }
  }

  /** The host's view without the members a move to which failed lately. */
  private view(): { self: LoadVector; others: LoadVector[] } {
    const { self, others } = this.host.view();
    const now = nowMs();
    for (const [url, at] of this.failedAt) if (now - at >= this.timing.avoidMs) this.failedAt.delete(url);
    return { self, others: others.filter((m) => !this.failedAt.has(m.url)).map((m) => this.withMovesSent(m, now)) };
  }

  /**
   * A member as it is once the guests this host sent it since its vector was
   * made are there: each a busy guest more (running, and wanting all it can
   * get). A vector made after a move counts the guest itself.
   */
  private withMovesSent(m: LoadVector, now: number): LoadVector {
    const times = this.sentAt.get(m.url);
    if (!times) return m;
    const madeAt = now - ((m as LoadVector & { ageMs?: number }).ageMs ?? 0);
    const pending = times.filter((t) => t > madeAt);
    if (!pending.length) { this.sentAt.delete(m.url); return m; }
    this.sentAt.set(m.url, pending);
    const n = pending.length;
    return { ...m, guests: m.guests + n, runnable: m.runnable + n, ipsWanted: m.ipsWanted + n * speedOf(m) };
  }

  private sent(member: LoadVector): void {
    this.counts.migrations++;
    this.sentAt.set(member.url, [...(this.sentAt.get(member.url) ?? []), nowMs()]);
  }

  /** A failed move's reason: the error, and where the guest is now (a failure before the commit leaves it running here). */
  private failure(guest: string, error: Error): string {
    return `migration failed, ${this.host.runsHere(guest) ? "the guest runs on here" : "the guest does not run here"}: ${error.message}`;
  }

  private failedWith(member: LoadVector): void {
    this.failedAt.set(member.url, nowMs());
  }

  /** Records the decision, migrates, and records a failure (the guest then runs on here). */
  private async migrate(self: LoadVector, guest: string, to: LoadVector, reason: string): Promise<void> {
    this.record({ action: "migrate", guest, from: self.name, to: to.name, reason });
    this.quietUntil = nowMs() + this.timing.cooldownMs;
    try {
      await this.host.migrate(guest, to.url);
      this.sent(to);
    } catch (error) {
      this.failedWith(to);
      this.record({ action: "failed", guest, from: self.name, to: to.name, reason: this.failure(guest, error as Error) });
    }
  }

  /** Sends the best guest to the best member for it; false when none fits. */
  private async push(self: LoadVector, members: LoadVector[], why: string): Promise<boolean> {
    for (const { guest, reason } of whichGuests(this.host.movable())) {
      const target = where(self, guest, members);
      if (!target || this.locality?.wouldReturn(guest, self, target.member)) continue;
      await this.migrate(self, guest.id, target.member, `${why}; which: ${reason}; where: ${target.reason}`);
      return true;
    }
    return false;
  }

  /** The locality policy's move, if it finds one worth it. */
  private async nearer(self: LoadVector, members: LoadVector[]): Promise<void> {
    const move = this.locality?.decide(self, members, this.host.movable());
    if (!move) return;
    this.busy = true;
    try {
      await this.migrate(self, move.guest.id, move.member, move.reason);
    } finally {
      this.busy = false;
    }
  }

  /** Receiver-initiated: asks the most loaded member to send a guest here. */
  private async pull(self: LoadVector, members: LoadVector[], why: string): Promise<void> {
    const busiest = mostToGain(self, members);
    if (!busiest) return;
    this.record({ action: "ask", from: busiest.name, to: self.name, reason: `${why}; asked ${busiest.name}, whose guests would gain most here` });
    try {
      const answer = await this.host.askForGuest(busiest.url);
      if (answer.moved) {
        this.counts.migrations++;
        this.quietUntil = nowMs() + this.timing.cooldownMs; // its own next vector counts the guest
      } else {
        // Nothing moved: the next round may ask again (waiting the cooldown left receivers idle while guests queued).
        this.record({ action: "decline", from: busiest.name, to: self.name, reason: `${busiest.name} declined: ${answer.declined}` });
      }
    } catch (error) {
      this.failedWith(busiest);
      this.record({ action: "failed", from: busiest.name, to: self.name, reason: `asking ${busiest.name} failed: ${(error as Error).message}` });
    }
  }

  /** A receiver asks this host for a guest: decided here, with the same which and where, for that receiver only. */
  async asked(by: string): Promise<{ moved?: string; declined?: string }> {
    const { self, others } = this.view();
    const receiver = others.filter((m) => m.url === by || m.url === by.replace(/\/$/, ""));
    if (!receiver.length) return this.declined(self, by, "not a member up here");
    if (this.busy) return this.declined(self, receiver[0].name, "a balancing migration is under way");
    this.busy = true;
    try {
      const candidates = whichGuests(this.host.movable());
      if (!candidates.length) return this.declined(self, receiver[0].name, `no guest here is old enough to be worth its move, or has stayed the minimum residence (${MIN_RESIDENCE_MS / 1000} s)`);
      for (const { guest, reason } of candidates) {
        const target = where(self, guest, receiver, "least");
        if (!target || this.locality?.wouldReturn(guest, self, target.member)) continue;
        this.record({ action: "migrate", guest: guest.id, from: self.name, to: target.member.name, reason: `${target.member.name} asked for work; which: ${reason}; where: ${target.reason}` });
        this.quietUntil = nowMs() + this.timing.cooldownMs;
        await this.host.migrate(guest.id, target.member.url).catch((error: Error) => {
          this.failedWith(target.member);
          this.record({ action: "failed", guest: guest.id, from: self.name, to: target.member.name, reason: this.failure(guest.id, error) });
          throw error;
        });
        this.sent(target.member);
        return { moved: guest.id };
      }
      return this.declined(self, receiver[0].name, `no guest here fits ${receiver[0].name} (its labels, its free memory), or would run ${MIN_GAIN}x faster there`);
    } finally {
      this.busy = false;
    }
  }

  private declined(self: LoadVector, to: string, reason: string): { declined: string } {
    this.record({ action: "decline", from: self.name, to, reason });
    return { declined: reason };
  }

  private record(d: Omit<Decision, "at" | "policy">): void {
    const decision = { at: new Date().toISOString(), policy: this.policyName, ...d };
    this.decisions.push(decision);
    if (this.decisions.length > KEPT) this.decisions.shift();
    this.counts.decisions++;
    if (d.action === "decline") this.counts.refusals++;
    if (d.action === "failed") this.counts.failures++;
    this.host.log(`balance (${decision.policy}): ${d.action}${d.guest ? ` guest ${d.guest}` : ""} ${d.from} -> ${d.to}: ${d.reason}`, d.action === "failed" ? "warn" : "info");
  }
}
