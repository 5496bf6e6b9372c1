// A process that moved here alone (--children home) starts from its image: a
// fresh address space holding its pages, its descriptors (pipes and terminal
// forwarded to its home), its registers on the hart. It is the guest's first
// process here; children it forks here get pids from 2^20 + its pid. Its
// family's pids at home count up from 1000 (never reused), so they stay below
// that unless the home forks a million processes: a pid names one process
// across both hosts, and a kill of a pid that is not here goes home.

import { CSR_MCOUNTEREN, CSR_SATP, CSR_SCOUNTEREN, PRIV_U, STATE_HOST_TRAPS, STATE_PRIV } from "../../assembly/layout.js";
import { AddressSpace, PAGE } from "./address-space.js";
import { FileTable } from "./files.js";
import { MonotonicClock, type Kernel } from "./kernel.js";
import type { ProcessImage } from "./lone-process.js";
import { SignalState } from "./signals.js";
import { Task } from "./task.js";

/** Pids a lone process's own children get: far above its family's at home. */
const ADOPTED_PID_BASE = 1 << 20;

/** A count the image carries as a decimal string. */
export function decimal(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^\d{1,30}$/.test(value)) throw new Error(`the process image's ${what} is not a decimal count: ${JSON.stringify(value)}`);
  return BigInt(value);
}

export function adopt(k: Kernel, image: ProcessImage, root: string): void {
  const space = new AddressSpace(k.frames);
  for (const region of image.regions) space.addRegion({ ...region });
  const vpns = new Uint32Array(Uint8Array.from(image.pageNumbers).buffer);
  vpns.forEach((vpn, i) => {
    const prot = space.regionAt(vpn * PAGE)?.prot ?? 0;
    space.loadImage(vpn * PAGE, image.pageData.subarray(i * PAGE, i * PAGE + PAGE), prot);
  });
  space.brkStart = image.brkStart;
  space.brk = image.brk;
  space.mmapTop = image.mmapTop;
  const files = new FileTable(root, k.openFiles);
  files.cwd = image.cwd;
  files.umask = image.umask;
  for (const [fd, file, cloexec] of image.files) {
    const { id: _id, ...description } = file;
    files.install(fd, k.openFiles.create(description), cloexec);
  }
  const task = new Task(k, image.pid, image.ppid, image.pgid, image.sid, space, files);
  task.signals = SignalState.restore(image.signals);
  task.blockedInCall = image.blockedInCall;
  task.sleepDeadline = image.sleepDeadlineNs === null ? undefined : BigInt(image.sleepDeadlineNs);
  task.exe = image.exe;
  task.name = image.name;
  task.argv = image.argv ?? [image.name];
  task.cpuInstructions = BigInt(image.cpuInstructions);
  task.childrenCpuNs = decimal(image.childrenCpuNs ?? "0", "childrenCpuNs");
  k.tasks.set(task.pid, task);
  k.current = task;
  k.firstPid = task.pid;
  k.homeChildren = image.homeChildren ?? 0;
  k.nextPid = ADOPTED_PID_BASE + task.pid;
  k.clock = MonotonicClock.startingAt(BigInt(image.guestClockNs));
  const core = k.core;
  core.setState32(STATE_PRIV, PRIV_U);
  core.setState32(STATE_HOST_TRAPS, 0xffff);
  core.setState32(CSR_MCOUNTEREN, 7);
  core.setState32(CSR_SCOUNTEREN, 7);
  const registers = new Uint32Array(Uint8Array.from(image.registers).buffer);
  for (let r = 1; r < 32; r++) core.setX(r, registers[r]);
  core.pc = registers[32];
  core.setState32(CSR_SATP, space.satp);
  core.exports.flushCaches();
}
