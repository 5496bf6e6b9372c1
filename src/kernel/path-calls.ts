// The system calls that name a file by path, on a FileTable: each resolves
// its path inside the sandbox (resolve.ts) and then acts on the host path that
// came out, whose only possible link is a last component the call does not
// follow. Errors are thrown as SandboxError (the man pages' errno for each);
// syscalls.ts reads the guest's strings and turns throws into -errno.

import * as fs from "node:fs";
import { Errno } from "./errno.js";
import { AT_FDCWD, type FileTable } from "./files.js";
import { SandboxError, type Resolved } from "./resolve.js";

export const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
export const RENAME_NOREPLACE = 1;

const refuse = (errno: number): never => { throw new SandboxError(errno); };

/** stat/lstat by path: the last link is followed unless AT_SYMLINK_NOFOLLOW. */
export function statAt(files: FileTable, dirfd: number, p: string, flags: number): fs.Stats {
  const r = files.resolve(dirfd, p, flags & AT_SYMLINK_NOFOLLOW ? "nofollow" : "follow");
  return r.stat ?? refuse(Errno.ENOENT); // the walk's lstat of a resolved path is the stat
}

/** mkdirat: "pathname already exists (not necessarily as a directory). This includes the case where pathname is a symbolic link, dangling or not." */
export function mkdirAt(files: FileTable, dirfd: number, p: string, mode: number): void {
  const r = files.resolve(dirfd, p, "entry");
  if (r.stat || r.last !== "name") refuse(Errno.EEXIST);
  fs.mkdirSync(r.host, mode & 0o777);
}

/** unlinkat: a link itself is removed, never its target. */
export function unlinkAt(files: FileTable, dirfd: number, p: string, flags: number): void {
  if (flags & ~AT_REMOVEDIR) refuse(Errno.EINVAL); // "An invalid flag value was specified in flags."
  const r = files.resolve(dirfd, p, "entry");
  if (flags & AT_REMOVEDIR) {
    if (r.last === "dot") refuse(Errno.EINVAL); // "pathname has . as last component"
    if (r.last === "dotdot") refuse(Errno.ENOTEMPTY); // "pathname has .. as its final component"
    if (r.last === "root") refuse(Errno.EBUSY); // "pathname is currently in use ... (the root)"
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
  const from = files.resolve(olddir, oldp, "entry"), to = files.resolve(newdir, newp, "entry");
  // "oldpath or newpath is a directory that is in use by ... the system" (the root, ".", "..")
  if (from.last !== "name") refuse(Errno.EBUSY);
  if (to.last !== "name") refuse(flags & RENAME_NOREPLACE ? Errno.EEXIST : Errno.EBUSY);
  const stat = existing(from);
  if ((from.trailingSlash || to.trailingSlash) && !stat.isDirectory()) refuse(Errno.ENOTDIR);
  if ((flags & RENAME_NOREPLACE) && to.stat) refuse(Errno.EEXIST);
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
  fs.accessSync(r.host, mode);
}

function existing(r: Resolved): fs.Stats {
  return r.stat ?? refuse(Errno.ENOENT);
}
