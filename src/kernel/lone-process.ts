// The seed's third way with co-processes: a process migrates alone and its
// family is reached through the tree's home. `imageOf` lifts one process out
// of a guest's tree as a ProcessImage (its pages, registers, descriptors and
// signal state); another host starts it as a guest of its own (adopt.ts). At
// home it stays in the tree as a proxy (Task.away): its parent still waits
// for it, its children still have it as their parent, its descriptors still
// hold their pipe ends, and a signal sent to it is passed on. Its pipes and
// terminal become "forwarded" descriptions. What it asks of its family and
// its descriptions goes home (lone-satellite.ts) and is done there on the
// proxy's behalf (lone-home.ts): reads and writes, polls, kills, waits for its
// children; its exit status goes home too. The home host is a residual
// dependency, and counts what it forwards.

import { PAGE, type Region } from "./address-space.js";
import type { OpenFile } from "./files.js";
import type { Kernel } from "./kernel.js";
import { hasOtherThreads } from "./threads.js";
import type { SignalStateData } from "./signals.js";

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
  /** Its arguments (/proc/PID/cmdline); absent from hosts before it. */
  argv?: string[];
  cpuInstructions: string;
  /** The CPU time of the children it had reaped (Task.childrenCpuNs), decimal; absent from hosts before it. */
  childrenCpuNs?: string;
  guestClockNs: string;
  /** Its children that stay at home (zombies included): its waits ask there while there are any. */
  homeChildren?: number;
}

/** Where a lone process's family lives: its home host and the guest it came out of. */
export interface Home {
  url: string;
  guest: string;
}

/**
 * Why `pid` cannot leave its tree alone, or undefined if it can. Its children
 * may stay (its waits for them go home); the first process may go while
 * another process stays, and the guest's result is then its status, sent home.
 */
export function cannotTakeOut(k: Kernel, pid: number): string | undefined {
  const task = k.tasks.get(pid);
  if (!task || task.status === "zombie") return `no live process ${pid} in this guest`;
  if (task.away) return `process ${pid} is already away (on ${task.away.host})`;
  if (task.vforkChild || task.sharesSpaceOf) return `process ${pid} shares its memory with another (vfork) until it execs`;
  if (task.status === "stopped") return `process ${pid} is stopped`;
  // A process image carries one thread; a process's threads move together, with the whole guest.
  if (task.tgid !== task.pid) return `${pid} is a thread of process ${task.tgid}; move the whole guest (--children together) instead`;
  if (hasOtherThreads(k, task)) return `process ${pid} has threads, which move together with the whole guest (--children together) only`;
  const others = [...k.tasks.values()].filter((t) => t !== task && t.status !== "zombie" && !t.away);
  if (others.length === 0) return `process ${pid} is the guest's only process here: moving it alone is moving the whole guest (--children together)`;
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
    sleepDeadlineNs: task.sleepDeadline === undefined ? null : task.sleepDeadline.toString(), exe: task.exe, name: task.name, argv: task.argv,
    cpuInstructions: task.cpuInstructions.toString(), childrenCpuNs: task.childrenCpuNs.toString(), guestClockNs: k.clock.monotonicNs().toString(),
    homeChildren: [...k.tasks.values()].filter((t) => t.ppid === pid).length,
  };
  return image;
}

/** The other host runs `pid` now: here it becomes a proxy. Its memory goes; its descriptors stay (they hold pipe ends open). */
export function leaveProxy(k: Kernel, pid: number, away: { host: string; guest: string }): void {
  const task = k.tasks.get(pid)!;
  if (task === k.current) {
    // The hart must hold a process that has memory: any other live one here (cannotTakeOut made sure there is one).
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
