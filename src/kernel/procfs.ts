// The guest's /proc: what Linux's procfs shows of the machine and of each
// process, made from the kernel's own state each time it is read, as Linux
// makes its text at each read. The resolver (resolve.ts) shows /proc as a
// virtual directory whatever the root holds there, as /dev; an open of a file
// or directory in it makes a description of kind "proc" that names its path
// ("/proc/self" read as the caller's pid), which read, getdents and fstat serve
// here. Nothing in it is state: a moved guest reads its processes' files anew
// at the destination, where the same pids, names and memory are.
//
// The machine: cpuinfo (one RV32IMAC hart), meminfo (the guest's RAM, from
// the frames in use), stat (the hart's time busy and idle), uptime, loadavg,
// version (uname's), and "self", a link to
// the caller's directory. A process (any thread group of the guest, zombies
// too, by its pid): status, stat, statm, cmdline, comm, maps, the links exe,
// cwd and fd/N, and task/TID/ with the same files for each of its threads. A
// read of fd/N's link says what descriptor N is (a path, pipe:[N],
// socket:[N]); an open through it opens what N refers to, as /dev/stdin does
// (Linux's "magic" links).

import { posix } from "node:path";
import type { Kernel } from "./kernel.js";
import type { Task } from "./task.js";
import { statFromData, type StatLike } from "./files.js";
import { PROT_EXEC, PROT_READ, PROT_WRITE } from "./address-space.js";
import { SIG_DFL, SIG_IGN } from "./signals.js";

/** A node of /proc: what its path leads to. */
export type ProcNode =
  | { kind: "directory"; ino: number }
  | { kind: "file"; ino: number }
  /** `fd`: fd/N of the caller itself, whose open opens what descriptor N refers to. */
  | { kind: "link"; ino: number; target: string; fd?: number };

/** What the resolver and a FileTable ask of /proc. */
export interface ProcMount {
  /** The node at /proc/`parts` (parts after "proc"; [] is /proc itself), or undefined when there is none. */
  node(parts: readonly string[]): ProcNode | undefined;
  /** The entries of the directory at /proc/`parts`, ".", ".." first, as getdents64 lists them. */
  list(parts: readonly string[]): Array<{ name: string; type: number; ino: number }>;
  /** The text of the file at /proc/`parts`, made now ("" when it is gone). */
  text(parts: readonly string[]): string;
}

const PROC_DEV = 4; // st_dev of /proc (a file system of its own; the virtual /dev is 5, the base layer 6)
const MACHINE_FILES = ["cpuinfo", "loadavg", "meminfo", "stat", "uptime", "version"] as const;
const PROCESS_FILES = ["cmdline", "comm", "maps", "stat", "statm", "status"] as const;
const PROCESS_LINKS = ["cwd", "exe"] as const;
const DT_DIR = 4, DT_REG = 8, DT_LNK = 10;

/** stat of a /proc node: directories r-x, files r--, links rwx, all root's, size 0 as Linux shows them. */
export function procStat(node: ProcNode): StatLike {
  const mode = node.kind === "directory" ? 0o040555 : node.kind === "file" ? 0o100444 : 0o120777;
  return statFromData({ mode, ino: node.ino, nlink: node.kind === "directory" ? 2 : 1, dev: PROC_DEV, size: 0 });
}

export class ProcFs implements ProcMount {
  constructor(private readonly k: Kernel) {}

  node(parts: readonly string[]): ProcNode | undefined {
    if (parts.length === 0) return { kind: "directory", ino: 1 };
    if (parts.length === 1) {
      if (parts[0] === "self") return { kind: "link", ino: 2, target: String(this.self()) };
      const index = (MACHINE_FILES as readonly string[]).indexOf(parts[0]);
      if (index >= 0) return { kind: "file", ino: 3 + index };
    }
    const at = this.locate(parts);
    if (!at) return undefined;
    const { task, rest } = at;
    const base = 0x10000 + task.pid * 256;
    if (rest.length === 0) return { kind: "directory", ino: base };
    const name = rest[0];
    if (rest.length === 1) {
      const file = (PROCESS_FILES as readonly string[]).indexOf(name);
      if (file >= 0) return { kind: "file", ino: base + 1 + file };
      if (name === "exe") return { kind: "link", ino: base + 16, target: this.exeOf(task) };
      if (name === "cwd") return { kind: "link", ino: base + 17, target: task.files.cwd };
      if (name === "fd") return { kind: "directory", ino: base + 18 };
      if (name === "task" && !at.thread) return { kind: "directory", ino: base + 19 };
    }
    if (rest.length === 2 && name === "fd" && /^(0|[1-9]\d{0,8})$/.test(rest[1])) {
      const fd = Number(rest[1]);
      const target = this.descriptorTarget(task, fd);
      if (target === undefined) return undefined;
      return { kind: "link", ino: base + 32 + (fd & 0x7f), target, fd: task.tgid === this.self() ? fd : undefined };
    }
    return undefined;
  }

  list(parts: readonly string[]): Array<{ name: string; type: number; ino: number }> {
    const node = this.node(parts);
    if (node?.kind !== "directory") return [];
    const entries: Array<{ name: string; type: number; ino: number }> = [{ name: ".", type: DT_DIR, ino: node.ino }, { name: "..", type: DT_DIR, ino: parts.length === 0 ? 2 : 1 }];
    const add = (name: string) => {
      const child = this.node([...parts, name])!;
      entries.push({ name, type: child.kind === "directory" ? DT_DIR : child.kind === "file" ? DT_REG : DT_LNK, ino: child.ino });
    };
    if (parts.length === 0) {
      for (const task of this.processes()) add(String(task.pid));
      for (const name of [...MACHINE_FILES, "self"]) add(name);
      return entries;
    }
    const { task, rest, thread } = this.locate(parts)!;
    if (rest.length === 0) for (const name of [...PROCESS_FILES, ...PROCESS_LINKS, "fd", ...(thread ? [] : ["task"])].sort()) add(name);
    else if (rest[0] === "task") for (const t of this.threadsOf(task)) add(String(t.pid));
    else for (const fd of [...task.files.files.keys()].sort((a, b) => a - b)) add(String(fd));
    return entries;
  }

  text(parts: readonly string[]): string {
    if (parts.length === 1) {
      switch (parts[0]) {
        case "cpuinfo": return "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv32imac_zicsr_zifencei\nmmu\t\t: sv32\nuarch\t\t: roam\n\n";
        case "meminfo": return this.meminfo();
        case "uptime": { const s = this.uptimeSeconds(); return `${s.toFixed(2)} ${s.toFixed(2)}\n`; }
        case "loadavg": return this.loadavg();
        case "stat": return this.machineStat();
        case "version": return "Linux version 6.1.0-roam (roam@roam) #1 SMP roam\n";
      }
    }
    const at = this.locate(parts);
    if (!at || at.rest.length !== 1) return "";
    const { task } = at;
    switch (at.rest[0]) {
      case "cmdline": return task.status === "zombie" ? "" : task.argv.map((a) => `${a}\0`).join("");
      case "comm": return `${task.name}\n`;
      case "maps": return task.status === "zombie" ? "" : this.maps(task);
      case "stat": return this.stat(task);
      case "statm": return this.statm(task);
      case "status": return this.status(task);
    }
    return "";
  }

  /**
   * The task a path is about, and the rest of the path: /proc/PID/... (a process, or a thread by its id, which /proc
   * does not list), or /proc/PID/task/TID/... (one of the process's threads).
   */
  private locate(parts: readonly string[]): { task: Task; rest: string[]; thread: boolean } | undefined {
    const task = this.process(parts[0]);
    if (!task) return undefined;
    if (parts[1] === "task" && parts.length >= 3 && task.tgid === task.pid) {
      const thread = this.process(parts[2]);
      return thread && thread.tgid === task.pid && thread.status !== "zombie" ? { task: thread, rest: parts.slice(3), thread: true } : undefined;
    }
    return { task, rest: parts.slice(1), thread: task.tgid !== task.pid };
  }

  /** The caller's process (/proc/self). */
  private self(): number {
    return this.k.current.tgid;
  }

  /** The guest's processes (thread group leaders, zombies too), by pid. */
  private processes(): Task[] {
    return [...this.k.tasks.values()].filter((t) => t.tgid === t.pid && !t.away).sort((a, b) => a.pid - b.pid);
  }

  /** The task of id `name` (a process's, or one of its threads'), if the guest has it. */
  private process(name: string): Task | undefined {
    if (!/^[1-9]\d{0,9}$/.test(name)) return undefined;
    const task = this.k.tasks.get(Number(name));
    return task && !task.away ? task : undefined;
  }

  private exeOf(task: Task): string {
    // "" is the program the guest was started with: the path it was started by, made absolute.
    return task.exe !== "" ? task.exe : posix.resolve("/", this.k.options?.argv?.[0] ?? "");
  }

  /** What readlink of /proc/PID/fd/N says, or undefined when N is not open. */
  private descriptorTarget(task: Task, fd: number): string | undefined {
    if (task.status === "zombie") return undefined;
    const file = task.files.get(fd);
    if (!file) return undefined;
    if (file.kind === "pipe") return `pipe:[${file.pipe}]`;
    if (file.kind === "socket") return `socket:[${file.socket}]`;
    if (file.kind === "terminal") return "/dev/tty";
    return file.path;
  }

  private uptimeSeconds(): number {
    return Number(this.k.clock.monotonicNs() / 1_000_000n) / 1000;
  }

  private meminfo(): string {
    const frames = this.k.frames;
    const totalKb = frames.frameCount * 4, freeKb = Math.max(0, frames.frameCount - frames.used) * 4;
    const line = (name: string, kb: number) => `${`${name}:`.padEnd(16)}${String(kb).padStart(8)} kB\n`;
    return line("MemTotal", totalKb) + line("MemFree", freeKb) + line("MemAvailable", freeKb) + line("Buffers", 0) +
      line("Cached", 0) + line("SwapCached", 0) + line("SwapTotal", 0) + line("SwapFree", 0);
  }

  private loadavg(): string {
    const { running, live } = this.taskCounts();
    return `0.00 0.00 0.00 ${running}/${live} ${this.k.nextPid - 1}\n`;
  }

  /** Tasks here that have not ended, and those of them that can run (at least the caller, which runs). */
  private taskCounts(): { live: number; running: number } {
    const live = [...this.k.tasks.values()].filter((t) => t.status !== "zombie" && !t.away);
    return { live: live.length, running: Math.max(1, live.filter((t) => t.status === "running" && !t.blocked).length) };
  }

  /**
   * /proc/stat: the hart's time in clock ticks (100 Hz) as user (every instruction the guest retired is a nanosecond
   * of it, as the processes' own CPU times count them) and idle (the rest of its uptime); boot time; processes made.
   */
  private machineStat(): string {
    const uptimeNs = this.k.clock.monotonicNs();
    const busyTicks = this.k.instret / 10_000_000n;
    const idleTicks = uptimeNs / 10_000_000n > busyTicks ? uptimeNs / 10_000_000n - busyTicks : 0n;
    const cpu = `${busyTicks} 0 0 ${idleTicks} 0 0 0 0 0 0`;
    const bootSeconds = (this.k.clock.realtimeNs() - uptimeNs) / 1_000_000_000n;
    return `cpu  ${cpu}\ncpu0 ${cpu}\nintr 0\nctxt 0\nbtime ${bootSeconds}\nprocesses ${this.k.nextPid - this.k.firstPid}\n` +
      `procs_running ${this.taskCounts().running}\nprocs_blocked 0\n`;
  }

  /** The process's threads that still run (a process whose leader ended with exit(2) still has the others). */
  private threadsOf(task: Task): Task[] {
    return [...this.k.tasks.values()].filter((t) => t.tgid === task.tgid && t.status !== "zombie").sort((a, b) => a.pid - b.pid);
  }

  private state(task: Task): string {
    if (task.status === "zombie") return "Z (zombie)";
    if (task.status === "stopped") return "T (stopped)";
    return task === this.k.current || !task.blocked ? "R (running)" : "S (sleeping)";
  }

  /** Pages mapped (virtual size) and resident, as Linux's VmSize and VmRSS count them. */
  private memory(task: Task): { sizePages: number; residentPages: number } {
    if (task.status === "zombie" || !task.space) return { sizePages: 0, residentPages: 0 };
    const sizePages = task.space.regions.reduce((sum, r) => sum + (r.end - r.start) / 4096, 0);
    return { sizePages, residentPages: task.space.residentPages };
  }

  private status(task: Task): string {
    const { sizePages, residentPages } = this.memory(task);
    const hex = (bits: bigint) => bits.toString(16).padStart(16, "0");
    const threads = Math.max(1, this.threadsOf(task).length);
    const lines = [
      `Name:\t${task.name}`, `Umask:\t${task.status === "zombie" ? "0022" : task.files.umask.toString(8).padStart(4, "0")}`,
      `State:\t${this.state(task)}`, `Tgid:\t${task.tgid}`, `Ngid:\t0`, `Pid:\t${task.pid}`, `PPid:\t${task.ppid}`,
      `TracerPid:\t0`, `Uid:\t0\t0\t0\t0`, `Gid:\t0\t0\t0\t0`, `FDSize:\t${task.status === "zombie" ? 0 : 64}`,
      `VmSize:\t${String(sizePages * 4).padStart(8)} kB`, `VmRSS:\t${String(residentPages * 4).padStart(8)} kB`,
      `Threads:\t${threads}`, `SigPnd:\t${hex(task.signals.pending)}`, `ShdPnd:\t${hex(task.signals.process.bits)}`,
      `SigBlk:\t${hex(task.signals.mask)}`, `SigIgn:\t${hex(dispositions(task, true))}`, `SigCgt:\t${hex(dispositions(task, false))}`,
    ];
    return `${lines.join("\n")}\n`;
  }

  /** /proc/PID/stat: Linux's 52 fields in their order (proc(5)); what Roam does not keep is 0. */
  private stat(task: Task): string {
    const { sizePages, residentPages } = this.memory(task);
    const ticks = (ns: bigint) => String(ns / 10_000_000n); // clock ticks of 100 Hz (sysconf(_SC_CLK_TCK))
    const cpu = task.cpuInstructions + (task.threadsCpu ?? 0n); // one instruction is one nanosecond (calls/time.ts)
    const fields = [
      task.pid, `(${task.name})`, this.state(task)[0], task.ppid, task.pgid, task.sid, ...this.terminalOf(task), 0, 0, 0, 0, 0,
      ticks(cpu), 0, ticks(task.childrenCpuNs), 0, 20, 0, Math.max(1, this.threadsOf(task).length), 0, 0,
      sizePages * 4096, residentPages, 0xffffffff,
    ];
    while (fields.length < 52) fields.push(0);
    return `${fields.join(" ")}\n`;
  }

  /** tty_nr and tpgid: the guest's terminal (/dev/tty, 5:0) and its foreground group for the processes of its session. */
  private terminalOf(task: Task): [number, number] {
    const tty = this.k.terminal;
    return tty && tty.session === task.sid ? [(5 << 8) | 0, tty.foreground] : [0, -1];
  }

  private statm(task: Task): string {
    const { sizePages, residentPages } = this.memory(task);
    return `${sizePages} ${residentPages} 0 0 0 0 0\n`;
  }

  /** /proc/PID/maps: each region, "start-end perms offset dev inode path". */
  private maps(task: Task): string {
    const names: Record<string, string> = { heap: "[heap]", stack: "[stack]", vdso: "[vdso]", image: this.exeOf(task), mmap: "" };
    return task.space.regions.map((r) => {
      const perms = `${r.prot & PROT_READ ? "r" : "-"}${r.prot & PROT_WRITE ? "w" : "-"}${r.prot & PROT_EXEC ? "x" : "-"}p`;
      const head = `${hex8(r.start)}-${hex8(r.end)} ${perms} 00000000 00:00 0`;
      const name = names[r.kind] ?? "";
      return name === "" ? `${head}\n` : `${head.padEnd(73)}${name}\n`;
    }).join("");
  }
}

/** The signals the process ignores (SIG_IGN), or catches (a handler), as a set: bit sig - 1, as sigset_t has them. */
function dispositions(task: Task, ignored: boolean): bigint {
  let set = 0n;
  for (const [sig, action] of task.signals.actions) {
    if (ignored ? action.handler === SIG_IGN : action.handler !== SIG_IGN && action.handler !== SIG_DFL) set |= 1n << BigInt(sig - 1);
  }
  return set;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
