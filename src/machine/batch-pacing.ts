// How a guest's run loop paces itself, the same for both kinds of guest (the
// machine's loop and the kernel's): how long a batch of slices runs before the
// loop lets I/O in, how many instructions it may retire under the host's
// --capacity share, and how long the loop then sits idle (auto-converge's
// throttle during a precopy, or the capacity share's due, whichever is longer).

import { batchMs, type PostcopyPages } from "./postcopy-pages.js";
import { nowMs } from "./host-clock.js";

export class BatchPacing {
  private throttle = 0;
  /** The host's --capacity share: after each batch, how long (ms) to wait for the instructions it retired. */
  private pace: ((ran: number) => number) | undefined;
  /** The capacity cap: instructions a batch may retire before it ends and pays (src/cluster/capacity.ts). */
  private allowance: (() => number) | undefined;
  private freezeSoon = false; // a migration is about to freeze the guest

  /** Auto-converge: idle this fraction of the time (0 = full speed). */
  setThrottle(fraction: number): void {
    this.throttle = Math.min(Math.max(fraction, 0), 0.99);
  }

  /** The host's --capacity share (src/cluster/capacity.ts); undefined: run as fast as the host goes. */
  setPace(pace: ((ran: number) => number) | undefined, allowance?: () => number): void {
    this.pace = pace;
    this.allowance = pace ? allowance : undefined;
  }

  /** A migration is about to freeze the guest: short batches, so the request is seen within ~1 ms. */
  expectFreeze(soon: boolean): void {
    this.freezeSoon = soon;
  }

  /** How long (ms) the batch starting now may run: `normalMs`, or 1 ms while postcopy pages arrive or a freeze is near. */
  batchMs(pages: PostcopyPages | undefined, normalMs: number): number {
    return batchMs(pages, this.freezeSoon, normalMs);
  }

  /** How many instructions the batch starting now may retire (asked once, at its start: the share settles then). */
  allowed(): number {
    return this.allowance?.() ?? Infinity;
  }

  /** How long (ms) to sit idle after a batch that began at `startedAt` (nowMs()) and retired `ran` instructions. */
  idleAfter(startedAt: number, ran: number): number {
    // Auto-converge: idle throttle / (1 - throttle) of the time just run; the capacity cap: until the share is paid.
    const throttleMs = this.throttle > 0 ? ((nowMs() - startedAt) * this.throttle) / (1 - this.throttle) : 0;
    return Math.max(throttleMs, this.pace?.(ran) ?? 0);
  }
}
