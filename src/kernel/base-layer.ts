// The base layer: what every guest's root shows where the root has nothing of
// its own, as the lower, read-only layer of a container's overlay. A portable
// C program expects a few files of any Linux system: /bin/sh for system(3) and
// popen(3), /etc/passwd and /etc/group for getpwuid(3) and getgrgid(3),
// /etc/hosts so that getaddrinfo("localhost") answers without a DNS server.
// `roam run`'s root is the user's own directory, which has none of them, and
// must not be written to for them; so the resolver (resolve.ts) looks a name
// up here when the root has no such entry, and the guest sees one tree.
//
// /bin holds Roam's BusyBox (guests/bin/real/busybox.elf, ash as sh) under each
// of its applets' names, as `busybox --install` without -s makes them: one
// file, many names (hard links). /usr/bin/env is there too, for scripts that
// start "#!/usr/bin/env". /etc's files are guests/base/etc/'s, the same texts a
// host writes into a guest's own root (src/guest/guest-root.ts).
//
// The layer itself is never written. What the guest changes in it becomes the
// root's own first, as overlayfs copies a lower layer's entry up: a file made in
// one of its directories makes that directory in the root (the layer's entries
// still show through it); a file of the layer written, truncated, chmod'ed or
// re-stamped by path is copied into the root, and the copy changed; a name it
// gives can be replaced (rename onto it), but not removed (EROFS: a host
// directory cannot hold overlayfs's "whiteout" that would hide it). A name in the
// root hides the layer's: the root's /bin/sh is run, not BusyBox. The layer is
// the same on every host of one Roam version, so an open file in it needs no
// home when its guest moves, and a snapshot holds nothing of it but paths.

import * as fs from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";
import { statFromData, type StatLike } from "./files.js";

/** BusyBox's applets (`busybox --list` of guests/bin/real/busybox.elf; test/kernel checks this list against it). */
export const BUSYBOX_APPLETS = [
  "[", "[[", "ash", "awk", "basename", "cat", "clear", "cp", "cut", "date", "dd", "dirname", "echo", "egrep", "env",
  "expr", "false", "fgrep", "find", "free", "grep", "head", "kill", "killall", "less", "ln", "ls", "md5sum", "mkdir",
  "mv", "nc", "pgrep", "pidof", "pkill", "printf", "ps", "pwd", "reset", "rm", "rmdir", "sed", "seq", "sh",
  "sha256sum", "sleep", "sort", "stty", "tail", "tee", "test", "top", "touch", "tr", "true", "tty", "uname", "uniq",
  "uptime", "vi", "wc", "xargs", "yes",
] as const;

/** st_dev of the base layer's entries: a file system of their own (the virtual /dev is 5). */
const BASE_DEV = 6;

/** An entry of the layer: a directory (nothing on the host behind it) or a host file shown read-only. */
export type BaseEntry = { kind: "directory"; stat: StatLike } | { kind: "file"; host: string; stat: StatLike };

export class BaseLayer {
  private readonly entries = new Map<string, BaseEntry>(); // guest path -> entry
  private readonly children = new Map<string, string[]>(); // guest directory -> names, sorted
  private readonly hostFiles = new Set<string>(); // real host paths of its files
  private files: (() => ReadonlyArray<[string, string]>) | undefined;

  /**
   * `files`: guest path -> host file; every directory on the way is made an entry. Asked for, and the entries made,
   * when the layer is first looked in: most walks find what they look for in the root (~2 ms saved at a run's start).
   */
  constructor(files: () => ReadonlyArray<[string, string]>) {
    this.files = files;
  }

  /** The layer's entries, made on first use. */
  private built(): this {
    if (this.files !== undefined) {
      const files = this.files();
      this.files = undefined;
      this.build(files);
    }
    return this;
  }

  private build(files: ReadonlyArray<[string, string]>): void {
    const names = new Map<string, number>(); // host file -> how many names it has here (its st_nlink)
    for (const [, host] of files) names.set(host, (names.get(host) ?? 0) + 1);
    const inodes = new Map<string, number>();
    let nextIno = 2; // the layer's own inode numbers: the same on every host, whatever the host's files have
    const directories = ["/", ...new Set(files.flatMap(([guest]) => ancestors(guest)))];
    const stats = new Map([...names.keys()].map((host) => [host, fs.statSync(host)]));
    const reals = new Map([...names.keys()].map((host) => [host, fs.realpathSync(host)]));
    // A directory is as old as the newest file it shows (a release of Roam changes them together).
    const newest = Math.max(...[...stats.values()].map((st) => st.mtimeMs));
    const times = { atimeMs: newest, mtimeMs: newest, ctimeMs: newest, birthtimeMs: newest };
    for (const dir of directories) this.addDirectory(dir, statFromData({ mode: 0o040755, ino: nextIno++, nlink: 2, dev: BASE_DEV, ...times }));
    for (const [guest, host] of files) {
      const real = reals.get(host)!;
      let ino = inodes.get(real);
      if (ino === undefined) inodes.set(real, (ino = nextIno++));
      const st = stats.get(host)!;
      const stat = statFromData({
        mode: 0o100000 | (st.mode & 0o777), ino, nlink: names.get(host), dev: BASE_DEV, size: st.size, blocks: st.blocks,
        atimeMs: st.mtimeMs, mtimeMs: st.mtimeMs, ctimeMs: st.mtimeMs, birthtimeMs: st.mtimeMs,
      });
      this.add(guest, { kind: "file", host: real, stat });
      this.hostFiles.add(real);
    }
    for (const list of this.children.values()) list.sort();
  }

  /** The entry at guest path `guest` (normalised, no links), if the layer has one. */
  lookup(guest: string): BaseEntry | undefined {
    return guest === "/" ? undefined : this.built().entries.get(guest);
  }

  /** The names in the layer's directory `guest`, sorted, with each one's getdents type and inode ([] if it has none). */
  list(guest: string): Array<{ name: string; type: number; ino: number }> {
    const names = this.built().children.get(guest) ?? [];
    return names.map((name) => {
      const entry = this.entries.get(guest === "/" ? `/${name}` : `${guest}/${name}`)!;
      return { name, type: entry.kind === "directory" ? 4 : 8, ino: Number(entry.stat.ino) };
    });
  }

  /**
   * Copies the layer's entries on the way to `guest` (normalised, no links) into the root at host path `rootReal`, as
   * overlayfs copies a lower layer's entry up before it is changed: each directory only the layer has is made in the
   * root (empty: the layer's entries still show through it), and the entry itself, a file (bytes and mode) or a
   * directory. A last name the layer does not have is left for the caller to make. The layer's files are few and
   * small (BusyBox, /etc's three), and guests change them seldom.
   */
  copyUp(rootReal: string, guest: string): void {
    const parts = guest.split("/").filter((n) => n !== "");
    let host = rootReal;
    for (let i = 0; i < parts.length; i++) {
      host = `${host}/${parts[i]}`;
      const entry = this.built().entries.get(`/${parts.slice(0, i + 1).join("/")}`);
      if (entry === undefined || fs.existsSync(host)) continue; // the missing last name, or the root's own already
      if (entry.kind === "directory") fs.mkdirSync(host, entry.stat.mode & 0o777);
      else {
        fs.copyFileSync(entry.host, host, fs.constants.COPYFILE_EXCL);
        fs.chmodSync(host, entry.stat.mode & 0o777);
      }
    }
  }

  /** Whether `real` (a real host path) is one of the layer's files: a host descriptor opened on it is allowed. */
  holdsHostFile(real: string): boolean {
    return this.built().hostFiles.has(real);
  }

  private addDirectory(guest: string, stat: StatLike): void {
    this.children.set(guest, []);
    if (guest !== "/") this.add(guest, { kind: "directory", stat });
  }

  private add(guest: string, entry: BaseEntry): void {
    this.entries.set(guest, entry);
    const slash = guest.lastIndexOf("/");
    this.children.get(slash === 0 ? "/" : guest.slice(0, slash))!.push(guest.slice(slash + 1));
  }
}

/** "/a/b/c" -> ["/a", "/a/b"]: the directories a path is in, outermost first, the root left out. */
function ancestors(guest: string): string[] {
  const parts = guest.split("/").filter((n) => n !== "");
  return parts.slice(1).map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}

let installed: BaseLayer | undefined;

/** This Roam's base layer (its files are looked for in its package once, when a walk first needs the layer). */
export function baseLayer(): BaseLayer {
  installed ??= new BaseLayer(() => {
    const root = packageRoot();
    const busybox = join(root, "guests", "bin", "real", "busybox.elf");
    const etc = join(root, "guests", "base", "etc");
    return [
      ["/bin/busybox", busybox],
      ...BUSYBOX_APPLETS.map((name): [string, string] => [`/bin/${name}`, busybox]),
      ["/usr/bin/env", busybox],
      ...["group", "hosts", "passwd"].map((name): [string, string] => [`/etc/${name}`, join(etc, name)]),
    ];
  });
  return installed;
}
