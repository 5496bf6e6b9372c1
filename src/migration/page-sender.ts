// Sends a migrating guest's pages while it may still run: batches of up to
// 1 MiB in reused frames (the pool is the backpressure), zero pages that never
// crossed skipped, paced to a bandwidth cap, in turns of a few ms so the guest
// sharing this event loop keeps running, and cancellable until the freeze.

import type { Peer } from "../net/peer.js";
import { PROTOCOL_VERSION } from "../net/protocol.js";
import { FramePool } from "./frame-pool.js";
import { BATCH_PAGES, PAGE, coreZeroTest, encodePageBatch, packPages, pageFrameBytes } from "./pages.js";
import type { ProgressMeter } from "./progress.js";
import { MigrationFailed, type MigratableGuest } from "./source.js";
import type { MigrationStats } from "./stats.js";
import { nowMs } from "../machine/host-clock.js";

const POOL = 16; // page-batch frames in flight at most: 16 MiB
const TURN_MS = 4; // send this long, then let the guest run (yielding after every batch gave it ~90%)

export class PageSender {
  /** 1 once a page's content has crossed (a zero page that never crossed need not). */
  readonly everSent: Uint8Array;
  /** Set at the freeze: from then on a cancel no longer stops a batch (the commit decides). */
  frozen = false;
  private readonly frames = new FramePool(pageFrameBytes(BATCH_PAGES), POOL);
  private readonly isZero: (page: number) => boolean;
  private paced = 0; // bytes sent under the bandwidth cap
  private readonly pacingStart = nowMs();

  constructor(
    private readonly guest: MigratableGuest, private readonly peer: Peer, private readonly stats: MigrationStats,
    private readonly meter: ProgressMeter, private readonly limit: number | undefined, private readonly stopIfCancelled: () => void,
  ) {
    this.everSent = new Uint8Array(guest.info.ramBytes / PAGE);
    this.isZero = coreZeroTest(guest.core);
  }

  /** Sends `pages` as round `round`; resolves with the bytes sent once every batch is on its way. */
  async send(pages: number[], round: number): Promise<number> {
    let bytes = 0;
    let turnStart = nowMs();
    for (let i = 0; i < pages.length; i += BATCH_PAGES) {
      const { batch, skipped } = packPages(pages, i, Math.min(i + BATCH_PAGES, pages.length), this.isZero, (p) => !this.everSent[p]);
      this.stats.zeroPagesSkipped += skipped;
      if (batch.indices.length + batch.zero.length === 0) continue;
      const frame = await this.frames.take();
      if (!this.frozen) this.stopIfCancelled();
      if (!this.peer.open) throw new MigrationFailed("connection to the destination closed");
      const length = encodePageBatch(PROTOCOL_VERSION, round, batch, this.guest.core.ram, frame);
      this.peer.sendEncoded(frame.subarray(0, length), () => this.frames.give(frame));
      for (const p of batch.indices) this.everSent[p] = 1;
      for (const p of batch.zero) this.everSent[p] = 1;
      const sent = batch.indices.length * PAGE + 4 * (batch.indices.length + batch.zero.length);
      bytes += sent;
      this.stats.pagesSent += batch.indices.length + batch.zero.length;
      this.stats.bytes += sent;
      this.meter.tick(Math.max(0, pages.length - i - BATCH_PAGES) * PAGE);
      await this.pace(sent);
      if (!this.frozen && nowMs() - turnStart >= TURN_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turnStart = nowMs();
      }
    }
    return bytes;
  }

  /** Under a bandwidth cap, waits until `sent` more bytes are due. */
  private async pace(sent: number): Promise<void> {
    if (!this.limit) return;
    this.paced += sent;
    const wait = this.pacingStart + (this.paced / this.limit) * 1000 - nowMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Hands the pool's free frames on to later migrations. */
  release(): void {
    this.frames.release();
  }
}
