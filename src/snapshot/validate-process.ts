// The process-mode kernel's state in a snapshot (src/kernel: KernelState and
// the states of its parts), checked section by section, then across sections. Every frame
// number must name a page of this guest's RAM, every page-table index must
// exist, every number the kernel computes with must be a finite integer in range.

import * as path from "node:path";
import type { AddressSpaceState, Region } from "../kernel/address-space.js";
import type { FileTableState, OpenFile } from "../kernel/files.js";
import type { KernelState } from "../kernel/kernel.js";
import { upgradeProcessState } from "../kernel/kernel-state.js";
import type { OpenFilesState } from "../kernel/open-files.js";
import { PIPE_CAPACITY, type PipeState } from "../kernel/pipes.js";
import type { SignalStateData } from "../kernel/signals.js";
import type { TaskState } from "../kernel/task.js";
import {
  bad, bool, bytes, decimalU64, describe, int, list, MAX_LIST, nonEmptyText, nonNegative, oneOf, own, packedU32s, record, schemaVersion, text, u32, U32_MAX,
} from "./schema.js";
import { checkFrameHolders, checkFrames, startsWith } from "./validate-frames.js";
import { checkSocketReferences, checkSockets } from "./validate-sockets.js";
import { checkTerminal } from "./validate-terminal.js";

const PAGE = 4096;
const UNMAPPED = 0xffffffff; // a removal in the page journal
const MAX_FILES = 1024; // as the file table allows
const MAX_PATH = 4096; // the longest guest path the file table makes (ENAMETOOLONG beyond)

/** Checks one section; `previous` is the same section of the state a migration's changes apply to. */
type SectionCheck = (value: unknown, path: string, frames: number, previous?: unknown) => unknown;

const MAX_PROCESSES = 4096;
const MAX_PIPES = 65536;

/** One check per section of KernelState; a migration's changes name sections by these keys. */
export const PROCESS_SECTIONS: Record<keyof KernelState, SectionCheck> = {
  schemaVersion: (v, p) => int(v, p, 2, 2),
  frames: (v, p, frames) => checkFrames(v, p, frames),
  openFiles: (v, p) => checkOpenFiles(v, p),
  pipes: (v, p) => checkPipes(v, p),
  sockets: (v, p) => checkSockets(v, p),
  terminal: (v, p) => checkTerminal(v, p),
  tasks: (v, p, frames, previous) => checkTasks(v, p, frames, previous as TaskState[] | undefined),
  current: (v, p) => int(v, p, 1, 0x7fffffff),
  firstPid: (v, p) => int(v, p, 1, 0x7fffffff),
  nextPid: (v, p) => int(v, p, 1, 0x7fffffff),
  nextPipe: (v, p) => int(v, p, 1, 0x7fffffff),
  program: (v, p) => bytes(v, p),
  guestClockNs: (v, p) => decimalU64(v, p),
  warnedSyscalls: (v, p) => list(v, p, MAX_LIST).map((n, i) => u32(n, `${p}[${i}]`)),
  syscalls: (v, p) => list(v, p, MAX_LIST).map((entry, i) => checkSyscallCount(entry, `${p}[${i}]`)),
  pageFaults: (v, p) => nonNegative(v, p),
};

export function checkProcessState(value: unknown, at: string, frames: number): KernelState {
  const m = record(value, at);
  // The hart block holds the one process's registers: its task needs none of its own until another runs.
  if (own(m, "schemaVersion") === 1) return checkReferences(upgradeProcessState(checkProcessStateV1(m, at, frames), new Uint32Array(33)), at, frames);
  const state: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(PROCESS_SECTIONS)) {
    const section = check(own(m, key), `${at}.${key}`, frames);
    if (section !== undefined) state[key] = section; // an optional section left out stays out (the terminal)
  }
  return checkReferences(state as unknown as KernelState, at, frames);
}

/** The sections a migration's final state replaces, each checked; `base` (already checked) supplies the rest. */
export function checkProcessChanges(value: unknown, base: KernelState, frames: number): KernelState {
  const m = record(value, "process");
  const state: Record<string, unknown> = { ...base };
  for (const key of Object.keys(m)) {
    if (!Object.prototype.hasOwnProperty.call(PROCESS_SECTIONS, key)) bad(`process[${describe(key)}]`, "not a section of the kernel's state");
    state[key] = PROCESS_SECTIONS[key as keyof KernelState](m[key], `process.${key}`, frames, state[key]);
  }
  const checked = state as unknown as KernelState;
  if (structureChanged(m, base)) return checkReferences(checked, "process", frames, base.tasks);
  // The same processes with the same spaces, files and ties: what the sections say of each other was checked with base.
  if (!checked.tasks.some((t) => t.pid === checked.current)) bad("process.current", `process ${checked.current} is not in the process list`);
  return checked;
}

/** Sections a final state may change while the processes keep their spaces, files and ties. */
const MOVED_ON_ONLY = new Set(["tasks", "current", "guestClockNs", "warnedSyscalls", "syscalls", "pageFaults"]);

/** Whether `changes` (checked) may have changed what one section says of another. */
function structureChanged(changes: Record<string, unknown>, base: KernelState): boolean {
  if (Object.keys(changes).some((key) => !MOVED_ON_ONLY.has(key))) return true;
  const tasks = changes.tasks as Array<Record<string, unknown>> | undefined;
  if (tasks === undefined) return false;
  if (tasks.length !== base.tasks.length) return true;
  return tasks.some((t) => {
    const fields = t.changedFields as Record<string, unknown> | undefined;
    return fields === undefined || Object.keys(fields).some((key) => STRUCTURAL_TASK_FIELDS.has(key));
  });
}

/**
 * What the sections say of each other: descriptors name descriptions that
 * exist, processes name processes that do, the allocator counts what the page
 * tables hold (`previous`: the tasks of the checked state this one follows).
 */
function checkReferences(s: KernelState, at: string, frames: number, previous?: TaskState[]): KernelState {
  checkFileReferences(s, at);
  checkSocketReferences(s.sockets, s.openFiles.files, at);
  const byPid = new Map(s.tasks.map((t) => [t.pid, t]));
  s.tasks.forEach((t, i) => checkTaskReferences(t, byPid, `${at}.tasks[${i}]`));
  // The process on the hart may have just ended (its registers stay there until the next switch): the kernel
  // runs only a runnable process, and switching to it puts that one's registers and page tables on the hart.
  if (!byPid.has(s.current)) bad(`${at}.current`, `process ${s.current} is not in the process list`);
  if (!byPid.has(s.firstPid)) bad(`${at}.firstPid`, `process ${s.firstPid} is not in the process list`);
  if (s.tasks.some((t) => t.pid >= s.nextPid)) bad(`${at}.nextPid`, `${s.nextPid} is not above every pid in use`);
  if (s.pipes.some((p) => p.id >= s.nextPipe)) bad(`${at}.nextPipe`, `${s.nextPipe} is not above every pipe id in use`);
  checkFrameHolders(s.frames, s.tasks, frames, `${at}.frames`, previous);
  return s;
}

/** Every descriptor names a description, every pipe end a pipe. */
function checkFileReferences(s: KernelState, at: string): void {
  const ids = new Set(s.openFiles.files.map((f) => f.id));
  const pipes = new Set(s.pipes.map((p) => p.id));
  for (const f of s.openFiles.files) {
    if (f.kind === "pipe" && !pipes.has(f.pipe!)) bad(`${at}.openFiles`, `open file ${f.id} is an end of pipe ${f.pipe}, which is not there`);
  }
  const referred = new Set<number>();
  s.tasks.forEach((t, i) => {
    for (const [fd, id] of t.files?.fds ?? []) {
      if (!ids.has(id)) bad(`${at}.tasks[${i}].files`, `fd ${fd} refers to open file ${id}, which is not there`);
      referred.add(id);
    }
  });
  // A description closes with its last descriptor: one that none refers to would hold its pipe end open for ever.
  s.openFiles.files.forEach((f, i) => { if (!referred.has(f.id)) bad(`${at}.openFiles.files[${i}]`, `open file ${f.id} is not referred to by any descriptor`); });
}

/**
 * A process's ties to others: a vfork child borrows the space of a process
 * that has one of its own (and has none itself); a vfork parent waits for a
 * child that borrows its space (or it would wait for ever).
 */
function checkTaskReferences(t: TaskState, byPid: Map<number, TaskState>, at: string): void {
  const tgid = t.tgid ?? t.pid;
  if (tgid !== t.pid) {
    const leader = byPid.get(tgid);
    if (!leader) bad(`${at}.tgid`, `thread ${t.pid}'s process leader ${tgid} is not there`);
    if ((leader.tgid ?? leader.pid) !== leader.pid) bad(`${at}.tgid`, `${tgid} is a thread of process ${leader.tgid}, not a process's leader`);
    if (t.exitedAsThread) bad(`${at}.exitedAsThread`, `thread ${t.pid} is not its process's leader`);
  }
  const threads = [...byPid.values()].filter((o) => (o.tgid ?? o.pid) === tgid && o.status !== "zombie");
  const holders = threads.filter((o) => o.addressSpace || o.sharesSpaceOf || o.away);
  // One thread of a live process carries its space and descriptor table; the others share them.
  if (threads.length > 1 && (holders.length !== 1 || !holders[0].files || threads.some((o) => o !== holders[0] && (o.files || o.sharesSpaceOf || o.away)))) {
    bad(`${at}.addressSpace`, `process ${tgid}'s threads do not name one of them as holding its space and descriptors`);
  }
  if (t.exitedAsThread && threads.length === 0) bad(`${at}.exitedAsThread`, `process ${t.pid} has no thread left, yet has not ended`);
  if (t.sharesSpaceOf) {
    const lender = byPid.get(t.sharesSpaceOf);
    if (!lender) bad(`${at}.sharesSpaceOf`, `process ${t.sharesSpaceOf} is not there`);
    const lenderHolder = lender.addressSpace ? lender : [...byPid.values()].find((o) => (o.tgid ?? o.pid) === (lender.tgid ?? lender.pid) && o.addressSpace);
    if (!lenderHolder || lender.sharesSpaceOf) bad(`${at}.sharesSpaceOf`, `process ${t.sharesSpaceOf} has no address space of its own to share`);
    if (t.addressSpace) bad(`${at}.addressSpace`, `process ${t.pid} shares the space of ${t.sharesSpaceOf}, and has one of its own`);
  }
  if (t.vforkChild && byPid.get(t.vforkChild)?.sharesSpaceOf !== t.pid) bad(`${at}.vforkChild`, `process ${t.vforkChild} does not share the space of ${t.pid}`);
  if (t.status === "zombie") {
    // What an ended process held went back when it ended: else its pipe ends would never close, its frames never free.
    if (t.addressSpace) bad(`${at}.addressSpace`, `process ${t.pid} has ended, yet holds an address space`);
    if (t.files) bad(`${at}.files`, `process ${t.pid} has ended, yet holds descriptors`);
    return;
  }
  if (threads.length > 1) return; // its space and table are the holder's (checked above)
  // A proxy of a process that moved alone (--children home) has no memory here.
  if (!t.sharesSpaceOf && !t.away && !t.addressSpace) bad(`${at}.addressSpace`, "a live process needs an address space");
  if (!t.files) bad(`${at}.files`, "a live process needs a descriptor table");
}

function checkSyscallCount(value: unknown, at: string): [string, number] {
  const pair = list(value, at, 2);
  if (pair.length !== 2) bad(at, "not a [name, count] pair");
  return [text(pair[0], `${at}[0]`, 64), nonNegative(pair[1], `${at}[1]`)];
}

// ---- Frames, pipes, processes -------------------------------------------------------------

function checkPipes(value: unknown, at: string): PipeState[] {
  const seen = new Set<number>();
  return list(value, at, MAX_PIPES).map((entry, i) => {
    const pipe = checkPipe(entry, `${at}[${i}]`);
    if (seen.has(pipe.id)) bad(`${at}[${i}].id`, `pipe ${pipe.id} twice`);
    seen.add(pipe.id);
    return pipe;
  });
}

function checkPipe(value: unknown, at: string): PipeState {
  const m = record(value, at);
  const data = bytes(own(m, "data"), `${at}.data`);
  if (data.length > PIPE_CAPACITY) bad(`${at}.data`, `${data.length} bytes in a pipe of ${PIPE_CAPACITY}`);
  return { id: int(own(m, "id"), `${at}.id`, 1, 0x7fffffff), data };
}

function checkOpenFiles(value: unknown, at: string): OpenFilesState {
  const m = record(value, at);
  schemaVersion(m, at, 1);
  const nextId = int(own(m, "nextId"), `${at}.nextId`, 1, Number.MAX_SAFE_INTEGER);
  const seen = new Set<number>();
  const files = list(own(m, "files"), `${at}.files`, MAX_FILES * MAX_PROCESSES).map((entry, i) => {
    const file = checkOpenFile(entry, `${at}.files[${i}]`);
    if (seen.has(file.id) || file.id >= nextId) bad(`${at}.files[${i}].id`, `${file.id} is used twice or not below nextId`);
    seen.add(file.id);
    return file;
  });
  return { schemaVersion: 1, nextId, files };
}

function checkTasks(value: unknown, at: string, frames: number, previous?: TaskState[]): TaskState[] {
  const before = new Map((previous ?? []).map((t) => [t.pid, t]));
  const seen = new Set<number>();
  return list(value, at, MAX_PROCESSES).map((entry, i) => {
    const p = `${at}[${i}]`;
    const m = record(entry, p);
    const pid = int(own(m, "pid"), `${p}.pid`, 1, 0x7fffffff);
    if (seen.has(pid)) bad(`${p}.pid`, `pid ${pid} twice`);
    seen.add(pid);
    if (own(m, "changedFields") !== undefined) return checkTaskChanges(m, p, frames, before.get(pid));
    const task: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(TASK_FIELDS)) {
      const checked = check(own(m, key), `${p}.${key}`, frames, before.get(pid));
      if (checked !== undefined) task[key] = checked; // an optional field absent stays absent
    }
    return task as unknown as TaskState;
  });
}

/**
 * A migration's final state names a process it already sent by pid with only
 * the fields that changed since (src/snapshot/changes.ts): usually its
 * registers and CPU time. Those are checked; the rest is `before`, the checked
 * state they follow.
 */
function checkTaskChanges(m: Record<string, unknown>, at: string, frames: number, before: TaskState | undefined): TaskState {
  if (!before) bad(`${at}.pid`, `changes for process ${describe(m.pid)}, which the state they follow does not have`);
  const fields = record(own(m, "changedFields"), `${at}.changedFields`);
  const task: Record<string, unknown> = { ...before };
  for (const key of Object.keys(fields)) {
    if (key === "pid" || !Object.prototype.hasOwnProperty.call(TASK_FIELDS, key)) bad(`${at}.changedFields[${describe(key)}]`, "not a field a process's changes may carry");
    const checked = TASK_FIELDS[key as keyof TaskState](fields[key], `${at}.${key}`, frames, before);
    if (checked === undefined) delete task[key];
    else task[key] = checked;
  }
  return task as unknown as TaskState;
}

/** Fields of a process whose change the other sections may depend on: with none of them changed, the cross-section checks stand. */
export const STRUCTURAL_TASK_FIELDS: ReadonlySet<string> = new Set(["addressSpace", "sharesSpaceOf", "vforkChild", "files", "status", "away", "tgid", "exitedAsThread"]);

type TaskFieldCheck = (value: unknown, at: string, frames: number, before: TaskState | undefined) => unknown;
const pid32 = (v: unknown, p: string) => int(v, p, 1, 0x7fffffff);
const nullableU64 = (v: unknown, p: string) => (v === null ? null : decimalU64(v, p));

/** One check per field of a process's state. */
const TASK_FIELDS: Record<keyof TaskState, TaskFieldCheck> = {
  pid: pid32,
  tgid: (v, p) => (v === undefined ? undefined : pid32(v, p)), // absent: a process of one thread
  clearChildTid: (v, p) => (v === undefined ? undefined : u32(v, p)),
  robustList: (v, p) => (v === undefined ? undefined : u32(v, p)),
  exitedAsThread: (v, p) => (v === undefined ? undefined : bool(v, p)),
  threadsCpu: (v, p) => (v === undefined ? undefined : decimalU64(v, p)),
  futexWoken: (v, p) => (v === undefined ? undefined : bool(v, p)),
  ppid: (v, p) => int(v, p, 0, 0x7fffffff),
  pgid: pid32,
  sid: pid32,
  status: (v, p) => oneOf(v, p, ["running", "stopped", "zombie"] as const),
  waitStatus: (v, p) => int(v, p, 0, 0xffff),
  exitSignal: (v, p) => int(v, p, 0, 64),
  registers: (v, p) => checkRegisters(v, p),
  cpuInstructions: (v, p) => decimalU64(v, p),
  childrenCpuNs: (v, p) => (v === undefined ? "0" : decimalU64(v, p)), // absent in states made before it: none reaped
  limits: (v, p) => checkLimits(v, p),
  addressSpace: (v, p, frames, before) => (v === null ? null : checkAddressSpace(v, p, frames, before?.addressSpace ?? undefined)),
  sharesSpaceOf: (v, p) => int(v, p, 0, 0x7fffffff),
  vforkChild: (v, p) => int(v, p, 0, 0x7fffffff),
  files: (v, p) => (v === null ? null : checkFileTable(v, p)),
  signals: (v, p) => checkSignals(v, p),
  blockedInCall: (v, p) => bool(v, p),
  sleepDeadlineNs: nullableU64,
  suspendedMask: nullableU64,
  exe: (v, p) => (v === "" ? "" : guestPath(v, p)),
  name: (v, p) => text(v, p, 64),
  argv: (v, p) => (v === undefined ? undefined : checkArgv(v, p)),
  away: (v, p) => checkAway(v, p),
};

/** A process's arguments (/proc/PID/cmdline): at most what execve takes, 128 KiB a string and 2 MiB in all. */
function checkArgv(value: unknown, at: string): string[] {
  let total = 0;
  return list(value, at, 65536).map((arg, i) => {
    const s = text(arg, `${at}[${i}]`, 131072);
    if ((total += s.length + 1) > 2 << 20) bad(at, "more than 2 MiB of arguments");
    return s;
  });
}

/** [resource, cur, max] per limit a process set; absent in states made before limits were kept: none set. */
function checkLimits(value: unknown, at: string): Array<[number, string, string]> {
  if (value === undefined) return [];
  const seen = new Set<number>();
  return list(value, at, 16).map((entry, i) => {
    const q = `${at}[${i}]`;
    const l = list(entry, q, 3);
    if (l.length !== 3) bad(q, "not [resource, cur, max]");
    const resource = int(l[0], `${q}[0]`, 0, 15);
    if (seen.has(resource)) bad(`${q}[0]`, `resource ${resource} twice`);
    seen.add(resource);
    const cur = decimalU64(l[1], `${q}[1]`), max = decimalU64(l[2], `${q}[2]`);
    if (BigInt(cur) > BigInt(max)) bad(q, "the soft limit is above the hard one");
    return [resource, cur, max];
  });
}

function checkRegisters(value: unknown, at: string): Uint8Array {
  const registers = bytes(value, at);
  if (registers.length !== 33 * 4) bad(at, `${registers.length} bytes; x0..x31 and pc are 132`);
  return registers;
}

function checkAway(value: unknown, at: string): [string, string] | null {
  if (value === null || value === undefined) return null;
  const pair = list(value, at, 2);
  if (pair.length !== 2) bad(at, "not [host, guest]");
  return [nonEmptyText(pair[0], `${at}[0]`), nonEmptyText(pair[1], `${at}[1]`)];
}

function checkSignals(value: unknown, at: string): SignalStateData {
  const m = record(value, at);
  const stack = list(own(m, "altStack"), `${at}.altStack`, 3);
  if (stack.length !== 3) bad(`${at}.altStack`, "not [sp, flags, size]");
  return {
    mask: decimalU64(own(m, "mask"), `${at}.mask`),
    pending: decimalU64(own(m, "pending"), `${at}.pending`),
    ...(own(m, "processPending") === undefined ? {} : { processPending: decimalU64(own(m, "processPending"), `${at}.processPending`) }),
    actions: list(own(m, "actions"), `${at}.actions`, 64).map((entry, i) => {
      const q = `${at}.actions[${i}]`;
      const a = list(entry, q, 5);
      if (a.length !== 5) bad(q, "not [signal, handler, flags, mask, restorer]");
      return [int(a[0], `${q}[0]`, 1, 64), u32(a[1], `${q}[1]`), u32(a[2], `${q}[2]`), decimalU64(a[3], `${q}[3]`), u32(a[4], `${q}[4]`)];
    }),
    altStack: [u32(stack[0], `${at}.altStack[0]`), int(stack[1], `${at}.altStack[1]`, 0, 2), u32(stack[2], `${at}.altStack[2]`)],
  };
}

// ---- Version 1: a single process ----------------------------------------------------------

function checkProcessStateV1(m: Record<string, unknown>, at: string, frames: number): Parameters<typeof upgradeProcessState>[0] {
  const space = record(own(m, "addressSpace"), `${at}.addressSpace`);
  const checked = checkAddressSpace({ ...space, schemaVersion: 2 }, `${at}.addressSpace`, frames);
  // The frame allocator lived in the address space then: checked as the frames section is now.
  const allocator = checkFrames({ schemaVersion: 1, freeFrames: own(space, "freeFrames"), nextFrame: own(space, "nextFrame"), shared: new Uint8Array(0) }, `${at}.addressSpace`, frames);
  const files = record(own(m, "files"), `${at}.files`);
  const seen = new Set<number>();
  const fileList = list(own(files, "files"), `${at}.files.files`, MAX_FILES).map((entry, i): [number, Omit<OpenFile, "id">] => {
    const pair = list(entry, `${at}.files.files[${i}]`, 2);
    if (pair.length !== 2) bad(`${at}.files.files[${i}]`, "not an [fd, file] pair");
    const { id: _id, ...file } = checkOpenFile({ ...record(pair[1], `${at}.files.files[${i}]`), id: 1 }, `${at}.files[${i}]`);
    const fd = int(pair[0], `${at}.files.files[${i}][0]`, 0, MAX_FILES - 1);
    if (seen.has(fd)) bad(`${at}.files.files[${i}][0]`, `fd ${fd} is open twice`);
    seen.add(fd);
    if (file.kind === "pipe" || file.kind === "device") bad(`${at}.files[${i}].kind`, `a version-1 snapshot has no ${file.kind}s`);
    return [fd, file];
  });
  return {
    schemaVersion: 1,
    addressSpace: { ...checked, schemaVersion: 2, freeFrames: allocator.freeFrames, nextFrame: allocator.nextFrame },
    files: { schemaVersion: 2, cwd: guestPath(own(files, "cwd"), `${at}.files.cwd`), files: fileList },
    pid: int(own(m, "pid"), `${at}.pid`, 1, 0x7fffffff),
    guestClockNs: decimalU64(own(m, "guestClockNs"), `${at}.guestClockNs`),
    sleepDeadlineNs: own(m, "sleepDeadlineNs") === null ? null : decimalU64(own(m, "sleepDeadlineNs"), `${at}.sleepDeadlineNs`),
    warnedSyscalls: list(own(m, "warnedSyscalls"), `${at}.warnedSyscalls`, MAX_LIST).map((n, i) => u32(n, `${at}.warnedSyscalls[${i}]`)),
    syscalls: list(own(m, "syscalls"), `${at}.syscalls`, MAX_LIST).map((entry, i) => checkSyscallCount(entry, `${at}.syscalls[${i}]`)),
    pageFaults: nonNegative(own(m, "pageFaults"), `${at}.pageFaults`),
  };
}

// ---- Address space ------------------------------------------------------------------------

/**
 * The address space. With `previous` (the checked state a migration's prestate
 * brought), a page journal that only grew since is checked from where the old
 * one ended: the journal is appended to, and the tables list only ever grows,
 * so this keeps a big guest's check out of the downtime.
 */
export function checkAddressSpace(value: unknown, at: string, frames: number, previous?: AddressSpaceState): AddressSpaceState {
  const m = record(value, at);
  schemaVersion(m, at, 2);
  const frame = (v: unknown, p: string) => int(v, p, 0, frames - 1);
  const tableFrames = checkTables(own(m, "tableFrames"), `${at}.tableFrames`, frames);
  const pages = bytes(own(m, "pages"), `${at}.pages`);
  const grown = previous && startsWith(pages, previous.pages) && startsWith(own(m, "tableFrames") as Uint8Array, previous.tableFrames);
  checkJournal(pages, `${at}.pages`, frames, tableFrames, grown ? previous.pages.length : 0);
  return {
    schemaVersion: 2,
    regions: checkRegions(own(m, "regions"), `${at}.regions`),
    pages,
    tableFrames: own(m, "tableFrames") as Uint8Array,
    rootFrame: frame(own(m, "rootFrame"), `${at}.rootFrame`),
    brkStart: u32(own(m, "brkStart"), `${at}.brkStart`),
    brk: u32(own(m, "brk"), `${at}.brk`),
    mmapTop: u32(own(m, "mmapTop"), `${at}.mmapTop`),
  };
}

/**
 * Regions: page-aligned, inside 4 GiB, sorted and not overlapping (the kernel looks them up in order).
 * Protection is any u32: mprotect(2) here stores whatever bits the guest passed.
 */
function checkRegions(value: unknown, at: string): Region[] {
  const regions = list(value, at, MAX_LIST).map((entry, i): Region => {
    const p = `${at}[${i}]`;
    const r = record(entry, p);
    const start = u32(own(r, "start"), `${p}.start`);
    const end = int(own(r, "end"), `${p}.end`, start + 1, U32_MAX + 1);
    if (start % PAGE) bad(`${p}.start`, `0x${start.toString(16)} is not page-aligned`);
    if (end % PAGE) bad(`${p}.end`, `0x${end.toString(16)} is not page-aligned`);
    return { start, end, prot: u32(own(r, "prot"), `${p}.prot`), kind: oneOf(own(r, "kind"), `${p}.kind`, ["image", "heap", "stack", "mmap", "vdso"] as const) };
  });
  for (let i = 1; i < regions.length; i++) {
    if (regions[i].start < regions[i - 1].end) bad(`${at}[${i}].start`, `0x${regions[i].start.toString(16)} is not after the end of ${at}[${i - 1}]`);
  }
  return regions;
}

/** Level-0 tables: (level-1 index, frame) pairs, one per index. Returns which indices have one. */
function checkTables(value: unknown, at: string, frames: number): Uint8Array {
  const pairs = u32Pairs(value, at);
  const present = new Uint8Array(1024);
  for (let i = 0; i < pairs.byteLength; i += 8) {
    const l1 = pairs.getUint32(i, true), frame = pairs.getUint32(i + 4, true);
    if (l1 >= 1024) bad(`${at}[${i / 8}]`, `level-1 index ${l1} is beyond 1023`);
    if (present[l1]) bad(`${at}[${i / 8}]`, `a second table for level-1 index ${l1}`);
    if (frame >= frames) bad(`${at}[${i / 8}]`, `frame ${frame} is beyond ${frames} frames of RAM`);
    present[l1] = 1;
  }
  return present;
}

/** The page journal from byte `from`: (virtual page, frame or UNMAPPED) pairs; a mapped page's level-0 table must exist. */
function checkJournal(value: unknown, at: string, frames: number, tables: Uint8Array, from: number): void {
  const pairs = u32Pairs(value, at);
  for (let i = from; i < pairs.byteLength; i += 8) {
    const vpn = pairs.getUint32(i, true), frame = pairs.getUint32(i + 4, true);
    if (vpn >= 1 << 20) bad(`${at}[${i / 8}]`, `virtual page ${vpn} is beyond 4 GiB`);
    if (frame === UNMAPPED) continue;
    if (frame >= frames) bad(`${at}[${i / 8}]`, `frame ${frame} is beyond ${frames} frames of RAM`);
    if (!tables[vpn >>> 10]) bad(`${at}[${i / 8}]`, `virtual page ${vpn} has no page table`);
  }
}

/** Packed u32 pairs, read in place (a 256 MiB guest's journal is half a megabyte: no copy). */
function u32Pairs(value: unknown, at: string): DataView {
  const b = bytes(value, at);
  if (b.length % 8) bad(at, `${b.length} bytes is not whole u32 pairs`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// ---- Open files ---------------------------------------------------------------------------

/** A descriptor table: (fd, open file id, close-on-exec) triples, each fd once. */
export function checkFileTable(value: unknown, at: string): FileTableState {
  const m = record(value, at);
  schemaVersion(m, at, 3);
  const cwd = guestPath(own(m, "cwd"), `${at}.cwd`);
  const seen = new Set<number>();
  const fds = list(own(m, "fds"), `${at}.fds`, MAX_FILES).map((entry, i): [number, number, boolean] => {
    const triple = list(entry, `${at}.fds[${i}]`, 3);
    if (triple.length !== 3) bad(`${at}.fds[${i}]`, "not an [fd, open file, close-on-exec] triple");
    const fd = int(triple[0], `${at}.fds[${i}][0]`, 0, MAX_FILES - 1);
    if (seen.has(fd)) bad(`${at}.fds[${i}][0]`, `fd ${fd} is open twice`);
    seen.add(fd);
    return [fd, int(triple[1], `${at}.fds[${i}][1]`, 1, Number.MAX_SAFE_INTEGER), bool(triple[2], `${at}.fds[${i}][2]`)];
  });
  return { schemaVersion: 3, cwd, umask: int(own(m, "umask"), `${at}.umask`, 0, 0o777), fds };
}

export function checkOpenFile(value: unknown, at: string): OpenFile {
  const f = record(value, at);
  const kind = oneOf(own(f, "kind"), `${at}.kind`, ["file", "directory", "terminal", "pipe", "device", "forwarded", "socket", "proc"] as const);
  const file: OpenFile = {
    id: int(own(f, "id"), `${at}.id`, 1, Number.MAX_SAFE_INTEGER),
    path: kind === "file" || kind === "directory" || kind === "proc" ? guestPath(own(f, "path"), `${at}.path`) : text(own(f, "path"), `${at}.path`, 64),
    flags: u32(own(f, "flags"), `${at}.flags`),
    mode: u32(own(f, "mode"), `${at}.mode`),
    position: nonNegative(own(f, "position"), `${at}.position`, 2 ** 63), // llseek(2) takes 64-bit offsets
    kind,
  };
  const home = own(f, "home");
  if (home !== undefined) file.home = nonEmptyText(home, `${at}.home`);
  const cap = own(f, "cap");
  if (cap !== undefined) file.cap = text(cap, `${at}.cap`, 64);
  const writes = own(f, "writes");
  if (writes !== undefined) file.writes = nonNegative(writes, `${at}.writes`);
  const terminal = own(f, "terminal");
  if (kind === "terminal") file.terminal = oneOf(terminal, `${at}.terminal`, [0, 1, 2] as const);
  else if (terminal !== undefined) bad(`${at}.terminal`, `a ${kind} is not a standard stream`);
  if (kind === "pipe") file.pipe = int(own(f, "pipe"), `${at}.pipe`, 1, 0x7fffffff);
  if (kind === "socket") file.socket = int(own(f, "socket"), `${at}.socket`, 1, 0x7fffffff);
  if (kind === "forwarded") {
    if (file.home === undefined) bad(`${at}.home`, "a forwarded file needs its home host");
    file.homeGuest = nonEmptyText(own(f, "homeGuest"), `${at}.homeGuest`);
    file.homeFile = int(own(f, "homeFile"), `${at}.homeFile`, 1, Number.MAX_SAFE_INTEGER);
  }
  if (kind === "device") file.device = oneOf(own(f, "device"), `${at}.device`, ["null", "zero", "full", "random", "urandom", "tty"] as const);
  return file;
}

/** A guest path as the file table keeps it: absolute and normalised (no "..", so nothing climbs out of the sandbox). */
function guestPath(value: unknown, at: string): string {
  const p = text(value, at, MAX_PATH);
  if (!p.startsWith("/") || path.posix.normalize(p) !== p || p.includes("\0")) bad(at, "not an absolute, normalised guest path");
  return p;
}
