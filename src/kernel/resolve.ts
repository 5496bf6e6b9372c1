// Path resolution beneath a sandbox root, by hand, one component at a time —
// what openat2(RESOLVE_IN_ROOT) does in Linux, which Node cannot call.
//
// The root acts as "/" for everything, symlink targets included (chroot
// semantics): an absolute target starts again at the root, and ".." at the
// root stays there. Each component is lstat'ed; a symlink is never left for
// the host to follow: its target is read and walked in its place, relative
// targets from the link's own directory. So the host path that comes out has
// no symlink in it, except the last component when the caller asked for the
// link itself — and the callers then use it with calls that do not follow a
// last link (lstat, O_NOFOLLOW, mkdir, unlink, rename).
//
// What is left: between this walk and the call that uses its result, another
// host process (a second host sharing the root, say) could swap a directory on
// the way for a link that was already there. A guest cannot race itself: its
// system calls run one at a time, in one thread, like every guest of a host.
// Opened files are checked afterwards (openedInside); mkdir, rename and unlink
// have no such check.

import * as fs from "node:fs";
import type { BaseLayer } from "./base-layer.js";
import { procStat, type ProcMount, type ProcNode } from "./procfs.js";
import { DEVICES, devDirectoryStat, deviceStat, STDIO_ALIASES } from "./devices.js";
import { Errno, errnoOf } from "./errno.js";
import { statFromData, type StatLike } from "./files.js";

/** Thrown with the errno a Linux system call would return. */
export class SandboxError extends Error {
  constructor(readonly errno: number) { super(`errno ${errno}`); }
}

/** Links followed in one resolution before ELOOP (Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
const PATH_MAX = 4096;

/**
 * What the last component may be:
 * - "follow": a link is followed (open, stat, chdir, access)
 * - "nofollow": a link is the answer, but a trailing slash follows it (lstat, O_NOFOLLOW)
 * - "entry": the directory entry itself, never followed (mkdir, unlink, rmdir, rename)
 */
export type LastLink = "follow" | "nofollow" | "entry";

export interface Resolved {
  /** the guest path, without links, "." or ".." (for a link kept as the last component, the link's own path) */
  guest: string;
  /** the host path of `guest` */
  host: string;
  /** lstat of the last component; null when it does not exist (its directory does) */
  stat: StatLike | null;
  /** The virtual /dev ("") or one of its devices ("null", ...): no host file is behind it (devices.ts). */
  device?: string;
  /** /dev/stdin, /dev/stdout, /dev/stderr: the descriptor it stands for (a link to /proc/self/fd/N on Linux). */
  stdio?: number;
  /**
   * "base": the path is the base layer's (base-layer.ts), read-only: a file there (`host` is the layer's host file), a
   * directory only the layer has, or a missing name in one (for both, `host` is "": no host entry is behind them).
   */
  layer?: "base";
  /** In the virtual /proc (procfs.ts): the node the path leads to (`guest` is its path, "self" read as the caller's pid). */
  proc?: ProcNode;
  /** On the /tmp mounted in the root (`tmp` of resolveInRoot): its mount point, or a path beneath it. */
  tmp?: "mount-point" | "inside";
  /** how the path ended: a name, ".", "..", or nothing but slashes (the root) */
  last: "name" | "dot" | "dotdot" | "root";
  trailingSlash: boolean;
}

/** What is mounted in a root besides its own files (each optional): see resolveInRoot. */
export interface Mounts {
  tmp?: { realPath(): string };
  base?: BaseLayer;
  proc?: ProcMount;
}

/**
 * Resolves `p` beneath `rootReal` (a real host path, no links), starting
 * from the guest directory `start` when `p` is relative. `start` is walked
 * again too: a directory may have become a link since it was entered.
 *
 * `tmp`, when given, is a host directory mounted at /tmp (`roam run` gives
 * one to a root without a tmp; its real path is asked for, and so the directory
 * made, only when a walk enters it): the walk enters it at /tmp and leaves it by
 * ".." to the root, as a Linux mount; links in it are read with the root as
 * "/" like any other. What lies beneath is marked (`tmp`), for the calls that
 * cannot cross a mount (rename, link: EXDEV) or remove one (EBUSY).
 *
 * `base`, when given, is the read-only layer beneath the root (base-layer.ts): a
 * name the root does not have is looked up there, and a directory only the layer
 * has is walked in the layer alone. `proc`, when given, is the virtual /proc
 * (procfs.ts), shown whatever the root holds there; its links are followed as
 * any, and fd/N of the caller opens what descriptor N refers to (`stdio`).
 */
export function resolveInRoot(rootReal: string, start: string, p: string, lastLink: LastLink, mounts: Mounts = {}): Resolved {
  const { tmp, base, proc } = mounts;
  if (p.length === 0) throw new SandboxError(Errno.ENOENT);
  if (p.length >= PATH_MAX) throw new SandboxError(Errno.ENAMETOOLONG);
  const names = (p.startsWith("/") ? p : `${start}/${p}`).split("/").filter((n) => n !== "");
  const trailingSlash = /[^/]\/+$/.test(p);
  const follow = lastLink === "follow" || (lastLink === "nofollow" && trailingSlash);
  const todo = names.reverse(); // a stack: the next component is at the end
  const done: string[] = [];
  const onTmp = (parts: string[]) => tmp !== undefined && parts.length > 0 && parts[0] === "tmp";
  const hostOf = (parts: string[]) => {
    if (onTmp(parts)) return parts.length === 1 ? tmp!.realPath() : `${tmp!.realPath()}/${parts.slice(1).join("/")}`;
    return parts.length === 0 ? rootReal : `${rootReal}/${parts.join("/")}`;
  };
  const tmpOf = (parts: string[]): Resolved["tmp"] => (onTmp(parts) ? (parts.length === 1 ? "mount-point" : "inside") : undefined);
  const guestOf = (parts: string[]) => `/${parts.join("/")}`;
  let last: Resolved["last"] = "root";
  let links = 0;
  let baseFrom = -1; // done[baseFrom] and the directories after it are the base layer's alone (-1: none is)
  while (todo.length > 0) {
    const name = todo.pop()!;
    const isLast = todo.length === 0;
    if (name === "." || name === "..") {
      if (name === "..") done.pop(); // every entry in `done` is a directory, and ".." of the root is the root
      if (done.length <= baseFrom) baseFrom = -1;
      last = name === "." ? "dot" : "dotdot";
      continue;
    }
    last = "name";
    // The guest's /dev is virtual whatever the sandbox holds there (devices.ts).
    if (done.length === 0 && name === "dev") {
      done.push(name);
      if (isLast) return { guest: "/dev", host: hostOf(done), stat: devDirectoryStat(), last, trailingSlash, device: "" };
      continue;
    }
    if (done.length === 1 && done[0] === "dev") return virtualDevice(name, isLast);
    // The guest's /proc is virtual whatever the sandbox holds there (procfs.ts).
    if (proc !== undefined && (done.length === 0 ? name === "proc" : done[0] === "proc")) {
      const parts = [...done.slice(1), name].slice(done.length === 0 ? 1 : 0);
      const node = proc.node(parts);
      if (node === undefined) throw new SandboxError(isLast && lastLink === "entry" ? Errno.EACCES : Errno.ENOENT);
      if (node.kind === "link" && (!isLast || follow)) {
        if (node.fd !== undefined && isLast) return { guest: guestOf([...done, name]), host: "", stat: procStat(node), last, trailingSlash, stdio: node.fd };
        if (++links > MAX_SYMLINKS) throw new SandboxError(Errno.ELOOP);
        if (node.target.startsWith("/")) { done.length = 0; baseFrom = -1; }
        todo.push(...node.target.split("/").filter((n) => n !== "").reverse());
        if (todo.length === 0) last = "root";
        continue;
      }
      if (!isLast && node.kind !== "directory") throw new SandboxError(Errno.ENOTDIR);
      done.push(name);
      if (isLast) {
        if (trailingSlash && node.kind !== "directory" && lastLink !== "entry") throw new SandboxError(Errno.ENOTDIR);
        return { guest: guestOf(done), host: "", stat: procStat(node), last, trailingSlash, proc: node };
      }
      continue;
    }
    if (baseFrom >= 0) {
      const inLayer = fromBase(name, isLast);
      if (inLayer) return inLayer;
      continue;
    }
    const host = hostOf([...done, name]);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(host);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === Errno.ENOENT && base?.lookup(guestOf([...done, name])) !== undefined) {
        const inLayer = fromBase(name, isLast);
        if (inLayer) return inLayer;
        continue;
      }
      if (errno === Errno.ENOENT && isLast) return { guest: guestOf([...done, name]), host, stat: null, last, trailingSlash, tmp: tmpOf([...done, name]) };
      throw new SandboxError(errno);
    }
    if (stat.isSymbolicLink() && (!isLast || follow)) {
      if (++links > MAX_SYMLINKS) throw new SandboxError(Errno.ELOOP);
      const target = readLink(host);
      if (target.startsWith("/")) { done.length = 0; baseFrom = -1; } // the sandbox's root, not the host's
      todo.push(...target.split("/").filter((n) => n !== "").reverse());
      if (todo.length === 0) last = "root"; // a link to "/"
      continue;
    }
    if (!isLast && !stat.isDirectory()) throw new SandboxError(Errno.ENOTDIR);
    done.push(name);
    if (isLast) return finish(done, stat);
  }
  return finish(done, null);

  function virtualDevice(name: string, isLast: boolean): Resolved {
    const stdio = STDIO_ALIASES[name];
    if (!(name in DEVICES) && stdio === undefined) {
      // Nothing else is in /dev, and nothing can be made there.
      throw new SandboxError(isLast && lastLink === "entry" ? Errno.EACCES : Errno.ENOENT);
    }
    if (!isLast || trailingSlash) throw new SandboxError(Errno.ENOTDIR);
    const stat = stdio === undefined ? deviceStat(name) : statFromData({ mode: 0o120777, ino: 200 + stdio, nlink: 1, dev: 5, size: 15 });
    return { guest: `/dev/${name}`, host: hostOf(["dev", name]), stat, last: "name", trailingSlash, device: stdio === undefined ? name : undefined, stdio };
  }

  /**
   * `name` in the base layer (the root has no entry there): a file is the answer, a directory is entered (null: walk
   * on), a name the layer does not have either is missing.
   */
  function fromBase(name: string, isLast: boolean): Resolved | null {
    const guest = guestOf([...done, name]);
    const entry = base?.lookup(guest);
    if (entry === undefined) {
      if (isLast) return { guest, host: "", stat: null, last, trailingSlash, layer: "base" };
      throw new SandboxError(Errno.ENOENT);
    }
    if (entry.kind === "file") {
      if (!isLast || (trailingSlash && lastLink !== "entry")) throw new SandboxError(Errno.ENOTDIR);
      return { guest, host: entry.host, stat: entry.stat, last, trailingSlash, layer: "base" };
    }
    done.push(name);
    if (baseFrom < 0) baseFrom = done.length - 1;
    return isLast ? { guest, host: "", stat: entry.stat, last, trailingSlash, layer: "base" } : null;
  }

  function finish(parts: string[], known: StatLike | null): Resolved {
    if (proc !== undefined && parts[0] === "proc") { // "/proc/1/.." and the like
      const node = proc.node(parts.slice(1));
      if (node === undefined) throw new SandboxError(Errno.ENOENT);
      return { guest: guestOf(parts), host: "", stat: procStat(node), last, trailingSlash, proc: node };
    }
    if (baseFrom >= 0) { // a path ending in "." or ".." inside a directory only the layer has
      const guest = guestOf(parts);
      return { guest, host: "", stat: base!.lookup(guest)!.stat, last, trailingSlash, layer: "base" };
    }
    const host = hostOf(parts);
    const stat = known ?? lstatOrThrow(host);
    // "name/" must be a directory; an entry's caller decides (mkdir says EEXIST, unlink ENOTDIR).
    if (trailingSlash && lastLink !== "entry" && !stat.isDirectory()) throw new SandboxError(Errno.ENOTDIR);
    return { guest: guestOf(parts), host, stat, last, trailingSlash, tmp: tmpOf(parts) };
  }
}

function readLink(host: string): string {
  let target: string;
  try { target = fs.readlinkSync(host); } catch (error) { throw new SandboxError(errnoOf(error)); }
  if (target.length === 0) throw new SandboxError(Errno.ENOENT); // as Linux treats an empty link
  return target;
}

function lstatOrThrow(host: string): fs.Stats {
  try { return fs.lstatSync(host); } catch (error) { throw new SandboxError(errnoOf(error)); }
}

/**
 * Whether an open host fd really is beneath `rootReal`, by what Linux says it
 * is (/proc/self/fd): a swap during the open shows here. True where there is
 * no /proc to ask.
 */
export function openedInside(rootReal: string, hostFd: number): boolean {
  let real: string;
  try { real = fs.readlinkSync(`/proc/self/fd/${hostFd}`); } catch { return true; }
  const inside = rootReal.endsWith("/") ? rootReal : `${rootReal}/`;
  return real === rootReal || real.startsWith(inside);
}
