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
  let { peer, urgent } = link;
  const ram = guest.core.ram;
  const isZero = coreZeroTest(guest.core);
  const pageCount = ram.length / PAGE;
  // The pages still to come, as the bitmap the destination got: the first
  // faults arrive as this starts, and a list of every page (65k at 256 MiB)
  // took milliseconds to build, which those faults waited for.
  const pending = Uint8Array.from(toCome);
  const isPending = (page: number) => (pending[page >>> 3] & (1 << (page & 7))) !== 0;
  let left = countPages(pending, pageCount);
  const latencies: number[] = [];
  let faults = 0;
  let pushed = 0;
  let cursor = 0; // where the push continues
  // A fault waits for the destination to work through the pushed pages ahead
  // of its answer (a page already pushed, or the urgent frame queued behind
  // pushes in the destination's event loop). Socket buffers would let
  // megabytes of pushes pile up there, so the destination acknowledges each
  // pushed frame and at most PUSH_WINDOW frames are unacknowledged: 512 KiB
  // while the guest does not fault, 128 KiB while it does.
  let frames = new FramePool(pageFrameBytes(PUSH_PAGES), PUSH_WINDOW);
  let unacknowledged = 0;
  let lastRequestAt = -Infinity;
  let acknowledged: (() => void) | undefined;
  const wake = () => { const w = acknowledged; acknowledged = undefined; w?.(); };
  void peer.closed.then(wake);
  const take = (page: number) => { pending[page >>> 3] &= ~(1 << (page & 7)); everSent[page] = 1; left--; };
  const onMessage = (m: Message) => {
    // The destination reports how long each fault waited, once its page arrived.
    if (m.t === "mig-fault-served" && typeof m.waitedMs === "number") { latencies.push(m.waitedMs); return; }
    if (m.t === "mig-pushed") { unacknowledged--; wake(); return; }
    if (m.t !== "mig-page-request" || typeof m.page !== "number" || m.page < 0 || m.page >= pageCount) return;
    faults++;
    lastRequestAt = nowMs();
    cursor = m.page + 1;
    if (!isPending(m.page)) return; // already on its way
    take(m.page);
    const { batch } = packPages([m.page], 0, 1, isZero, () => false);
    const frame = new Uint8Array(pageFrameBytes(1));
    urgent.sendEncoded(frame.subarray(0, encodePageBatch(PROTOCOL_VERSION, 0, batch, ram, frame)), () => {});
    stats.pagesSent++;
    stats.bytes += batch.indices.length * PAGE + 4;
  };
  let off = peer.onMessage(onMessage);
  stopEarly();
  for (const m of early) onMessage(m);
  const broken = () => !peer.open || !urgent.open;
  /** Both connections again; what the destination lacks is what is left to send. */
  const relink = async () => {
    off();
    peer.terminate();
    urgent.terminate();
    frames.release(); // frames written into the broken connection may never come back
    const again = await link.reconnect!();
    ({ peer, urgent } = again);
    link.peer = peer;
    link.urgent = urgent;
    pending.fill(0);
    pending.set(again.missing.subarray(0, pending.length));
    left = countPages(pending, pageCount);
    unacknowledged = 0;
    frames = new FramePool(pageFrameBytes(PUSH_PAGES), PUSH_WINDOW);
    off = peer.onMessage(onMessage);
    void peer.closed.then(wake);
  };
  try {
    for (;;) {
      try {
        await pushAll();
        await Promise.race([frames.settle(), peer.closed]); // (a broken connection may never give its frames back)
        if (broken()) throw new MigrationFailed("connection to the destination closed during postcopy");
        await urgent.request({ t: "mig-round", round: 0 }, 30_000); // urgent pages have landed too
        link.checkpoint?.("postcopy-pushed");
        await peer.request({ t: "mig-complete" }, 30_000);
        break;
      } catch (error) {
        if (!link.reconnect || !broken()) throw error;
        await relink(); // throws if the destination cannot be reached again
      }
    }
  } finally {
    off();
    frames.release();
  }
  stats.postcopy = {
    faults, pushedPages: pushed, faultLatencyP50Ms: percentile(latencies, 50), faultLatencyP99Ms: percentile(latencies, 99),
    dependencyEndedMs: nowMs() - frozenAt,
  };

  async function pushAll(): Promise<void> {
    while (left > 0) {
      while (unacknowledged >= PUSH_WINDOW && peer.open) await new Promise<void>((resolve) => { acknowledged = resolve; });
      if (!peer.open) throw new MigrationFailed("connection to the destination closed during postcopy");
      const batchPages: number[] = [];
      const size = nowMs() - lastRequestAt < FAULTING_MS ? FAULT_PUSH_PAGES : PUSH_PAGES;
      for (let scanned = 0; batchPages.length < size && scanned < pageCount && left - batchPages.length > 0; scanned++) {
        if (cursor >= pageCount) cursor = 0;
        if (isPending(cursor)) { batchPages.push(cursor); take(cursor); }
        cursor++;
      }
      const { batch } = packPages(batchPages, 0, batchPages.length, isZero, () => false);
      const frame = await Promise.race([frames.take(), peer.closed.then(() => undefined)]);
      if (!frame) throw new MigrationFailed("connection to the destination closed during postcopy");
      const length = encodePageBatch(PROTOCOL_VERSION, 0, batch, ram, frame);
      const pool = frames; // (a relink replaces the pool: a frame goes back to the one it came from)
      peer.sendEncoded(frame.subarray(0, length), () => pool.give(frame));
      unacknowledged++;
      pushed += batchPages.length;
      stats.pagesSent += batchPages.length;
      stats.bytes += batch.indices.length * PAGE + 4 * batchPages.length;
      meter?.tick(left * PAGE);
      await new Promise<void>((resolve) => setImmediate(resolve)); // let requests in between pushes
    }
  }
}

