// The seed's third way with co-processes: a process migrates alone and its
// family is reached through the tree's home. `takeOut` lifts one process out
// of a guest's tree as a ProcessImage (its pages, registers, descriptors and
// signal state); another host starts it as a guest of its own (`adopt`). At
// home it stays in the tree as a proxy (Task.away): its parent still waits
// for it, its descriptors still hold their pipe ends, and a signal sent to it
// is passed on. Its pipes and terminal become "forwarded" descriptions: each
// read or write goes to the home host, which performs it on the proxy's
// behalf (`homeIo`) and answers when it can; its kills of family members and
// its exit status go home too. The home host is a residual dependency, and
// counts what it forwards.

import { PAGE, type Region } from "./address-space.js";
import { sendSignal } from "./deliver.js";
import { Errno } from "./errno.js";
import { SandboxError, type OpenFile } from "./files.js";
import type { Kernel } from "./kernel.js";
import { pipeRead, pipeWrite } from "./calls/descriptors.js";
import type { SignalStateData } from "./signals.js";
import type { SyscallContext, SyscallOutcome } from "./syscalls.js";
import type { Task } from "./task.js";

/** One process as another host starts it: everything but the tree around it. */
export interface ProcessImage {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  registers: Uint8Array; // x0..x31, pc
  regions: Region[];
  pageNumbers: Uint8Array; // u32 virtual page numbers
  pageData: Uint8Array; // 4 KiB per page, in that order
  brkStart: number;
  brk: number;
  mmapTop: number;
  files: Array<[number, OpenFile, boolean]>; // fd, description (forwarded or a file with a capability), close-on-exec
  cwd: string;
  umask: number;
  signals: SignalStateData;
  blockedInCall: boolean;
  sleepDeadlineNs: string | null;
  exe: string;
  name: string;
  cpuInstructions: string;
  guestClockNs: string;
}

/** Where a lone process's family lives: its home host and the guest it came out of. */
export interface Home {
  url: string;
  guest: string;
}

/** Why `pid` cannot leave its tree alone, or undefined if it can. */
export function cannotTakeOut(k: Kernel, pid: number): string | undefined {
  const task = k.tasks.get(pid);
  if (!task || task.status === "zombie") return `no live process ${pid} in this guest`;
  if (task.away) return `process ${pid} is already away (on ${task.away.host})`;
  if (task.vforkChild || task.sharesSpaceOf) return `process ${pid} shares its memory with another (vfork) until it execs`;
  if (task.status === "stopped") return `process ${pid} is stopped`;
  const children = [...k.tasks.values()].filter((t) => t.ppid === pid && t.status !== "zombie");
  if (children.length) return `process ${pid} has ${children.length} live child process${children.length > 1 ? "es" : ""}; move the whole tree (--children together) instead`;
  if (pid === k.firstPid) return `process ${pid} is the guest's first process: with no children it is the whole guest (--children together)`;
  // Its sockets stay with the guest's kernel, and no transport carries a socket call home yet.
  const socketFd = [...task.files.files].find(([, file]) => file.kind === "socket")?.[0];
  if (socketFd !== undefined) return `process ${pid} holds a socket (fd ${socketFd}), which cannot move alone yet; move the whole tree (--children together) instead`;
  return undefined;
}

/**
 * The image of `pid` that another host starts (the guest is frozen; nothing
 * changes here). `fileOut` turns each description into what travels: a
 * forwarded description, or a file with a capability of this host.
 */
export function imageOf(k: Kernel, pid: number, fileOut: (file: OpenFile) => OpenFile): ProcessImage {
  const why = cannotTakeOut(k, pid);
  if (why) throw new Error(why);
  const task = k.tasks.get(pid)!;
  const registers = k.registersOf(task);
  const space = task.space;
  const mapped = space.mappedPages();
  const pageNumbers = new Uint32Array(mapped.length);
  const pageData = new Uint8Array(mapped.length * PAGE);
  const ram = k.memory.ram();
  mapped.forEach(([vpn, frame], i) => {
    pageNumbers[i] = vpn;
    pageData.set(ram.subarray(frame * PAGE, frame * PAGE + PAGE), i * PAGE);
  });
  const image: ProcessImage = {
    pid, ppid: task.ppid, pgid: task.pgid, sid: task.sid, registers: new Uint8Array(registers.buffer.slice(0)),
    regions: space.regions.map((r) => ({ ...r })), pageNumbers: new Uint8Array(pageNumbers.buffer), pageData,
    brkStart: space.brkStart, brk: space.brk, mmapTop: space.mmapTop,
    files: [...task.files.files].map(([fd, file]) => [fd, fileOut(file), task.files.isCloseOnExec(fd)]),
    cwd: task.files.cwd, umask: task.files.umask, signals: task.signals.state(), blockedInCall: task.blockedInCall,
    sleepDeadlineNs: task.sleepDeadline === undefined ? null : task.sleepDeadline.toString(), exe: task.exe, name: task.name,
    cpuInstructions: task.cpuInstructions.toString(), guestClockNs: k.clock.monotonicNs().toString(),
  };
  return image;
}

/** The other host runs `pid` now: here it becomes a proxy. Its memory goes; its descriptors stay (they hold pipe ends open). */
export function leaveProxy(k: Kernel, pid: number, away: { host: string; guest: string }): void {
  const task = k.tasks.get(pid)!;
  if (task === k.current) {
    // The hart must hold a process that has memory: any other live one (the first process is never taken out).
    const other = [...k.tasks.values()].find((t) => t !== task && t.status !== "zombie" && !t.away);
    if (other) k.switchTo(other);
  }
  task.space.release();
  task.away = away;
  task.blocked = undefined;
  task.blockedInCall = false;
  k.notify();
}

/** A description as it travels with a lone process: its pipes and terminal are read and written at home. */
export function forwarded(file: OpenFile, home: Home): OpenFile {
  return { id: file.id, path: file.path, flags: file.flags, mode: 0, position: 0, kind: "forwarded", home: home.url, homeGuest: home.guest, homeFile: file.id };
}

// ---- At the satellite: I/O, kills and the exit go home ------------------------------------------

/** read(2) or write(2) on a forwarded description: asked of the home host; the call runs again when the answer is here. */
export function forwardedIo(c: SyscallContext, file: OpenFile, op: "read" | "write", countOrData: number | Uint8Array): Uint8Array | number {
  const remote = c.kernel.openFiles.remote;
  if (!remote || !file.home) return -Errno.EIO;
  const request = {
    t: "proc-io", guest: file.homeGuest, pid: c.pid, file: file.homeFile, op,
    ...(typeof countOrData === "number" ? { count: countOrData } : { data: countOrData }),
  };
  let answer: Record<string, unknown>;
  try {
    answer = remote.call(file.home, request);
    // The home holds a call that must wait, but not past a request's time limit: then it says "again".
    if (answer.again) answer = remote.call(file.home, request);
  } catch (error) {
    if (error instanceof SandboxError) return -error.errno;
    throw error; // WouldBlock: the kernel waits for the answer, then runs the call again
  }
  if (op === "read") return answer.data as Uint8Array;
  return Number(answer.written);
}

// ---- At home: the proxy's I/O, done when it can be --------------------------------------------

/**
 * Performs a read or write of the away process `pid` on description `fileId`
 * as if it ran here: resolves with the bytes or the count, or an errno, once
 * the pipe or terminal allows (a blocked call waits here, not there).
 */
export async function homeIo(k: Kernel, pid: number, fileId: number, op: "read" | "write", count: number, data: Uint8Array | undefined): Promise<Record<string, unknown>> {
  const task = k.tasks.get(pid);
  if (!task || !task.away) throw new SandboxError(Errno.EBADF);
  const file = [...task.files.files.values()].find((f) => f.id === fileId);
  if (!file) throw new SandboxError(Errno.EBADF);
  const giveUp = Date.now() + HOLD_MS;
  for (;;) {
    if (Date.now() > giveUp) return { again: true };
    if (task.status === "zombie" || !task.away) throw new SandboxError(Errno.EIO);
    const r = attempt(k, task, file, op, count, data);
    if (typeof r === "number" && r < 0) throw new SandboxError(-r);
    if (r instanceof Uint8Array) return { data: r };
    if (typeof r === "number") return { written: r };
    await Promise.race([r === "input" ? k.options.inputReady() : k.changed(), new Promise((resolve) => setTimeout(resolve, HOLD_MS))]);
  }
}

/** How long a home holds a call that must wait before it answers "again" (inside a request's 30 s limit). */
const HOLD_MS = 10_000;

function attempt(k: Kernel, task: Task, file: OpenFile, op: "read" | "write", count: number, data: Uint8Array | undefined): Uint8Array | number | "input" | "event" {
  if (file.kind === "pipe") {
    const r = op === "read" ? pipeRead(task, file, count) : pipeWrite(task, file, data ?? new Uint8Array(0));
    return isBlock(r) ? "event" : (r as Uint8Array | number);
  }
  if (file.kind === "terminal") {
    if (op === "read") {
      if (file.terminal !== 0) return -Errno.EBADF;
      const input = k.console.read(count);
      return input ?? "input";
    }
    if (file.terminal === 0) return -Errno.EBADF;
    k.console.write(file.terminal!, data ?? new Uint8Array(0));
    return data?.length ?? 0;
  }
  return -Errno.EBADF;
}

const isBlock = (r: unknown): r is SyscallOutcome => typeof r === "object" && r !== null && !(r instanceof Uint8Array);

/** The away process's kill(2) of a family member, done at home. */
export function homeKill(k: Kernel, from: number, pid: number, sig: number): number {
  const targets = [...k.tasks.values()].filter((t) => t.status !== "zombie" && (pid > 0 ? t.pid === pid : pid === 0 ? t.pgid === k.tasks.get(from)?.pgid : pid === -1 ? t.pid !== from : t.pgid === -pid));
  if (targets.length === 0) return -Errno.ESRCH;
  for (const t of targets) sendSignal(k, t, sig, { signo: sig, code: 0, pid: from });
  return 0;
}
