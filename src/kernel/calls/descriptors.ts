// Descriptors and pipes: pipe2, dup, dup3, fcntl64, and reading and writing a
// pipe's ends. The man pages' words for each error.

import { Errno } from "../errno.js";
import { O_ACCMODE, O_APPEND, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY, SandboxError, type OpenFile } from "../files.js";
import { sendToThread } from "../deliver.js";
import type { PipeCopy } from "../pipes.js";
import { SIGPIPE } from "../signals.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import type { Handler } from "./call-args.js";


const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7;
const F_SETOWN = 8, F_GETOWN = 9, F_GETLK64 = 12, F_SETLK64 = 13, F_SETLKW64 = 14, F_DUPFD_CLOEXEC = 1030, F_GETPIPE_SZ = 1032, FD_CLOEXEC = 1;
const O_ASYNC = 0o20000, O_DIRECT = 0o40000, O_NOATIME = 0o1000000;

/** Runs `body`, turning sandbox errors (EBADF, EMFILE ...) into -errno. */
function guarded(body: () => number): number {
  try {
    return body();
  } catch (error) {
    if (error instanceof SandboxError) return -error.errno;
    throw error;
  }
}

/** pipe2: "creates a pipe ... pipefd[0] refers to the read end of the pipe. pipefd[1] refers to the write end." */
function pipe2(c: SyscallContext, fds: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) return -Errno.EINVAL; // "Invalid value in flags"
  if (!c.space.ensure(fds, 8, 2 /* PROT_WRITE */)) return -Errno.EFAULT; // "pipefd is not valid"
  return guarded(() => {
    const k = c.kernel;
    // Both descriptors before anything is made: "Too many file descriptors are in use by the process" leaves no
    // description behind (one made and never installed stayed in the open files, and in every snapshot, for ever).
    const readFd = c.files.lowestFreeFd();
    const writeFd = c.files.lowestFreeFd(readFd + 1);
    const pipe = k.newPipe();
    const end = (access: number): OpenFile =>
      k.openFiles.create({ path: `pipe:[${pipe.id}]`, flags: access | (flags & O_NONBLOCK), mode: 0, position: 0, kind: "pipe", pipe: pipe.id });
    const cloexec = (flags & O_CLOEXEC) !== 0;
    c.files.install(readFd, end(O_RDONLY), cloexec);
    c.files.install(writeFd, end(O_WRONLY), cloexec);
    try {
      c.space.write(fds, new Uint8Array(Uint32Array.of(readFd, writeFd).buffer));
      return 0;
    } catch (error) {
      // A page that has not arrived yet (the call runs again): undo both ends.
      c.files.close(readFd);
      c.files.close(writeFd);
      throw error;
    }
  });
}

function dup3(c: SyscallContext, oldfd: number, newfd: number, flags: number): number {
  if (flags & ~O_CLOEXEC) return -Errno.EINVAL; // "flags contain an invalid value"
  if (oldfd === newfd) return -Errno.EINVAL; // "oldfd was equal to newfd"
  const file = c.files.get(oldfd);
  if (!file) return -Errno.EBADF; // "oldfd isn't an open file descriptor"
  if (newfd < 0 || newfd >= c.files.fdLimit) return -Errno.EBADF; // "newfd is out of the allowed range"
  return c.files.install(newfd, file, (flags & O_CLOEXEC) !== 0);
}

function fcntl(c: SyscallContext, fd: number, cmd: number, arg: number): number {
  const file = c.files.get(fd);
  if (!file) return -Errno.EBADF; // "fd is not an open file descriptor"
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      if (arg < 0 || arg >= c.files.fdLimit) return -Errno.EINVAL; // "arg is negative or is greater than the maximum allowable value"
      return guarded(() => c.files.add(file, cmd === F_DUPFD_CLOEXEC, arg));
    case F_GETFD:
      return c.files.isCloseOnExec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
      c.files.setCloseOnExec(fd, (arg & FD_CLOEXEC) !== 0);
      return 0;
    case F_GETFL:
      return file.flags & ~O_CLOEXEC;
    case F_SETFL: {
      // "On Linux, this command can change only the O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME, and O_NONBLOCK flags."
      const changeable = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;
      file.flags = (file.flags & ~changeable) | (arg & changeable);
      return 0;
    }
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_GETLK64: case F_SETLK64: case F_SETLKW64: // musl riscv32 uses the 64s
      // One guest's processes: record locks between them always succeed (no other holder can conflict across the sandbox).
      return cmd === F_GETLK || cmd === F_GETLK64 ? unlockedLock(c, arg) : 0;
    case F_GETOWN:
      return 0;
    case F_SETOWN:
      return 0;
    case F_GETPIPE_SZ:
      return file.kind === "pipe" ? 65536 : -Errno.EINVAL;
    default:
      return -Errno.EINVAL; // "The value specified in cmd is not recognized by this kernel"
  }
}

/** F_GETLK: "If the lock could be placed, fcntl() ... returns F_UNLCK in the l_type field". */
function unlockedLock(c: SyscallContext, address: number): number {
  const raw = c.space.read(address, 2);
  if (!raw) return -Errno.EFAULT;
  return c.space.write(address, new Uint8Array([2 /* F_UNLCK */, 0])) ? 0 : -Errno.EFAULT;
}

/** read(2) of a pipe's read end: the count `copyOut` took, 0 at EOF once no writer is left, or wait ("EAGAIN" when non-blocking). */
function pipeReadWith(c: SyscallContext, file: OpenFile, count: number, copyOut: PipeCopy): SyscallOutcome | number {
  const pipe = file.pipe === undefined ? undefined : c.kernel.pipes.get(file.pipe);
  if (!pipe || (file.flags & O_ACCMODE) !== O_RDONLY) return -Errno.EBADF; // "fd is not open for reading"
  if (count === 0) return 0;
  if (pipe.size === 0) {
    if (pipe.writers <= 0) return 0;
    return file.flags & O_NONBLOCK ? -Errno.EAGAIN : { kind: "block-event" };
  }
  const n = pipe.readWith(count, copyOut);
  if (n < 0) return -Errno.EFAULT;
  c.kernel.notify(); // a writer may be waiting for room
  return n;
}

/** read(2) of a pipe into the guest's buffer at `buf` (already checked writable): straight from the pipe's ring. */
export function pipeReadTo(c: SyscallContext, file: OpenFile, count: number, buf: number): SyscallOutcome | number {
  return pipeReadWith(c, file, count, (part, from) => c.space.write(buf + from, part));
}

/** read(2) of a pipe as bytes (for a process that moved alone, whose reads are served here). */
export function pipeRead(c: SyscallContext, file: OpenFile, count: number): Uint8Array | SyscallOutcome | number {
  const parts: Uint8Array[] = [];
  const r = pipeReadWith(c, file, count, (part) => (parts.push(part.slice()), true));
  if (typeof r !== "number" || r < 0) return r;
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, r);
}

/** write(2) to a pipe's write end: what fits, EPIPE and SIGPIPE when no reader is left, or wait for room. */
function pipeWriteWith(c: SyscallContext, file: OpenFile, length: number, copyIn: PipeCopy): SyscallOutcome | number {
  const pipe = file.pipe === undefined ? undefined : c.kernel.pipes.get(file.pipe);
  if (!pipe || (file.flags & O_ACCMODE) === O_RDONLY) return -Errno.EBADF; // "fd is not open for writing"
  if (pipe.readers <= 0) {
    // "fd is connected to a pipe or socket whose reading end is closed. When this happens the writing process will also receive a SIGPIPE signal."
    sendToThread(c.kernel, c.kernel.tasks.get(c.pid)!, SIGPIPE, { signo: SIGPIPE, code: 0, pid: c.pid });
    return -Errno.EPIPE;
  }
  if (length === 0) return 0;
  const n = pipe.accepts(length);
  if (n === 0) return file.flags & O_NONBLOCK ? -Errno.EAGAIN : { kind: "block-event" };
  if (!pipe.writeWith(n, copyIn)) return -Errno.EFAULT; // "buf is outside your accessible address space"
  c.kernel.notify(); // a reader may be waiting for data
  return n;
}

/** write(2) of the guest's buffer at `buf` to a pipe: straight into the pipe's ring. */
export function pipeWriteFrom(c: SyscallContext, file: OpenFile, buf: number, count: number): SyscallOutcome | number {
  return pipeWriteWith(c, file, count, (part, from) => c.space.copyOut(buf + from, part));
}

/** write(2) of `bytes` to a pipe (for a process that moved alone, whose writes are served here). */
export function pipeWrite(c: SyscallContext, file: OpenFile, bytes: Uint8Array): SyscallOutcome | number {
  return pipeWriteWith(c, file, bytes.length, (part, from) => (part.set(bytes.subarray(from, from + part.length)), true));
}

export const DESCRIPTOR_CALLS = new Map<number, [string, Handler]>([
  [59, ["pipe2", pipe2]],
  [23, ["dup", (c, fd) => {
    const file = c.files.get(fd);
    if (!file) return -Errno.EBADF; // "oldfd isn't an open file descriptor"
    return guarded(() => c.files.add(file)); // "The new file descriptor number is guaranteed to be the lowest-numbered file descriptor that was unused"
  }]],
  [24, ["dup3", (c, oldfd, newfd, flags) => dup3(c, oldfd | 0, newfd | 0, flags)]],
  [25, ["fcntl64", (c, fd, cmd, arg) => fcntl(c, fd | 0, cmd | 0, arg | 0)]],
]);
