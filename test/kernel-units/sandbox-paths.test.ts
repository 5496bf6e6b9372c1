// Every path-taking system call against symbolic links: links that dangle,
// loop, or lead out of the sandbox (absolute and relative targets, as the
// last component and as an intermediate directory) must not reach the host
// outside the root; links that stay inside work as on Linux. The root acts as
// "/" for link targets too (chroot semantics): "/x" and "../x" at the top
// both mean the sandbox's /x. Driven through runSyscall, with no hart.
import {
  closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync,
  unlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AddressSpace, PROT_READ, PROT_WRITE, type PhysicalMemory } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import { FileTable, SandboxError } from "../../src/kernel/files.js";
import { openedInside } from "../../src/kernel/resolve.js";
import { spaceOver, unitContext, quietConsole } from "./unit-context.js";
import { Frames } from "../../src/kernel/frames.js";
import { runSyscall, type SyscallContext } from "../../src/kernel/syscalls.js";

const ram = new Uint8Array(1 << 20);
const memory: PhysicalMemory = { ram: () => ram, ramGuestBase: 0x80000000, wrote: () => {}, flushTranslations: () => {} };
const DATA = 0x20000, OUT = DATA + 8 * 4096;

// system call numbers (riscv32, asm-generic)
const GETCWD = 17, MKDIRAT = 34, UNLINKAT = 35, RENAMEAT = 38, FACCESSAT = 48, CHDIR = 49, OPENAT = 56, CLOSE = 57,
  GETDENTS64 = 61, READ = 63, WRITE = 64, FSTATAT64 = 79, RENAMEAT2 = 276, STATX = 291;
const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, RENAME_NOREPLACE = 1;
const O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000;

let base: string; // holds root/ (the sandbox) and outside/ (what must stay out of reach)
let root: string, outside: string;
let c: SyscallContext;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), "roam-sandbox-")));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(join(root, "sub", "deep"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "the secret\n");
  writeFileSync(join(root, "inside.txt"), "inside\n");
  writeFileSync(join(root, "sub", "f.txt"), "sub file\n");
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + 16 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  c = unitContext(space, root, { monotonicNs: () => 0n, realtimeNs: () => 0n }, quietConsole());
});
afterEach(() => {
  c.files.closeAll();
  rmSync(base, { recursive: true, force: true });
});

/** A system call; string arguments are copied into guest memory first. */
function sys(n: number, ...args: Array<number | string>): number {
  const raw = args.map((a, i) => {
    if (typeof a === "number") return a >>> 0;
    const at = DATA + i * 1024;
    expect(c.space.write(at, Buffer.from(a + "\0"))).toBe(true);
    return at;
  });
  const r = runSyscall(c, n, [...raw, 0, 0, 0, 0, 0, 0].slice(0, 6));
  if (!r || r.kind !== "return") throw new Error(`syscall ${n}: ${JSON.stringify(r)}`);
  return r.value;
}
const link = (name: string, target: string) => symlinkSync(target, join(root, name));
const readAll = (fd: number) => {
  const n = sys(READ, fd, OUT, 4096);
  expect(n).toBeGreaterThanOrEqual(0);
  return Buffer.from(c.space.read(OUT, n)!).toString();
};
/** st_mode of a path by fstatat64 (flags) or -errno */
function modeOf(path: string, flags = 0): number {
  const r = sys(FSTATAT64, AT_FDCWD, path, OUT, flags);
  return r < 0 ? r : new DataView(c.space.read(OUT, 104)!.buffer).getUint32(16, true) & 0o170000;
}
/** Nothing new appeared outside the root, and the secret is intact. */
function outsideUntouched(): void {
  expect(readdirSync(outside)).toEqual(["secret.txt"]);
  expect(readdirSync(base).sort()).toEqual(["outside", "root"]);
  expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("the secret\n");
}

// Links that lead out, spelled every way: as the last component and as a
// directory on the way, with absolute host targets and relative ones.
const OUT_LINKS: Record<string, (b: string) => string> = {
  "abs-file": (b) => join(b, "outside", "secret.txt"),
  "abs-dir": (b) => join(b, "outside"),
  "rel-file": () => "../outside/secret.txt",
  "rel-dir": () => "../outside",
  "sub/up-file": () => "../../outside/secret.txt", // relative to sub/, its own directory
  "sub/up-dir": () => "../../outside",
  "sub/deep/far-dir": () => "../../../../../../outside",
  "dangling-abs": (b) => join(b, "outside", "new.txt"),
  "dangling-rel": () => "../outside/new.txt",
  "sub/dangling-up": () => "../../outside/new.txt",
  "dangling-dir-abs": (b) => join(b, "outside", "newdir"),
  "dangling-dir-rel": () => "../outside/newdir",
};
const makeOutLinks = () => { for (const [name, target] of Object.entries(OUT_LINKS)) link(name, target(base)); };
const OUT_FILES = ["abs-file", "rel-file", "sub/up-file", "abs-dir/secret.txt", "rel-dir/secret.txt", "sub/up-dir/secret.txt", "sub/deep/far-dir/secret.txt"];
const OUT_NEW = ["dangling-abs", "dangling-rel", "sub/dangling-up", "abs-dir/new.txt", "rel-dir/new.txt", "sub/up-dir/new.txt", "sub/deep/far-dir/new.txt"];

describe("links that lead out of the sandbox", () => {
  beforeEach(makeOutLinks);

  test.each(OUT_FILES)("openat/statx/fstatat64/faccessat of %s do not reach the secret", (p) => {
    expect(sys(OPENAT, AT_FDCWD, p, O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(STATX, AT_FDCWD, p, 0, 0x7ff, OUT)).toBe(-Errno.ENOENT);
    expect(modeOf(p)).toBe(-Errno.ENOENT);
    expect(sys(FACCESSAT, AT_FDCWD, p, 0)).toBe(-Errno.ENOENT);
    expect(sys(UNLINKAT, AT_FDCWD, p, 0)).toBe(p.includes("/secret.txt") ? -Errno.ENOENT : 0); // a last-component link itself goes
    outsideUntouched();
  });

  test.each(OUT_NEW)("openat O_CREAT through %s creates nothing outside", (p) => {
    expect(sys(OPENAT, AT_FDCWD, p, O_WRONLY | O_CREAT | O_TRUNC, 0o644)).toBe(-Errno.ENOENT);
    outsideUntouched();
  });

  test.each(["dangling-abs", "dangling-rel", "sub/dangling-up"])("O_CREAT|O_EXCL on the dangling link %s: EEXIST, as on Linux", (p) => {
    expect(sys(OPENAT, AT_FDCWD, p, O_WRONLY | O_CREAT | O_EXCL, 0o644)).toBe(-Errno.EEXIST);
    outsideUntouched();
  });

  test("mkdirat: through a link directory it fails, on a dangling link it is EEXIST", () => {
    for (const p of ["abs-dir/d", "rel-dir/d", "sub/up-dir/d", "sub/deep/far-dir/d"]) expect(sys(MKDIRAT, AT_FDCWD, p, 0o755)).toBe(-Errno.ENOENT);
    for (const p of ["dangling-dir-abs", "dangling-dir-rel", "abs-dir", "rel-file"]) expect(sys(MKDIRAT, AT_FDCWD, p, 0o755)).toBe(-Errno.EEXIST);
    outsideUntouched();
  });

  test("unlinkat and rmdir reach neither the file nor the directory outside", () => {
    for (const p of OUT_FILES.filter((f) => f.endsWith("/secret.txt"))) expect(sys(UNLINKAT, AT_FDCWD, p, 0)).toBe(-Errno.ENOENT);
    // rmdir and unlink name the link itself, even with a trailing slash (as on Linux)
    expect(sys(UNLINKAT, AT_FDCWD, "abs-dir", AT_REMOVEDIR)).toBe(-Errno.ENOTDIR);
    expect(sys(UNLINKAT, AT_FDCWD, "rel-dir/", AT_REMOVEDIR)).toBe(-Errno.ENOTDIR);
    expect(sys(UNLINKAT, AT_FDCWD, "rel-dir/", 0)).toBe(-Errno.ENOTDIR);
    outsideUntouched();
  });

  test("renameat and renameat2 move nothing in or out", () => {
    for (const p of ["abs-dir/stolen.txt", "rel-dir/stolen.txt", "sub/up-dir/stolen.txt", "sub/deep/far-dir/x"]) {
      expect(sys(RENAMEAT, AT_FDCWD, "inside.txt", AT_FDCWD, p)).toBe(-Errno.ENOENT);
      expect(sys(RENAMEAT2, AT_FDCWD, "inside.txt", AT_FDCWD, p, 0)).toBe(-Errno.ENOENT);
    }
    for (const p of ["abs-dir/secret.txt", "rel-dir/secret.txt", "sub/up-dir/secret.txt"]) expect(sys(RENAMEAT, AT_FDCWD, p, AT_FDCWD, "got.txt")).toBe(-Errno.ENOENT);
    // a link as the last component: the link itself moves (and still dangles)
    expect(sys(RENAMEAT, AT_FDCWD, "dangling-rel", AT_FDCWD, "moved")).toBe(0);
    expect(lstatSync(join(root, "moved")).isSymbolicLink()).toBe(true);
    // a new name that is a dangling link: the link is replaced, nothing lands outside
    expect(sys(RENAMEAT2, AT_FDCWD, "inside.txt", AT_FDCWD, "dangling-abs", RENAME_NOREPLACE)).toBe(-Errno.EEXIST);
    expect(sys(RENAMEAT, AT_FDCWD, "inside.txt", AT_FDCWD, "dangling-abs")).toBe(0);
    expect(readFileSync(join(root, "dangling-abs"), "utf8")).toBe("inside\n");
    outsideUntouched();
  });

  test("chdir and directory listings do not go out", () => {
    for (const p of ["abs-dir", "rel-dir", "sub/up-dir", "sub/deep/far-dir"]) {
      expect(sys(CHDIR, p)).toBe(-Errno.ENOENT);
      expect(sys(OPENAT, AT_FDCWD, p, O_RDONLY | O_DIRECTORY, 0)).toBe(-Errno.ENOENT);
    }
    expect(sys(GETCWD, OUT, 256)).toBe(2);
  });

  test("the links are followed inside the root (chroot semantics): /x and ../x at the top are the sandbox's", () => {
    // build, inside the root, what the links name when the root is "/"
    mkdirSync(join(root, base, "outside"), { recursive: true });
    writeFileSync(join(root, base, "outside", "secret.txt"), "inner abs\n");
    mkdirSync(join(root, "outside"));
    writeFileSync(join(root, "outside", "secret.txt"), "inner rel\n");
    const fd1 = sys(OPENAT, AT_FDCWD, "abs-dir/secret.txt", O_RDONLY, 0);
    expect(readAll(fd1)).toBe("inner abs\n");
    const fd2 = sys(OPENAT, AT_FDCWD, "sub/deep/far-dir/secret.txt", O_RDONLY, 0);
    expect(readAll(fd2)).toBe("inner rel\n");
    // O_CREAT through a dangling link creates its target, inside
    const fd3 = sys(OPENAT, AT_FDCWD, "sub/dangling-up", O_WRONLY | O_CREAT, 0o644);
    expect(fd3).toBeGreaterThanOrEqual(0);
    expect(sys(WRITE, fd3, "created", 7)).toBe(7);
    expect(readFileSync(join(root, "outside", "new.txt"), "utf8")).toBe("created");
    expect(sys(MKDIRAT, AT_FDCWD, "rel-dir/made", 0o755)).toBe(0);
    expect(lstatSync(join(root, "outside", "made")).isDirectory()).toBe(true);
    outsideUntouched();
  });
});

describe("loops", () => {
  beforeEach(() => {
    link("self", "self");
    link("ping", "pong");
    link("pong", "./sub/../ping");
    link("sub/deep/spin", "../deep/spin");
  });

  test.each(["self", "ping", "sub/deep/spin", "self/x", "ping/x/y", "sub/deep/spin/x"])("every call on %s gives ELOOP", (p) => {
    const isLast = !p.endsWith("/x") && !p.endsWith("/y");
    expect(sys(OPENAT, AT_FDCWD, p, O_RDONLY, 0)).toBe(-Errno.ELOOP);
    expect(sys(OPENAT, AT_FDCWD, p, O_WRONLY | O_CREAT, 0o644)).toBe(-Errno.ELOOP);
    expect(sys(STATX, AT_FDCWD, p, 0, 0x7ff, OUT)).toBe(-Errno.ELOOP);
    expect(modeOf(p)).toBe(-Errno.ELOOP);
    expect(sys(FACCESSAT, AT_FDCWD, p, 0)).toBe(-Errno.ELOOP);
    expect(sys(CHDIR, p)).toBe(-Errno.ELOOP);
    if (isLast) {
      // calls that name the link itself do not follow it
      expect(modeOf(p, AT_SYMLINK_NOFOLLOW)).toBe(0o120000);
      expect(sys(MKDIRAT, AT_FDCWD, p, 0o755)).toBe(-Errno.EEXIST);
      expect(sys(OPENAT, AT_FDCWD, p, O_WRONLY | O_CREAT | O_EXCL, 0o644)).toBe(-Errno.EEXIST);
    } else {
      expect(sys(MKDIRAT, AT_FDCWD, p, 0o755)).toBe(-Errno.ELOOP);
      expect(sys(UNLINKAT, AT_FDCWD, p, 0)).toBe(-Errno.ELOOP);
      expect(sys(RENAMEAT, AT_FDCWD, "inside.txt", AT_FDCWD, p)).toBe(-Errno.ELOOP);
      expect(sys(RENAMEAT, AT_FDCWD, p, AT_FDCWD, "x")).toBe(-Errno.ELOOP);
    }
  });

  test("40 links in a chain resolve, 41 give ELOOP (Linux's MAXSYMLINKS)", () => {
    for (let i = 1; i <= 41; i++) link(`l${i}`, i === 1 ? "inside.txt" : `l${i - 1}`);
    const fd = sys(OPENAT, AT_FDCWD, "l40", O_RDONLY, 0);
    expect(readAll(fd)).toBe("inside\n");
    expect(sys(OPENAT, AT_FDCWD, "l41", O_RDONLY, 0)).toBe(-Errno.ELOOP);
  });
});

describe("links inside the sandbox work as on Linux", () => {
  beforeEach(() => {
    link("to-sub", "sub");
    link("abs-to-sub", "/sub");
    link("sub/deep/back", "../f.txt"); // relative to its own directory, sub/deep
    link("sub/deep/up", "..");
    link("dangling-in", "sub/new.txt");
    link("file-link", "inside.txt");
    link("deep-link", "sub/deep");
  });

  test("a dangling link inside: stat, access and chdir say ENOENT, lstat sees the link, unlink removes it", () => {
    expect(modeOf("dangling-in")).toBe(-Errno.ENOENT);
    expect(sys(STATX, AT_FDCWD, "dangling-in", 0, 0x7ff, OUT)).toBe(-Errno.ENOENT);
    expect(modeOf("dangling-in", AT_SYMLINK_NOFOLLOW)).toBe(0o120000);
    expect(sys(FACCESSAT, AT_FDCWD, "dangling-in", 0)).toBe(-Errno.ENOENT);
    expect(sys(CHDIR, "dangling-in")).toBe(-Errno.ENOENT);
    expect(sys(OPENAT, AT_FDCWD, "dangling-in", O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(UNLINKAT, AT_FDCWD, "dangling-in", 0)).toBe(0);
    expect(existsSync(join(root, "dangling-in"))).toBe(false);
  });

  test("\"..\" after a link leaves the link's target, not the link's directory (as Linux, not lexically)", () => {
    const fd = sys(OPENAT, AT_FDCWD, "deep-link/../f.txt", O_RDONLY, 0); // /sub/deep/.. is /sub
    expect(readAll(fd)).toBe("sub file\n");
    expect(sys(OPENAT, AT_FDCWD, "deep-link/../inside.txt", O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(CHDIR, "deep-link/..")).toBe(0);
    expect(sys(GETCWD, OUT, 256)).toBe("/sub\0".length);
  });

  test("open, read and stat through links, relative targets taken from the link's directory", () => {
    for (const [p, want] of [["to-sub/f.txt", "sub file\n"], ["abs-to-sub/f.txt", "sub file\n"], ["sub/deep/back", "sub file\n"],
      ["sub/deep/up/f.txt", "sub file\n"], ["sub/deep/up/deep/back", "sub file\n"], ["to-sub/deep/up/../inside.txt", "inside\n"], ["file-link", "inside\n"]]) {
      const fd = sys(OPENAT, AT_FDCWD, p, O_RDONLY, 0);
      expect(fd, p).toBeGreaterThanOrEqual(0);
      expect(readAll(fd), p).toBe(want);
      expect(sys(CLOSE, fd)).toBe(0);
      expect(modeOf(p), p).toBe(0o100000);
      expect(sys(FACCESSAT, AT_FDCWD, p, 0), p).toBe(0);
    }
    expect(modeOf("sub/deep/back", AT_SYMLINK_NOFOLLOW)).toBe(0o120000);
    expect(modeOf("to-sub")).toBe(0o040000);
    expect(modeOf("to-sub/", AT_SYMLINK_NOFOLLOW)).toBe(0o040000); // a trailing slash follows
  });

  test("O_CREAT through a dangling link inside creates the target; O_NOFOLLOW refuses a last link with ELOOP", () => {
    const fd = sys(OPENAT, AT_FDCWD, "dangling-in", O_WRONLY | O_CREAT, 0o644);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(sys(WRITE, fd, "new", 3)).toBe(3);
    expect(readFileSync(join(root, "sub", "new.txt"), "utf8")).toBe("new");
    expect(lstatSync(join(root, "dangling-in")).isSymbolicLink()).toBe(true);
    expect(sys(OPENAT, AT_FDCWD, "file-link", O_RDONLY | O_NOFOLLOW, 0)).toBe(-Errno.ELOOP);
    expect(sys(OPENAT, AT_FDCWD, "file-link", O_WRONLY | O_CREAT | O_NOFOLLOW, 0o644)).toBe(-Errno.ELOOP);
    const fd2 = sys(OPENAT, AT_FDCWD, "to-sub/f.txt", O_RDONLY | O_NOFOLLOW, 0); // only the last component
    expect(readAll(fd2)).toBe("sub file\n");
  });

  test("chdir through a link: the working directory is the real one, relative paths start there", () => {
    expect(sys(CHDIR, "sub/deep/up/deep")).toBe(0);
    expect(sys(GETCWD, OUT, 256)).toBe("/sub/deep\0".length);
    expect(Buffer.from(c.space.read(OUT, 9)!).toString()).toBe("/sub/deep");
    const fd = sys(OPENAT, AT_FDCWD, "../f.txt", O_RDONLY, 0);
    expect(readAll(fd)).toBe("sub file\n");
    expect(sys(CHDIR, "to-sub")).toBe(-Errno.ENOENT); // relative to /sub/deep now
    expect(sys(CHDIR, "/to-sub")).toBe(0);
    expect(sys(GETCWD, OUT, 256)).toBe("/sub\0".length);
    expect(sys(CHDIR, "file-link")).toBe(-Errno.ENOENT);
    expect(sys(CHDIR, "/file-link")).toBe(-Errno.ENOTDIR);
  });

  test("mkdir, rename and unlink through link directories act on the target's entries; getdents lists the target", () => {
    expect(sys(MKDIRAT, AT_FDCWD, "to-sub/made", 0o755)).toBe(0);
    expect(lstatSync(join(root, "sub", "made")).isDirectory()).toBe(true);
    expect(sys(RENAMEAT, AT_FDCWD, "abs-to-sub/f.txt", AT_FDCWD, "sub/deep/up/made/g.txt")).toBe(0);
    expect(readFileSync(join(root, "sub", "made", "g.txt"), "utf8")).toBe("sub file\n");
    expect(sys(UNLINKAT, AT_FDCWD, "to-sub/made/g.txt", 0)).toBe(0);
    expect(sys(UNLINKAT, AT_FDCWD, "to-sub/made", AT_REMOVEDIR)).toBe(0);
    expect(existsSync(join(root, "sub", "made"))).toBe(false);
    expect(sys(UNLINKAT, AT_FDCWD, "file-link", 0)).toBe(0); // the link goes, its target stays
    expect(readFileSync(join(root, "inside.txt"), "utf8")).toBe("inside\n");
    const dfd = sys(OPENAT, AT_FDCWD, "to-sub", O_RDONLY | O_DIRECTORY, 0);
    expect(dfd).toBeGreaterThanOrEqual(0);
    const n = sys(GETDENTS64, dfd, OUT, 4096);
    expect(n).toBeGreaterThan(0);
    expect(Buffer.from(c.space.read(OUT, n)!).toString("latin1")).toContain("deep");
  });
});

describe("the root itself and the last component's dots", () => {
  test("the root cannot be removed or renamed; . and .. are not entries", () => {
    expect(sys(UNLINKAT, AT_FDCWD, "/", AT_REMOVEDIR)).toBe(-Errno.EBUSY);
    expect(sys(UNLINKAT, AT_FDCWD, "/..", AT_REMOVEDIR)).toBe(-Errno.ENOTEMPTY);
    expect(sys(RENAMEAT, AT_FDCWD, "/", AT_FDCWD, "/x")).toBe(-Errno.EBUSY);
    expect(sys(RENAMEAT, AT_FDCWD, "inside.txt", AT_FDCWD, "/")).toBe(-Errno.EBUSY);
    expect(sys(UNLINKAT, AT_FDCWD, "sub/deep/.", AT_REMOVEDIR)).toBe(-Errno.EINVAL);
    expect(sys(UNLINKAT, AT_FDCWD, "sub/deep/..", AT_REMOVEDIR)).toBe(-Errno.ENOTEMPTY);
    expect(sys(UNLINKAT, AT_FDCWD, "sub/.", 0)).toBe(-Errno.EISDIR);
    expect(sys(RENAMEAT, AT_FDCWD, "sub/deep/.", AT_FDCWD, "x")).toBe(-Errno.EBUSY);
    expect(sys(MKDIRAT, AT_FDCWD, "sub/..", 0o755)).toBe(-Errno.EEXIST);
    expect(sys(UNLINKAT, AT_FDCWD, "inside.txt", 0x400)).toBe(-Errno.EINVAL); // not a flag of unlinkat
    expect(sys(FACCESSAT, AT_FDCWD, "inside.txt", 8)).toBe(-Errno.EINVAL); // not an access mode
    expect(existsSync(join(root, "sub", "deep"))).toBe(true);
    expect(existsSync(root)).toBe(true);
  });

  test("trailing slashes: a file is not a directory; O_CREAT of a new name/ is EISDIR", () => {
    expect(sys(OPENAT, AT_FDCWD, "inside.txt/", O_RDONLY, 0)).toBe(-Errno.ENOTDIR);
    expect(sys(OPENAT, AT_FDCWD, "new/", O_WRONLY | O_CREAT, 0o644)).toBe(-Errno.EISDIR);
    expect(sys(MKDIRAT, AT_FDCWD, "newdir/", 0o755)).toBe(0);
    expect(lstatSync(join(root, "newdir")).isDirectory()).toBe(true);
  });
});

describe("a directory swapped for a link after it was opened or entered", () => {
  test("a directory fd and the working directory are resolved again, inside the root", () => {
    const dfd = sys(OPENAT, AT_FDCWD, "sub", O_RDONLY | O_DIRECTORY, 0);
    expect(sys(CHDIR, "sub")).toBe(0);
    renameSync(join(root, "sub"), join(root, "old-sub"));
    symlinkSync(outside, join(root, "sub"));
    expect(sys(OPENAT, dfd, "secret.txt", O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(OPENAT, AT_FDCWD, "secret.txt", O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(OPENAT, dfd, "made.txt", O_WRONLY | O_CREAT, 0o644)).toBe(-Errno.ENOENT);
    expect(sys(GETDENTS64, dfd, OUT, 4096)).toBe(-Errno.ENOENT);
    outsideUntouched();
  });

  test("a file reopened after a migration is looked up again, inside the root", () => {
    const fd = sys(OPENAT, AT_FDCWD, "sub/f.txt", O_RDONLY, 0);
    const shared = c.kernel.openFiles;
    const byId = shared.restore(shared.state()); // drops the host fds: the next read reopens by path
    c.files = FileTable.restore(root, shared, c.files.state(), byId);
    renameSync(join(root, "sub"), join(root, "old-sub"));
    symlinkSync("../outside", join(root, "sub"));
    writeFileSync(join(outside, "f.txt"), "outside f\n");
    expect(sys(READ, fd, OUT, 100)).toBe(-Errno.ENOENT);
    rmSync(join(outside, "f.txt"));
  });

  test("FileTable.hostPath (what a host serving a moved guest's files uses) stays inside the root", () => {
    makeOutLinks();
    link("to-sub", "sub");
    const rootInside = root + sep;
    for (const p of ["/abs-dir/secret.txt", "/rel-file", "/sub/deep/far-dir/secret.txt", "/dangling-rel", "/sub/up-dir/new.txt"]) {
      let host: string;
      try {
        host = c.files.hostPath(c.files.guestPath(AT_FDCWD, p));
      } catch (error) {
        expect((error as SandboxError).errno, p).toBe(Errno.ENOENT); // a directory on the way is missing inside the root
        continue;
      }
      expect(host.startsWith(rootInside), `${p} -> ${host}`).toBe(true);
      expect(existsSync(host), p).toBe(false);
    }
    expect(c.files.hostPath("/to-sub/f.txt")).toBe(join(root, "sub", "f.txt"));
  });
});

describe("openedInside: where an open host fd really is", () => {
  test("a file inside the root (even once deleted) is inside; one outside is not", () => {
    const inside = openSync(join(root, "inside.txt"), "r"), out = openSync(join(outside, "secret.txt"), "r");
    const dir = openSync(root, "r"), gone = openSync(join(root, "sub", "f.txt"), "r");
    unlinkSync(join(root, "sub", "f.txt"));
    try {
      expect(openedInside(root, inside)).toBe(true);
      expect(openedInside(root, dir)).toBe(true);
      expect(openedInside(root, gone)).toBe(true);
      expect(openedInside(root, out)).toBe(false);
      expect(openedInside(join(root, "sub"), inside)).toBe(false);
      expect(openedInside(root.slice(0, -1), inside)).toBe(false); // ".../roo" is not a directory above ".../root/inside.txt"
    } finally {
      for (const fd of [inside, out, dir, gone]) closeSync(fd);
    }
  });
});

// readlinkat, linkat, fchmodat, utimensat_time64, truncate64: the same walk.
const LINKAT = 37, TRUNCATE64 = 45, FCHMODAT = 53, READLINKAT = 78, UTIMENSAT = 412, AT_SYMLINK_FOLLOW = 0x400;
const TIMES = OUT + 2048;
/** Two struct __kernel_timespec at TIMES: atime, mtime (whole seconds). */
function putTimes(atimeSec: number, mtimeSec: number): number {
  const b = Buffer.alloc(32);
  b.writeBigInt64LE(BigInt(atimeSec), 0);
  b.writeBigInt64LE(BigInt(mtimeSec), 16);
  expect(c.space.write(TIMES, b)).toBe(true);
  return TIMES;
}
const readlinkOf = (p: string) => {
  const n = sys(READLINKAT, AT_FDCWD, p, OUT, 256);
  return n < 0 ? n : Buffer.from(c.space.read(OUT, n)!).toString();
};

describe("the other path calls", () => {
  test("through links that lead out: nothing outside is read, linked, chmod'ed, re-stamped or truncated", () => {
    makeOutLinks();
    const before = lstatSync(join(outside, "secret.txt"));
    for (const p of OUT_FILES) {
      expect(sys(FCHMODAT, AT_FDCWD, p, 0o777), p).toBe(-Errno.ENOENT);
      expect(sys(UTIMENSAT, AT_FDCWD, p, putTimes(1000, 2000), 0), p).toBe(-Errno.ENOENT);
      expect(sys(TRUNCATE64, p, 0, 0), p).toBe(-Errno.ENOENT);
      expect(sys(LINKAT, AT_FDCWD, p, AT_FDCWD, "hard", AT_SYMLINK_FOLLOW), p).toBe(-Errno.ENOENT);
    }
    for (const p of ["abs-dir/secret.txt", "rel-dir/secret.txt", "sub/up-dir/secret.txt"]) {
      expect(sys(LINKAT, AT_FDCWD, p, AT_FDCWD, "hard", 0), p).toBe(-Errno.ENOENT);
      expect(readlinkOf(p), p).toBe(-Errno.ENOENT);
    }
    for (const p of ["abs-dir/x", "rel-dir/x", "sub/up-dir/x", "sub/deep/far-dir/x"]) expect(sys(LINKAT, AT_FDCWD, "inside.txt", AT_FDCWD, p, 0), p).toBe(-Errno.ENOENT);
    expect(sys(LINKAT, AT_FDCWD, "inside.txt", AT_FDCWD, "dangling-rel", 0)).toBe(-Errno.EEXIST);
    expect(readlinkOf("rel-dir")).toBe("../outside"); // the link's own text, as stored
    const after = lstatSync(join(outside, "secret.txt"));
    expect([after.mode, after.mtimeMs, after.nlink]).toEqual([before.mode, before.mtimeMs, before.nlink]);
    outsideUntouched();
  });

  test("loops: ELOOP when followed; readlinkat and linkat take the link itself", () => {
    link("self", "self");
    expect(readlinkOf("self")).toBe("self");
    expect(readlinkOf("self/x")).toBe(-Errno.ELOOP);
    expect(sys(FCHMODAT, AT_FDCWD, "self", 0o600)).toBe(-Errno.ELOOP);
    expect(sys(TRUNCATE64, "self", 0, 0)).toBe(-Errno.ELOOP);
    expect(sys(UTIMENSAT, AT_FDCWD, "self", 0, 0)).toBe(-Errno.ELOOP);
    expect(sys(UTIMENSAT, AT_FDCWD, "self", putTimes(1000, 2000), AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect(lstatSync(join(root, "self")).mtimeMs).toBe(2_000_000);
    expect(sys(LINKAT, AT_FDCWD, "self", AT_FDCWD, "hard", AT_SYMLINK_FOLLOW)).toBe(-Errno.ELOOP);
    expect(sys(LINKAT, AT_FDCWD, "self", AT_FDCWD, "hard", 0)).toBe(0);
    expect(lstatSync(join(root, "hard")).isSymbolicLink()).toBe(true);
  });

  test("through links inside, as on Linux", () => {
    link("file-link", "inside.txt");
    link("to-sub", "/sub");
    link("sub/deep/back", "../f.txt");
    expect(readlinkOf("sub/deep/back")).toBe("../f.txt");
    expect(readlinkOf("to-sub/deep/back")).toBe("../f.txt");
    expect(readlinkOf("inside.txt")).toBe(-Errno.EINVAL);
    expect(readlinkOf("to-sub/")).toBe(-Errno.EINVAL); // a trailing slash follows: a directory
    expect(sys(READLINKAT, AT_FDCWD, "file-link", OUT, 4)).toBe(4); // cut to the buffer
    expect(sys(READLINKAT, AT_FDCWD, "file-link", OUT, 0)).toBe(-Errno.EINVAL);
    expect(sys(FCHMODAT, AT_FDCWD, "file-link", 0o600)).toBe(0);
    expect(lstatSync(join(root, "inside.txt")).mode & 0o7777).toBe(0o600);
    expect(sys(FCHMODAT, AT_FDCWD, "inside.txt", 0o6755)).toBe(0); // no set-user-ID program left on the host
    expect(lstatSync(join(root, "inside.txt")).mode & 0o7777).toBe(0o755);
    const created = sys(OPENAT, AT_FDCWD, "setuid.txt", O_WRONLY | O_CREAT, 0o4755);
    expect(created).toBeGreaterThanOrEqual(0);
    expect(lstatSync(join(root, "setuid.txt")).mode & 0o7000).toBe(0);
    expect(sys(UTIMENSAT, AT_FDCWD, "file-link", putTimes(1000, 2000), 0)).toBe(0);
    expect(lstatSync(join(root, "inside.txt")).mtimeMs).toBe(2_000_000);
    expect(sys(TRUNCATE64, "to-sub/deep/back", 3, 0)).toBe(0);
    expect(readFileSync(join(root, "sub", "f.txt"), "utf8")).toBe("sub");
    expect(sys(TRUNCATE64, "to-sub", 0, 0)).toBe(-Errno.EISDIR);
    expect(sys(TRUNCATE64, "inside.txt", 0, 0x80000000)).toBe(-Errno.EINVAL); // negative
    expect(sys(LINKAT, AT_FDCWD, "file-link", AT_FDCWD, "to-sub/hard", AT_SYMLINK_FOLLOW)).toBe(0);
    expect(lstatSync(join(root, "sub", "hard")).ino).toBe(lstatSync(join(root, "inside.txt")).ino);
    expect(sys(LINKAT, AT_FDCWD, "file-link", AT_FDCWD, "soft-hard", 0)).toBe(0);
    expect(lstatSync(join(root, "soft-hard")).isSymbolicLink()).toBe(true);
    expect(sys(LINKAT, AT_FDCWD, "to-sub", AT_FDCWD, "dir-hard", AT_SYMLINK_FOLLOW)).toBe(-Errno.EPERM);
    expect(sys(LINKAT, AT_FDCWD, "inside.txt/", AT_FDCWD, "y", 0)).toBe(-Errno.ENOTDIR);
    expect(sys(LINKAT, AT_FDCWD, "inside.txt", AT_FDCWD, "y/", 0)).toBe(-Errno.ENOENT);
    // futimens: utimensat with no path, on an open fd; UTIME_OMIT keeps a time
    const fd = sys(OPENAT, AT_FDCWD, "to-sub/f.txt", O_RDONLY, 0);
    const b = Buffer.alloc(32);
    b.writeBigInt64LE(5000n, 0);
    b.writeBigInt64LE(BigInt((1 << 30) - 2), 24); // mtime: UTIME_OMIT
    c.space.write(TIMES, b);
    const mtime = lstatSync(join(root, "sub", "f.txt")).mtimeMs;
    expect(sys(UTIMENSAT, fd, 0, TIMES, 0)).toBe(0);
    const st = lstatSync(join(root, "sub", "f.txt"));
    expect(st.atimeMs).toBe(5_000_000);
    expect(Math.abs(st.mtimeMs - mtime)).toBeLessThan(0.01);
  });
});

describe("the base layer beneath the root (src/kernel/base-layer.ts)", () => {
  /** getdents64 of a directory: its names. */
  function namesIn(dir: string): string[] {
    const dfd = sys(OPENAT, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    expect(dfd).toBeGreaterThanOrEqual(0);
    const names: string[] = [];
    for (let n = sys(GETDENTS64, dfd, OUT, 4096); n > 0; n = sys(GETDENTS64, dfd, OUT, 4096)) {
      const bytes = Buffer.from(c.space.read(OUT, n)!);
      for (let at = 0; at < n; at += bytes.readUInt16LE(at + 16)) names.push(bytes.toString("latin1", at + 19, bytes.indexOf(0, at + 19)));
    }
    sys(CLOSE, dfd);
    return names;
  }
  const header = (p: string) => { const fd = sys(OPENAT, AT_FDCWD, p, O_RDONLY, 0); return fd < 0 ? fd : readAll(fd).slice(0, 4); };

  test("its names are walked like the root's: dots, a link of the root into it, a working directory in it", () => {
    expect(header("/bin/sh")).toBe("\x7fELF");
    expect(header("/bin/../etc/./passwd")).toBe("root");
    expect(header("sub/../../usr/bin/env")).toBe("\x7fELF");
    link("mysh", "/bin/sh");
    link("tools", "../usr/bin");
    expect(header("mysh")).toBe("\x7fELF");
    expect(header("tools/env")).toBe("\x7fELF");
    expect(modeOf("/bin")).toBe(0o040000);
    expect(modeOf("/bin/.")).toBe(0o040000);
    expect(modeOf("/usr/bin/..")).toBe(0o040000);
    expect(sys(OPENAT, AT_FDCWD, "/bin/nothing", O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(OPENAT, AT_FDCWD, "/bin/nothing/x", O_RDONLY, 0)).toBe(-Errno.ENOENT);
    expect(sys(OPENAT, AT_FDCWD, "/bin/sh/x", O_RDONLY, 0)).toBe(-Errno.ENOTDIR);
    expect(sys(OPENAT, AT_FDCWD, "/bin/sh/", O_RDONLY, 0)).toBe(-Errno.ENOTDIR);
    expect(sys(CHDIR, "/usr/bin")).toBe(0);
    expect(sys(GETCWD, OUT, 256)).toBeGreaterThan(0);
    expect(Buffer.from(c.space.read(OUT, 9)!).toString()).toBe("/usr/bin\0");
    expect(header("env")).toBe("\x7fELF");
    expect(header("../../inside.txt")).toBe("insi");
    expect(existsSync(join(root, "usr")) || existsSync(join(root, "bin")) || existsSync(join(root, "etc"))).toBe(false);
  });

  test("a directory the root has too shows both; a name of the root hides the layer's", () => {
    mkdirSync(join(root, "bin"));
    writeFileSync(join(root, "bin", "mine"), "mine\n");
    writeFileSync(join(root, "bin", "ls"), "my ls\n");
    const names = namesIn("/bin");
    expect(names).toContain("mine");
    expect(names).toContain("sh");
    expect(names.filter((n) => n === "ls")).toEqual(["ls"]); // once
    expect(header("/bin/ls")).toBe("my l");
    expect(header("/bin/cat")).toBe("\x7fELF");
    expect(namesIn("/")).toEqual(expect.arrayContaining(["bin", "etc", "usr", "dev", "inside.txt", "sub"]));
    expect(namesIn("/etc").sort()).toEqual([".", "..", "group", "hosts", "passwd"]);
  });

  test("nothing of the layer is written: a change goes to the root's own copy, made first", () => {
    const layerPasswd = join(__dirname, "..", "..", "guests", "base", "etc", "passwd");
    const passwd = readFileSync(layerPasswd, "utf8");
    // made in a directory of the layer: the directory is made in the root
    const fd = sys(OPENAT, AT_FDCWD, "/etc/app.conf", O_WRONLY | O_CREAT | O_EXCL, 0o644);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(sys(WRITE, fd, "x=1\n", 4)).toBe(4);
    expect(readFileSync(join(root, "etc", "app.conf"), "utf8")).toBe("x=1\n");
    expect(readdirSync(join(root, "etc"))).toEqual(["app.conf"]);
    expect(namesIn("/etc").sort()).toEqual([".", "..", "app.conf", "group", "hosts", "passwd"]);
    // a file of the layer written: copied, then written
    const w = sys(OPENAT, AT_FDCWD, "/etc/passwd", O_WRONLY | 0o2000 /* O_APPEND */, 0);
    expect(sys(WRITE, w, "me:x:1:1::/:/bin/sh\n", 20)).toBe(20);
    expect(readFileSync(join(root, "etc", "passwd"), "utf8")).toBe(`${passwd}me:x:1:1::/:/bin/sh\n`);
    expect(readFileSync(layerPasswd, "utf8")).toBe(passwd); // the layer's own file is as it was
    // removing what only the layer has: EROFS; O_CREAT|O_EXCL on its name: EEXIST; mkdir of its directory: EEXIST
    expect(sys(UNLINKAT, AT_FDCWD, "/etc/group", 0)).toBe(-Errno.EROFS);
    expect(sys(UNLINKAT, AT_FDCWD, "/usr/bin", AT_REMOVEDIR)).toBe(-Errno.EROFS);
    expect(sys(RENAMEAT, AT_FDCWD, "/bin/sh", AT_FDCWD, "sh")).toBe(-Errno.EROFS);
    expect(sys(OPENAT, AT_FDCWD, "/bin/sh", O_WRONLY | O_CREAT | O_EXCL, 0o755)).toBe(-Errno.EEXIST);
    expect(sys(MKDIRAT, AT_FDCWD, "/usr", 0o755)).toBe(-Errno.EEXIST);
    expect(sys(OPENAT, AT_FDCWD, "/usr", O_WRONLY, 0)).toBe(-Errno.EISDIR);
    expect(existsSync(join(root, "usr")) || existsSync(join(root, "bin"))).toBe(false);
    // replacing a name of the layer: the root's hides it
    writeFileSync(join(root, "new-hosts"), "10.0.0.1 here\n");
    expect(sys(RENAMEAT, AT_FDCWD, "new-hosts", AT_FDCWD, "/etc/hosts")).toBe(0);
    expect(header("/etc/hosts")).toBe("10.0");
    expect(sys(UNLINKAT, AT_FDCWD, "/etc/hosts", 0)).toBe(0); // the root's copy goes; the layer's shows again
    expect(header("/etc/hosts")).toBe("127.");
    // a new name for a file of the layer: its copy in the root gets it
    expect(sys(37 /* linkat */, AT_FDCWD, "/etc/group", AT_FDCWD, "my-group", 0)).toBe(0);
    expect(lstatSync(join(root, "my-group")).ino).toBe(lstatSync(join(root, "etc", "group")).ino);
    expect(readFileSync(join(root, "my-group"), "utf8")).toBe("root:x:0:\n");
    outsideUntouched();
  });
});
