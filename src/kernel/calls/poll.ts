// Waiting on several descriptors: ppoll_time64 and pselect6_time64, over
// pipes, the terminal, files and devices. poll(2): "If none of the events
// requested (and no error) has occurred for any of the file descriptors, then
// poll() blocks until one of the events occurs", or the timeout passes. A
// call that waits runs again when anything changes (kernel.ts); its deadline
// is kept in guest time across runs, as a sleep's is, and across a migration.

import { Errno } from "../errno.js";
import { O_ACCMODE, O_RDONLY, type OpenFile } from "../files.js";
import { PIPE_BUF } from "../pipes.js";
import { socketReadiness } from "../sockets/transfer.js";
import { UNBLOCKABLE } from "../signals.js";
import { HOLD_MS } from "../lone-home.js";
import { readinessAtHome } from "../lone-satellite.js";
import type { Task } from "../task.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import { callerOf, type Handler } from "./call-args.js";


export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
const POLLRDNORM = 0x40, POLLWRNORM = 0x100;
const MAX_FDS = 1024; // RLIMIT_NOFILE: "The nfds value exceeds the RLIMIT_NOFILE value" is EINVAL

/** What `file` is ready for now: POLL* bits, before masking by the events asked for (POLLERR/POLLHUP always count). */
export function readiness(c: SyscallContext, file: OpenFile | undefined): number {
  if (!file) return POLLNVAL;
  const reading = (file.flags & O_ACCMODE) === O_RDONLY;
  switch (file.kind) {
    case "pipe": {
      const pipe = file.pipe === undefined ? undefined : c.kernel.pipes.get(file.pipe);
      if (!pipe) return POLLERR;
      if (reading) return (pipe.size > 0 ? POLLIN | POLLRDNORM : 0) | (pipe.writers <= 0 ? POLLHUP : 0);
      if (pipe.readers <= 0) return POLLERR; // "also set for a file descriptor referring to the write end of a pipe when the read end has been closed"
      return pipe.room >= PIPE_BUF ? POLLOUT | POLLWRNORM : 0;
    }
    case "socket": {
      const socket = file.socket === undefined ? undefined : c.kernel.sockets.get(file.socket);
      return socket ? socketReadiness(c.kernel.sockets, socket) : POLLNVAL;
    }
    case "terminal":
      if (file.terminal === 0) return terminalReadable(c) ? POLLIN | POLLRDNORM : 0;
      return POLLOUT | POLLWRNORM;
    case "device":
      // /dev/tty: the terminal's keys, as fd 0's, when the guest has a terminal; the other devices are always ready.
      if (file.device === "tty" && c.kernel.terminal) return (terminalReadable(c) ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM;
      return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
    default:
      // Regular files, directories and devices are always ready: "regular files ... always poll TRUE for reading and writing".
      return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
  }
}

/** The guest time the call gives up at: kept across runs of the same call (null = wait forever, 0n = do not wait). */
function deadlineOf(c: SyscallContext, timeout: number): bigint | null | number {
  if (timeout === 0) return null;
  if (c.sleepDeadline !== undefined) return c.sleepDeadline;
  const raw = c.space.read(timeout, 16);
  if (!raw) return -Errno.EFAULT;
  const v = new DataView(raw.buffer);
  const sec = v.getBigInt64(0, true), nsec = v.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return -Errno.EINVAL; // "The timeout value ... is invalid"
  c.sleepDeadline = c.clock.monotonicNs() + sec * 1_000_000_000n + nsec;
  return c.sleepDeadline;
}

/** The signal mask given for the wait (ppoll's sigmask, pselect's): in force until the call returns. */
function applyWaitMask(c: SyscallContext, maskPointer: number, size: number): number {
  if (maskPointer === 0) return 0;
  if (size !== 8) return -Errno.EINVAL;
  const raw = c.space.read(maskPointer, 8);
  if (!raw) return -Errno.EFAULT;
  const task = self(c);
  if (task.suspendedMask === undefined) task.suspendedMask = task.signals.mask;
  task.signals.mask = new DataView(raw.buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
  return 0;
}

/** The call returns: its saved mask and deadline go, and a question it left at home is not taken by the next call. */
function finish(c: SyscallContext, value: number): number {
  const task = self(c);
  task.remoteRound++;
  if (task.suspendedMask !== undefined) { task.signals.mask = task.suspendedMask; task.suspendedMask = undefined; }
  c.sleepDeadline = undefined;
  return value;
}

const self = callerOf;

/** Whether a read of the terminal would not wait: the line discipline's (terminal.ts), or the console's. */
const terminalReadable = (c: SyscallContext): boolean => c.kernel.terminal?.readableNow() ?? c.console.hasInput();

/** Whether `file` is one whose readiness comes with the terminal's input (fd 0, /dev/tty). */
const readsTerminal = (file: OpenFile | undefined): boolean =>
  (file?.kind === "terminal" && file.terminal === 0) || (file?.kind === "device" && file.device === "tty");

/** Wait, or give up: what a call with nothing ready does. */
function waitOrTimeout(c: SyscallContext, deadline: bigint | null, watchesInput: boolean): SyscallOutcome | number {
  if (deadline !== null && c.clock.monotonicNs() >= deadline) return finish(c, 0);
  return { kind: "block-event", input: watchesInput, deadlineNs: deadline ?? undefined };
}

/**
 * The revents of forwarded descriptors (a process that moved alone: its pipes
 * and terminal are at home), asked of the home. With `mustWait` (nothing here
 * is ready and the timeout allows) the home holds the question until one is
 * ready or the time left has passed, and it is asked again while time is left;
 * -EIO if the home cannot be reached. `wakeOnEvent`: local descriptors are
 * watched too, so a change here runs the call again meanwhile.
 */
function readinessOfForwarded(c: SyscallContext, asks: Array<{ file: OpenFile; events: number }>, mustWait: boolean, deadline: bigint | null, wakeOnEvent: boolean): number[] | number {
  for (;;) {
    const leftMs = deadline === null ? HOLD_MS : Math.ceil(Number(deadline - c.clock.monotonicNs()) / 1e6);
    const revents = readinessAtHome(c, asks, mustWait ? Math.min(Math.max(leftMs, 0), HOLD_MS) : 0, wakeOnEvent);
    if (typeof revents === "number") return revents;
    if (!mustWait || revents.some((r) => r !== 0) || leftMs <= 0) return revents;
    // Nothing was ready in the time the home held it, and time is left: ask again (the next round throws WouldBlock).
  }
}

/** ppoll_time64(fds, nfds, tmo_p, sigmask, sigsetsize) */
function ppoll(c: SyscallContext, fds: number, nfds: number, timeout: number, sigmask: number, sigsetsize: number): SyscallOutcome | number {
  if (nfds > MAX_FDS) return -Errno.EINVAL;
  const raw = nfds === 0 ? new Uint8Array(0) : c.space.read(fds, nfds * 8);
  if (!raw) return -Errno.EFAULT; // "fds points outside the process's accessible address space"
  if (!c.space.ensure(fds, nfds * 8, 2)) return -Errno.EFAULT;
  const zeroTimeout = timeout !== 0 && isZero(c, timeout);
  const deadline = zeroTimeout ? null : deadlineOf(c, timeout);
  if (typeof deadline === "number") return deadline;
  const masked = applyWaitMask(c, sigmask, sigsetsize);
  if (masked < 0) return finish(c, masked);
  const v = new DataView(raw.buffer);
  let ready = 0, watchesInput = false;
  const forwarded: Array<{ file: OpenFile; events: number; slot: number }> = [];
  for (let i = 0; i < nfds; i++) {
    const fd = v.getInt32(i * 8, true), events = v.getInt16(i * 8 + 4, true);
    let revents = 0;
    if (fd >= 0) {
      const file = c.files.get(fd);
      if (file?.kind === "forwarded") forwarded.push({ file, events, slot: i });
      else revents = readiness(c, file) & (events | POLLERR | POLLHUP | POLLNVAL);
      if (readsTerminal(file) && (events & POLLIN)) watchesInput = true;
    }
    v.setInt16(i * 8 + 6, revents, true);
    if (revents) ready++;
  }
  if (forwarded.length) {
    const atHome = readinessOfForwarded(c, forwarded, ready === 0 && !zeroTimeout, deadline, forwarded.length < nfds);
    if (typeof atHome === "number") return finish(c, atHome);
    atHome.forEach((revents, j) => { v.setInt16(forwarded[j].slot * 8 + 6, revents, true); if (revents) ready++; });
  }
  if (ready > 0 || zeroTimeout) {
    c.space.write(fds, raw);
    return finish(c, ready);
  }
  return waitOrTimeout(c, deadline, watchesInput);
}

function isZero(c: SyscallContext, timeout: number): boolean {
  const raw = c.space.read(timeout, 16);
  return raw !== null && raw.every((b) => b === 0);
}

/** pselect6_time64(nfds, readfds, writefds, exceptfds, timeout, {sigmask, size}) */
function pselect(c: SyscallContext, nfds: number, readfds: number, writefds: number, exceptfds: number, timeout: number, maskArg: number): SyscallOutcome | number {
  if ((nfds | 0) < 0 || nfds > MAX_FDS) return -Errno.EINVAL; // "nfds is negative or exceeds the RLIMIT_NOFILE resource limit"
  const bytes = Math.ceil(nfds / 32) * 4;
  const sets = [readfds, writefds, exceptfds].map((p) => (p === 0 ? null : c.space.read(p, bytes)));
  if (sets.some((s, i) => s === null && [readfds, writefds, exceptfds][i] !== 0)) return -Errno.EFAULT;
  for (const p of [readfds, writefds, exceptfds]) if (p !== 0 && !c.space.ensure(p, bytes, 2)) return -Errno.EFAULT;
  let mask = 0, maskSize = 0;
  if (maskArg !== 0) {
    const m = c.space.read(maskArg, 8);
    if (!m) return -Errno.EFAULT;
    mask = new DataView(m.buffer).getUint32(0, true);
    maskSize = new DataView(m.buffer).getUint32(4, true);
  }
  const zeroTimeout = timeout !== 0 && isZero(c, timeout);
  const deadline = zeroTimeout ? null : deadlineOf(c, timeout);
  if (typeof deadline === "number") return deadline;
  const masked = applyWaitMask(c, mask, maskSize);
  if (masked < 0) return finish(c, masked);
  const out = sets.map(() => new Uint8Array(bytes));
  let ready = 0, watchesInput = false;
  const wantedOf = (fd: number) => sets.map((s) => s !== null && (s[fd >> 3] & (1 << (fd & 7))) !== 0);
  for (let fd = 0; fd < nfds; fd++) {
    // "An invalid file descriptor was given in one of the sets"
    if (wantedOf(fd).some(Boolean) && !c.files.get(fd)) return finish(c, -Errno.EBADF);
  }
  const atHome = selectAtHome(c, nfds, wantedOf, zeroTimeout, deadline);
  if (typeof atHome === "number") return finish(c, atHome);
  for (let fd = 0; fd < nfds; fd++) {
    const bit = 1 << (fd & 7), at = fd >> 3;
    const wanted = wantedOf(fd);
    if (!wanted.some(Boolean)) continue;
    const file = c.files.get(fd)!;
    const r = atHome.get(fd) ?? readiness(c, file);
    if (wanted[0] && readsTerminal(file)) watchesInput = true;
    const hits = selectHits(wanted, r);
    hits.forEach((hit, i) => { if (hit) { out[i][at] |= bit; ready++; } });
  }
  if (ready > 0 || zeroTimeout) {
    [readfds, writefds, exceptfds].forEach((p, i) => { if (p !== 0) c.space.write(p, out[i]); });
    return finish(c, ready);
  }
  return waitOrTimeout(c, deadline, watchesInput);
}

/** pselect's forwarded descriptors: their readiness at home by fd (none: an empty map), or -errno. */
function selectAtHome(c: SyscallContext, nfds: number, wantedOf: (fd: number) => boolean[], zeroTimeout: boolean, deadline: bigint | null): Map<number, number> | number {
  const forwarded: Array<{ file: OpenFile; events: number; fd: number }> = [];
  let localReady = false, local = 0;
  for (let fd = 0; fd < nfds; fd++) {
    const wanted = wantedOf(fd);
    const file = c.files.get(fd);
    if (!wanted.some(Boolean) || !file) continue;
    if (file.kind === "forwarded") forwarded.push({ file, fd, events: (wanted[0] ? POLLIN : 0) | (wanted[1] ? POLLOUT : 0) | (wanted[2] ? POLLPRI : 0) });
    else { local++; localReady ||= selectHits(wanted, readiness(c, file)).some(Boolean); }
  }
  const atHome = new Map<number, number>();
  if (forwarded.length === 0) return atHome;
  // The home may hold the question only when nothing here is ready.
  const revents = readinessOfForwarded(c, forwarded, !localReady && !zeroTimeout, deadline, local > 0);
  if (typeof revents === "number") return revents;
  revents.forEach((r, j) => atHome.set(forwarded[j].fd, r));
  return atHome;
}

/** Which of select's three sets (read, write, except) a descriptor with readiness `r` is in, of those it was `wanted` in. */
function selectHits(wanted: boolean[], r: number): boolean[] {
  return [wanted[0] && (r & (POLLIN | POLLHUP | POLLERR)) !== 0, wanted[1] && (r & (POLLOUT | POLLERR)) !== 0, wanted[2] && (r & POLLPRI) !== 0];
}

export const POLL_CALLS = new Map<number, [string, Handler]>([
  [414, ["ppoll_time64", ppoll]],
  [413, ["pselect6_time64", pselect]],
]);
