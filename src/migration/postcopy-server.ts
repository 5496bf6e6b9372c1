// The source's side of postcopy, after the commit: page requests answered at
// once on the urgent connection, everything else pushed behind them.
//
// Recovery (QEMU's postcopy recovery): if either connection breaks, the source
// opens both again (`reconnect`) and the destination, whose guest's faults
// waited meanwhile, answers with the pages it still lacks; those are what is
// left to send (pages pushed into the broken connection are sent again).

import type { Peer } from "../net/peer.js";
import { PROTOCOL_VERSION, type Message } from "../net/protocol.js";
import { FramePool } from "./frame-pool.js";
import { PAGE, coreZeroTest, countPages, encodePageBatch, packPages, pageFrameBytes } from "./pages.js";
import type { ProgressMeter } from "./progress.js";
import { MigrationFailed, type MigratableGuest } from "./source.js";
import { percentile, type MigrationStats } from "./stats.js";
import { nowMs } from "../machine/host-clock.js";

const PUSH_PAGES = 64; // pages per pushed frame (256 KiB)...
const FAULT_PUSH_PAGES = 16; // ...but 64 KiB while the guest is faulting
const FAULTING_MS = 2; // "faulting": a page request came in the last 2 ms
const PUSH_WINDOW = 2; // pushed frames sent but not yet acknowledged by the destination

/** A postcopy's two connections, and how to open them again after a break (the destination says what it still lacks). */
export interface PostcopyLink {
  peer: Peer;
  urgent: Peer;
  reconnect?: () => Promise<{ peer: Peer; urgent: Peer; missing: Uint8Array }>;
  /** Told "postcopy-pushed" once every page has landed, before the source says it is complete (tests cut the link there). */
  checkpoint?: (point: string) => void;
}

/**
 * After a postcopy switch the guest runs at the destination. Its page requests
 * are answered at once on a second connection (so they never queue behind
 * pushed pages — QEMU's postcopy "preempt" channel does the same), while this
 * connection pushes everything else, continuing just past the latest fault.
 * Every page crosses exactly once. Resolves when all have arrived.
 */
export async function servePostcopy(
  guest: MigratableGuest, link: PostcopyLink, toCome: Uint8Array, everSent: Uint8Array, stats: MigrationStats, frozenAt: number,
  early: Message[], stopEarly: () => void, meter?: ProgressMeter,
): Promise<void> {
  const server = new PostcopyServer(guest, link, toCome, everSent, stats, meter);
  server.listen(early, stopEarly);
  try {
    await server.untilComplete();
  } finally {
    server.close();
  }
  stats.postcopy = server.summary(frozenAt);
}

/** servePostcopy's state: the pages still to send, the push window, the faults answered. */
class PostcopyServer {
  private peer: Peer;
  private urgent: Peer;
  private readonly ram: Uint8Array;
  private readonly isZero: (page: number) => boolean;
  private readonly pageCount: number;
  /**
   * The pages still to come, as the bitmap the destination got: the first faults arrive as this starts, and a list
   * of every page (65k at 256 MiB) took milliseconds to build, which those faults waited for.
   */
  private readonly pending: Uint8Array;
  private left: number;
  private readonly latencies: number[] = [];
  private faults = 0;
  private pushed = 0;
  private cursor = 0; // where the push continues
  /**
   * A fault waits for the destination to work through the pushed pages ahead of its answer (a page already pushed,
   * or the urgent frame queued behind pushes in the destination's event loop). Socket buffers would let megabytes of
   * pushes pile up there, so the destination acknowledges each pushed frame and at most PUSH_WINDOW frames are
   * unacknowledged: 512 KiB while the guest does not fault, 128 KiB while it does.
   */
  private frames = new FramePool(pageFrameBytes(PUSH_PAGES), PUSH_WINDOW);
  private unacknowledged = 0;
  private lastRequestAt = -Infinity;
  private acknowledged: (() => void) | undefined;
  private off: () => void = () => {};

  constructor(
    guest: MigratableGuest, private readonly link: PostcopyLink, toCome: Uint8Array, private readonly everSent: Uint8Array,
    private readonly stats: MigrationStats, private readonly meter?: ProgressMeter,
  ) {
    ({ peer: this.peer, urgent: this.urgent } = link);
    this.ram = guest.core.ram;
    this.isZero = coreZeroTest(guest.core);
    this.pageCount = this.ram.length / PAGE;
    this.pending = Uint8Array.from(toCome);
    this.left = countPages(this.pending, this.pageCount);
    void this.peer.closed.then(this.wake);
  }

  /** Takes the destination's messages from now on, after those that came before the commit (`early`). */
  listen(early: Message[], stopEarly: () => void): void {
    this.off = this.peer.onMessage(this.onMessage);
    stopEarly();
    for (const m of early) this.onMessage(m);
  }

  /** Pushes every page and waits for the destination to have them all, linking again after a break when it can. */
  async untilComplete(): Promise<void> {
    for (;;) {
      try {
        await this.pushAll();
        await Promise.race([this.frames.settle(), this.peer.closed]); // (a broken connection may never give its frames back)
        if (this.broken()) throw new MigrationFailed("connection to the destination closed during postcopy");
        await this.urgent.request({ t: "mig-round", round: 0 }, 30_000); // urgent pages have landed too
        this.link.checkpoint?.("postcopy-pushed");
        await this.peer.request({ t: "mig-complete" }, 30_000);
        return;
      } catch (error) {
        if (!this.link.reconnect || !this.broken()) throw error;
        await this.relink(); // throws if the destination cannot be reached again
      }
    }
  }

  close(): void {
    this.off();
    this.frames.release();
  }

  summary(frozenAt: number): NonNullable<MigrationStats["postcopy"]> {
    return {
      faults: this.faults, pushedPages: this.pushed, faultLatencyP50Ms: percentile(this.latencies, 50),
      faultLatencyP99Ms: percentile(this.latencies, 99), dependencyEndedMs: nowMs() - frozenAt,
    };
  }

  private readonly wake = (): void => { const w = this.acknowledged; this.acknowledged = undefined; w?.(); };

  private isPending(page: number): boolean { return (this.pending[page >>> 3] & (1 << (page & 7))) !== 0; }

  private take(page: number): void {
    this.pending[page >>> 3] &= ~(1 << (page & 7));
    this.everSent[page] = 1;
    this.left--;
  }

  private readonly onMessage = (m: Message): void => {
    // The destination reports how long each fault waited, once its page arrived.
    if (m.t === "mig-fault-served" && typeof m.waitedMs === "number") { this.latencies.push(m.waitedMs); return; }
    if (m.t === "mig-pushed") { this.unacknowledged--; this.wake(); return; }
    if (m.t !== "mig-page-request" || typeof m.page !== "number" || m.page < 0 || m.page >= this.pageCount) return;
    this.faults++;
    this.lastRequestAt = nowMs();
    this.cursor = m.page + 1;
    if (!this.isPending(m.page)) return; // already on its way
    this.take(m.page);
    this.answerFault(m.page);
  };

  /** Sends a page the guest faulted on, alone, on the urgent connection. */
  private answerFault(page: number): void {
    const { batch } = packPages([page], 0, 1, this.isZero, () => false);
    const frame = new Uint8Array(pageFrameBytes(1));
    this.urgent.sendEncoded(frame.subarray(0, encodePageBatch(PROTOCOL_VERSION, 0, batch, this.ram, frame)), () => {});
    this.stats.pagesSent++;
    this.stats.bytes += batch.indices.length * PAGE + 4;
  }

  private broken(): boolean { return !this.peer.open || !this.urgent.open; }

  /** Both connections again; what the destination lacks is what is left to send. */
  private async relink(): Promise<void> {
    this.off();
    this.peer.terminate();
    this.urgent.terminate();
    this.frames.release(); // frames written into the broken connection may never come back
    const again = await this.link.reconnect!();
    ({ peer: this.peer, urgent: this.urgent } = again);
    this.link.peer = this.peer;
    this.link.urgent = this.urgent;
    this.pending.fill(0);
    this.pending.set(again.missing.subarray(0, this.pending.length));
    this.left = countPages(this.pending, this.pageCount);
    this.unacknowledged = 0;
    this.frames = new FramePool(pageFrameBytes(PUSH_PAGES), PUSH_WINDOW);
    this.off = this.peer.onMessage(this.onMessage);
    void this.peer.closed.then(this.wake);
  }

  /** Pushes the pages left, a frame at a time, from just past the latest fault, within the window. */
  private async pushAll(): Promise<void> {
    while (this.left > 0) {
      while (this.unacknowledged >= PUSH_WINDOW && this.peer.open) await new Promise<void>((resolve) => { this.acknowledged = resolve; });
      if (!this.peer.open) throw new MigrationFailed("connection to the destination closed during postcopy");
      await this.pushBatch(this.nextPages());
      await new Promise<void>((resolve) => setImmediate(resolve)); // let requests in between pushes
    }
  }

  /** The next pages to push (taken now): fewer while the guest is faulting, so its answers wait less behind them. */
  private nextPages(): number[] {
    const pages: number[] = [];
    const size = nowMs() - this.lastRequestAt < FAULTING_MS ? FAULT_PUSH_PAGES : PUSH_PAGES;
    for (let scanned = 0; pages.length < size && scanned < this.pageCount && this.left - pages.length > 0; scanned++) {
      if (this.cursor >= this.pageCount) this.cursor = 0;
      if (this.isPending(this.cursor)) { pages.push(this.cursor); this.take(this.cursor); }
      this.cursor++;
    }
    return pages;
  }

  private async pushBatch(pages: number[]): Promise<void> {
    const { batch } = packPages(pages, 0, pages.length, this.isZero, () => false);
    const frame = await Promise.race([this.frames.take(), this.peer.closed.then(() => undefined)]);
    if (!frame) throw new MigrationFailed("connection to the destination closed during postcopy");
    const length = encodePageBatch(PROTOCOL_VERSION, 0, batch, this.ram, frame);
    const pool = this.frames; // (a relink replaces the pool: a frame goes back to the one it came from)
    this.peer.sendEncoded(frame.subarray(0, length), () => pool.give(frame));
    this.unacknowledged++;
    this.pushed += pages.length;
    this.stats.pagesSent += pages.length;
    this.stats.bytes += batch.indices.length * PAGE + 4 * pages.length;
    this.meter?.tick(this.left * PAGE);
  }
}
