// The kernel as data, for snapshots and migrations: the frame allocator, the
// open file descriptions, the pipes and sockets with the bytes in flight, every process
// (registers, address space map, descriptor table, signals), and the clocks.
// RAM (page tables included) and the hart's state block travel beside it.

import type { Core } from "../machine/core.js";
import { AddressSpace, type AddressSpaceState } from "./address-space.js";
import { FileTable, type OpenFile } from "./files.js";
import { Frames, u32s, type FramesState } from "./frames.js";
import { MonotonicClock, type Kernel } from "./kernel.js";
import { mapTrampoline, TRAMPOLINE_REGION } from "./loader.js";
import type { OpenFilesState } from "./open-files.js";
import { Pipe, type PipeState } from "./pipes.js";
import { SignalState } from "./signals.js";
import type { SocketsState } from "./sockets/table.js";
import type { TerminalState } from "./terminal.js";
import { Task, type TaskState } from "./task.js";
import { applyLimits } from "./calls/limits.js";
import { leaderOf } from "./threads.js";

export interface KernelState {
  schemaVersion: 2;
  frames: FramesState;
  openFiles: OpenFilesState;
  pipes: PipeState[];
  /** Added within schema 2: a snapshot without it has no sockets. */
  sockets?: SocketsState;
  /** Added within schema 2: the terminal's line discipline (settings, foreground group, input not read), when it has one. */
  terminal?: TerminalState;
  tasks: TaskState[];
  current: number; // the pid whose registers are in the hart block
  firstPid: number;
  nextPid: number;
  nextPipe: number;
  program: Uint8Array; // the ELF the guest was started with (/proc/self/exe)
  guestClockNs: string; // guest monotonic time at the snapshot (a bigint, as text)
  warnedSyscalls: number[];
  syscalls: Array<[string, number]>;
  pageFaults: number;
}

/** The sections that must be rebuilt together: processes refer to descriptions, descriptions to pipes, spaces to frames. */
const STRUCTURE = ["frames", "openFiles", "pipes", "sockets", "tasks", "current", "firstPid", "nextPid", "nextPipe"];

export function kernelState(k: Kernel): KernelState {
  onHartALiveProcess(k);
  k.current.registers.set(k.registersOf(k.current));
  return {
    schemaVersion: 2,
    frames: k.frames.state(),
    openFiles: k.openFiles.state(),
    pipes: [...k.pipes.values()].map((p) => p.state()),
    sockets: k.sockets.state(),
    ...(k.terminal ? { terminal: k.terminal.state() } : {}),
    tasks: tasksState(k),
    current: k.current.pid,
    firstPid: k.firstPid,
    nextPid: k.nextPid,
    nextPipe: k.nextPipe,
    program: k.program,
    guestClockNs: k.clock.monotonicNs().toString(),
    warnedSyscalls: [...k.warned],
    syscalls: [...k.stats.syscalls.entries()],
    pageFaults: k.stats.pageFaults,
  };
}

/** Every task as data; of each process with threads, the first live one carries its space and descriptor table. */
function tasksState(k: Kernel): TaskState[] {
  const holders = new Map<number, Task>();
  for (const t of k.tasks.values()) if (t.status !== "zombie" && !holders.has(t.tgid)) holders.set(t.tgid, t);
  return [...k.tasks.values()].map((t) => t.state(t.status === "zombie" || holders.get(t.tgid) === t));
}

/**
 * A process reaped as it exited (an orphan: init reaps it at once) leaves the hart naming a pid that is gone until the
 * run loop switches to another, and a freeze can fall in between (every other process waiting, or a pause at the next
 * slice). Its registers mean nothing now: a live process goes on the hart, so the state names one that is there.
 */
function onHartALiveProcess(k: Kernel): void {
  if (k.tasks.get(k.current.pid) === k.current) return;
  const live = [...k.tasks.values()].find((t) => t.status !== "zombie" && !t.away);
  if (!live) throw new Error("kernel state: no process is left to freeze (the guest has ended)");
  k.switchTo(live);
}

/**
 * Puts `s` into `k`: everything (`changed` null), or — a migration's final
 * state applied to the kernel its prestate built — the sections named.
 */
export function restoreKernel(k: Kernel, s: KernelState, restoreMemory: (core: Core) => void, changed: ReadonlySet<string> | null): void {
  if (s.schemaVersion !== 2) throw new Error(`kernel state: unknown schema version ${s.schemaVersion}`);
  const core = k.core;
  restoreMemory(core);
  core.exports.flushCaches();
  core.setTranslation(k.options.translate ?? true); // the restored state block carries the old host's flags
  if (changed !== null && [...changed].every((key) => REGISTERS_AND_CLOCKS.has(key)) && updateTasksInPlace(k, s)) {
    // A migration's usual final state: the same processes, spaces and files, new registers and clocks.
  } else if (changed === null || STRUCTURE.some((key) => changed.has(key))) restoreStructure(k, s);
  else k.current.registers.set(k.registersOf(k.current));
  k.clock = MonotonicClock.startingAt(BigInt(s.guestClockNs));
  k.warned.clear();
  for (const n of s.warnedSyscalls) k.warned.add(n);
  k.stats.syscalls.clear();
  for (const [name, count] of s.syscalls) k.stats.syscalls.set(name, count);
  k.stats.pageFaults = s.pageFaults;
}

/** Sections a final state may change without anything to rebuild (when its processes keep their spaces and files). */
const REGISTERS_AND_CLOCKS = new Set(["tasks", "current", "guestClockNs", "warnedSyscalls", "syscalls", "pageFaults"]);
/** The state each restored process was built from: a final state whose space is the same object needs no rebuilding. */
const builtFrom = new WeakMap<Task, TaskState>();

/**
 * Brings the processes up to `s` where it only moved them on (registers, signals,
 * clocks): inside a migration's downtime, rebuilding every table costs more than
 * the rest of the final state. False when anything structural differs.
 */
function updateTasksInPlace(k: Kernel, s: KernelState): boolean {
  if (s.tasks.length !== k.tasks.size || !k.tasks.has(s.current)) return false;
  for (const t of s.tasks) {
    const task = k.tasks.get(t.pid);
    const from = task && builtFrom.get(task);
    if (!from || t.addressSpace !== from.addressSpace || t.sharesSpaceOf !== from.sharesSpaceOf || t.status !== from.status) return false;
    // A final state's unchanged fields are the very objects the process was built from (src/snapshot/changes.ts).
    if (t.files !== from.files && JSON.stringify(t.files) !== JSON.stringify(from.files)) return false;
    if (t.away !== from.away && JSON.stringify(t.away) !== JSON.stringify(from.away)) return false;
  }
  for (const t of s.tasks) {
    const task = k.tasks.get(t.pid)!;
    setScalars(task, t);
    builtFrom.set(task, t);
  }
  shareWithinProcesses(k, s.tasks); // new signal states: a process's threads share their dispositions again
  k.current = k.tasks.get(s.current)!;
  return true;
}

function restoreStructure(k: Kernel, s: KernelState): void {
  k.frames = Frames.restore(k.memory, k.options.ramBytes / 4096, s.frames);
  const byId = k.openFiles.restore(s.openFiles);
  k.pipes = new Map(s.pipes.map((p) => [p.id, Pipe.restore(p)]));
  for (const file of byId.values()) {
    const pipe = file.kind === "pipe" && file.pipe !== undefined ? k.pipes.get(file.pipe) : undefined;
    if (!pipe) continue;
    if ((file.flags & 3) === 0) pipe.readers++; else pipe.writers++;
  }
  k.sockets.restore(s.sockets ?? { schemaVersion: 5, address: k.sockets.address, nextId: 1, nextEphemeral: 0, sockets: [] });
  k.tasks = new Map();
  for (const t of s.tasks) k.tasks.set(t.pid, restoreTask(k, t, byId));
  shareWithinProcesses(k, s.tasks);
  for (const t of k.tasks.values()) {
    if (!t.sharesSpaceOf) continue;
    const lender = k.tasks.get(t.sharesSpaceOf);
    if (!lender) throw new Error(`kernel state: process ${t.pid} shares the space of ${t.sharesSpaceOf}, which is not there`);
    t.space = lender.space;
  }
  const current = k.tasks.get(s.current);
  if (!current) throw new Error(`kernel state: the process on the hart (${s.current}) is not in the process list`);
  k.current = current;
  k.firstPid = s.firstPid;
  k.nextPid = s.nextPid;
  k.nextPipe = s.nextPipe;
  (k as { program: Uint8Array }).program = s.program;
}

/** The threads of each process share the space, table, limits and signal dispositions its holder was restored with. */
function shareWithinProcesses(k: Kernel, states: TaskState[]): void {
  for (const s of states) {
    if (!s.addressSpace && !s.files) continue;
    const holder = k.tasks.get(s.pid)!;
    const leader = leaderOf(k, holder);
    for (const t of k.tasks.values()) {
      if (t.tgid !== holder.tgid || t === holder) continue;
      t.space = holder.space;
      t.files = holder.files;
      t.limits = leader.limits;
      t.signals.actions = holder.signals.actions;
      t.signals.process = holder.signals.process;
    }
  }
}

function restoreTask(k: Kernel, s: TaskState, byId: Map<number, OpenFile>): Task {
  const root = k.options.root;
  const space = s.addressSpace ? AddressSpace.restore(k.frames, s.addressSpace) : (undefined as unknown as AddressSpace);
  if (s.addressSpace && trampolineUnmapped(s.addressSpace)) mapTrampoline(space); // a process from a v1 state (see below)
  const files = s.files ? FileTable.restore(root, k.openFiles, s.files, byId) : new FileTable(root, k.openFiles);
  const task = new Task(k, s.pid, s.ppid, s.pgid, s.sid, space, files);
  setScalars(task, s);
  task.sharesSpaceOf = s.sharesSpaceOf;
  task.away = s.away ? { host: s.away[0], guest: s.away[1] } : undefined;
  builtFrom.set(task, s);
  return task;
}

/** What a process's state says beyond its space, files and ties to others. */
function setScalars(task: Task, s: TaskState): void {
  task.tgid = s.tgid ?? s.pid;
  task.clearChildTid = s.clearChildTid ?? 0;
  task.robustList = s.robustList ?? 0;
  task.exitedAsThread = s.exitedAsThread ?? false;
  task.threadsCpu = BigInt(s.threadsCpu ?? "0");
  // Woken from a futex wait before the freeze: the call it runs again returns 0 (calls/threads.ts); other waits queue anew.
  task.futexWait = s.futexWoken ? { space: task.space, address: 0, bitset: 0, woken: true } : undefined;
  task.ppid = s.ppid;
  task.pgid = s.pgid;
  task.sid = s.sid;
  task.status = s.status;
  task.waitStatus = s.waitStatus;
  task.exitSignal = s.exitSignal;
  task.registers.set(new Uint32Array(Uint8Array.from(s.registers).buffer));
  task.cpuInstructions = BigInt(s.cpuInstructions);
  task.childrenCpuNs = BigInt(s.childrenCpuNs ?? "0");
  task.limits = new Map((s.limits ?? []).map(([resource, cur, max]) => [resource, { cur: BigInt(cur), max: BigInt(max) }]));
  applyLimits(task);
  task.vforkChild = s.vforkChild;
  task.signals = SignalState.restore(s.signals);
  task.blockedInCall = s.blockedInCall;
  // A process that waited in a call runs it again: it blocks anew if it must.
  task.sleepDeadline = s.sleepDeadlineNs === null ? undefined : BigInt(s.sleepDeadlineNs);
  task.suspendedMask = s.suspendedMask === null ? undefined : BigInt(s.suspendedMask);
  task.exe = s.exe;
  task.name = s.name;
  task.argv = s.argv ?? [s.name];
}

/** A trampoline region whose page the journal does not map: only an upgraded version-1 process has one. */
function trampolineUnmapped(space: AddressSpaceState): boolean {
  if (!space.regions.some((r) => r.kind === "vdso" && r.start === TRAMPOLINE_REGION.start)) return false;
  const journal = u32s(space.pages);
  let mapped = false;
  for (let i = 0; i < journal.length; i += 2) if (journal[i] === TRAMPOLINE_REGION.start >>> 12) mapped = journal[i + 1] !== 0xffffffff;
  return !mapped;
}

// ---- Version 1: one process (snapshots and checkpoints made before processes had children) ----

interface ProcessStateV1 {
  schemaVersion: 1;
  addressSpace: AddressSpaceState & { freeFrames: Uint8Array; nextFrame: number };
  files: { schemaVersion: 1 | 2; cwd: string; files: Array<[number, Omit<OpenFile, "id">]> };
  pid: number;
  guestClockNs: string;
  sleepDeadlineNs: string | null;
  warnedSyscalls: number[];
  syscalls: Array<[string, number]>;
  pageFaults: number;
}

/**
 * A version-1 state (one process) as version 2: its frames, its files, one task on the hart. Version 1 had no
 * signal handlers, so no sigreturn trampoline: the upgraded space gets its region (unless something of the
 * process's own is there), and restoreTask maps its page, which the v1 RAM does not have.
 */
export function upgradeProcessState(v1: ProcessStateV1, hartRegisters: Uint32Array): KernelState {
  const { freeFrames, nextFrame, ...v1Space } = v1.addressSpace;
  const taken = v1Space.regions.some((r) => r.start < TRAMPOLINE_REGION.end && r.end > TRAMPOLINE_REGION.start);
  const space = taken ? v1Space : { ...v1Space, regions: [...v1Space.regions, { ...TRAMPOLINE_REGION }].sort((a, b) => a.start - b.start) };
  const files = v1.files.files.map(([fd, f], i) => ({ fd, file: { ...f, id: i + 1 } as OpenFile }));
  const task: TaskState = {
    pid: v1.pid, ppid: 1, pgid: v1.pid, sid: v1.pid, status: "running", waitStatus: 0, exitSignal: 17,
    registers: new Uint8Array(hartRegisters.buffer.slice(0)), cpuInstructions: "0",
    addressSpace: { ...space, schemaVersion: 2 }, sharesSpaceOf: 0, vforkChild: 0,
    files: { schemaVersion: 3, cwd: v1.files.cwd, umask: 0o022, fds: files.map(({ fd, file }) => [fd, file.id, false]) },
    signals: new SignalState().state(), blockedInCall: false, sleepDeadlineNs: v1.sleepDeadlineNs, suspendedMask: null,
    exe: "", name: "", away: null,
  };
  return {
    schemaVersion: 2,
    frames: { schemaVersion: 1, freeFrames, nextFrame, shared: new Uint8Array(0) },
    openFiles: { schemaVersion: 1, nextId: files.length + 1, files: files.map(({ file }) => file) },
    pipes: [], tasks: [task], current: v1.pid, firstPid: v1.pid, nextPid: v1.pid + 1, nextPipe: 1, program: new Uint8Array(0),
    guestClockNs: v1.guestClockNs, warnedSyscalls: v1.warnedSyscalls, syscalls: v1.syscalls, pageFaults: v1.pageFaults,
  };
}
