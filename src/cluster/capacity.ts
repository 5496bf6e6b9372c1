// `roam host --capacity 200M`: the instructions per second a host gives its
// guests at most, shared fairly among those that want to run. Without it a
// host uses what it gets; with it, hosts of known, different speeds can share
// one machine, and balancing between them can be measured honestly.
//
// Each guest's run loop asks its share, after each batch, how long to wait
// before the next (a token bucket per guest): a share fills at capacity / n
// instructions per second, n being the guests that ran or waited on the cap
// in the last ACTIVE_MS (a guest blocked in a system call or sleeping takes
// none), and a batch spends what it retired. A share in debt waits until it
// is paid; an idle share keeps at most BURST_MS worth, so the cap holds over
// any second up to one burst per guest. A batch also ends once it has spent
// what its share held (`allowance`): an uncapped batch is ~8 ms of full speed,
// seconds of a small host's capacity, and a short guest ended inside its first
// batch before any wait was asked of it, so it never felt the cap.

import { nowMs } from "../machine/host-clock.js";

const ACTIVE_MS = 50;
const BURST_MS = 20;
const MIN_ALLOWANCE_MS = 1; // a batch may always run this long a share's worth (then pays by waiting)

class Share {
  tokens = 0;
  /** When the share last paced a batch (the "wanted" count measures from there). */
  lastAt: number;
  /** When the bucket was last brought up to date (a batch's start, when it asked its allowance). */
  settledAt: number;
  activeUntil = 0;
  /** The wait imposed after the previous batch (part of the time until this one). */
  lastWaitMs = 0;
  constructor(now: number) {
    this.lastAt = this.settledAt = now;
  }
}

export class CapacityPacer {
  private readonly shares = new Set<Share>();
  /** Instructions the guests would have retired without the cap (a counter; the load vector's "wanted"). */
  wanted = 0;

  /**
   * `ips`: instructions per second, the host's whole capacity. `clock` (ms) is
   * performance.now unless a test drives time itself.
   */
  constructor(
    readonly ips: number,
    private readonly clock: () => number = nowMs,
  ) {
    if (!(ips > 0)) throw new Error(`capacity ${ips}: must be more than 0 instructions per second`);
  }

  /**
   * A new guest's share: call it after each batch with the instructions the
   * batch retired; it answers how long to wait (ms) before the next. Drop it
   * with `end` when the guest stops running here.
   */
  share(): { pace: (ran: number) => number; allowance: () => number; end: () => void } {
    const share = new Share(this.clock());
    this.shares.add(share);
    return { pace: (ran) => this.pace(share, ran), allowance: () => this.allowance(share), end: () => this.shares.delete(share) };
  }

  /**
   * Instructions the share's next batch may retire: what it holds now (its
   * bucket, refilled by the idle time and clamped to the burst), at least
   * MIN_ALLOWANCE_MS worth. Asked at a batch's start, so `pace` can tell the
   * batch's own time from the idle time before it.
   */
  private allowance(share: Share): number {
    const now = this.clock();
    const perMs = this.ips / 1000 / this.activeShares(now, share);
    share.tokens = Math.min(share.tokens + (now - share.settledAt) * perMs, BURST_MS * perMs);
    share.settledAt = now;
    return Math.max(Math.floor(share.tokens), Math.ceil(MIN_ALLOWANCE_MS * perMs), 1000);
  }

  private pace(share: Share, ran: number): number {
    const now = this.clock();
    const elapsed = now - share.lastAt;
    // What it would have run in the time it was held, at the pace it ran when not held.
    const ranFor = elapsed - share.lastWaitMs;
    this.wanted += ranFor > 0.05 ? ran * (elapsed / ranFor) : ran;
    share.activeUntil = now + ACTIVE_MS;
    const perMs = this.ips / 1000 / this.activeShares(now);
    // The time since the bucket was settled (the batch's own, when it asked its allowance) fills it; the clamp
    // at the burst leaves the batch's own instructions out, so a timer that fired late cannot cost the guest its share.
    share.tokens = Math.min(share.tokens + (now - share.settledAt) * perMs, BURST_MS * perMs + ran) - ran;
    share.lastAt = share.settledAt = now;
    const waitMs = share.tokens >= 0 ? 0 : -share.tokens / perMs;
    share.lastWaitMs = waitMs;
    share.activeUntil = now + waitMs + ACTIVE_MS;
    return waitMs;
  }

  /** The shares that ran or waited on the cap lately (`including`: one about to run, counted even if it has not yet). */
  private activeShares(now: number, including?: Share): number {
    let n = 0;
    for (const s of this.shares) if (s.activeUntil >= now || s === including) n++;
    return Math.max(n, 1);
  }
}

/** "200M", "1.5G", "50000000": instructions per second (M = 10^6, G = 10^9, k = 10^3). */
export function parseCapacity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:ips)?$/i.exec(text.trim());
  const scale: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9 };
  const ips = match ? Number(match[1]) * scale[match[2].toLowerCase()] : NaN;
  if (!(ips >= 1000)) throw new Error(`--capacity ${text}: expected instructions per second, at least 1k, such as 200M or 1.5G`);
  return Math.round(ips);
}
