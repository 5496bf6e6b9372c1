// The guest's files: a sandboxed root directory and an open-file table that is
// plain data (path, flags, mode, position, kind), so it can travel with the
// guest when it migrates. Host file descriptors are only a cache behind it.
//
// Paths: absolute guest paths start at the sandbox root; ".." never climbs
// above it (as at the real root); a symlink that leads outside is refused.

import * as fs from "node:fs";
import * as path from "node:path";
import { Errno, errnoOf } from "./errno.js";

export type FileKind = "file" | "directory" | "terminal";

export interface OpenFile {
  path: string; // guest path, normalised, e.g. "/data/log.txt"; for terminals "<stdin>" etc.
  flags: number; // open flags (O_*)
  mode: number;
  position: number; // byte offset; for directories, the index of the next entry
  kind: FileKind;
  terminal?: 0 | 1 | 2; // which standard stream
}

export interface FileTableState {
  schemaVersion: 1;
  cwd: string;
  files: Array<[number, OpenFile]>;
}

// open(2) flags (asm-generic, as on riscv32)
export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000, O_DIRECTORY = 0o200000;
export const AT_FDCWD = -100;

const MAX_FILES = 1024;

export class SandboxError extends Error {
  constructor(readonly errno: number) { super(`errno ${errno}`); }
}

export class FileTable {
  cwd = "/";
  readonly files = new Map<number, OpenFile>();
  private readonly hostFds = new Map<number, number>(); // guest fd -> host fd (cache)
  private readonly rootReal: string;

  constructor(readonly root: string) {
    this.rootReal = fs.realpathSync(root);
    this.files.set(0, { path: "<stdin>", flags: O_RDONLY, mode: 0, position: 0, kind: "terminal", terminal: 0 });
    this.files.set(1, { path: "<stdout>", flags: O_WRONLY, mode: 0, position: 0, kind: "terminal", terminal: 1 });
    this.files.set(2, { path: "<stderr>", flags: O_WRONLY, mode: 0, position: 0, kind: "terminal", terminal: 2 });
  }

  get(fd: number): OpenFile | undefined {
    return this.files.get(fd);
  }

  /** Normalises `p` against the directory of `dirfd` into a guest path; throws SandboxError. */
  guestPath(dirfd: number, p: string): string {
    if (p.length === 0) throw new SandboxError(Errno.ENOENT);
    if (p.length > 4095) throw new SandboxError(Errno.ENAMETOOLONG);
    let base: string;
    if (p.startsWith("/")) base = "/";
    else if (dirfd === AT_FDCWD) base = this.cwd;
    else {
      const dir = this.files.get(dirfd);
      if (!dir) throw new SandboxError(Errno.EBADF);
      if (dir.kind !== "directory") throw new SandboxError(Errno.ENOTDIR);
      base = dir.path;
    }
    // path.posix.normalize of an absolute path never climbs above "/".
    return path.posix.normalize(path.posix.join(base, p));
  }

  /** The host path of a guest path, refusing symlinks that lead out of the sandbox. */
  hostPath(guest: string): string {
    const host = path.join(this.rootReal, guest);
    let probe = host;
    // The deepest existing ancestor (or the path itself) must resolve inside the root.
    for (;;) {
      try {
        const real = fs.realpathSync(probe);
        const inside = this.rootReal.endsWith(path.sep) ? this.rootReal : this.rootReal + path.sep;
        if (real !== this.rootReal && !real.startsWith(inside)) throw new SandboxError(Errno.EACCES);
        return host;
      } catch (error) {
        if (error instanceof SandboxError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") throw new SandboxError(errnoOf(error));
        const parent = path.dirname(probe);
        if (parent === probe) return host;
        probe = parent;
      }
    }
  }

  resolve(dirfd: number, p: string): { guest: string; host: string } {
    const guest = this.guestPath(dirfd, p);
    return { guest, host: this.hostPath(guest) };
  }

  /** Opens a file; returns the new fd. */
  open(dirfd: number, p: string, flags: number, mode: number): number {
    const { guest, host } = this.resolve(dirfd, p);
    const hostFd = fs.openSync(host, flags & ~O_DIRECTORY & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND), mode);
    const stat = fs.fstatSync(hostFd);
    if ((flags & O_DIRECTORY) && !stat.isDirectory()) { fs.closeSync(hostFd); throw new SandboxError(Errno.ENOTDIR); }
    if (stat.isDirectory() && (flags & O_ACCMODE) !== O_RDONLY) { fs.closeSync(hostFd); throw new SandboxError(Errno.EISDIR); }
    const fd = this.lowestFreeFd();
    this.files.set(fd, { path: guest, flags, mode, position: 0, kind: stat.isDirectory() ? "directory" : "file" });
    this.hostFds.set(fd, hostFd);
    return fd;
  }

  private lowestFreeFd(): number {
    for (let fd = 0; fd < MAX_FILES; fd++) if (!this.files.has(fd)) return fd;
    throw new SandboxError(Errno.EMFILE);
  }

  close(fd: number): void {
    if (!this.files.delete(fd)) throw new SandboxError(Errno.EBADF);
    const hostFd = this.hostFds.get(fd);
    if (hostFd !== undefined) { this.hostFds.delete(fd); fs.closeSync(hostFd); }
  }

  /** The host fd behind a file (reopened by path after a migration). */
  hostFd(fd: number): number {
    const cached = this.hostFds.get(fd);
    if (cached !== undefined) return cached;
    const file = this.files.get(fd);
    if (!file || file.kind === "terminal") throw new SandboxError(Errno.EBADF);
    const hostFd = fs.openSync(this.hostPath(file.path), file.flags & (O_ACCMODE | O_APPEND));
    this.hostFds.set(fd, hostFd);
    return hostFd;
  }

  read(fd: number, length: number): Uint8Array {
    const file = this.regular(fd);
    if ((file.flags & O_ACCMODE) === O_WRONLY) throw new SandboxError(Errno.EBADF);
    const buffer = Buffer.alloc(length);
    const n = fs.readSync(this.hostFd(fd), buffer, 0, length, file.position);
    file.position += n;
    return buffer.subarray(0, n);
  }

  write(fd: number, bytes: Uint8Array): number {
    const file = this.regular(fd);
    if ((file.flags & O_ACCMODE) === O_RDONLY) throw new SandboxError(Errno.EBADF);
    const hostFd = this.hostFd(fd);
    if (file.flags & O_APPEND) file.position = fs.fstatSync(hostFd).size;
    const n = fs.writeSync(hostFd, bytes, 0, bytes.length, file.position);
    file.position += n;
    return n;
  }

  seek(fd: number, offset: number, whence: number): number {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    if (file.kind === "terminal") throw new SandboxError(Errno.ESPIPE);
    const base = whence === 0 ? 0 : whence === 1 ? file.position : whence === 2 ? fs.fstatSync(this.hostFd(fd)).size : NaN;
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
    if (file.kind !== "directory") throw new SandboxError(Errno.ENOTDIR);
    const host = this.hostPath(file.path);
    const entries = fs.readdirSync(host, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const typeOf = (e: fs.Dirent) => (e.isDirectory() ? 4 : e.isFile() ? 8 : e.isSymbolicLink() ? 10 : 0);
    const inoOf = (name: string) => { try { return Number(fs.lstatSync(path.join(host, name)).ino); } catch { return 0; } };
    return [
      { name: ".", type: 4, ino: inoOf(".") },
      { name: "..", type: 4, ino: inoOf("..") },
      ...entries.map((e) => ({ name: e.name, type: typeOf(e), ino: inoOf(e.name) })),
    ];
  }

  private regular(fd: number): OpenFile {
    const file = this.files.get(fd);
    if (!file) throw new SandboxError(Errno.EBADF);
    if (file.kind === "directory") throw new SandboxError(Errno.EISDIR);
    return file;
  }

  closeAll(): void {
    for (const hostFd of this.hostFds.values()) fs.closeSync(hostFd);
    this.hostFds.clear();
  }

  state(): FileTableState {
    return { schemaVersion: 1, cwd: this.cwd, files: [...this.files.entries()].map(([fd, f]) => [fd, { ...f }]) };
  }

  restore(s: FileTableState): void {
    if (s.schemaVersion !== 1) throw new Error(`file table: unknown schema version ${s.schemaVersion}`);
    this.closeAll();
    this.files.clear();
    this.cwd = s.cwd;
    for (const [fd, f] of s.files) this.files.set(fd, { ...f });
  }
}
