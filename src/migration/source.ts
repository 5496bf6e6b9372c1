// The sending side of a migration. The guest keeps running on this host until
// the destination confirms it runs there; if anything fails before that, the
// guest is thawed here, so there are never two running copies.
//
// Address-space transfer, by strategy:
//   stop-copy  freeze, send every non-zero page and the state, restart there
//   precopy    send all pages while the guest runs, then rounds that resend the
//              pages dirtied since the last round, until what is left fits the
//              downtime budget at the measured bandwidth (and another round
//              would not halve it); then freeze and send
//              the last dirty pages and the state. A guest that dirties memory
//              faster than the link sends is throttled (auto-converge).
//   postcopy   freeze, send the state, restart there at once; the destination
//              asks for pages it touches while we push the rest
//   hybrid     precopy rounds, switching to postcopy when they stop converging
//
// Every strategy sends the state once before the freeze (mig-prestate, from
// which the destination builds the guest) and only its changes inside the
// downtime; the commit follows the final state without waiting for an answer.

import type { Core } from "../machine/core.js";
import type { Peer } from "../net/peer.js";
import { encode, num, type Message } from "../net/protocol.js";
import { changesSince } from "../snapshot/changes.js";
import { encodeSnapshot, type GuestInfo, type GuestSnapshot, type RamPages } from "../snapshot/snapshot.js";
import { PROTOCOL_VERSION } from "../net/protocol.js";
import { BATCH_PAGES, PAGE, coreZeroTest, countPages, encodePageBatch, packPages, pageFrameBytes, takeDirtyPages, writtenBitmap, writtenPages } from "./pages.js";
import { newStats, percentile, type MigrationStats, type Strategy } from "./stats.js";

/** What a migration needs from the guest being moved. */
export interface MigratableGuest {
  readonly info: GuestInfo;
  readonly core: Core;
  /** Freezes at a slice boundary (at once when blocked in slow I/O); resolves when frozen. */
  freeze(): Promise<void>;
  /** Continues on this host after a failed migration. */
  thaw(): void;
  /** Auto-converge: the fraction of time the guest must sit idle (0 = full speed). */
  setThrottle(fraction: number): void;
  /** A freeze is about to be asked for: run short batches, so it is seen at once. */
  expectFreeze(soon: boolean): void;
  snapshotWithout(ram: RamPages): GuestSnapshot;
}

export interface MigrateOptions {
  strategy: Strategy;
  maxDowntimeMs: number;
  bandwidthBytesPerSecond?: number; // a cap on the page stream
  maxRounds?: number;
  onProgress?: (stats: MigrationStats) => void;
  /** The destination runs the guest now (for postcopy, pages still flow after this). */
  onCommitted?: () => void;
  /** Opens a second connection to the destination, for postcopy's urgent pages. */
  openUrgentChannel?: () => Promise<Peer>;
  /** Test hook: called at named points so a test can cut the connection there. */
  checkpoint?: (point: string) => void;
  /**
   * Cancels the migration (a kill, `roam migrate --cancel`): honoured until the
   * commit leaves, after which the guest is the destination's and it finishes.
   */
  signal?: AbortSignal;
}

const FEW_PAGES = 16; // a final set this small is not worth another precopy round
const PUSH_PAGES = 64; // postcopy push: pages per frame (256 KiB)...
const FAULT_PUSH_PAGES = 16; // ...but 64 KiB while the guest is faulting
const FAULTING_MS = 2; // "faulting": a page request came in the last 2 ms
const PUSH_WINDOW = 2; // postcopy push: frames sent but not yet acknowledged by the destination
const POOL = 16; // page-batch frames in flight at most: 16 MiB

/**
 * Page batches are encoded into a small pool of reused frames, each released
 * when the socket has taken it. Reuse matters on this kind of VM: a fresh
 * buffer costs a page fault per 4 KiB (~1.7 us), which was most of the time.
 * A free frame is also the backpressure: no free frame, no more sending.
 * Frames are made on first need, and a finished migration leaves its free
 * ones to the next (frames still in a socket are simply not reused).
 */
class FramePool {
  private readonly free: Uint8Array[] = [];
  private readonly waiting: Array<() => void> = [];
  private made = 0;
  constructor(private readonly size: number, private readonly count: number) {}
  async take(): Promise<Uint8Array> {
    for (;;) {
      const frame = this.free.pop() ?? (this.made < this.count ? this.make() : undefined);
      if (frame) return frame;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
  give(frame: Uint8Array): void {
    this.free.push(frame);
    this.waiting.shift()?.();
  }
  /** Resolves when every frame is back (everything sent has left). */
  async settle(): Promise<void> {
    while (this.free.length < this.made) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  /** Hands the free frames on to later migrations. */
  release(): void {
    const spares = spareFrames.get(this.size) ?? [];
    spareFrames.set(this.size, spares);
    while (this.free.length > 0 && spares.length < this.count) spares.push(this.free.pop()!);
  }
  private make(): Uint8Array {
    this.made++;
    return spareFrames.get(this.size)?.pop() ?? new Uint8Array(this.size);
  }
}
const spareFrames = new Map<number, Uint8Array[]>(); // by frame size

const EMPTY_PAGES: RamPages = { indices: new Uint32Array(0), data: new Uint8Array(0) };

export class MigrationFailed extends Error {}

export async function migrateOut(guest: MigratableGuest, peer: Peer, from: string, to: string, options: MigrateOptions): Promise<MigrationStats> {
  const stats = newStats(guest.info.id, options.strategy, from, to);
  const started = performance.now();
  const pageCount = guest.info.ramBytes / PAGE;
  const everSent = new Uint8Array(pageCount); // 1 once a page's content has crossed
  let frozenAt = 0;
  let frozen = false;
  let urgent: Peer | undefined;
  let committed = false;
  const earlyRequests: Message[] = []; // postcopy: page requests that came before the commit's answer
  let offEarly = () => {};
  const progress = () => { stats.totalMs = performance.now() - started; options.onProgress?.(stats); };
  const limit = options.bandwidthBytesPerSecond;
  let paced = 0; // bytes sent under the bandwidth cap
  const pacingStart = performance.now();
  const frames = new FramePool(pageFrameBytes(BATCH_PAGES), POOL);
  const isZero = coreZeroTest(guest.core);
  const stopIfCancelled = () => {
    if (options.signal?.aborted) throw new MigrationFailed(`cancelled (${(options.signal.reason as Error)?.message ?? "by request"})`);
  };

  /** Sends pages (the guest may be running), skipping zero pages that never crossed. */
  const sendPages = async (pages: number[], round: number): Promise<number> => {
    let bytes = 0;
    // The guest and the sender share this event loop: send for a few ms at a
    // time, then let the guest run (yielding after every batch gave it ~90%).
    let turnStart = performance.now();
    for (let i = 0; i < pages.length; i += BATCH_PAGES) {
      const { batch, skipped } = packPages(pages, i, Math.min(i + BATCH_PAGES, pages.length), isZero, (p) => !everSent[p]);
      stats.zeroPagesSkipped += skipped;
      if (batch.indices.length + batch.zero.length === 0) continue;
      const frame = await frames.take();
      if (!frozen) stopIfCancelled();
      if (!peer.open) throw new MigrationFailed("connection to the destination closed");
      const length = encodePageBatch(PROTOCOL_VERSION, round, batch, guest.core.ram, frame);
      peer.sendEncoded(frame.subarray(0, length), () => frames.give(frame));
      for (const p of batch.indices) everSent[p] = 1;
      for (const p of batch.zero) everSent[p] = 1;
      const sent = batch.indices.length * PAGE + 4 * (batch.indices.length + batch.zero.length);
      bytes += sent;
      stats.pagesSent += batch.indices.length + batch.zero.length;
      stats.bytes += sent;
      if (limit) {
        paced += sent;
        const due = pacingStart + (paced / limit) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      if (!frozen && performance.now() - turnStart >= 4) {
        await yieldToGuest();
        turnStart = performance.now();
      }
    }
    return bytes;
  };

  // The state as it is just before the freeze goes ahead (mig-prestate): the
  // destination builds the guest from it while the guest still runs here, and
  // the freeze then sends only what changed since (the registers, the clock,
  // ...). The freeze waits for the destination to have built it, or that work
  // would still be under way inside the downtime.
  let base: GuestSnapshot | undefined;
  const freeze = async () => {
    base = guest.snapshotWithout(EMPTY_PAGES);
    const snapshot = encodeSnapshot(base);
    stats.bytes += snapshot.length;
    // Meanwhile the guest runs in short batches, so the answer is seen (and the
    // freeze follows) within ~1 ms, not after a whole batch with the
    // destination gone idle: ~0.25 ms less downtime for a busy guest.
    guest.expectFreeze(true);
    const built = peer.request({ t: "mig-prestate", snapshot }, 30_000);
    options.checkpoint?.("prestate-sent");
    await built;
    stopIfCancelled();
    await guest.freeze();
    guest.expectFreeze(false);
    frozen = true;
    frozenAt = performance.now();
  };

  // A full pass need only look at pages ever written: the rest are zero (and
  // reading untouched memory would fault in each page just to find zeros).
  const allPages = () => writtenPages(guest.core, pageCount);

  try {
    // The pages that may carry data (ever written), so the destination can make
    // their memory ready while the guest still runs here: a first touch of fresh
    // memory costs ~1.7 µs per page on this kind of VM, ~40% of the page stream.
    const expected = writtenBitmap(guest.core, pageCount);
    await peer.request({ t: "mig-begin", guest: guest.info, strategy: options.strategy, expected }, 30_000);
    // Postcopy (and hybrid, which may switch to it) answers page requests on a second connection.
    if (options.strategy === "postcopy" || options.strategy === "hybrid") {
      urgent = await options.openUrgentChannel?.();
      await urgent?.request({ t: "mig-urgent", guest: guest.info.id }, 30_000);
    }
    stopIfCancelled();
    stats.setupMs = performance.now() - started;
    stats.status = "active";
    options.checkpoint?.("begun");
    progress();

    let postcopy: Uint8Array | null = null; // bit per page still to come after the switch
    let finalPages: number[];
    if (options.strategy === "stop-copy") {
      await freeze();
      finalPages = allPages();
    } else if (options.strategy === "postcopy") {
      await freeze();
      finalPages = [];
      // Every written page is still to come; zero ones travel as 4-byte notes in the push.
      // (Scanning for zeros here, inside the freeze, cost ~20 ms at 256 MiB; a page list ~0.2 ms at 16.)
      postcopy = writtenBitmap(guest.core, pageCount);
    } else {
      // precopy / hybrid: rounds while the guest runs
      const maxRounds = options.maxRounds ?? 30;
      takeDirtyPages(guest.core, pageCount); // start tracking before the first copy
      let toSend = allPages();
      let throttle = 0;
      let previousDirty = Infinity;
      let notShrinking = 0;
      for (let round = 1; ; round++) {
        const roundStart = performance.now();
        const bytes = await sendPages(toSend, round);
        // Wait until the destination has taken in the whole round: the measured
        // bandwidth is then real, and the final round starts with an empty pipe.
        await peer.request({ t: "mig-round", round }, 30_000);
        const ms = Math.max(performance.now() - roundStart, 0.001);
        const dirty = takeDirtyPages(guest.core, pageCount);
        const dirtyRate = (dirty.length * PAGE) / (ms / 1000); // bytes/s dirtied while this round was sent
        stats.rounds.push({ round, pages: toSend.length, bytes, ms, dirtyRateMBps: dirtyRate / 1e6 });
        progress();
        options.checkpoint?.(`round-${round}`);
        stopIfCancelled();
        // Bandwidth: what the link moved in this round (a floor keeps tiny rounds from reading as slow links).
        const bandwidth = Math.max(bytes / (ms / 1000), limit ?? 0, 50e6);
        const expectedDowntimeMs = ((dirty.length * PAGE) / Math.min(bandwidth, limit ?? Infinity)) * 1000;
        toSend = dirty;
        // Stop when what is left fits the budget, unless another round would
        // still halve it: such rounds are short, and each one shortens the freeze.
        const halving = dirty.length < previousDirty / 2 && dirty.length > FEW_PAGES;
        if (dirty.length === 0 || (expectedDowntimeMs <= options.maxDowntimeMs && !halving)) break;
        notShrinking = dirty.length >= previousDirty ? notShrinking + 1 : 0;
        previousDirty = dirty.length;
        const stuck = notShrinking >= 3 || round >= maxRounds;
        if (options.strategy === "hybrid" && (stuck || round >= 5)) {
          // Not converging: switch to postcopy with what is still dirty.
          await freeze();
          postcopy = new Uint8Array(Math.ceil(pageCount / 8));
          for (const p of [...dirty, ...takeDirtyPages(guest.core, pageCount)]) postcopy[p >>> 3] |= 1 << (p & 7);
          finalPages = [];
          break;
        }
        if (round >= maxRounds || (throttle >= 0.99 && stuck)) break;
        // Auto-converge: the guest dirties faster than we send: slow it, 20% then +10% a round.
        if (dirtyRate > bandwidth * 0.5 || notShrinking >= 2) {
          throttle = throttle === 0 ? 0.2 : Math.min(0.99, throttle + 0.1);
          guest.setThrottle(throttle);
          stats.throttlePercent = Math.max(stats.throttlePercent, Math.round(throttle * 100));
        }
      }
      if (!frozen) {
        await freeze();
        guest.setThrottle(0);
        finalPages = [...new Set([...toSend, ...takeDirtyPages(guest.core, pageCount)])].sort((a, b) => a - b);
      } else finalPages = [];
    }

    // The guest is frozen: the last pages, then the state and the commit.
    options.checkpoint?.("frozen");
    // Pages still to come, as a bitmap (8 KiB for 256 MiB, where a list of numbers was 256 KiB).
    const pending = postcopy ?? new Uint8Array(0);
    const state = encode({ t: "mig-state", changes: changesSince(base!, guest.snapshotWithout(EMPTY_PAGES)), missing: pending });
    stats.bytes += state.length;
    options.checkpoint?.("state-encoded");
    // A few last pages leave in the same write as the state and the commit
    // (see Peer.hold); a larger set streams first, as in the rounds.
    const fewLast = finalPages!.length <= BATCH_PAGES;
    if (!fewLast) await sendPages(finalPages!, stats.rounds.length + 1);
    const release = peer.hold();
    let answer: Promise<Message>;
    try {
      if (fewLast) await sendPages(finalPages!, stats.rounds.length + 1);
      options.checkpoint?.("final-pages-sent");
      // The state and the commit go out back to back: the destination takes them
      // in order (builds the guest, then starts it) and answers only the commit
      // (a bad state fails it), so the downtime holds one round trip, not two.
      // Until the commit is on the wire a failure thaws the guest here; after
      // it, the host asks the destination before thawing.
      peer.sendEncoded(state, () => {});
      options.checkpoint?.("state-sent");
      if (!peer.open) throw new MigrationFailed("connection to the destination closed before the commit");
      stopIfCancelled(); // the last moment: after this line the guest is the destination's
      committed = true;
      // Postcopy: the guest faults as soon as it starts, maybe before we hear the
      // commit's answer; keep those requests for the page server.
      if (postcopy) offEarly = peer.onMessage((m) => { if (m.t === "mig-page-request" || m.t === "mig-fault-served") earlyRequests.push(m); });
      answer = peer.request({ t: "mig-commit" }, 30_000);
      options.checkpoint?.("commit-sent");
    } finally {
      release();
    }
    const reply = await answer.catch(async (error) => {
      throw new MigrationFailed(`no answer to commit (${(error as Error).message})`);
    });
    void num(reply, "startedAt");
    stats.downtimeMs = performance.now() - frozenAt;
    options.checkpoint?.("commit-answered");
    options.onCommitted?.();

    if (postcopy) {
      stats.status = "postcopy";
      stats.residualDependency = `${countPages(postcopy, pageCount)} pages on ${from}`;
      progress();
      try {
        await servePostcopy(guest, peer, urgent!, postcopy, everSent, stats, frozenAt, earlyRequests, offEarly);
      } finally {
        urgent?.close();
      }
    }
    stats.status = "completed";
    stats.residualDependency = "none";
    stats.totalMs = performance.now() - started;
    stats.throughputMBps = stats.bytes / 1e6 / (stats.totalMs / 1000);
    progress();
    return stats;
  } catch (error) {
    stats.status = "failed";
    stats.error = (error as Error).message;
    stats.totalMs = performance.now() - started;
    guest.setThrottle(0);
    guest.expectFreeze(false);
    urgent?.close();
    if (!committed) {
      peer.send({ t: "mig-abort", reason: stats.error });
      if (frozen) guest.thaw();
    }
    throw Object.assign(new MigrationFailed(stats.error.includes(to) ? stats.error : `destination ${to}: ${stats.error}`), { stats, committed });
  } finally {
    frames.release();
  }
}

/**
 * After a postcopy switch the guest runs at the destination. Its page requests
 * are answered at once on a second connection (so they never queue behind
 * pushed pages — QEMU's postcopy "preempt" channel does the same), while this
 * connection pushes everything else, continuing just past the latest fault.
 * Every page crosses exactly once. Resolves when all have arrived.
 */
async function servePostcopy(
  guest: MigratableGuest, peer: Peer, urgent: Peer, toCome: Uint8Array, everSent: Uint8Array, stats: MigrationStats, frozenAt: number,
  early: Message[], stopEarly: () => void,
): Promise<void> {
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
  const frames = new FramePool(pageFrameBytes(PUSH_PAGES), PUSH_WINDOW);
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
    lastRequestAt = performance.now();
    cursor = m.page + 1;
    if (!isPending(m.page)) return; // already on its way
    take(m.page);
    const { batch } = packPages([m.page], 0, 1, isZero, () => false);
    const frame = new Uint8Array(pageFrameBytes(1));
    urgent.sendEncoded(frame.subarray(0, encodePageBatch(PROTOCOL_VERSION, 0, batch, ram, frame)), () => {});
    stats.pagesSent++;
    stats.bytes += batch.indices.length * PAGE + 4;
  };
  const off = peer.onMessage(onMessage);
  stopEarly();
  for (const m of early) onMessage(m);
  try {
    while (left > 0) {
      while (unacknowledged >= PUSH_WINDOW && peer.open) await new Promise<void>((resolve) => { acknowledged = resolve; });
      if (!peer.open) throw new MigrationFailed("connection to the destination closed during postcopy");
      const batchPages: number[] = [];
      const size = performance.now() - lastRequestAt < FAULTING_MS ? FAULT_PUSH_PAGES : PUSH_PAGES;
      for (let scanned = 0; batchPages.length < size && scanned < pageCount && left - batchPages.length > 0; scanned++) {
        if (cursor >= pageCount) cursor = 0;
        if (isPending(cursor)) { batchPages.push(cursor); take(cursor); }
        cursor++;
      }
      const { batch } = packPages(batchPages, 0, batchPages.length, isZero, () => false);
      const frame = await frames.take();
      const length = encodePageBatch(PROTOCOL_VERSION, 0, batch, ram, frame);
      peer.sendEncoded(frame.subarray(0, length), () => frames.give(frame));
      unacknowledged++;
      pushed += batchPages.length;
      stats.pagesSent += batchPages.length;
      stats.bytes += batch.indices.length * PAGE + 4 * batchPages.length;
      await new Promise<void>((resolve) => setImmediate(resolve)); // let requests in between pushes
    }
    await frames.settle();
    await urgent.request({ t: "mig-round", round: 0 }, 30_000); // urgent pages have landed too
    await peer.request({ t: "mig-complete" }, 30_000);
  } finally {
    off();
    frames.release();
  }
  stats.postcopy = {
    faults, pushedPages: pushed, faultLatencyP50Ms: percentile(latencies, 50), faultLatencyP99Ms: percentile(latencies, 99),
    dependencyEndedMs: performance.now() - frozenAt,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function yieldToGuest(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
