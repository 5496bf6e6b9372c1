// Read-ahead for read(2) of a regular file. A guest that reads a file through in small calls (md5sum, cat, wc: 4 KiB
// each; musl's stdio: 1 KiB) pays a host read per call: ~4.5 us on this VM, of which Node's fs.readSync is ~2 and the
// host's system call ~2.5, where the whole of qemu-riscv32's read is ~2.3 us. Once a description is read
// sequentially (a read that starts where its last one ended), one host read of READ_AHEAD_BYTES fills a buffer and
// the reads after it are served from there: a copy of what they ask for.
//
// Linux's read sees every write made before it; the buffer holds what the file had at its fill. So it serves only
// the very next reads through the same descriptor table and descriptor, with no system call of any process between
// them (Kernel.syscall tells it of each: `beforeSyscall`), no signal handler run (deliver.ts), and within MAX_AGE_MS
// of the fill. Whatever lets a guest know that a file changed since (a pipe, a socket, a wait, a lock, a sleep, a signal,
// its own write, another process's write) is one of those, and drops the buffer first; what is left is a writer
// racing the reads, which Linux orders by when each call happens, and the fill happened at most MAX_AGE_MS before.
// One kind of call between the reads keeps it: the same process's write(2) or writev(2) to what cannot be a file
// (writesNoFile: a pipe, a socket, /dev/null and its kin, the console when the host's stream is not a regular file).
// It tells the writer nothing, and changes no file it could read: `cat`, `dd`, `grep` and the like read a file and
// write what they make of it between reads, and every read of theirs went to the host (~8 us on this VM).
// The buffer is a cache: no snapshot holds it, and a read that finds it gone goes to the host as before.

import * as fs from "node:fs";
import type { OpenFile } from "./files.js";
import type { ProcessConsole } from "./syscalls.js";
import { nowMs } from "../machine/host-clock.js";

/** One host read's worth: 16 of md5sum's 4 KiB reads, 64 of musl's stdio's 1 KiB ones. */
export const READ_AHEAD_BYTES = 64 * 1024;
/** A fill older than this serves nothing (see the top of this file). */
export const MAX_AGE_MS = 1;
/** A read asking for more than this goes to the host directly: a copy would cost more than the call it saves. */
const LARGEST_SERVED = READ_AHEAD_BYTES / 4;

const SYS_READ = 63, SYS_READV = 65, SYS_WRITE = 64, SYS_WRITEV = 66; // riscv32's numbers

/** A descriptor table as the read-ahead sees it (files.ts, FileTable). */
export interface Descriptors { get(fd: number): OpenFile | undefined }

/**
 * Whether a write to `file` leaves every file the guest could read as it was: a pipe or a socket (a reader there acts
 * only through a system call of its own, or from outside the guest as a racing writer does), a device but the
 * terminal, or a standard stream the host has not redirected to a regular file (`roam run cat f >> f` must read what
 * it wrote).
 */
export function writesNoFile(file: OpenFile, console: ProcessConsole): boolean {
  switch (file.kind) {
    case "pipe": case "socket": return true;
    case "device": return file.device !== "tty" || (consoleIsNoFile(console, 1) && consoleIsNoFile(console, 2)); // /dev/tty: either stream
    case "terminal": return file.terminal !== undefined && file.terminal !== 0 && consoleIsNoFile(console, file.terminal);
    default: return false; // a file, a directory, a descriptor served by another host
  }
}

function consoleIsNoFile(console: ProcessConsole, stream: 1 | 2): boolean {
  return console.outputIsFile?.(stream) !== true;
}

/** How ReadAhead reads a host file (files.ts): into `views` in turn, as one read(2) or readv(2) at a file offset; the bytes read. */
export type HostRead = (hostFd: number, views: readonly Uint8Array[], position: number) => number;

export class ReadAhead {
  private readonly buffer = Buffer.allocUnsafeSlow(READ_AHEAD_BYTES);
  private readonly whole: readonly Uint8Array[] = [this.buffer];
  private readonly regularity = new WeakMap<OpenFile, boolean>();
  /** The description the buffer holds bytes of, from file offset `start` to `end` (none: undefined). */
  private file: OpenFile | undefined;
  private start = 0;
  private end = 0;
  /** Whether `end` was the file's end at the fill (a read past it is short there, as it was then). */
  private endIsEof = false;
  private filledAt = 0;
  /** Who read last: the descriptor table and descriptor, the description and where its read ended (the next one continues there if sequential). */
  private table: object | undefined;
  private fd = -1;
  private lastFile: OpenFile | undefined;
  private lastEnd = -1;

  /**
   * Every system call, before it runs (`table`: the calling task's descriptor table): anything but the next read(2)
   * or readv(2) through the same table and descriptor, or a write(2) or writev(2) through it to what is no file
   * (writesNoFile), drops the buffer.
   */
  beforeSyscall(table: Descriptors, number: number, fd: number, console: ProcessConsole): void {
    if (table !== this.table || this.lastFile === undefined) return this.drop();
    if (number === SYS_READ || number === SYS_READV) { if (fd !== this.fd) this.drop(); return; }
    if (number === SYS_WRITE || number === SYS_WRITEV) {
      const file = table.get(fd);
      if (file !== undefined && writesNoFile(file, console)) return;
    }
    this.drop();
  }

  /** Forgets what the buffer holds and what was read last (a signal, or any system call but the next read). */
  drop(): void {
    this.file = undefined;
    this.lastFile = undefined;
  }

  /**
   * Reads regular file `file` (descriptor `fd` of descriptor table `table`; host descriptor `hostFd`) at `position`
   * into `views` in turn, as read(2) does: all they ask for unless the file ends first. From the buffer when it holds
   * them; when this read continues the description's last one, after filling the buffer from here; else from the
   * host straight into `views`.
   */
  read(table: object, fd: number, file: OpenFile, position: number, views: readonly Uint8Array[], hostFd: number, hostRead: HostRead): number {
    let wanted = 0;
    for (let i = 0; i < views.length; i++) wanted += views[i].length;
    if (wanted === 0) return 0; // read(2) of 0 bytes: nothing to fill a buffer for
    const sequential = this.lastFile === file && this.lastEnd === position && table === this.table && fd === this.fd;
    this.table = table;
    this.fd = fd;
    this.lastFile = file;
    this.lastEnd = -1; // until this read is done (a throw leaves no claim that the next read continues it)
    let n: number;
    if (this.holds(file, position, wanted)) {
      n = this.copyOut(position, views);
    } else if (sequential && wanted <= LARGEST_SERVED && this.isRegular(file, hostFd)) {
      this.fill(file, position, hostFd, hostRead);
      n = this.copyOut(position, views);
    } else {
      this.file = undefined;
      n = hostRead(hostFd, views, position);
    }
    this.lastEnd = position + n;
    return n;
  }

  /**
   * Whether the host file is a regular one: a FIFO or a device in the guest's root opens as kind "file" too, and
   * reading ahead there would take bytes the guest did not ask for. Asked once a description (fstat), at its first fill.
   */
  private isRegular(file: OpenFile, hostFd: number): boolean {
    let regular = this.regularity.get(file);
    if (regular === undefined) {
      try { regular = fs.fstatSync(hostFd).isFile(); } catch { regular = false; }
      this.regularity.set(file, regular);
    }
    return regular;
  }

  /** Whether the buffer holds the whole read (or all of the file from `position`, as it was at the fill), and is young enough. */
  private holds(file: OpenFile, position: number, wanted: number): boolean {
    return this.file === file && position >= this.start && position < this.end + (this.endIsEof ? 1 : 0) &&
      (position + wanted <= this.end || this.endIsEof) && nowMs() - this.filledAt <= MAX_AGE_MS;
  }

  private fill(file: OpenFile, position: number, hostFd: number, hostRead: HostRead): void {
    this.file = undefined; // a throw below leaves nothing half-filled
    const got = hostRead(hostFd, this.whole, position);
    this.file = file;
    this.start = position;
    this.end = position + got;
    this.endIsEof = got < this.buffer.length;
    this.filledAt = nowMs();
  }

  /** Copies from the buffer at `position` into `views` in turn, as far as it holds; the bytes copied (0 at the file's end). */
  private copyOut(position: number, views: readonly Uint8Array[]): number {
    let at = position - this.start, n = 0;
    const held = this.end - this.start;
    for (let i = 0; i < views.length && at < held; i++) {
      const part = Math.min(views[i].length, held - at);
      views[i].set(this.buffer.subarray(at, at + part));
      at += part;
      n += part;
    }
    return n;
  }
}
