// A snapshot as the version before process trees wrote it (commit af98120):
// the kernel state was one process, ProcessState v1, with its frame allocator
// inside its address space and its open files inside its descriptor table.
// Built from a snapshot of a one-process guest taken now, field by field in
// the old shapes, so a test can check that such a snapshot is still restored.

import type { AddressSpaceState } from "../../src/kernel/address-space.js";
import { u32Bytes, u32s } from "../../src/kernel/frames.js";
import { TRAMPOLINE_PAGE } from "../../src/kernel/signals.js";
import type { GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { openFilesOf } from "./open-files.js";

/** `snapshot` (of a guest with one process, no frame shared) with its kernel state in the v1 shape; file table schema 1 (no capabilities) or 2. */
export function asVersion1(snapshot: GuestSnapshot, fileTableVersion: 1 | 2 = 2): GuestSnapshot {
  const k = snapshot.process!;
  if (k.tasks.length !== 1 || k.frames.shared.length) throw new Error("a v1 snapshot holds one process, and no frame shared");
  const task = k.tasks[0];
  const { schemaVersion: _v, ...space } = withoutTrampoline(task.addressSpace!, k.frames.freeFrames);
  const files = openFilesOf(k).map(([fd, { id: _id, cap, ...file }]) => [fd, fileTableVersion === 1 ? file : { ...file, ...(cap === undefined ? {} : { cap }) }]);
  const process = {
    schemaVersion: 1,
    addressSpace: { schemaVersion: 1, ...space, nextFrame: k.frames.nextFrame },
    files: { schemaVersion: fileTableVersion, cwd: task.files!.cwd, files },
    pid: task.pid,
    guestClockNs: k.guestClockNs,
    sleepDeadlineNs: task.sleepDeadlineNs,
    warnedSyscalls: k.warnedSyscalls,
    syscalls: k.syscalls,
    pageFaults: k.pageFaults,
  };
  return { ...snapshot, ram: withoutPte(snapshot, task.addressSpace!, TRAMPOLINE_PAGE >>> 12), process: process as never };
}

/** The snapshot's RAM with the page-table entry for `vpn` cleared (the hart walks the tables in RAM, not the journal). */
function withoutPte(snapshot: GuestSnapshot, space: AddressSpaceState, vpn: number): GuestSnapshot["ram"] {
  const tables = u32s(space.tableFrames);
  let table = -1;
  for (let i = 0; i < tables.length; i += 2) if (tables[i] === vpn >>> 10) table = tables[i + 1];
  const at = Array.from(snapshot.ram.indices).indexOf(table);
  if (table < 0 || at < 0) throw new Error("the snapshot's RAM has no page table for the trampoline");
  const data = Uint8Array.from(snapshot.ram.data);
  data.fill(0, at * 4096 + (vpn & 0x3ff) * 4, at * 4096 + (vpn & 0x3ff) * 4 + 4);
  return { indices: snapshot.ram.indices, data };
}

/**
 * The space as the previous version made it: no sigreturn trampoline (it had no signal handlers). Its region goes,
 * its page is unmapped in the journal, and its frame is free.
 */
function withoutTrampoline(space: AddressSpaceState, freeFrames: Uint8Array): AddressSpaceState & { freeFrames: Uint8Array } {
  const vpn = TRAMPOLINE_PAGE >>> 12;
  const journal = u32s(space.pages);
  let frame = -1;
  for (let i = 0; i < journal.length; i += 2) if (journal[i] === vpn) frame = journal[i + 1];
  if (frame < 0 || frame === 0xffffffff) throw new Error("the space has no trampoline page to take away");
  return {
    ...space,
    regions: space.regions.filter((r) => r.kind !== "vdso"),
    pages: Uint8Array.from([...space.pages, ...u32Bytes(Uint32Array.of(vpn, 0xffffffff))]),
    freeFrames: u32Bytes(Uint32Array.from([...u32s(freeFrames), frame])),
  };
}
