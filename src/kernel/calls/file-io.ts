// Reading and writing files, devices and the console; positioned I/O, sizes,
// syncing, owners and modes of open files, the umask, statfs, and readlink of
// the few /proc links programs ask for. The man pages' words for each error.
// (Pipes are read and written by descriptors.ts.)

import * as fs from "node:fs";
import * as path from "node:path";
import { sendToThread } from "../deliver.js";
import { deviceRead, deviceWrite } from "../devices.js";
import { Errno } from "../errno.js";
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, WouldBlock, type FileTable, type OpenFile } from "../files.js";
import { forwardedIo } from "../lone-satellite.js";
import { PIPE_CAPACITY } from "../pipes.js";
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, readLinkAt, statAt } from "../path-calls.js";
import { BrokenPipe, type SyscallContext, type SyscallOutcome } from "../syscalls.js";
import { SIGPIPE } from "../signals.js";
import { pipeReadTo, pipeWriteFrom } from "./descriptors.js";
import { terminalRead, terminalWriteCheck } from "./terminal.js";
import { socketReceive, socketSend } from "./socket-io.js";
import { errnoOfThrown, guarded, pathArg, u64Arg, withPath, type Handler } from "./call-args.js";

const PROT_READ = 1, PROT_WRITE = 2;
export const MAX_IO = 1 << 20; // bytes moved per read/write call (larger requests are partial, as Linux allows)

const readable = (file: OpenFile) => (file.flags & O_ACCMODE) !== O_WRONLY;
const writable = (file: OpenFile) => (file.flags & O_ACCMODE) !== O_RDONLY;

/** The console's input, for fd 0 and /dev/tty: bytes, or block until some arrive (the terminal's: calls/terminal.ts). */
function consoleInput(c: SyscallContext, file: OpenFile, count: number): Uint8Array | number | SyscallOutcome {
  const tty = c.kernel.terminal;
  if (tty) return terminalRead(c, tty, count, (file.flags & O_NONBLOCK) !== 0);
  if (count === 0) return new Uint8Array(0);
  return c.console.read(count) ?? { kind: "block-input" };
}

/** Output to the console; a reader that has gone makes it EPIPE and SIGPIPE, as a pipe's would. */
function consoleOutput(c: SyscallContext, stream: 1 | 2, bytes: Uint8Array): number {
  try {
    c.console.write(stream, bytes);
  } catch (error) {
    if (!(error instanceof BrokenPipe)) throw error;
    sendToThread(c.kernel, c.kernel.tasks.get(c.pid)!, SIGPIPE, { signo: SIGPIPE, code: 0, pid: c.pid });
    return -Errno.EPIPE;
  }
  return bytes.length;
}

// read(2) and write(2) of a file, handed to fillInPlace and useInPlace with the table and descriptor: no closure a call.
const readFileInto = (views: Uint8Array[], files: FileTable, fd: number): number => files.readInto(fd, views);
const writeFileFrom = (views: Uint8Array[], files: FileTable, fd: number): number => files.write(fd, views);

function readInto(c: SyscallContext, fd: number, buf: number, count: number): SyscallOutcome | number {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF; // "fd is not a valid file descriptor or is not open for reading"
  count = Math.min(count, MAX_IO);
  // A file or directory (or one of /proc's): straight into the guest's buffer, which fillInPlace checks first.
  if (file.kind === "file" || file.kind === "directory" || file.kind === "proc") {
    try {
      return c.space.fillInPlace(buf, count, readFileInto, c.files, fd) ?? -Errno.EFAULT;
    } catch (error) {
      return errnoOfThrown(error);
    }
  }
  // The whole buffer must be writable (and here) before anything is consumed.
  if (!c.space.ensure(buf, count, PROT_WRITE)) return -Errno.EFAULT;
  if (file.kind === "pipe") return pipeReadTo(c, file, count, buf);
  let r: Uint8Array | SyscallOutcome | number;
  if (file.kind === "socket") {
    const got = socketReceive(c, fd, count, 0);
    r = typeof got === "number" || "kind" in got ? got : got.got.data;
  } else if (file.kind === "forwarded") r = forwardedIo(c, file, "read", count);
  else if (file.kind === "terminal") r = file.terminal === 0 ? consoleInput(c, file, count) : -Errno.EBADF;
  else { // a device
    if (!readable(file)) return -Errno.EBADF;
    r = file.device === "tty" ? consoleInput(c, file, count) : deviceRead(file.device!, count);
  }
  if (!(r instanceof Uint8Array)) return r;
  if (!c.space.write(buf, r)) return -Errno.EFAULT;
  return r.length;
}

function writeFrom(c: SyscallContext, fd: number, buf: number, count: number): number | SyscallOutcome {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF; // "fd is not a valid file descriptor or is not open for writing"
  // A pipe takes at most its capacity at once, copied from the guest's buffer into its own.
  if (file.kind === "pipe") return pipeWriteFrom(c, file, buf, Math.min(count, PIPE_CAPACITY));
  if (file.kind === "device" && file.device !== "tty") {
    // What a device discards is checked, not copied. (A bad pointer is EFAULT, as qemu-riscv32 says; Linux's own
    // /dev/null would not look at the buffer.)
    if (!writable(file)) return -Errno.EBADF;
    count = Math.min(count, MAX_IO);
    return c.space.ensure(buf, count, PROT_READ) ? deviceWrite(file.device!, count) : -Errno.EFAULT;
  }
  // A file: straight from the guest's buffer.
  if (file.kind === "file" || file.kind === "directory") {
    try {
      return c.space.useInPlace(buf, Math.min(count, MAX_IO), writeFileFrom, c.files, fd) ?? -Errno.EFAULT;
    } catch (error) {
      return errnoOfThrown(error);
    }
  }
  if (file.kind === "terminal" || file.kind === "device") {
    const stream = consoleStream(c, file);
    if (stream === undefined) return -Errno.EBADF;
    const stop = terminalWriteCheck(c); // a background job's write with TOSTOP set
    if (stop !== 0) return stop;
    // Straight from the guest's memory (the console copies what it keeps), as one write: from the kernel's scratch
    // when the buffer's pages lie apart in RAM.
    return c.space.useInPlace(buf, Math.min(count, MAX_IO), writeConsoleFrom, c, stream) ?? -Errno.EFAULT;
  }
  const bytes = c.space.read(buf, Math.min(count, MAX_IO));
  if (!bytes) return -Errno.EFAULT;
  if (file.kind === "socket") return socketSend(c, fd, bytes, 0, null);
  if (file.kind === "forwarded") return forwardedIo(c, file, "write", bytes) as number;
  return -Errno.EBADF;
}

const writeConsoleFrom = (views: Uint8Array[], c: SyscallContext, stream: number): number =>
  consoleOutput(c, stream as 1 | 2, views.length === 1 ? views[0] : joinedInScratch(views));

/** The kernel's scratch for console output in parts (writev, a buffer across pages apart): the console copies what it keeps. */
let consoleScratch = Buffer.allocUnsafeSlow(4096);

function scratchOf(length: number): Buffer {
  if (consoleScratch.length < length) consoleScratch = Buffer.allocUnsafeSlow(Math.max(length, consoleScratch.length * 2));
  return consoleScratch.subarray(0, length);
}

function joinedInScratch(views: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const view of views) length += view.length;
  const out = scratchOf(length);
  for (let i = 0, at = 0; i < views.length; at += views[i].length, i++) out.set(views[i], at);
  return out;
}

/** The console stream a write to `file` (a terminal or /dev/tty) goes to; undefined when it cannot be written (EBADF). */
function consoleStream(c: SyscallContext, file: OpenFile): 1 | 2 | undefined {
  if (file.kind === "terminal") return file.terminal === 0 ? undefined : file.terminal!;
  // /dev/tty (the other devices were handled above)
  if (!writable(file)) return undefined;
  return c.console.isTerminal(1) || !c.console.isTerminal(2) ? 1 : 2;
}

/**
 * writev to the console: its parts in one write, as Linux writes them (musl's stdio writes its buffer and the new
 * bytes as two parts of one writev: two host writes each, where one keeps the line whole for a reader sharing the
 * terminal or pipe). Parts are taken up to the first the guest cannot read: a short write then, EFAULT if nothing
 * was taken. Undefined when `fd` is not the console.
 */
function consoleWritev(c: SyscallContext, fd: number, parts: DataView, count: number): number | SyscallOutcome | undefined {
  const file = c.files.get(fd);
  if (!file || !(file.kind === "terminal" || (file.kind === "device" && file.device === "tty"))) return undefined;
  const stream = consoleStream(c, file);
  if (stream === undefined) return -Errno.EBADF;
  const stop = terminalWriteCheck(c);
  if (stop !== 0) return stop;
  // One array for all the parts, the kernel's scratch (the console copies what it keeps): an array per part and their
  // concatenation were ~9 ms of BusyBox sort's 771 writev calls.
  let total = 0;
  for (let i = 0; i < count && total < MAX_IO; i++) total += Math.min(parts.getUint32(i * 8 + 4, true), MAX_IO - total);
  if (total === 0) return 0;
  const out = scratchOf(total);
  let done = 0;
  for (let i = 0; i < count && done < total; i++) {
    const len = Math.min(parts.getUint32(i * 8 + 4, true), total - done);
    if (len === 0) continue;
    if (!c.space.copyOut(parts.getUint32(i * 8, true), out.subarray(done, done + len))) {
      if (done === 0) return -Errno.EFAULT; // "part of the buffer is outside your accessible address space"
      break; // the parts before it are written
    }
    done += len;
  }
  return consoleOutput(c, stream, done === total ? out : out.subarray(0, done));
}

/** The iovecs of a readv or writev, 1024 at most (UIO_MAXIOV). */
const IOVECS = new Uint8Array(1024 * 8);
const IOVEC_VIEW = new DataView(IOVECS.buffer);

/** readv/writev: iovec = { u32 base, u32 len } × count. */
function vectored(c: SyscallContext, fd: number, iov: number, count: number, write: boolean): SyscallOutcome | number {
  if (count < 0 || count > 1024) return -Errno.EINVAL; // "iovcnt is less than zero or greater than the permitted maximum"
  // Into the kernel's scratch, not a new array a call: musl's stdio writes each flush with a writev (BusyBox awk
  // flushes every line it prints: 100 k calls). Nothing below runs another readv or writev before it is read.
  if (!c.space.copyOut(iov, IOVECS.subarray(0, count * 8))) return -Errno.EFAULT;
  const view = IOVEC_VIEW;
  if (write) {
    const whole = consoleWritev(c, fd, view, count);
    if (whole !== undefined) return whole;
  } else {
    for (let i = 0; i < count; i++) {
      if (!c.space.ensure(view.getUint32(i * 8, true), Math.min(view.getUint32(i * 8 + 4, true), MAX_IO), PROT_WRITE)) return -Errno.EFAULT;
    }
  }
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = view.getUint32(i * 8, true), len = view.getUint32(i * 8 + 4, true);
    if (len === 0) continue;
    let r: number | SyscallOutcome;
    try {
      r = write ? writeFrom(c, fd, base, len) : readInto(c, fd, base, len);
    } catch (error) {
      // A later part must wait for another host: what is done is done, so the call returns it
      // (running the whole call again would do the first parts twice).
      if (error instanceof WouldBlock && total > 0) return total;
      throw error;
    }
    if (typeof r !== "number") return total > 0 ? total : r; // would block: return what we have
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if (r < len) break;
  }
  return total;
}

/** pread64/pwrite64 on what is not a regular file: "fd is associated with a pipe, socket, or FIFO" (a terminal too). */
function positionedCheck(c: SyscallContext, fd: number, offset: number): OpenFile | number {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF;
  if (file.kind === "pipe" || file.kind === "socket" || file.kind === "terminal" || file.device === "tty") return -Errno.ESPIPE;
  if (file.kind === "directory") return -Errno.EISDIR; // "fd refers to a directory"
  if (offset < 0) return -Errno.EINVAL; // "offset is negative"
  return file;
}

function pread64(c: SyscallContext, fd: number, buf: number, count: number, low: number, high: number): number {
  const offset = u64Arg(low, high);
  const file = positionedCheck(c, fd | 0, offset);
  if (typeof file === "number") return file;
  if (!readable(file)) return -Errno.EBADF; // "fd is not open for reading"
  count = Math.min(count, MAX_IO);
  if (file.kind !== "device") {
    return guarded(() => c.space.fillInPlace(buf, count, (views, files, at) => files.preadInto(at, offset, views), c.files, fd | 0) ?? -Errno.EFAULT);
  }
  if (!c.space.ensure(buf, count, PROT_WRITE)) return -Errno.EFAULT;
  const bytes = deviceRead(file.device!, count);
  if (typeof bytes === "number") return bytes;
  return c.space.write(buf, bytes) ? bytes.length : -Errno.EFAULT;
}

function pwrite64(c: SyscallContext, fd: number, buf: number, count: number, low: number, high: number): number {
  const offset = u64Arg(low, high);
  const file = positionedCheck(c, fd | 0, offset);
  if (typeof file === "number") return file;
  if (!writable(file)) return -Errno.EBADF; // "fd is not open for writing"
  count = Math.min(count, MAX_IO);
  if (file.kind === "device") return c.space.ensure(buf, count, PROT_READ) ? deviceWrite(file.device!, count) : -Errno.EFAULT;
  return guarded(() => c.space.useInPlace(buf, count, (views, files, at) => files.pwrite(at, offset, views), c.files, fd | 0) ?? -Errno.EFAULT);
}

/** ftruncate: "fd does not reference a regular file or a POSIX shared memory object", or "is not open for writing": EINVAL. */
function ftruncate64(c: SyscallContext, fd: number, low: number, high: number): number {
  const length = u64Arg(low, high);
  const file = c.files.get(fd | 0);
  if (!file) return -Errno.EBADF;
  if (length < 0) return -Errno.EINVAL; // "The argument length is negative"
  if (file.kind !== "file" || !writable(file)) return -Errno.EINVAL;
  if (file.home) return -Errno.EROFS; // served by the host it stayed on, which reads and writes it, no more
  return guarded(() => { fs.ftruncateSync(c.files.hostFd(fd | 0), length); return 0; });
}

/** fsync/fdatasync: "fd is bound to a special file (e.g., a pipe, FIFO, or socket) which does not support synchronization": EINVAL. */
function fsync(c: SyscallContext, fd: number, dataOnly: boolean): number {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF;
  if (file.kind === "pipe" || file.kind === "socket" || file.kind === "terminal" || file.kind === "device") return -Errno.EINVAL;
  if (file.home) return 0; // its home host writes it
  return guarded(() => { (dataOnly ? fs.fdatasyncSync : fs.fsyncSync)(c.files.hostFd(fd)); return 0; });
}

/**
 * fchown/fchownat: the guest is root inside its sandbox, so a change of owner
 * is accepted — and not made: the files are the host user's, and stay so.
 * The usual errors still come (no such file, a bad descriptor).
 */
function fchownat(c: SyscallContext, dirfd: number, p: number, _owner: number, _group: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -Errno.EINVAL; // "Invalid flag specified in flags"
  return withPath(c, p, (path) => {
    if (path === "" && (flags & AT_EMPTY_PATH)) c.files.stat(dirfd | 0);
    else statAt(c.files, dirfd | 0, path, flags);
  });
}

/** fchmod: the permission bits of an open file (set-ID bits dropped, as chmodAt does). */
function fchmod(c: SyscallContext, fd: number, mode: number): number {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF;
  if (file.kind !== "file" && file.kind !== "directory") return 0; // a pipe's, a device's or the terminal's mode is not kept
  if (file.home) return -Errno.EROFS;
  if (file.path === "/dev") return -Errno.EPERM;
  if (c.files.baseEntryOf(file)) return -Errno.EROFS; // the base layer's file itself, read-only (by path, its copy is changed)
  return guarded(() => { fs.fchmodSync(c.files.hostFd(fd), mode & 0o777); return 0; });
}

const STATFS64_SIZE = 88; // asm-generic struct statfs64 on riscv32: 84 bytes of fields, padded to its u64 alignment
const ST_VALID = 0x20;

/** statfs64/fstatfs64: the host file system's figures; the virtual /dev and the console as a tmpfs would say. */
function statfsBytes(host: string | null): Uint8Array {
  const out = new Uint8Array(STATFS64_SIZE);
  const v = new DataView(out.buffer);
  const s = host === null ? { type: 0x01021994 /* TMPFS_MAGIC */, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 } : fs.statfsSync(host);
  v.setUint32(0, Number(s.type), true);
  v.setUint32(4, Number(s.bsize), true);
  [s.blocks, s.bfree, s.bavail, s.files, s.ffree].forEach((n, i) => v.setBigUint64(8 + i * 8, BigInt(n), true));
  v.setUint32(56, 255, true); // f_namelen
  v.setUint32(60, Number(s.bsize), true); // f_frsize
  v.setUint32(64, ST_VALID, true);
  return out;
}

function statfs64(c: SyscallContext, p: number, size: number, buf: number): number {
  if (size !== STATFS64_SIZE) return -Errno.EINVAL;
  return withPath(c, p, (guest) => {
    const r = c.files.resolve(-100, guest, "follow");
    if (!r.stat) return -Errno.ENOENT;
    return c.space.write(buf, statfsBytes(r.device !== undefined || r.layer === "base" ? null : r.host)) ? 0 : -Errno.EFAULT;
  });
}

function fstatfs64(c: SyscallContext, fd: number, size: number, buf: number): number {
  const file = c.files.get(fd | 0);
  if (!file) return -Errno.EBADF;
  if (size !== STATFS64_SIZE) return -Errno.EINVAL;
  const onHost = (file.kind === "file" || file.kind === "directory") && !file.home && file.path !== "/dev" && !c.files.baseEntryOf(file);
  return guarded(() => (c.space.write(buf, statfsBytes(onHost ? c.files.hostPath(file.path) : null)) ? 0 : -Errno.EFAULT));
}

/** readlinkat: the target, cut to `size` bytes, no NUL added; the length is the result. */
function readlinkat(c: SyscallContext, dirfd: number, p: number, buf: number, size: number): number {
  const path = pathArg(c, p);
  if (typeof path === "number") return path;
  if ((size | 0) <= 0) return -Errno.EINVAL; // "bufsiz is not positive"
  return guarded(() => {
    const target = readLinkAt(c.files, dirfd | 0, path);
    const n = Math.min(target.length, size);
    return c.space.write(buf, target.subarray(0, n)) ? n : -Errno.EFAULT;
  });
}

export const FILE_IO_CALLS = new Map<number, [string, Handler]>([
  [63, ["read", (c, fd, buf, count) => readInto(c, fd | 0, buf, count)]],
  [64, ["write", (c, fd, buf, count) => writeFrom(c, fd | 0, buf, count)]],
  [65, ["readv", (c, fd, iov, n) => vectored(c, fd | 0, iov, n | 0, false)]],
  [66, ["writev", (c, fd, iov, n) => vectored(c, fd | 0, iov, n | 0, true)]],
  [67, ["pread64", pread64]],
  [68, ["pwrite64", pwrite64]],
  [46, ["ftruncate64", ftruncate64]],
  [82, ["fsync", (c, fd) => fsync(c, fd | 0, false)]],
  [83, ["fdatasync", (c, fd) => fsync(c, fd | 0, true)]],
  [81, ["sync", () => 0]], // "sync() is always successful"
  [55, ["fchown", (c, fd) => (c.files.get(fd | 0) ? 0 : -Errno.EBADF)]],
  [54, ["fchownat", fchownat]],
  [52, ["fchmod", (c, fd, mode) => fchmod(c, fd | 0, mode)]],
  [43, ["statfs64", statfs64]],
  [44, ["fstatfs64", fstatfs64]],
  [78, ["readlinkat", readlinkat]],
  [166, ["umask", (c, mask) => {
    // "umask() sets the calling process's file mode creation mask (umask) to mask & 0777 ... returns the previous value of the mask."
    const old = c.files.umask;
    c.files.umask = mask & 0o777;
    return old;
  }]],
]);
