// A process's files: a sandboxed root directory, its working directory, and its
// descriptor table, whose entries point at open file descriptions (open-files.ts)
// that are plain data (path, flags, mode, position, kind), so they travel with
// the guest when it migrates. Host file descriptors are only a cache behind them.
//
// Paths (resolve.ts): the sandbox root is the guest's "/", as after chroot.
// Absolute guest paths start at it, ".." never climbs above it, and symlinks
// are followed by hand inside it: a link to "/x" (or to "../x" at the top)
// means the sandbox's /x. Nothing under the root can name a host file outside.
// Open files, the working directory and directory fds keep resolved paths
// (no links in them), and every use walks them again.

import * as fs from "node:fs";
import * as path from "node:path";
import { Errno } from "./errno.js";
import { deviceEntries, devDirectoryStat, deviceStat } from "./devices.js";
import { openedInside, resolveInRoot, SandboxError, type LastLink, type Resolved } from "./resolve.js";
import { baseLayer, type BaseEntry } from "./base-layer.js";
import { procStat, type ProcMount } from "./procfs.js";
import type { OpenFiles } from "./open-files.js";

export { SandboxError } from "./resolve.js";

export type FileKind = "file" | "directory" | "terminal" | "pipe" | "device" | "forwarded" | "socket" | "proc";

/** An open file description (what open(2) made), shared by the descriptors that refer to it. */
export interface OpenFile {
  id: number; // stable within the guest: descriptor tables name it by this in a snapshot
  path: string; // guest path, normalised, e.g. "/data/log.txt"; for terminals "<stdin>" etc.
  /** The host that serves this file, when the guest moved away from it (a residual dependency); absent = here. */
  home?: string;
  /** With `home`: the capability that host issued for this open file; presented with the guest's id on each request. */
  cap?: string;
  /**
   * With `home`: how many writes its home has answered (absent: none). The next write's request id (`op`): guest
   * state, so a replicated guest's backup sends a write its dead primary sent again with the same id, and the
   * home answers it from its last answers instead of writing twice (src/cluster/home-files.ts).
   */
  writes?: number;
  flags: number; // open flags (O_*)
  mode: number;
  position: number; // byte offset; for directories, the index of the next entry
  kind: FileKind;
  terminal?: 0 | 1 | 2; // which standard stream
  pipe?: number; // kind "pipe": the pipe's id (pipes.ts); flags say which end
  socket?: number; // kind "socket": the socket's id (sockets/table.ts)
  device?: string; // kind "device": "null", "zero", "urandom", "tty"
  // kind "proc": a file or directory of the virtual /proc (procfs.ts), named by `path` ("/proc/42/status")
  /** kind "forwarded": a pipe or terminal of a process that moved alone, read and written at `home` (lone-process.ts). */
  homeGuest?: string;
  homeFile?: number; // its description's id there
}

/** A descriptor table: descriptor -> open file description id, and its FD_CLOEXEC flag. */
export interface FileTableState {
  schemaVersion: 3;
  cwd: string;
  umask: number;
  fds: Array<[number, number, boolean]>; // fd, description id, close-on-exec
}

// open(2) flags (asm-generic, as on riscv32)
export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000;
export const AT_FDCWD = -100;
/** The host's own O_NOFOLLOW: whatever the walk left as the last component is never followed by the host. */
const HOST_O_NOFOLLOW = fs.constants.O_NOFOLLOW;

export const MAX_FILES = 1024; // RLIMIT_NOFILE
export const O_CLOEXEC = 0o2000000, O_NONBLOCK = 0o4000;

/** A file operation is under way on another host: the system call runs again once `until` resolves. */
export class WouldBlock extends Error {
  /** `wakeOnEvent`: a change in the kernel (a pipe, a child) also runs the call again before the answer is here. */
  constructor(readonly until: Promise<void>, readonly wakeOnEvent = false) { super("would block"); }
}

/** What stat-like calls need of a file (fs.Stats has it all; a remote file's stat is rebuilt from data). */
export interface StatLike {
  dev: number | bigint; ino: number | bigint; mode: number; nlink: number | bigint; size: number; blocks?: number;
  rdev?: number | bigint; // a device's (major << 8) | minor
  atimeMs: number; mtimeMs: number; ctimeMs: number; birthtimeMs: number;
  isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isFIFO(): boolean;
}

/**
 * Files whose home is another host. Each call returns the answer if it has
 * arrived, or throws WouldBlock (the request is on its way) or SandboxError.
 */
export interface RemoteFiles {
  call(home: string, request: Record<string, unknown>): Record<string, unknown>;
  /** The guest closed the file or ended: its home drops the capability (nobody waits for the answer). */
  release(home: string, guest: string, cap: string): void;
  /** A request nobody waits for (sent after every earlier request to that home, on the same link). */
  tell(home: string, request: Record<string, unknown>): void;
}

/** A home host's side: capabilities for files a guest keeps open after leaving (src/cluster/home-files.ts). */
export interface FileCapabilities {
  /** The capability of guest `guest`'s open file `fd`: the same one each time it is asked for the same open file. */
  issue(guest: string, fd: number, file: OpenFile): string;
  release(guest: string, cap: string): void;
}

export function statFromData(d: Record<string, unknown>): StatLike {
  const mode = Number(d.mode);
  const type = mode & 0o170000;
  return {
    dev: Number(d.dev ?? 0), ino: Number(d.ino ?? 0), mode, nlink: Number(d.nlink ?? 1), size: Number(d.size ?? 0), blocks: Number(d.blocks ?? 0),
    atimeMs: Number(d.atimeMs ?? 0), mtimeMs: Number(d.mtimeMs ?? 0), ctimeMs: Number(d.ctimeMs ?? 0), birthtimeMs: Number(d.birthtimeMs ?? 0),
    isDirectory: () => type === 0o040000, isFile: () => type === 0o100000, isSymbolicLink: () => type === 0o120000,
    isCharacterDevice: () => type === 0o020000, isFIFO: () => type === 0o010000,
  };
}

export function statToData(st: fs.Stats): Record<string, unknown> {
  const type = st.isDirectory() ? 0o040000 : st.isFile() ? 0o100000 : st.isSymbolicLink() ? 0o120000 : st.isCharacterDevice() ? 0o020000 : st.isFIFO() ? 0o010000 : 0;
  return {
    dev: Number(st.dev), ino: Number(st.ino), mode: type | (st.mode & 0o7777), nlink: Number(st.nlink), size: st.size, blocks: st.blocks,
    atimeMs: st.atimeMs, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, birthtimeMs: st.birthtimeMs,
  };
}

// A sandbox root is resolved once per process: a table is made for every guest
// that starts or arrives, and the lstat calls of realpath are a fifth of what
// rebuilding a migrated guest costs inside its downtime.
const realRoots = new Map<string, string>();
function realRoot(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) realRoots.set(root, (real = fs.realpathSync(root)));
  return real;
}

/**
 * The host directory mounted at /tmp (resolve.ts), made when a guest first reaches it: `roam run`'s private /tmp for
 * a root without one is a mkdtemp, a chmod and at the end an rmdir, a few ms on a busy disk, and most guests never
 * look in /tmp. Every table of a guest's processes shares one.
 */
export class TmpMount {
  private real: string | undefined;

  /** `make` gives the host directory (making it if it must), on first use. */
  constructor(private readonly make: () => string) {}

  /** Whether it has been made: nothing can be open inside one that has not. */
  get made(): boolean { return this.real !== undefined; }

  /** Its real host path (no links), the directory made first if it was not. */
  realPath(): string {
    if (this.real === undefined) this.real = realRoot(this.make());
    return this.real;
  }
}

/**
 * The base layer's entry (base-layer.ts) behind an open description, or null when it is the root's: known from its
 * open, or from its path walked again the first time a description restored from a snapshot is asked about.
 */
const baseEntries = new WeakMap<OpenFile, BaseEntry | null>();

export class FileTable {
  cwd = "/";
  umask = 0o022;
  /** New descriptors are below this: RLIMIT_NOFILE's soft limit, which its process sets (calls/limits.ts). */
  fdLimit = MAX_FILES;
  /** fd -> the open file description it refers to */
  readonly files = new Map<number, OpenFile>();
  private readonly closeOnExec = new Set<number>();
  private readonly rootReal: string;
  /** `tmp`: the host directory mounted at /tmp, if any (resolve.ts): `roam run` gives one to a root without its own tmp. */
  constructor(readonly root: string, readonly shared: OpenFiles, readonly tmp?: TmpMount) {
    this.rootReal = realRoot(root);
  }

  /** The first process's table: 0, 1 and 2 are the console. */
  static withConsole(root: string, shared: OpenFiles, tmp?: TmpMount): FileTable {
    const table = new FileTable(root, shared, tmp);
    table.install(0, shared.create({ path: "<stdin>", flags: O_RDONLY, mode: 0, position: 0, kind: "terminal", terminal: 0 }));
    table.install(1, shared.create({ path: "<stdout>", flags: O_WRONLY, mode: 0, position: 0, kind: "terminal", terminal: 1 }));
    table.install(2, shared.create({ path: "<stderr>", flags: O_WRONLY, mode: 0, position: 0, kind: "terminal", terminal: 2 }));
    return table;
  }

  get(fd: number): OpenFile | undefined {
    return this.files.get(fd);
  }

  /** Makes `fd` refer to `file` (closing what it referred to). */
  install(fd: number, file: OpenFile, cloexec = false): number {
    this.shared.retain(file);
    if (this.files.has(fd)) this.close(fd);
    this.files.set(fd, file);
    if (cloexec) this.closeOnExec.add(fd); else this.closeOnExec.delete(fd);
    return fd;
  }

  /** A new descriptor for `file`: the lowest free one at or above `from`. */
  add(file: OpenFile, cloexec = false, from = 0): number {
    return this.install(this.lowestFreeFd(from), file, cloexec);
  }

  isCloseOnExec(fd: number): boolean {
    return this.closeOnExec.has(fd);
  }

  setCloseOnExec(fd: number, on: boolean): void {
    if (on) this.closeOnExec.add(fd); else this.closeOnExec.delete(fd);
  }

  /** fork: the child's table refers to the same descriptions. */
  fork(): FileTable {
    const child = new FileTable(this.root, this.shared, this.tmp);
    child.cwd = this.cwd;
    child.umask = this.umask;
    child.fdLimit = this.fdLimit;
    for (const [fd, file] of this.files) child.install(fd, file, this.closeOnExec.has(fd));
    return child;
  }

  /** execve: "By default, file descriptors remain open across an execve()"; those marked FD_CLOEXEC close. */
  execed(): void {
    for (const fd of [...this.closeOnExec]) this.close(fd);
  }

  /** Normalises `p` lexically into a guest path (for paths that are already resolved, such as an open file's). */
  guestPath(dirfd: number, p: string): string {
    if (p.length === 0) throw new SandboxError(Errno.ENOENT);
    if (p.length > 4095) throw new SandboxError(Errno.ENAMETOOLONG);
    // path.posix.normalize of an absolute path never climbs above "/".
    return path.posix.normalize(path.posix.join(p.startsWith("/") ? "/" : this.baseOf(dirfd), p));
  }

  /** The host path of a guest path, every link on the way followed inside the root. */
  hostPath(guest: string): string {
    return resolveInRoot(this.rootReal, "/", guest, "follow", this.mounts()).host;
  }

  /** Resolves `p` (relative to the directory of `dirfd`) inside the sandbox; throws SandboxError. */
  resolve(dirfd: number, p: string, lastLink: LastLink = "follow"): Resolved {
    return resolveInRoot(this.rootReal, p.startsWith("/") ? "/" : this.baseOf(dirfd), p, lastLink, this.mounts());
  }

  /** The guest directory a relative path of `dirfd` starts from. */
  private baseOf(dirfd: number): string {
    if (dirfd === AT_FDCWD) return this.cwd;
    const dir = this.files.get(dirfd);
    if (!dir) throw new SandboxError(Errno.EBADF);
    if (dir.kind !== "directory" && !(dir.kind === "proc" && this.procNodeOf(dir)?.kind === "directory")) throw new SandboxError(Errno.ENOTDIR);
    return dir.path;
  }

  /** What is mounted in the root besides its files: /tmp (if given), the base layer, /proc (the kernel's). */
  private mounts(): { tmp?: TmpMount; base: ReturnType<typeof baseLayer>; proc?: ProcMount } {
    return { tmp: this.tmp, base: baseLayer(), proc: this.shared.proc };
  }

  /** The /proc node an open description of kind "proc" names, if it is still there (a process's files go with it). */
  private procNodeOf(file: OpenFile) {
    return this.shared.proc?.node(file.path.split("/").slice(2));
  }

  /** Opens a file; returns the new fd. */
  open(dirfd: number, p: string, flags: number, mode: number): number {
    // Linux follows a last link, but not for O_NOFOLLOW, and O_CREAT|O_EXCL makes the link itself "exist".
    const exclusive = (flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0;
    let target = this.resolve(dirfd, p, (flags & O_NOFOLLOW) !== 0 || exclusive ? "nofollow" : "follow");
    if (target.device !== undefined || target.stdio !== undefined) return this.openVirtual(target, flags, mode);
    if (target.proc !== undefined) return this.openProc(target, flags, mode);
    if (target.stat === null && (flags & O_CREAT) && target.trailingSlash) throw new SandboxError(Errno.EISDIR);
    if (target.layer === "base") {
      // A file made, written or truncated there is the root's own (copied up first); anything else is read in the layer.
      const writes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
      const changes = target.stat === null ? (flags & O_CREAT) !== 0 : target.stat.isFile() && writes && !exclusive;
      if (!changes) return this.openInBase(target, flags, mode);
      target = this.ownCopy(target);
    }
    if (target.stat?.isSymbolicLink()) throw new SandboxError(exclusive ? Errno.EEXIST : Errno.ELOOP);
    const fd = this.lowestFreeFd(); // before the host opens anything: EMFILE leaves no host fd behind
    const hostFlags = (flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND)) | HOST_O_NOFOLLOW;
    // The process's umask applies, and no set-ID bits on the host (see chmodAt).
    const hostFd = this.checked(fs.openSync(target.host, hostFlags, mode & ~this.umask & 0o777));
    const stat = fs.fstatSync(hostFd);
    // A file it made gets exactly mode & ~umask: the host process's own umask must not take more away.
    const permissions = mode & ~this.umask & 0o777;
    if (target.stat === null && (flags & O_CREAT) && (stat.mode & 0o777) !== permissions) fs.fchmodSync(hostFd, permissions);
    if ((flags & O_DIRECTORY) && !stat.isDirectory()) { fs.closeSync(hostFd); throw new SandboxError(Errno.ENOTDIR); }
    if (stat.isDirectory() && (flags & O_ACCMODE) !== O_RDONLY) { fs.closeSync(hostFd); throw new SandboxError(Errno.EISDIR); }
    const file = this.shared.create({ path: target.guest, flags: flags & ~O_CLOEXEC, mode, position: 0, kind: stat.isDirectory() ? "directory" : "file" });
    this.shared.cacheHostFd(file, hostFd);
    baseEntries.set(file, null); // the root's
    return this.install(fd, file, (flags & O_CLOEXEC) !== 0);
  }

  /** /dev, a device in it, or /dev/stdin|stdout|stderr (devices.ts): no host file is opened. */
  private openVirtual(target: Resolved, flags: number, mode: number): number {
    const cloexec = (flags & O_CLOEXEC) !== 0;
    if (target.stdio !== undefined) {
      // Linux opens what /proc/self/fd/N leads to: a file anew (its own offset), a pipe or terminal as it is.
      const file = this.files.get(target.stdio);
      if (!file) throw new SandboxError(Errno.ENOENT); // a dangling link
      if ((file.kind === "file" || file.kind === "directory") && !file.home) return this.open(AT_FDCWD, file.path, flags, mode);
      return this.add(file, cloexec);
    }
    const fd = this.lowestFreeFd();
    if (target.device === "") {
      if ((flags & O_ACCMODE) !== O_RDONLY) throw new SandboxError(Errno.EISDIR);
      return this.install(fd, this.shared.create({ path: "/dev", flags: flags & ~O_CLOEXEC, mode, position: 0, kind: "directory" }), cloexec);
    }
    if (flags & O_DIRECTORY) throw new SandboxError(Errno.ENOTDIR);
    const file = this.shared.create({ path: target.guest, flags: flags & ~O_CLOEXEC, mode, position: 0, kind: "device", device: target.device });
    return this.install(fd, file, cloexec);
  }

  /**
   * A name of the base layer (base-layer.ts) opened to read (opened to change, a file was copied up first: `open`): a
   * directory there is a description with no host descriptor, as /dev is; a file is the layer's host file, read-only.
   */
  private openInBase(target: Resolved, flags: number, mode: number): number {
    const exclusive = (flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0;
    if (target.stat === null) throw new SandboxError(Errno.ENOENT);
    if (exclusive) throw new SandboxError(Errno.EEXIST);
    const isDirectory = target.stat.isDirectory();
    if (!isDirectory && (flags & O_DIRECTORY)) throw new SandboxError(Errno.ENOTDIR);
    if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_CREAT)) throw new SandboxError(Errno.EISDIR); // (a file opened so was copied up)
    const fd = this.lowestFreeFd();
    const file = this.shared.create({ path: target.guest, flags: flags & ~O_CLOEXEC, mode, position: 0, kind: isDirectory ? "directory" : "file" });
    baseEntries.set(file, baseLayer().lookup(target.guest) ?? null);
    if (!isDirectory) this.shared.cacheHostFd(file, this.checked(fs.openSync(target.host, fs.constants.O_RDONLY | HOST_O_NOFOLLOW)));
    return this.install(fd, file, (flags & O_CLOEXEC) !== 0);
  }

  /**
   * The root's own entry for `r`, when it is a path of the base layer: copied up first (BaseLayer.copyUp), then walked
   * again, now the root's. Any other `r` is returned as it is.
   */
  ownCopy(r: Resolved, lastLink: LastLink = "follow"): Resolved {
    if (r.layer !== "base") return r;
    baseLayer().copyUp(this.rootReal, r.guest);
    const again = resolveInRoot(this.rootReal, "/", r.guest, lastLink, this.mounts());
    if (again.layer === "base") throw new SandboxError(Errno.EIO); // the host changed the root meanwhile
    return { ...again, trailingSlash: r.trailingSlash };
  }

  /** The base layer's entry behind an open file or directory of this table's root, if it is one. */
  baseEntryOf(file: OpenFile): BaseEntry | undefined {
    if (file.home || (file.kind !== "file" && file.kind !== "directory")) return undefined;
    let entry = baseEntries.get(file);
    if (entry === undefined) {
      let r: Resolved | undefined;
      try { r = this.resolve(AT_FDCWD, file.path); } catch { r = undefined; }
      entry = r?.layer === "base" ? baseLayer().lookup(r.guest) ?? null : null;
      baseEntries.set(file, entry);
    }
    return entry ?? undefined;
  }

  /** A file or directory of /proc (procfs.ts): read-only, "Permission denied" to write, as its modes say. */
  private openProc(target: Resolved, flags: number, mode: number): number {
    const node = target.proc!;
    if ((flags & O_CREAT) && (flags & O_EXCL)) throw new SandboxError(Errno.EEXIST);
    if (node.kind === "link") throw new SandboxError(Errno.ELOOP); // O_NOFOLLOW
    if (node.kind !== "directory" && (flags & O_DIRECTORY)) throw new SandboxError(Errno.ENOTDIR);
    if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC)) throw new SandboxError(node.kind === "directory" ? Errno.EISDIR : Errno.EACCES);
    const fd = this.lowestFreeFd();
    return this.install(fd, this.shared.create({ path: target.guest, flags: flags & ~O_CLOEXEC, mode, position: 0, kind: "proc" }), (flags & O_CLOEXEC) !== 0);
  }

  /** Reads a /proc file's text, made now, at `position` into `views`; the bytes read. */
  private procRead(file: OpenFile, position: number, views: Uint8Array[]): number {
    const node = this.procNodeOf(file);
    if (node?.kind === "directory") throw new SandboxError(Errno.EISDIR);
    const text = Buffer.from(node ? this.shared.proc!.text(file.path.split("/").slice(2)) : "", "latin1");
    let n = 0;
    for (const view of views) {
      const part = text.subarray(position + n, position + n + view.length);
      view.set(part);
      n += part.length;
      if (part.length < view.length) break;
    }
    return n;
  }

  /** `hostFd`, if it is inside the root (see openedInside) or one of the base layer's files; else it is closed and EACCES thrown. */
  private checked(hostFd: number): number {
    if (openedInside(this.rootReal, hostFd) || (this.tmp?.made === true && openedInside(this.tmp.realPath(), hostFd))) return hostFd;
    if (baseLayer().holdsHostFile(hostRealPath(hostFd))) return hostFd;
    fs.closeSync(hostFd);
    throw new SandboxError(Errno.EACCES);
  }

  lowestFreeFd(from = 0): number {
    for (let fd = from; fd < this.fdLimit; fd++) if (!this.files.has(fd)) return fd;
    throw new SandboxError(Errno.EMFILE);
  }

  close(fd: number): void {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    this.files.delete(fd);
    this.closeOnExec.delete(fd);
    this.shared.release(file);
  }

  /** The host fd behind a file (reopened by path after a migration). */
  hostFd(fd: number): number {
    const file = this.files.get(fd);
    if (!file || (file.kind !== "file" && file.kind !== "directory")) throw new SandboxError(Errno.EBADF);
    const cached = this.shared.cachedHostFd(file);
    if (cached !== undefined) return cached;
    if (this.baseEntryOf(file)?.kind === "directory") throw new SandboxError(Errno.EROFS); // nothing on the host behind it
    const hostFd = this.checked(fs.openSync(this.hostPath(file.path), (file.flags & (O_ACCMODE | O_APPEND)) | HOST_O_NOFOLLOW));
    this.shared.cacheHostFd(file, hostFd);
    return hostFd;
  }

  /** Reads at `position` without moving the file's own position (mmap of a file; a file at another host). */
  pread(fd: number, position: number, length: number): Uint8Array {
    const file = this.files.get(fd);
    if (!file || (file.kind !== "file" && file.kind !== "directory")) throw new SandboxError(Errno.EBADF);
    if (file.home) return this.remoteCall(file, { t: "file-read", path: file.path, position, length }).data as Uint8Array;
    const buffer = Buffer.alloc(length);
    const n = fs.readSync(this.hostFd(fd), buffer, 0, length, position);
    return buffer.subarray(0, n);
  }

  /**
   * Reads at the file's position into `views` in turn, as far as the file goes, and moves the position; returns the
   * bytes read (see preadInto).
   */
  readInto(fd: number, views: Uint8Array[]): number {
    const file = this.regular(fd);
    if ((file.flags & O_ACCMODE) === O_WRONLY) throw new SandboxError(Errno.EBADF);
    const n = file.kind === "proc" ? this.procRead(file, file.position, views) : file.kind === "file" && !file.home
      ? this.shared.readAhead.read(this, fd, file, file.position, views, this.hostFd(fd), readViews)
      : this.preadInto(fd, file.position, views);
    file.position += n;
    return n;
  }

  /**
   * Reads at `position` into `views` in turn, as far as the file goes, without moving the file's position: one
   * readv(2) on the host (the guest's buffer, a view per run of adjacent frames: AddressSpace.fillInPlace); for a file at another host,
   * through a buffer. Returns the bytes read.
   */
  preadInto(fd: number, position: number, views: Uint8Array[]): number {
    const file = this.files.get(fd);
    if (file?.kind === "proc") return this.procRead(file, position, views);
    if (!file || (file.kind !== "file" && file.kind !== "directory")) throw new SandboxError(Errno.EBADF);
    if (file.home) {
      const bytes = this.pread(fd, position, views.reduce((sum, v) => sum + v.length, 0));
      let n = 0;
      for (const view of views) {
        if (n === bytes.length) break;
        const part = bytes.subarray(n, n + view.length);
        view.set(part);
        n += part.length;
      }
      return n;
    }
    return readViews(this.hostFd(fd), views, position);
  }

  /** Writes `views` in turn at the file's position (its end with O_APPEND) and moves it; returns the bytes written. */
  write(fd: number, views: Uint8Array[]): number {
    const file = this.regular(fd);
    if ((file.flags & O_ACCMODE) === O_RDONLY) throw new SandboxError(Errno.EBADF);
    if (file.home) {
      const r = this.remoteWrite(file, file.position, Buffer.concat(views));
      file.position = Number(r.position);
      return Number(r.written);
    }
    const hostFd = this.hostFd(fd);
    if (file.flags & O_APPEND) file.position = fs.fstatSync(hostFd).size;
    const n = writeViews(hostFd, views, file.position);
    file.position += n;
    return n;
  }

  /** pwrite(2): writes at `position` without moving the file's own position ("the file offset is not changed"). */
  pwrite(fd: number, position: number, views: Uint8Array[]): number {
    const file = this.regular(fd);
    if ((file.flags & O_ACCMODE) === O_RDONLY) throw new SandboxError(Errno.EBADF);
    if (file.kind !== "file") throw new SandboxError(Errno.ESPIPE);
    if (file.home) return Number(this.remoteWrite(file, position, Buffer.concat(views)).written);
    // "if a file is opened with O_APPEND, pwrite() appends data to the end of the file, regardless of the value of offset" (Linux's bug, kept)
    const hostFd = this.hostFd(fd);
    const at = file.flags & O_APPEND ? fs.fstatSync(hostFd).size : position;
    return writeViews(hostFd, views, at);
  }

  /** stat of an open file (null for a terminal, a pipe or a device: the caller describes those). */
  stat(fd: number): StatLike | null {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    // A pipe: "S_IFIFO", as fstat on Linux says of either end.
    if (file.kind === "pipe") return statFromData({ mode: 0o010600, ino: file.pipe, nlink: 1, dev: 12 });
    // A socket: "S_IFSOCK", mode 0777 as Linux's sockfs shows it.
    if (file.kind === "socket") return statFromData({ mode: 0o140777, ino: file.socket, nlink: 1, dev: 8 });
    if (file.kind === "device") return deviceStat(file.device!);
    if (file.kind === "proc") return procStat(this.procNodeOf(file) ?? { kind: "file", ino: 0 });
    if (file.kind === "directory" && file.path === "/dev") return devDirectoryStat();
    if (file.kind !== "file" && file.kind !== "directory") return null;
    if (file.home) return statFromData(this.remoteCall(file, { t: "file-stat", path: file.path }).stat as Record<string, unknown>);
    const inBase = this.baseEntryOf(file);
    if (inBase) return inBase.stat;
    return fs.fstatSync(this.hostFd(fd));
  }

  /** A write at the file's home, numbered by the description's count of answered writes (`op`): done there once. */
  private remoteWrite(file: OpenFile, position: number, bytes: Uint8Array): Record<string, unknown> {
    const op = file.writes ?? 0;
    const r = this.remoteCall(file, { t: "file-write", path: file.path, position, data: bytes, append: (file.flags & O_APPEND) !== 0, op });
    file.writes = op + 1;
    return r;
  }

  private remoteCall(file: OpenFile, request: Record<string, unknown>): Record<string, unknown> {
    const remote = this.shared.remote;
    if (!remote) throw new SandboxError(Errno.EIO); // moved with no way to reach its home
    return remote.call(file.home!, { ...request, guest: this.shared.owner, cap: file.cap });
  }

  seek(fd: number, offset: number, whence: number): number {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    if (file.kind === "terminal" || file.kind === "pipe" || file.kind === "socket") throw new SandboxError(Errno.ESPIPE);
    if (file.kind === "device") return (file.position = 0);
    const base = whence === 0 ? 0 : whence === 1 ? file.position : whence === 2 ? this.stat(fd)!.size : NaN;
    if (Number.isNaN(base)) throw new SandboxError(Errno.EINVAL);
    const position = base + offset;
    if (position < 0) throw new SandboxError(Errno.EINVAL);
    file.position = position;
    return position;
  }

  /** The next directory entries of a directory fd, advancing its cursor. */
  listing(fd: number): Array<{ name: string; type: number; ino: number }> {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    if (file.kind === "proc" && this.procNodeOf(file)?.kind === "directory") return this.shared.proc!.list(file.path.split("/").slice(2));
    if (file.kind !== "directory") throw new SandboxError(Errno.ENOTDIR);
    if (file.home) return this.remoteCall(file, { t: "file-list", path: file.path }).entries as Array<{ name: string; type: number; ino: number }>;
    if (file.path === "/dev") return [{ name: ".", type: 4, ino: 99 }, { name: "..", type: 4, ino: 2 }, ...deviceEntries()];
    const inBase = this.baseEntryOf(file);
    const entries = inBase ? [{ name: ".", type: 4, ino: Number(inBase.stat.ino) }, { name: "..", type: 4, ino: 0 }] : listDirectory(this.hostPath(file.path));
    // What the base layer has there and the root does not (base-layer.ts).
    const names = new Set(entries.map((e) => e.name));
    for (const e of baseLayer().list(file.path)) if (!names.has(e.name)) entries.push(e);
    // The virtual /dev is in the root whether or not the host directory has a dev/.
    if (file.path === "/" && !entries.some((e) => e.name === "dev")) entries.push({ name: "dev", type: 4, ino: 99 });
    if (file.path === "/" && this.shared.proc && !entries.some((e) => e.name === "proc")) entries.push({ name: "proc", type: 4, ino: 1 });
    // So is a mounted /tmp, whose mount point the root's host directory does not have.
    if (file.path === "/" && this.tmp !== undefined && !entries.some((e) => e.name === "tmp")) {
      entries.push({ name: "tmp", type: 4, ino: Number(fs.statSync(this.tmp.realPath()).ino) });
    }
    return entries;
  }

  private regular(fd: number): OpenFile {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    if (file.kind === "directory") throw new SandboxError(Errno.EISDIR);
    return file;
  }

  /** The process ended: every descriptor closes. */
  closeAll(): void {
    for (const fd of [...this.files.keys()]) this.close(fd);
  }

  state(): FileTableState {
    return {
      schemaVersion: 3, cwd: this.cwd, umask: this.umask,
      fds: [...this.files.entries()].map(([fd, f]) => [fd, f.id, this.closeOnExec.has(fd)]),
    };
  }

  /** A table from a snapshot; `byId` holds the descriptions the kernel restored. */
  static restore(root: string, shared: OpenFiles, s: FileTableState, byId: Map<number, OpenFile>): FileTable {
    if (s.schemaVersion !== 3) throw new Error(`file table: unknown schema version ${s.schemaVersion}`);
    const table = new FileTable(root, shared);
    table.cwd = s.cwd;
    table.umask = s.umask;
    for (const [fd, id, cloexec] of s.fds) {
      const file = byId.get(id);
      if (!file) throw new Error(`file table: fd ${fd} refers to open file ${id}, which the snapshot does not have`);
      table.install(fd, file, cloexec);
    }
    return table;
  }
}

/** Whether guest path `guest` (normalised, no links) in sandbox `root` is the base layer's (base-layer.ts), not the root's. */
export function inBaseLayer(root: string, guest: string): boolean {
  const slash = guest.indexOf("/", 1);
  if (baseLayer().lookup(slash < 0 ? guest : guest.slice(0, slash)) === undefined) return false; // not beneath its /bin, /etc, /usr
  try {
    return resolveInRoot(realRoot(root), "/", guest, "follow", { base: baseLayer() }).layer === "base";
  } catch {
    return false;
  }
}

/** What Linux says an open host descriptor is (/proc/self/fd), or "" where there is no /proc to ask. */
function hostRealPath(hostFd: number): string {
  try { return fs.readlinkSync(`/proc/self/fd/${hostFd}`); } catch { return ""; }
}

/** The entries of a host directory with ".", "..", sorted, as getdents64 reports them. */
export function listDirectory(host: string): Array<{ name: string; type: number; ino: number }> {
  const entries = fs.readdirSync(host, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const typeOf = (e: fs.Dirent) => (e.isDirectory() ? 4 : e.isFile() ? 8 : e.isSymbolicLink() ? 10 : 0);
  const inoOf = (name: string) => { try { return Number(fs.lstatSync(path.join(host, name)).ino); } catch { return 0; } };
  return [
    { name: ".", type: 4, ino: inoOf(".") },
    { name: "..", type: 4, ino: inoOf("..") },
    ...entries.map((e) => ({ name: e.name, type: typeOf(e), ino: inoOf(e.name) })),
  ];
}

/** One read(2) or readv(2) into `views` at `position` on host descriptor `hostFd`; the bytes read. */
function readViews(hostFd: number, views: readonly Uint8Array[], position: number): number {
  if (views.length === 0) return 0;
  return views.length === 1 ? fs.readSync(hostFd, views[0], 0, views[0].length, position) : fs.readvSync(hostFd, views, position);
}

/** One write(2) or writev(2) of `views` at `position` on host descriptor `hostFd`; the bytes written. */
function writeViews(hostFd: number, views: Uint8Array[], position: number): number {
  if (views.length === 0) return 0;
  return views.length === 1 ? fs.writeSync(hostFd, views[0], 0, views[0].length, position) : fs.writevSync(hostFd, views, position);
}
