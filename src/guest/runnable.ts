// What a host needs from a guest of either kind (process or machine mode), and
// what the two kinds share.

import type { GuestMessage } from "../net/host-links.js";
import { randomBytes } from "node:crypto";
import { STATE_BASE, STATE_USED } from "../../assembly/layout.js";
import { markWritten, writtenPages } from "../migration/pages.js";
import { applyPages, capturePages, SnapshotError, type GuestKind } from "../snapshot/snapshot.js";
import type { Core } from "../machine/core.js";
import type { BusyTime } from "../machine/busy-time.js";
import type { GuestInfo, GuestSnapshot, RamPages } from "../snapshot/snapshot.js";
import type { GuestConsole } from "./guest-console.js";

export interface GuestRunResult {
  paused?: boolean; // frozen by pause(): run() continues it
  exitCode: number;
  report?: string;
  instret: bigint;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string; // "running", "waiting", "stopped", "zombie"
  name: string;
  cpuInstructions: number;
  /** Its threads, when it has more than one. */
  threads?: number;
}

export interface RunnableGuest {
  readonly info: GuestInfo;
  readonly core: Core;
  readonly console: GuestConsole;
  readonly instret: bigint;
  /** What it retired running flat out, and in how long: its host's speed (src/machine/busy-time.ts). */
  readonly busy: BusyTime;
  run(): Promise<GuestRunResult>;
  pause(): void;
  setThrottle(fraction: number): void;
  /** The host's --capacity share: after each batch, how long (ms) to wait for the instructions it retired; `allowance`: how many a batch may retire. */
  setPace(pace: ((ran: number) => number) | undefined, allowance?: () => number): void;
  /** A migration is about to freeze it: run short batches until then. */
  expectFreeze(soon: boolean): void;
  kill(): void;
  /** Ctrl-C on an attached terminal: ends it as Ctrl-C ends `roam run` (exit 130). */
  interrupt(): void;
  snapshot(): GuestSnapshot;
  snapshotWithout(ram: RamPages): GuestSnapshot;
  /** Restored but not started: brings it up to a later snapshot of the same guest (`changed`: kernel sections that differ). */
  update(snapshot: GuestSnapshot, changed: ReadonlySet<string>): void;
  /** Postcopy: some of its RAM is still on the host it came from (it cannot move on, or be saved, until it is here). */
  readonly receivingPages: boolean;
  /** What it still needs from other hosts (files left behind), for ps and stats. */
  dependencies(): string[];
  /** Its processes (process mode), for ps: each with its parent, as `ps f` shows them. */
  processes?(): ProcessInfo[];
  /** A message from another guest, for its sockets (process mode; docs/MESSAGES.md). */
  receiveMessage?(message: GuestMessage): void;
  /** Taken over by its backup (src/replication/backup.ts): its streams to other guests catch up (Sockets.resumeAfterTakeover). */
  resumeAfterTakeover?(): void;
}

// ---- What both kinds of guest share ------------------------------------------------------


export function newGuestId(): string {
  return "g" + randomBytes(6).toString("hex");
}

/** Who a newly started guest is. */
export function newGuestInfo(kind: GuestKind, hostName: string, start: { program: string; argv: string[]; id?: string; root?: string }, ramBytes: number): GuestInfo {
  return {
    id: start.id ?? newGuestId(), kind, program: start.program, argv: start.argv, ramBytes, createdAt: new Date().toISOString(), host: hostName,
    root: start.root ?? ".",
  };
}

/** The hart's state block, as a snapshot carries it. */
export function hartBlock(core: Core): Uint8Array {
  return core.memoryBytes.slice(STATE_BASE, STATE_BASE + STATE_USED);
}

/**
 * Refuses a snapshot this core cannot hold: one of another kind, or (when a
 * migration already received the pages into `core`) one whose RAM size is not
 * the size the core was made with.
 */
export function checkRestorable(core: Core, snapshot: GuestSnapshot, kind: GuestKind, coreReady: boolean): void {
  if (snapshot.guest.kind !== kind) throw new SnapshotError(`guest.kind: ${snapshot.guest.kind}, but this is a ${kind}-mode restore`);
  if (coreReady && core.ram.byteLength !== snapshot.guest.ramBytes) {
    throw new SnapshotError(`guest.ramBytes: ${snapshot.guest.ramBytes}, but the core received ${core.ram.byteLength} bytes of RAM`);
  }
}

/** Puts a snapshot's hart block and RAM pages into a core (whose RAM is otherwise as the caller left it). */
export function restoreHartAndPages(core: Core, snapshot: GuestSnapshot): void {
  core.memoryBytes.set(snapshot.hart, STATE_BASE);
  applyPages(core.ram, snapshot.ram);
  markWritten(core, snapshot.ram.indices);
}

/** Every non-zero page of a guest's RAM (only written pages can be). */
export function allRamPages(core: Core, ramBytes: number): RamPages {
  return capturePages(core.ram, writtenPages(core, ramBytes / 4096));
}
