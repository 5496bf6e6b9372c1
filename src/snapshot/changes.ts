// A snapshot told as its changes since an earlier snapshot of the same guest.
//
// A migration sends the whole state once before the freeze (mig-prestate), and
// the destination builds the guest from it while the guest still runs here.
// Inside the downtime only what changed since goes: the hart block always, the
// console and each section of the kernel's state (or the machine's devices)
// only if it differs. The destination applies that to the guest it built,
// instead of decoding and building everything again.

import type { ProcessState } from "../kernel/process.js";
import { checkSnapshot, type ConsoleState, type GuestSnapshot } from "./snapshot.js";

export interface SnapshotChanges {
  hart: Uint8Array; // always: the registers change whenever the guest runs
  console?: ConsoleState;
  process?: Partial<ProcessState>; // the sections that changed
  machine?: unknown;
}

/** What changed from `base` to `next` (two snapshots of one guest, neither carrying RAM pages). */
export function changesSince(base: GuestSnapshot, next: GuestSnapshot): SnapshotChanges {
  const changes: SnapshotChanges = { hart: next.hart };
  if (!sameValue(base.console, next.console)) changes.console = next.console;
  if (next.process) {
    const process: Record<string, unknown> = {};
    const before = (base.process ?? {}) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(next.process)) if (!sameValue(before[key], value)) process[key] = value;
    changes.process = process as Partial<ProcessState>;
  }
  if (next.machine !== undefined && !sameValue(base.machine, next.machine)) changes.machine = next.machine;
  return changes;
}

/** `base` with `changes` applied, checked as a whole like any snapshot that arrives. */
export function applyChanges(base: GuestSnapshot, changes: SnapshotChanges): GuestSnapshot {
  if (typeof changes !== "object" || changes === null) throw new Error("state changes are not a map");
  const process = changes.process === undefined ? base.process : { ...base.process, ...changes.process };
  return checkSnapshot({
    ...base,
    hart: changes.hart,
    console: changes.console ?? base.console,
    ...(process ? { process } : {}),
    ...(changes.machine !== undefined ? { machine: changes.machine } : {}),
    ram: { indices: new Uint8Array(0), data: new Uint8Array(0) },
  }, base.version);
}

/** The sections of the kernel's state that `changes` replaces. */
export function changedSections(changes: SnapshotChanges): ReadonlySet<string> {
  return new Set(Object.keys(changes.process ?? {}));
}

/** Deep equality over snapshot data: maps, lists, bytes, numbers, text, booleans, null. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
