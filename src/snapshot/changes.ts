// A snapshot told as its changes since an earlier snapshot of the same guest.
//
// A migration sends the whole state once before the freeze (mig-prestate), and
// the destination builds the guest from it while the guest still runs here.
// Inside the downtime only what changed since goes: the hart block always, the
// console and each section of the kernel's state (or the machine's devices)
// only if it differs. The destination applies that to the guest it built,
// instead of decoding and building everything again.

import type { KernelState } from "../kernel/kernel.js";
import type { MachineState } from "../machine/machine.js";
import { bad, own, record } from "./schema.js";
import type { ConsoleState, GuestSnapshot } from "./snapshot.js";
import { checkConsole, checkHart, checkProcessHart } from "./validate.js";
import { checkMachineState } from "./validate-machine.js";
import { checkProcessChanges } from "./validate-process.js";
import type { TaskState } from "../kernel/task.js";

export interface SnapshotChanges {
  hart: Uint8Array; // always: the registers change whenever the guest runs
  console?: ConsoleState;
  process?: Partial<KernelState>; // the sections that changed
  machine?: MachineState;
}

/** What changed from `base` to `next` (two snapshots of one guest, neither carrying RAM pages). */
export function changesSince(base: GuestSnapshot, next: GuestSnapshot): SnapshotChanges {
  const changes: SnapshotChanges = { hart: next.hart };
  if (!sameValue(base.console, next.console)) changes.console = next.console;
  if (next.process) {
    const process: Record<string, unknown> = {};
    const before = (base.process ?? {}) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(next.process)) {
      if (sameValue(before[key], value)) continue;
      // The processes' registers change whenever the guest runs; the rest of each (page journals of up to ~0.5 MB,
      // descriptor tables, signal state) mostly does not: only what changed goes, and only that is checked there.
      process[key] = key === "tasks" ? taskChanges(before.tasks as TaskState[] | undefined, value as TaskState[]) : value;
    }
    changes.process = process as Partial<KernelState>;
  }
  if (next.machine !== undefined && !sameValue(base.machine, next.machine)) changes.machine = next.machine;
  return changes;
}

/**
 * `base` (a checked snapshot) with `changes` applied. Each section the changes
 * carry is checked as a snapshot's would be; the rest is base's, checked when it arrived.
 */
export function applyChanges(base: GuestSnapshot, changes: SnapshotChanges): GuestSnapshot {
  const c = record(changes, "changes");
  const ramBytes = base.guest.ramBytes;
  const hart = checkHart(own(c, "hart"), ramBytes);
  const console = own(c, "console") === undefined ? base.console : checkConsole(own(c, "console"));
  const next: GuestSnapshot = { ...base, hart, console, ram: { indices: new Uint32Array(0), data: new Uint8Array(0) } };
  if (base.guest.kind === "process") {
    if (own(c, "machine") !== undefined) bad("machine", "a process-mode guest has no device state");
    const process = own(c, "process");
    if (process !== undefined) next.process = checkProcessChanges(process, base.process!, ramBytes / 4096);
    checkProcessHart(hart, next.process!);
  } else {
    if (own(c, "process") !== undefined) bad("process", "a machine-mode guest has no kernel state");
    const machine = own(c, "machine");
    if (machine !== undefined) next.machine = checkMachineState(machine, "machine", ramBytes);
  }
  return next;
}

/** The sections of the kernel's state that `changes` replaces. */
export function changedSections(changes: SnapshotChanges): ReadonlySet<string> {
  const process = changes?.process;
  return new Set(typeof process === "object" && process !== null ? Object.keys(process) : []);
}

/** Each process `before` had as its pid and the fields that differ (`changedFields`); a new one whole. */
function taskChanges(before: TaskState[] | undefined, next: TaskState[]): unknown[] {
  const byPid = new Map((before ?? []).map((t) => [t.pid, t]));
  return next.map((t) => {
    const earlier = byPid.get(t.pid) as unknown as Record<string, unknown> | undefined;
    if (!earlier) return t;
    const changedFields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(t)) if (key !== "pid" && !sameValue(earlier[key], value)) changedFields[key] = value;
    return { pid: t.pid, changedFields };
  });
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
