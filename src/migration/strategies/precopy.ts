// precopy (the seed's "pretransferring"): send all pages while the guest
// runs, then rounds that resend the pages dirtied during the previous one,
// until what is left fits the downtime budget at the measured bandwidth (and
// another round would not halve it); then freeze, and the last dirty pages go
// inside the downtime. A guest that dirties memory faster than the link sends
// is throttled (auto-converge, as QEMU does: 20%, then +10% a round).

import { PAGE, takeDirtyPages } from "../pages.js";
import type { AddressSpaceTransfer, Handover, Transfer } from "./transfer.js";
import { nowMs } from "../../machine/host-clock.js";

const FEW_PAGES = 16; // a final set this small is not worth another round
const MIN_BANDWIDTH = 50e6; // a floor, so tiny rounds do not read as a slow link
const HYBRID_ROUNDS = 5; // hybrid switches to postcopy after this many rounds at most

export const precopy: AddressSpaceTransfer = (t) => precopyRounds(t, { switchToPostcopy: false });

/** What the rounds so far tell about convergence. */
interface Convergence {
  previousDirty: number;
  notShrinking: number; // rounds in a row whose dirty set did not shrink
  throttle: number;
}

export async function precopyRounds(t: Transfer, mode: { switchToPostcopy: boolean }): Promise<Handover> {
  const { guest, pageCount, options } = t;
  const maxRounds = options.maxRounds ?? 30;
  takeDirtyPages(guest.core, pageCount); // start tracking before the first copy
  let toSend = t.allPages();
  const state: Convergence = { previousDirty: Infinity, notShrinking: 0, throttle: 0 };
  for (let round = 1; ; round++) {
    const { dirty, bandwidth, dirtyRate } = await sendRound(t, toSend, round);
    toSend = dirty;
    const expectedDowntimeMs = ((dirty.length * PAGE) / Math.min(bandwidth, options.bandwidthBytesPerSecond ?? Infinity)) * 1000;
    // Stop when what is left fits the budget, unless another round would
    // still halve it: such rounds are short, and each one shortens the freeze.
    const halving = dirty.length < state.previousDirty / 2 && dirty.length > FEW_PAGES;
    if (dirty.length === 0 || (expectedDowntimeMs <= options.maxDowntimeMs && !halving)) break;
    state.notShrinking = dirty.length >= state.previousDirty ? state.notShrinking + 1 : 0;
    state.previousDirty = dirty.length;
    const stuck = state.notShrinking >= 3 || round >= maxRounds;
    if (mode.switchToPostcopy && (stuck || round >= HYBRID_ROUNDS)) return switchToPostcopy(t, dirty);
    if (round >= maxRounds || (state.throttle >= 0.99 && stuck)) break;
    if (dirtyRate > bandwidth * 0.5 || state.notShrinking >= 2) throttleMore(t, state);
  }
  toSend = await sendPrestate(t, toSend);
  await t.freeze();
  guest.setThrottle(0);
  const finalPages = [...new Set([...toSend, ...takeDirtyPages(guest.core, pageCount)])].sort((a, b) => a - b);
  t.meter.tick(finalPages.length * PAGE); // not forced: nothing for the client is sent inside the downtime
  return { finalPages, postcopy: null };
}

/**
 * The destination builds the guest from the prestate while it still runs
 * here, which takes a few milliseconds (tens for a process tree on a loaded
 * host), and then takes what changed in the state meanwhile (refreshPrestate:
 * rebuilt there now, and the final state's code run once on both sides); what
 * the guest dirtied meanwhile goes in a round of its own rather than into the
 * downtime, unless it is a few pages.
 */
async function sendPrestate(t: Transfer, toSend: number[]): Promise<number[]> {
  await t.sendPrestate();
  await t.refreshPrestate();
  const pending = [...new Set([...toSend, ...takeDirtyPages(t.guest.core, t.pageCount)])].sort((a, b) => a - b);
  if (pending.length <= FEW_PAGES) return pending;
  const { dirty } = await sendRound(t, pending, t.stats.rounds.length + 1);
  return dirty;
}

/** One round: sends `pages`, waits until the destination has them all, and measures. */
async function sendRound(t: Transfer, pages: number[], round: number): Promise<{ dirty: number[]; bandwidth: number; dirtyRate: number }> {
  const roundStart = nowMs();
  const bytes = await t.sender.send(pages, round);
  // Wait until the destination has taken in the whole round: the measured
  // bandwidth is then real, and the final round starts with an empty pipe.
  await t.peer.request({ t: "mig-round", round }, 30_000);
  const ms = Math.max(nowMs() - roundStart, 0.001);
  const dirty = takeDirtyPages(t.guest.core, t.pageCount);
  const dirtyRate = (dirty.length * PAGE) / (ms / 1000); // bytes/s dirtied while this round was sent
  t.stats.rounds.push({ round, pages: pages.length, bytes, ms, dirtyRateMBps: dirtyRate / 1e6 });
  t.meter.tick(dirty.length * PAGE, true);
  t.options.checkpoint?.(`round-${round}`);
  t.stopIfCancelled();
  // Bandwidth: what the link moved in this round.
  const bandwidth = Math.max(bytes / (ms / 1000), t.options.bandwidthBytesPerSecond ?? 0, MIN_BANDWIDTH);
  return { dirty, bandwidth, dirtyRate };
}

/** Hybrid: not converging, so restart at the destination now with what is still dirty left to fetch. */
async function switchToPostcopy(t: Transfer, dirty: number[]): Promise<Handover> {
  await t.freeze();
  const postcopy = new Uint8Array(Math.ceil(t.pageCount / 8));
  for (const p of [...dirty, ...takeDirtyPages(t.guest.core, t.pageCount)]) postcopy[p >>> 3] |= 1 << (p & 7);
  return { finalPages: [], postcopy };
}

/** Auto-converge: the guest dirties faster than we send: slow it, 20% then +10% a round. */
function throttleMore(t: Transfer, state: Convergence): void {
  state.throttle = state.throttle === 0 ? 0.2 : Math.min(0.99, state.throttle + 0.1);
  t.guest.setThrottle(state.throttle);
  t.stats.throttlePercent = Math.max(t.stats.throttlePercent, Math.round(state.throttle * 100));
}
