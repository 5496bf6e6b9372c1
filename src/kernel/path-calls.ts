// The system calls that name a file by path, on a FileTable: each resolves
// its path inside the sandbox (resolve.ts) and then acts on the host path that
// came out, whose only possible link is a last component the call does not
// follow. Errors are thrown as SandboxError (the man pages' errno for each);
// syscalls.ts reads the guest's strings and turns throws into -errno.

import * as fs from "node:fs";
import { Errno } from "./errno.js";
import { AT_FDCWD, type FileTable, type StatLike } from "./files.js";
import { SandboxError, type Resolved } from "./resolve.js";

export const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
export const RENAME_NOREPLACE = 1;

const refuse = (errno: number): never => { throw new SandboxError(errno); };

/** stat/lstat by path: the last link is followed unless AT_SYMLINK_NOFOLLOW. */
export function statAt(files: FileTable, dirfd: number, p: string, flags: number): StatLike {
  const r = files.resolve(dirfd, p, flags & AT_SYMLINK_NOFOLLOW ? "nofollow" : "follow");
  return r.stat ?? refuse(Errno.ENOENT); // the walk's lstat of a resolved path is the stat
}

/** mkdirat: "pathname already exists (not necessarily as a directory). This includes the case where pathname is a symbolic link, dangling or not." */
export function mkdirAt(files: FileTable, dirfd: number, p: string, mode: number): void {
  const r = files.ownCopy(existingNot(files.resolve(dirfd, p, "entry")), "entry");
  // "the permissions of the created directory are (mode & ~umask & 0777)": the process's umask, not the host's.
  const permissions = mode & ~files.umask & 0o777;
  fs.mkdirSync(r.host, permissions);
  if ((fs.statSync(r.host).mode & 0o777) !== permissions) fs.chmodSync(r.host, permissions);
}

/**
 * The virtual /dev and its devices (devices.ts) are not the guest's to remove, rename, link or chmod ("Operation not
 * permitted"); nor is anything in /proc (procfs.ts), whose modes give no one write permission ("Permission denied").
 */
function onHost(r: Resolved): Resolved {
  if (r.device !== undefined || r.stdio !== undefined) refuse(Errno.EPERM);
  if (r.proc !== undefined) refuse(Errno.EACCES);
  return r;
}

/**
 * A name the base layer (base-layer.ts) gives cannot be taken away: the root, where the guest's changes go, cannot
 * hide it (overlayfs leaves a "whiteout" there; a plain host directory has none). "pathname refers to a file on a
 * read-only filesystem" (EROFS).
 */
function removable(r: Resolved): Resolved {
  if (r.layer === "base" && r.stat !== null) refuse(Errno.EROFS);
  return r;
}

/** mkdir, symlink: "pathname already exists". */
function existingNot(r: Resolved): Resolved {
  if (r.stat || r.last !== "name") refuse(Errno.EEXIST);
  return r;
}

/** unlinkat: a link itself is removed, never its target. */
export function unlinkAt(files: FileTable, dirfd: number, p: string, flags: number): void {
  if (flags & ~AT_REMOVEDIR) refuse(Errno.EINVAL); // "An invalid flag value was specified in flags."
  const r = removable(onHost(files.resolve(dirfd, p, "entry")));
  if (flags & AT_REMOVEDIR) {
    if (r.last === "dot") refuse(Errno.EINVAL); // "pathname has . as last component"
    if (r.last === "dotdot") refuse(Errno.ENOTEMPTY); // "pathname has .. as its final component"
    if (r.last === "root" || r.tmp === "mount-point") refuse(Errno.EBUSY); // "pathname is currently in use ... (the root, a mount point)"
    const stat = existing(r);
    if (!stat.isDirectory()) refuse(Errno.ENOTDIR);
    fs.rmdirSync(r.host);
  } else {
    if (r.last !== "name") refuse(Errno.EISDIR);
    const stat = existing(r);
    if (stat.isDirectory()) refuse(Errno.EISDIR); // "pathname refers to a directory"
    if (r.trailingSlash) refuse(Errno.ENOTDIR);
    fs.unlinkSync(r.host);
  }
}

/** renameat2 (flags 0 or RENAME_NOREPLACE): both names are entries, links are moved or replaced, not followed. */
export function renameAt(files: FileTable, olddir: number, oldp: string, newdir: number, newp: string, flags: number): void {
  if (flags & ~RENAME_NOREPLACE) refuse(Errno.EINVAL);
  const from = onHost(files.resolve(olddir, oldp, "entry"));
  let to = onHost(files.resolve(newdir, newp, "entry"));
  // "oldpath or newpath is a directory that is in use by ... the system" (the root, ".", "..")
  if (from.last !== "name" || from.tmp === "mount-point") refuse(Errno.EBUSY);
  if (to.last !== "name" || to.tmp === "mount-point") refuse(flags & RENAME_NOREPLACE && to.stat ? Errno.EEXIST : Errno.EBUSY);
  const stat = existing(from);
  removable(from);
  if ((from.trailingSlash || to.trailingSlash) && !stat.isDirectory()) refuse(Errno.ENOTDIR);
  if ((flags & RENAME_NOREPLACE) && to.stat) refuse(Errno.EEXIST);
  to = files.ownCopy(to, "entry"); // what it replaces, the root's own first (a name of the base layer is hidden by it)
  sameMount(from, to);
  fs.renameSync(from.host, to.host);
}

/** chdir: the working directory becomes the resolved path (links replaced by what they lead to, as getcwd shows on Linux). */
export function changeDirectory(files: FileTable, p: string): void {
  const r = files.resolve(AT_FDCWD, p, "follow");
  if (!existing(r).isDirectory()) refuse(Errno.ENOTDIR);
  files.cwd = r.guest;
}

/** faccessat: F_OK (0) or any of R_OK, W_OK, X_OK (4, 2, 1), checked by the host on the resolved path. */
export function accessAt(files: FileTable, dirfd: number, p: string, mode: number): void {
  if (mode & ~7) refuse(Errno.EINVAL);
  const r = files.resolve(dirfd, p, "follow");
  existing(r);
  if (r.device !== undefined || r.stdio !== undefined) return; // /dev: root may read and write every device
  if (r.proc !== undefined) {
    // /proc: r-x directories, r-- files (links are followed to one of those, or to the root's files)
    if ((mode & 2) || ((mode & 1) && r.proc.kind !== "directory")) refuse(Errno.EACCES);
    return;
  }
  if (r.layer === "base") {
    // root may read, search and change the layer's entries (a change goes to its own copy): execute is the file's mode
    if (r.host !== "") fs.accessSync(r.host, mode & 1);
    return;
  }
  fs.accessSync(r.host, mode);
}

/**
 * rename and link stay on one file system: "oldpath and newpath are not on the same mounted filesystem" (a mounted
 * /tmp and the root; a name of the base layer is the root's own copy by now).
 */
function sameMount(from: Resolved, to: Resolved): void {
  if ((from.tmp === undefined) !== (to.tmp === undefined)) refuse(Errno.EXDEV);
}

function existing(r: Resolved): StatLike {
  return r.stat ?? refuse(Errno.ENOENT);
}

/** readlinkat: the link's target as stored (for the guest it is read with the root as "/"). */
export function readLinkAt(files: FileTable, dirfd: number, p: string): Buffer {
  const r = files.resolve(dirfd, p, "nofollow");
  if (r.stdio !== undefined) return Buffer.from(`/proc/self/fd/${r.stdio}`); // as Linux's /dev/stdout links
  if (!existing(r).isSymbolicLink()) refuse(Errno.EINVAL); // "The named file is not a symbolic link."
  if (r.proc?.kind === "link") return Buffer.from(r.proc.target); // /proc's links say what they lead to (procfs.ts)
  return fs.readlinkSync(r.host, { encoding: "buffer" });
}

export const AT_SYMLINK_FOLLOW = 0x400;

/** linkat: a new name for an existing file; a last link in oldpath is linked itself unless AT_SYMLINK_FOLLOW. */
export function linkAt(files: FileTable, olddir: number, oldp: string, newdir: number, newp: string, flags: number): void {
  if (flags & ~AT_SYMLINK_FOLLOW) refuse(Errno.EINVAL);
  let from = onHost(files.resolve(olddir, oldp, flags & AT_SYMLINK_FOLLOW ? "follow" : "entry"));
  let to = onHost(files.resolve(newdir, newp, "entry"));
  if (existing(from).isDirectory()) refuse(Errno.EPERM); // "oldpath is a directory."
  if (from.trailingSlash) refuse(Errno.ENOTDIR); // "name/" of something not a directory
  if (to.stat || to.last !== "name") refuse(Errno.EEXIST);
  if (to.trailingSlash) refuse(Errno.ENOENT); // as Linux: a new name cannot end in "/" here
  from = files.ownCopy(from, "entry"); // a base layer's file: its copy is linked (as overlayfs copies it up)
  to = files.ownCopy(to, "entry");
  sameMount(from, to);
  fs.linkSync(from.host, to.host); // link(2) does not follow a last link in oldpath
}

/**
 * fchmodat: the permission bits of the file a path leads to (a last link is
 * followed). Set-user-ID, set-group-ID and sticky are dropped: the file is on
 * the host, and a guest must not leave a set-user-ID program there.
 */
export function chmodAt(files: FileTable, dirfd: number, p: string, mode: number): void {
  const r = onHost(files.resolve(dirfd, p, "follow"));
  existing(r);
  fs.chmodSync(files.ownCopy(r).host, mode & 0o777);
}

/** A new time for utimensat: seconds (with a fraction), now, or unchanged. */
export type NewTime = number | "now" | "omit";

/** utimensat by path: a last link is followed unless AT_SYMLINK_NOFOLLOW, which sets the link's own times. */
export function setTimesAt(files: FileTable, dirfd: number, p: string, atime: NewTime, mtime: NewTime, flags: number): void {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) refuse(Errno.EINVAL);
  const lastLink = flags & AT_SYMLINK_NOFOLLOW ? "nofollow" : "follow";
  let r = files.resolve(dirfd, p, lastLink);
  const stat = existing(r);
  if (atime === "omit" && mtime === "omit") return;
  if (r.device !== undefined || r.stdio !== undefined) return; // touch /dev/null: nothing on the host to stamp
  r = files.ownCopy(onHost(r), lastLink);
  // the walk's lstat is the stat of what is changed: a followed last link is not in r.host
  if (stat.isSymbolicLink()) fs.lutimesSync(r.host, pick(atime, stat.atimeMs), pick(mtime, stat.mtimeMs));
  else fs.utimesSync(r.host, pick(atime, stat.atimeMs), pick(mtime, stat.mtimeMs));
}

/** utimensat with no path (futimens): the times of an open file. */
export function setTimesOfFd(files: FileTable, fd: number, atime: NewTime, mtime: NewTime): void {
  const file = files.get(fd) ?? refuse(Errno.EBADF);
  if (file.kind === "terminal" || (atime === "omit" && mtime === "omit")) return; // the host's terminal is not the guest's to re-stamp
  if (file.home) refuse(Errno.EROFS); // served by the host it stayed on, which reads and writes it, no more
  if (files.baseEntryOf(file)) refuse(Errno.EROFS); // the base layer's file itself, read-only (by path, its copy is changed)
  const hostFd = files.hostFd(fd);
  const stat = fs.fstatSync(hostFd);
  fs.futimesSync(hostFd, pick(atime, stat.atimeMs), pick(mtime, stat.mtimeMs));
}

/** A NewTime in seconds; an omitted one keeps `oldMs` (to about a microsecond: Node sets times as a double). */
function pick(t: NewTime, oldMs: number): number {
  return t === "now" ? Date.now() / 1000 : t === "omit" ? oldMs / 1000 : t;
}

/** truncate: the file a path leads to becomes `length` bytes long. */
export function truncateAt(files: FileTable, p: string, length: number): void {
  if (length < 0) refuse(Errno.EINVAL); // "The argument length is negative"
  const r = files.resolve(AT_FDCWD, p, "follow");
  const stat = existing(r);
  if (stat.isDirectory()) refuse(Errno.EISDIR);
  if (!stat.isFile()) refuse(Errno.EINVAL);
  fs.truncateSync(files.ownCopy(onHost(r)).host, length);
}

/** symlinkat: a link at `p` holding `target` as given (read later with the sandbox root as "/"). */
export function symlinkAt(files: FileTable, target: string, dirfd: number, p: string): void {
  if (target.length === 0) refuse(Errno.ENOENT); // "target is an empty string"
  const r = existingNot(onHost(files.resolve(dirfd, p, "entry"))); // "newpath already exists"
  if (r.trailingSlash) refuse(Errno.ENOENT);
  fs.symlinkSync(target, files.ownCopy(r, "entry").host);
}

/** fchdir: the working directory becomes the open directory's. */
export function changeDirectoryTo(files: FileTable, fd: number): void {
  const file = files.get(fd) ?? refuse(Errno.EBADF);
  if (file.kind !== "directory") refuse(Errno.ENOTDIR); // "fd does not refer to a directory"
  files.cwd = file.path;
}
