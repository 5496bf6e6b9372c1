// Linux system calls for riscv32 guests (asm-generic numbers, 64-bit time).
// Arguments arrive in a0..a5, the number in a7; the result goes back in a0,
// errors as -errno. Every guest pointer is checked against the address space:
// a bad one gives -EFAULT, never a host exception.
//
// A call that must wait (terminal input, a sleep) does not advance the pc: the
// process blocks and the same ecall runs again when it wakes — after a
// migration too, which is how slow I/O resumes at the destination. A sleep's
// deadline is kept (in guest time) so that running it again does not restart it.

import { randomBytes } from "./random.js";
import type { Kernel } from "./kernel.js";
import { DESCRIPTOR_CALLS } from "./calls/descriptors.js";
import { FILE_IO_CALLS, MAX_IO } from "./calls/file-io.js";
import { TIME_CALLS } from "./calls/time.js";
import { MEMORY_CALLS } from "./calls/memory.js";
import { LIMIT_CALLS } from "./calls/limits.js";
import { PROCESS_CALLS } from "./calls/processes.js";
import { POLL_CALLS } from "./calls/poll.js";
import { SIGNAL_CALLS } from "./calls/signals.js";
import { THREAD_CALLS } from "./calls/threads.js";
import { SOCKET_CALLS } from "./calls/sockets.js";
import { SOCKET_IO_CALLS } from "./calls/socket-io.js";
import { SOCKET_OPTION_CALLS, socketIoctl } from "./calls/socket-options.js";
import { terminalIoctl } from "./calls/terminal.js";
import { deviceStat } from "./devices.js";
import { AddressSpace, OutOfMemory, PROT_WRITE } from "./address-space.js";
import type { Handler } from "./calls/call-args.js";
import { Errno, errnoOf } from "./errno.js";
import { FileTable, SandboxError, statFromData, type StatLike } from "./files.js";
import {
  AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, accessAt, changeDirectory, changeDirectoryTo, chmodAt, symlinkAt, linkAt, mkdirAt, renameAt, setTimesAt, setTimesOfFd,
  statAt, truncateAt, unlinkAt, type NewTime,
} from "./path-calls.js";

/** Thrown by a console write when its reader has gone: the process ends as SIGPIPE would end it. */
export class BrokenPipe extends Error {}

export interface ProcessConsole {
  /**
   * Writes to stdout (1) or stderr (2); throws BrokenPipe when nobody reads it any more. `bytes` is valid only during
   * the call (the guest's own memory, or the kernel's scratch for a writev): what is kept is copied.
   */
  write(stream: 1 | 2, bytes: Uint8Array): void;
  /** Up to `max` bytes of input; null when none is there yet (the caller blocks); empty at end of input. */
  read(max: number): Uint8Array | null;
  /** Whether a read would not wait now (input is there, or it has ended): what poll reports for fd 0. */
  hasInput(): boolean;
  isTerminal(stream: 0 | 1 | 2): boolean;
  windowSize(): { rows: number; columns: number } | null;
  /**
   * What a standard stream is on the host, for fstat and lseek of 0, 1 and 2:
   * a terminal, or the file, pipe or device it was redirected to (its host
   * stat). Without it: a terminal when isTerminal says so, else a pipe.
   */
  describe?(stream: 0 | 1 | 2): StreamDescription;
  /**
   * Whether the host sends output stream 1 or 2 to a regular file (describe's "host" with a file's stat), asked once
   * a stream and kept: the read-ahead asks at every write (read-ahead.ts). Without it: never.
   */
  outputIsFile?(stream: 1 | 2): boolean;
  /**
   * The host's terminal for the guest's line discipline (terminal.ts): when stdin is a terminal, it is put in raw mode
   * and every byte typed goes to `keys` (Ctrl-C included, which no longer makes SIGINT on the host), `hangUp` when it
   * ends; false when stdin is no terminal (nothing changes). Without it, a terminal's input comes cooked by the host.
   */
  takeTerminal?(keys: (bytes: Uint8Array) => void, hangUp: () => void): boolean;
}

export type StreamDescription =
  | { kind: "terminal" }
  | { kind: "pipe" }
  /** A regular file, a device, a socket: its host stat; `position` is where the host's offset is now (regular files). */
  | { kind: "host"; stat: StatLike; position?: number };

export interface ProcessClock {
  monotonicNs(): bigint; // guest time: never runs backwards, carried across migrations
  realtimeNs(): bigint;
}

/** What a system call runs for: the calling process (src/kernel/task.ts). */
export interface SyscallContext {
  kernel: Kernel;
  space: AddressSpace;
  files: FileTable;
  console: ProcessConsole;
  clock: ProcessClock;
  readonly pid: number;
  /** A sleep this ecall already started (guest monotonic deadline), kept across re-executions. */
  sleepDeadline: bigint | undefined;
}

export type SyscallOutcome =
  | { kind: "return"; value: number }
  | { kind: "block-input" } // terminal input
  | { kind: "block-until"; deadlineNs: bigint } // a sleep
  | { kind: "block-futex"; deadlineNs?: bigint } // a futex wait: runs again when woken, signalled or timed out
  | { kind: "block-event"; input?: boolean; deadlineNs?: bigint } // a pipe, a child (poll: also input, a timeout): runs again on a change
  | { kind: "jumped" } // execve, rt_sigreturn: the call set the registers (and pc) itself
  | { kind: "exit"; code: number; thread?: boolean }; // thread: exit(2), which ends the calling thread alone when others go on


const ret = (value: number): SyscallOutcome => ({ kind: "return", value });
const fail = (errno: number) => -errno;

/** Runs `body`, turning sandbox and host file-system errors into -errno. */
function guarded(body: () => number | SyscallOutcome): number | SyscallOutcome {
  try {
    return body();
  } catch (error) {
    if (error instanceof SandboxError) return fail(error.errno);
    if ((error as NodeJS.ErrnoException)?.code) return fail(errnoOf(error));
    throw error;
  }
}

function pathArg(c: SyscallContext, address: number): string | number {
  const p = c.space.readString(address);
  return p === null ? fail(Errno.EFAULT) : p;
}

// ---- stat ---------------------------------------------------------------------------------

const S_IFMT_OF = (st: StatLike) =>
  st.isDirectory() ? 0o040000 : st.isFile() ? 0o100000 : st.isSymbolicLink() ? 0o120000 : st.isCharacterDevice() ? 0o020000 : st.isFIFO() ? 0o010000 : st.mode & 0o170000;

/** A standard stream that is not a terminal and says nothing more: a pipe, as Linux shows one. */
const PIPE_STAT = statFromData({ mode: 0o010600, ino: 1, nlink: 1, dev: 12 });

/** What a console descriptor (0, 1, 2) is: null for a terminal (stat64Bytes and statxBytes describe one), else its stat. */
export function consoleStream(c: SyscallContext, stream: 0 | 1 | 2): StreamDescription {
  return c.console.describe?.(stream) ?? (c.console.isTerminal(stream) ? { kind: "terminal" } : { kind: "pipe" });
}

/** stat by path; /dev/stdin|stdout|stderr followed to what the descriptor is, as Linux follows their links. */
function statOfPath(c: SyscallContext, dirfd: number, p: string, flags: number): StatLike | null {
  const r = c.files.resolve(dirfd, p, flags & AT_SYMLINK_NOFOLLOW ? "nofollow" : "follow");
  if (r.stdio !== undefined && !(flags & AT_SYMLINK_NOFOLLOW)) {
    if (!c.files.get(r.stdio)) throw new SandboxError(Errno.ENOENT); // a dangling link
    return statOfFd(c, r.stdio);
  }
  return r.stat ?? statAt(c.files, dirfd, p, flags); // statAt says why there is none
}

/** fstat of a descriptor: the console's streams as what they are on the host. */
function statOfFd(c: SyscallContext, fd: number): StatLike | null {
  const st = c.files.stat(fd);
  const file = c.files.get(fd);
  if (st !== null || file?.kind !== "terminal") return st;
  const d = consoleStream(c, file.terminal!);
  // The guest's own terminal (terminal.ts) is its /dev/tty, as /proc/self/fd/0's link says: ttyname(3) checks that the
  // link's stat is the descriptor's, so `tty` names it.
  if (d.kind === "terminal") return c.kernel.terminal ? deviceStat("tty") : null;
  return d.kind === "pipe" ? PIPE_STAT : d.stat;
}

/** struct statx (256 bytes) from a host stat. */
function statxBytes(st: StatLike | null, terminal: boolean): Uint8Array {
  const out = new Uint8Array(256);
  const v = new DataView(out.buffer);
  const STATX_BASIC_STATS = 0x7ff;
  v.setUint32(0, STATX_BASIC_STATS, true);
  v.setUint32(4, 4096, true);
  if (!st) {
    // A terminal: a character device, as on Linux.
    v.setUint32(16, 1, true);
    v.setUint16(28, 0o020620, true);
    v.setUint32(128, 136, true); // rdev major: pts
    return out;
  }
  void terminal;
  v.setUint32(16, Number(st.nlink), true);
  v.setUint32(20, 0, true);
  v.setUint32(24, 0, true);
  v.setUint16(28, S_IFMT_OF(st) | (st.mode & 0o7777), true);
  v.setBigUint64(32, BigInt(st.ino), true);
  v.setBigUint64(40, BigInt(st.size), true);
  v.setBigUint64(48, BigInt(st.blocks ?? Math.ceil(st.size / 512)), true);
  const rdev = Number(st.rdev ?? 0); // Linux's 32-bit encoding: major in bits 8-19, minor in 0-7 and 20-31
  v.setUint32(128, (rdev >>> 8) & 0xfff, true);
  v.setUint32(132, (rdev & 0xff) | ((rdev >>> 12) & 0xfff00), true);
  const ts = (at: number, ms: number) => {
    v.setBigInt64(at, BigInt(Math.floor(ms / 1000)), true);
    v.setUint32(at + 8, Math.floor((ms % 1000) * 1e6), true);
  };
  ts(64, st.atimeMs); ts(80, st.birthtimeMs); ts(96, st.ctimeMs); ts(112, st.mtimeMs);
  return out;
}

function statx(c: SyscallContext, dirfd: number, pathPtr: number, flags: number, _mask: number, buf: number): number {
  const p = pathArg(c, pathPtr);
  if (typeof p === "number") return p;
  return guarded(() => {
    const st = p === "" && (flags & AT_EMPTY_PATH) ? statOfFd(c, dirfd | 0) : statOfPath(c, dirfd | 0, p, flags);
    return c.space.write(buf, statxBytes(st, st === null)) ? 0 : fail(Errno.EFAULT);
  }) as number;
}

/**
 * struct stat64 of asm-generic (32-bit): st_dev u64, st_ino u64, st_mode u32, st_nlink u32,
 * st_uid u32, st_gid u32, st_rdev u64, pad u64, st_size i64, st_blksize i32, pad i32,
 * st_blocks i64, then atime/mtime/ctime as (i32 sec, u32 nsec) — 104 bytes.
 */
function stat64Bytes(st: StatLike | null): Uint8Array {
  const out = new Uint8Array(104);
  const v = new DataView(out.buffer);
  if (!st) { v.setUint32(16, 0o020620, true); v.setUint32(20, 1, true); v.setBigUint64(32, 136n << 8n, true); v.setInt32(56, 1024, true); return out; }
  v.setBigUint64(0, BigInt(st.dev), true);
  v.setBigUint64(8, BigInt(st.ino), true);
  v.setUint32(16, S_IFMT_OF(st) | (st.mode & 0o7777), true);
  v.setUint32(20, Number(st.nlink), true);
  v.setBigUint64(32, BigInt(st.rdev ?? 0), true);
  v.setBigInt64(48, BigInt(st.size), true);
  v.setInt32(56, 4096, true);
  v.setBigInt64(64, BigInt(st.blocks ?? Math.ceil(st.size / 512)), true);
  const ts = (at: number, ms: number) => { v.setInt32(at, Math.floor(ms / 1000), true); v.setUint32(at + 4, Math.floor((ms % 1000) * 1e6), true); };
  ts(72, st.atimeMs); ts(80, st.mtimeMs); ts(88, st.ctimeMs);
  return out;
}

function fstat64(c: SyscallContext, fd: number, buf: number): number {
  return guarded(() => {
    const st = statOfFd(c, fd);
    return c.space.write(buf, stat64Bytes(st)) ? 0 : fail(Errno.EFAULT);
  }) as number;
}

/**
 * lseek of a console stream: ESPIPE for a terminal or a pipe ("fd is associated
 * with a pipe, socket, or FIFO"); a redirected file tells where its host
 * offset is. That offset is Node's, which writes the guest's output there: a
 * seek that would move it fails with ESPIPE too, as on a stream that cannot seek.
 */
function consoleSeek(c: SyscallContext, stream: 0 | 1 | 2, offset: number, whence: number): number {
  const d = consoleStream(c, stream);
  if (d.kind !== "host" || d.stat.isFIFO() || (d.stat.mode & 0o170000) === 0o140000) return fail(Errno.ESPIPE);
  if (whence > 2) return fail(Errno.EINVAL);
  if (!d.stat.isFile()) return 0; // a device (/dev/null): Linux's answer is 0
  const here = d.position ?? 0;
  const wanted = (whence === 0 ? 0 : whence === 1 ? here : d.stat.size) + offset;
  if (wanted < 0) return fail(Errno.EINVAL);
  return wanted === here ? here : fail(Errno.ESPIPE);
}

function getdents64(c: SyscallContext, fd: number, buf: number, size: number): number {
  return guarded(() => {
    const file = c.files.get(fd);
    if (!file) return fail(Errno.EBADF);
    if (!c.space.ensure(buf, Math.min(size, 1 << 16), PROT_WRITE)) return fail(Errno.EFAULT);
    const entries = c.files.listing(fd);
    const chunks: Uint8Array[] = [];
    let used = 0;
    while (file.position < entries.length) {
      const e = entries[file.position];
      const name = Buffer.from(e.name, "utf8");
      const reclen = (19 + name.length + 1 + 7) & ~7;
      if (used + reclen > size) break;
      const rec = new Uint8Array(reclen);
      const v = new DataView(rec.buffer);
      v.setBigUint64(0, BigInt(e.ino), true);
      v.setBigInt64(8, BigInt(file.position + 1), true); // d_off: the cursor of the next entry
      v.setUint16(16, reclen, true);
      rec[18] = e.type;
      rec.set(name, 19);
      chunks.push(rec);
      used += reclen;
      file.position++;
    }
    if (used === 0 && file.position < entries.length) return fail(Errno.EINVAL); // buffer too small
    const out = new Uint8Array(used);
    let at = 0;
    for (const ch of chunks) { out.set(ch, at); at += ch.length; }
    return c.space.write(buf, out) ? used : fail(Errno.EFAULT);
  }) as number;
}

// ---- Misc -----------------------------------------------------------------------------------

function utsname(): Uint8Array {
  const out = new Uint8Array(65 * 6);
  ["Linux", "roam", "6.1.0-roam", "#1 SMP roam", "riscv32", "(none)"].forEach((s, i) => out.set(Buffer.from(s), i * 65));
  return out;
}

function ioctl(c: SyscallContext, fd: number, request: number, arg: number): number | SyscallOutcome {
  const file = c.files.get(fd);
  if (!file) return fail(Errno.EBADF);
  const socket = file.kind === "socket" ? c.kernel.sockets.get(file.socket!) : undefined;
  if (socket) return socketIoctl(c, socket, request, arg);
  // "ENOTTY: fd is not associated with a character special device" (or not a terminal's: ioctl_tty(2)).
  const terminal = (file.kind === "terminal" && c.console.isTerminal(file.terminal!)) || (file.kind === "device" && file.device === "tty" && c.kernel.terminal);
  return terminal ? terminalIoctl(c, request, arg) : fail(Errno.ENOTTY);
}

function u64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v, true);
  return out;
}

// ---- The table --------------------------------------------------------------------------------

export const SYSCALLS = new Map<number, [string, Handler]>([
  [17, ["getcwd", (c, buf, size) => {
    const cwd = Buffer.from(c.files.cwd + "\0");
    if (size < cwd.length) return fail(Errno.ERANGE);
    return c.space.write(buf, cwd) ? cwd.length : fail(Errno.EFAULT);
  }]],
  [29, ["ioctl", (c, fd, req, arg) => ioctl(c, fd | 0, req, arg)]],
  [34, ["mkdirat", (c, dirfd, p, mode) => withPath(c, p, (path) => mkdirAt(c.files, dirfd | 0, path, mode))]],
  [35, ["unlinkat", (c, dirfd, p, flags) => withPath(c, p, (path) => unlinkAt(c.files, dirfd | 0, path, flags))]],
  [37, ["linkat", (c, olddir, oldp, newdir, newp, flags) =>
    withPaths(c, oldp, newp, (from, to) => linkAt(c.files, olddir | 0, from, newdir | 0, to, flags))]],
  [38, ["renameat", (c, olddir, oldp, newdir, newp) => rename(c, olddir, oldp, newdir, newp, 0)]],
  [45, ["truncate64", (c, p, low, high) => withPath(c, p, (path) => truncateAt(c.files, path, Number((BigInt(high | 0) << 32n) | BigInt(low >>> 0))))]],
  [53, ["fchmodat", (c, dirfd, p, mode) => withPath(c, p, (path) => chmodAt(c.files, dirfd | 0, path, mode))]],
  [412, ["utimensat_time64", utimensat]],
  [276, ["renameat2", (c, olddir, oldp, newdir, newp, flags) => rename(c, olddir, oldp, newdir, newp, flags)]],
  [49, ["chdir", (c, p) => withPath(c, p, (path) => changeDirectory(c.files, path))]],
  [48, ["faccessat", (c, dirfd, p, mode) => withPath(c, p, (path) => accessAt(c.files, dirfd | 0, path, mode))]],
  [439, ["faccessat2", (c, dirfd, p, mode, flags) => {
    // AT_EACCESS: the effective ids are the real ones here (root's).
    if (flags & ~(0x200 /* AT_EACCESS */ | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return fail(Errno.EINVAL);
    return withPath(c, p, (path) => (path === "" && (flags & AT_EMPTY_PATH) ? void c.files.stat(dirfd | 0) : accessAt(c.files, dirfd | 0, path, mode)));
  }]],
  [36, ["symlinkat", (c, target, dirfd, p) => withPaths(c, target, p, (to, at) => symlinkAt(c.files, to, dirfd | 0, at))]],
  [50, ["fchdir", (c, fd) => guarded(() => { changeDirectoryTo(c.files, fd | 0); return 0; }) as number]],
  [32, ["flock", (c, fd, op) => {
    if (!c.files.get(fd | 0)) return fail(Errno.EBADF);
    const kind = op & ~4; // LOCK_NB
    // One guest's processes: a lock is always granted (as fcntl's record locks are here).
    return kind === 1 || kind === 2 || kind === 8 ? 0 : fail(Errno.EINVAL); // "operation is invalid"
  }]],
  [56, ["openat", (c, dirfd, p, flags, mode) => {
    const path = pathArg(c, p);
    if (typeof path === "number") return path;
    return guarded(() => {
      const fd = c.files.open(dirfd | 0, path, flags, mode);
      // /dev/tty is the controlling terminal: with none (no stream is a terminal), "No such device or address".
      if (c.files.get(fd)?.device === "tty" && ![0, 1, 2].some((s) => c.console.isTerminal(s as 0 | 1 | 2))) {
        c.files.close(fd);
        return fail(Errno.ENXIO);
      }
      return fd;
    });
  }]],
  [57, ["close", (c, fd) => guarded(() => { c.files.close(fd | 0); return 0; })]],
  [61, ["getdents64", (c, fd, buf, size) => getdents64(c, fd | 0, buf, size)]],
  [62, ["llseek", (c, fd, high, low, result, whence) => guarded(() => {
    const offset = Number((BigInt(high | 0) << 32n) | BigInt(low >>> 0));
    if (!c.space.ensure(result, 8, PROT_WRITE)) return fail(Errno.EFAULT);
    const file = c.files.get(fd | 0);
    const position = file?.kind === "terminal" ? consoleSeek(c, file.terminal!, offset, whence) : c.files.seek(fd | 0, offset, whence);
    if (position < 0) return position;
    return c.space.write(result, u64Bytes(BigInt(position))) ? 0 : fail(Errno.EFAULT);
  })]],
  [291, ["statx", statx]],
  // riscv32 Linux itself has only statx; these asm-generic 32-bit calls serve older-ABI programs.
  [80, ["fstat64", (c, fd, buf) => fstat64(c, fd | 0, buf)]],
  [79, ["fstatat64", (c, dirfd, p, buf, flags) => {
    const path = pathArg(c, p);
    if (typeof path === "number") return path;
    if (path === "" && (flags & AT_EMPTY_PATH)) return fstat64(c, dirfd | 0, buf);
    return guarded(() => {
      const st = statOfPath(c, dirfd | 0, path, flags);
      return c.space.write(buf, stat64Bytes(st)) ? 0 : fail(Errno.EFAULT);
    }) as number;
  }]],
  [160, ["uname", (c, buf) => (c.space.write(buf, utsname()) ? 0 : fail(Errno.EFAULT))]],
  [278, ["getrandom", (c, buf, length, flags) => {
    if (flags & ~7) return fail(Errno.EINVAL); // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE
    const n = Math.min(length, MAX_IO);
    return c.space.write(buf, randomBytes(n)) ? n : fail(Errno.EFAULT);
  }]],
]);

function rename(c: SyscallContext, olddir: number, oldp: number, newdir: number, newp: number, flags: number): number {
  return withPaths(c, oldp, newp, (from, to) => renameAt(c.files, olddir | 0, from, newdir | 0, to, flags));
}

/** A call on two guest path strings: 0, or -errno. */
function withPaths(c: SyscallContext, first: number, second: number, body: (a: string, b: string) => void): number {
  const a = pathArg(c, first), b = pathArg(c, second);
  if (typeof a === "number") return a;
  if (typeof b === "number") return b;
  return guarded(() => { body(a, b); return 0; }) as number;
}

const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

/** utimensat_time64: times is NULL (both now) or two struct __kernel_timespec; a NULL path means dirfd itself. */
function utimensat(c: SyscallContext, dirfd: number, p: number, times: number, flags: number): number {
  let atime: NewTime = "now", mtime: NewTime = "now";
  if (times !== 0) {
    const raw = c.space.read(times, 32);
    if (!raw) return fail(Errno.EFAULT);
    const v = new DataView(raw.buffer, raw.byteOffset, 32);
    const decode = (at: number): NewTime | null => {
      const sec = v.getBigInt64(at, true), nsec = v.getBigInt64(at + 8, true);
      if (nsec === BigInt(UTIME_NOW)) return "now";
      if (nsec === BigInt(UTIME_OMIT)) return "omit";
      return nsec < 0n || nsec >= 1_000_000_000n ? null : Number(sec) + Number(nsec) / 1e9;
    };
    const a = decode(0), m = decode(16);
    if (a === null || m === null) return fail(Errno.EINVAL);
    [atime, mtime] = [a, m];
  }
  if (p === 0) {
    if (flags & AT_SYMLINK_NOFOLLOW) return fail(Errno.EINVAL);
    return guarded(() => { setTimesOfFd(c.files, dirfd | 0, atime, mtime); return 0; }) as number;
  }
  return withPath(c, p, (path) => {
    if (path === "" && (flags & AT_EMPTY_PATH)) setTimesOfFd(c.files, dirfd | 0, atime, mtime);
    else setTimesAt(c.files, dirfd | 0, path, atime, mtime, flags);
  });
}

/** A call on one guest path string: 0, or -errno (EFAULT for a bad pointer). */
function withPath(c: SyscallContext, pointer: number, body: (path: string) => void): number {
  const path = pathArg(c, pointer);
  return typeof path === "number" ? path : guarded(() => { body(path); return 0; }) as number;
}

for (const area of [DESCRIPTOR_CALLS, PROCESS_CALLS, THREAD_CALLS, SIGNAL_CALLS, POLL_CALLS, FILE_IO_CALLS, TIME_CALLS, LIMIT_CALLS, MEMORY_CALLS, SOCKET_CALLS, SOCKET_IO_CALLS, SOCKET_OPTION_CALLS]) {
  for (const [n, entry] of area) SYSCALLS.set(n, entry);
}

export function syscallName(number: number): string {
  return SYSCALLS.get(number)?.[0] ?? `syscall ${number}`;
}

/** Runs system call `number` with arguments a0..a5 (as unsigned 32-bit values). */
export function runSyscall(c: SyscallContext, number: number, args: number[]): SyscallOutcome | undefined {
  const entry = SYSCALLS.get(number);
  if (!entry) return undefined;
  const r = runSyscallEntry(c, entry, args[0], args[1], args[2], args[3], args[4], args[5]);
  return typeof r === "number" ? ret(r) : r;
}

/** The name and handler of system call `number` (undefined: ENOSYS). The kernel looks it up once a call. */
export function syscallEntry(number: number): [string, Handler] | undefined {
  return SYSCALLS.get(number);
}

/**
 * Runs the system call `entry` (see syscallEntry) with arguments a0..a5 (no array: the kernel makes none a call): its
 * result as a number when it returns one (-errno or a value; no outcome object per call), else its outcome.
 */
export function runSyscallEntry(
  c: SyscallContext, entry: [string, Handler], a0: number, a1: number, a2: number, a3: number, a4: number, a5: number,
): SyscallOutcome | number {
  let r: number | SyscallOutcome;
  try {
    r = entry[1](c, a0, a1, a2, a3, a4, a5);
  } catch (error) {
    // The kernel needed a frame for the process's memory and RAM is full.
    if (error instanceof OutOfMemory) return fail(Errno.ENOMEM);
    throw error;
  }
  return r;
}
