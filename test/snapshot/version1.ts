// A snapshot as the version before process trees wrote it (commit af98120):
// the kernel state was one process, ProcessState v1, with its frame allocator
// inside its address space and its open files inside its descriptor table.
// Built from a snapshot of a one-process guest taken now, field by field in
// the old shapes, so a test can check that such a snapshot is still restored.

import type { GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { openFilesOf } from "./open-files.js";

/** `snapshot` (of a guest with one process, no frame shared) with its kernel state in the v1 shape; file table schema 1 (no capabilities) or 2. */
export function asVersion1(snapshot: GuestSnapshot, fileTableVersion: 1 | 2 = 2): GuestSnapshot {
  const k = snapshot.process!;
  if (k.tasks.length !== 1 || k.frames.shared.length) throw new Error("a v1 snapshot holds one process, and no frame shared");
  const task = k.tasks[0];
  const { schemaVersion: _v, ...space } = task.addressSpace!;
  const files = openFilesOf(k).map(([fd, { id: _id, cap, ...file }]) => [fd, fileTableVersion === 1 ? file : { ...file, ...(cap === undefined ? {} : { cap }) }]);
  const process = {
    schemaVersion: 1,
    addressSpace: { schemaVersion: 1, ...space, freeFrames: k.frames.freeFrames, nextFrame: k.frames.nextFrame },
    files: { schemaVersion: fileTableVersion, cwd: task.files!.cwd, files },
    pid: task.pid,
    guestClockNs: k.guestClockNs,
    sleepDeadlineNs: task.sleepDeadlineNs,
    warnedSyscalls: k.warnedSyscalls,
    syscalls: k.syscalls,
    pageFaults: k.pageFaults,
  };
  return { ...snapshot, process: process as never };
}
