// Files and devices on their own: pread64/pwrite64, ftruncate64, fsync, fchown,
// fchmod, umask, statfs64, readlink of /proc/self/exe, and the virtual /dev.
import { ProcFs } from "../../src/kernel/procfs.js";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import type { SyscallContext } from "../../src/kernel/syscalls.js";
import { spaceOver, unitContext, callIn, quietConsole } from "./unit-context.js";

const ram = new Uint8Array(4 << 20);
const DATA = 0x20000;
const AT_FDCWD = -100, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_APPEND = 0o2000, O_DIRECTORY = 0o200000;

let dir: string;
let c: SyscallContext;
let output: Buffer[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "roam-files-"));
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + 16 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  output = [];
  c = unitContext(space, dir, { monotonicNs: () => process.hrtime.bigint(), realtimeNs: () => BigInt(Date.now()) * 1_000_000n },
    quietConsole({ write: (_s, b) => void output.push(Buffer.from(b)) }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const call = (n: number, ...args: number[]) => callIn(c, n, ...args);
const putString = (at: number, s: string) => c.space.write(at, Buffer.from(s + "\0"));
const open = (p: string, flags: number, mode = 0o644) => { putString(DATA + 0x3000, p); return call(56, AT_FDCWD, DATA + 0x3000, flags, mode); };
const bytesAt = (at: number, n: number) => Buffer.from(c.space.read(at, n)!.buffer); // its own ArrayBuffer, offset 0
/**
 * Maps the page at `va` to a frame away from its neighbours': the kernel puts a page at its linear frame (frames.ts),
 * so a page a linear window away, touched first, takes that frame and `va`'s page gets another.
 */
function awayFromNeighbours(va: number): void {
  const alias = va + (c.space.allocator.linearMask + 1) * 4096;
  c.space.addRegion({ start: alias, end: alias + 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  c.space.write(alias, Buffer.from([1]));
  c.space.write(va, Buffer.from([1]));
  expect(c.space.ramOffset(va, 0)).not.toBe(c.space.ramOffset(va - 4096, 0) + 4096);
}

describe("positioned I/O and sizes", () => {
  test("pread64 and pwrite64 leave the offset alone; pipes, directories and bad offsets fail as the man page says", () => {
    writeFileSync(join(dir, "f"), "0123456789");
    const fd = open("f", O_RDWR);
    expect(call(67, fd, DATA, 4, 3, 0)).toBe(4);
    expect(bytesAt(DATA, 4).toString()).toBe("3456");
    c.space.write(DATA, Buffer.from("ab"));
    expect(call(68, fd, DATA, 2, 8, 0)).toBe(2);
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("01234567ab");
    expect(call(63, fd, DATA, 3)).toBe(3); // the offset is still 0
    expect(bytesAt(DATA, 3).toString()).toBe("012");
    expect(call(67, fd, DATA, 4, 0xffffffff, 0xffffffff)).toBe(-Errno.EINVAL); // "offset is negative"
    expect(call(67, 0, DATA, 4, 0, 0)).toBe(-Errno.ESPIPE); // the console
    expect(call(67, 99, DATA, 4, 0, 0)).toBe(-Errno.EBADF);
    expect(call(67, fd, 0x10, 4, 0, 0)).toBe(-Errno.EFAULT);
    const d = open(".", O_RDONLY | O_DIRECTORY);
    expect(call(67, d, DATA, 4, 0, 0)).toBe(-Errno.EISDIR);
    const ro = open("f", O_RDONLY);
    expect(call(68, ro, DATA, 2, 0, 0)).toBe(-Errno.EBADF); // "fd is not open for writing"
  });

  test("read goes straight into the buffer: across pages whose frames are apart, short at the end; EFAULT consumes nothing", () => {
    const content = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    writeFileSync(join(dir, "f"), content);
    c.space.write(DATA + 0x5000, Buffer.from([1]));
    awayFromNeighbours(DATA + 0x6000); // the buffer is not contiguous in RAM
    const fd = open("f", O_RDONLY);
    expect(call(63, fd, DATA + 0x5800, 6000)).toBe(6000);
    expect(bytesAt(DATA + 0x5800, 6000).equals(content.subarray(0, 6000))).toBe(true);
    expect(call(63, fd, DATA + 0x5800, 6000)).toBe(3000); // "fewer bytes ... because we are close to end-of-file"
    expect(bytesAt(DATA + 0x5800, 3000).equals(content.subarray(6000))).toBe(true);
    expect(call(63, fd, DATA, 10)).toBe(0);
    // "buf is outside your accessible address space": a read-only second page; the file's offset does not move.
    c.space.addRegion({ start: 0x80000, end: 0x81000, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
    c.space.addRegion({ start: 0x81000, end: 0x82000, prot: PROT_READ, kind: "mmap" });
    const again = open("f", O_RDONLY);
    expect(call(63, again, 0x80800, 4096)).toBe(-Errno.EFAULT);
    expect(call(63, again, DATA, 4)).toBe(4);
    expect(bytesAt(DATA, 4).equals(content.subarray(0, 4))).toBe(true);
    const d = open(".", O_RDONLY | O_DIRECTORY);
    expect(call(63, d, DATA, 4)).toBe(-Errno.EISDIR);
  });

  test("the host reads into a buffer across pages in one view when their frames are adjacent, a view each when apart", () => {
    const viewsFor = (at: number) => {
      const lengths: number[] = [];
      expect(c.space.fillInPlace(at, 6000, (views) => { views.forEach((v, i) => { lengths.push(v.length); v.fill(i + 1); }); return 6000; }, undefined, 0)).toBe(6000);
      return lengths;
    };
    // Pages at their linear frames (frames.ts) follow each other in RAM: one read(2) serves both.
    expect(viewsFor(DATA + 0xa800)).toEqual([6000]);
    expect(bytesAt(DATA + 0xa800, 6000).every((b) => b === 1)).toBe(true);
    // A page whose linear frame another page (a window away) took first sits elsewhere: two views, in order.
    c.space.write(DATA + 0xc000, Buffer.from([1]));
    awayFromNeighbours(DATA + 0xd000);
    expect(viewsFor(DATA + 0xc800)).toEqual([2048, 3952]);
    expect(bytesAt(DATA + 0xc800, 2048).every((b) => b === 1)).toBe(true);
    expect(bytesAt(DATA + 0xd000, 3952).every((b) => b === 2)).toBe(true);
    const alias = DATA + 0xd000 + (c.space.allocator.linearMask + 1) * 4096;
    expect(bytesAt(alias, 1)[0]).toBe(1); // the other page's frame untouched
  });

  test("write and pwrite64 go straight from the buffer, across pages whose frames are apart; EFAULT writes nothing", () => {
    const content = Buffer.from(Array.from({ length: 6000 }, (_, i) => (i * 13 + (i >> 8)) & 0xff));
    c.space.write(DATA + 0x8000, Buffer.from([1]));
    awayFromNeighbours(DATA + 0x9000);
    c.space.write(DATA + 0x8800, content);
    const fd = open("out", O_WRONLY | O_CREAT);
    expect(call(64, fd, DATA + 0x8800, 6000)).toBe(6000);
    expect(readFileSync(join(dir, "out")).equals(content)).toBe(true);
    expect(call(68, fd, DATA + 0x8800, 3, 2, 0)).toBe(3); // pwrite64 at offset 2, the file's offset unmoved
    expect(call(64, fd, DATA + 0x8800 + 5997, 3)).toBe(3);
    const expected = Buffer.concat([content.subarray(0, 2), content.subarray(0, 3), content.subarray(5, 6000), content.subarray(5997)]);
    expect(readFileSync(join(dir, "out")).equals(expected)).toBe(true);
    // "buf is outside your accessible address space": the second page is not mapped at all.
    c.space.addRegion({ start: 0x80000, end: 0x81000, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
    expect(call(64, fd, 0x80800, 4096)).toBe(-Errno.EFAULT);
    expect(call(68, fd, 0x80800, 4096, 0, 0)).toBe(-Errno.EFAULT);
    expect(readFileSync(join(dir, "out")).equals(expected)).toBe(true);
    const appending = open("out", O_WRONLY | O_APPEND);
    expect(call(64, appending, DATA + 0x8800, 4)).toBe(4);
    expect(readFileSync(join(dir, "out")).subarray(6003).equals(content.subarray(0, 4))).toBe(true);
  });

  test("ftruncate64 sets the size of a file open for writing; EINVAL otherwise", () => {
    writeFileSync(join(dir, "f"), "0123456789");
    const fd = open("f", O_WRONLY);
    expect(call(46, fd, 4, 0)).toBe(0);
    expect(statSync(join(dir, "f")).size).toBe(4);
    expect(call(46, fd, 0x10000, 0)).toBe(0);
    expect(statSync(join(dir, "f")).size).toBe(0x10000);
    expect(call(46, open("f", O_RDONLY), 1, 0)).toBe(-Errno.EINVAL);
    expect(call(46, fd, 0xffffffff, 0xffffffff)).toBe(-Errno.EINVAL);
    expect(call(46, 1, 0, 0)).toBe(-Errno.EINVAL); // the console is not a regular file
    expect(call(46, 77, 0, 0)).toBe(-Errno.EBADF);
  });

  test("fsync and fdatasync sync files, refuse the console; sync succeeds", () => {
    const fd = open("f", O_WRONLY | O_CREAT);
    expect(call(82, fd)).toBe(0);
    expect(call(83, fd)).toBe(0);
    expect(call(82, 1)).toBe(-Errno.EINVAL);
    expect(call(82, 50)).toBe(-Errno.EBADF);
    expect(call(81)).toBe(0);
  });
});

test("record locks with musl riscv32's 64-bit commands (F_GETLK64/F_SETLK64/F_SETLKW64), as SQLite takes them", () => {
  const fd = open("db", O_RDWR | O_CREAT);
  const flock = new Uint8Array(32);
  flock[0] = 1; // F_WRLCK
  c.space.write(DATA, flock);
  expect(call(25, fd, 13, DATA)).toBe(0); // F_SETLK64
  expect(call(25, fd, 14, DATA)).toBe(0); // F_SETLKW64
  expect(call(25, fd, 12, DATA)).toBe(0); // F_GETLK64: nobody else holds one
  expect(bytesAt(DATA, 2).readUInt16LE(0)).toBe(2); // F_UNLCK
});

describe("writev to the console", () => {
  /** An iovec at DATA + 0x4000 of `parts` (address, length). */
  const iovec = (...parts: Array<[number, number]>) => {
    const v = Buffer.alloc(parts.length * 8);
    parts.forEach(([at, len], i) => { v.writeUInt32LE(at >>> 0, i * 8); v.writeUInt32LE(len, i * 8 + 4); });
    c.space.write(DATA + 0x4000, v);
    return DATA + 0x4000;
  };

  test("its parts go out in one write, as musl's stdio sends its buffer and the new bytes", () => {
    c.space.write(DATA, Buffer.from("hello, "));
    c.space.write(DATA + 0x1ffe, Buffer.from("world\n")); // across a page boundary
    expect(call(66, 1, iovec([DATA, 7], [DATA + 0x100, 0], [DATA + 0x1ffe, 6]), 3)).toBe(13);
    expect(output.map((b) => b.toString())).toEqual(["hello, world\n"]);
  });

  test("a part the guest cannot read ends it: what came before is written (a short write), else EFAULT", () => {
    c.space.write(DATA, Buffer.from("kept"));
    expect(call(66, 2, iovec([DATA, 4], [0xdead0000, 4], [DATA, 4]), 3)).toBe(4);
    expect(call(66, 2, iovec([0xdead0000, 4], [DATA, 4]), 2)).toBe(-Errno.EFAULT);
    expect(call(66, 1, iovec([0xdead0000, 0]), 1)).toBe(0); // nothing to write: nothing read
    expect(output.map((b) => b.toString())).toEqual(["kept"]);
    expect(call(66, 0, iovec([DATA, 4]), 1)).toBe(-Errno.EBADF); // stdin is not written
  });
});

describe("links, directories and locks", () => {
  test("symlinkat makes a link read with the sandbox as /; fchdir; flock; faccessat2", () => {
    writeFileSync(join(dir, "target.txt"), "through the link");
    putString(DATA, "/target.txt");
    putString(DATA + 64, "link");
    expect(call(36, DATA, AT_FDCWD, DATA + 64)).toBe(0);
    expect(call(36, DATA, AT_FDCWD, DATA + 64)).toBe(-Errno.EEXIST);
    expect(call(78, AT_FDCWD, DATA + 64, DATA + 128, 100)).toBe(11);
    const fd = open("link", O_RDONLY);
    expect(call(63, fd, DATA + 256, 100)).toBe(16);
    putString(DATA + 64, "/dev/nope");
    expect(call(36, DATA, AT_FDCWD, DATA + 64)).toBe(-Errno.EACCES);
    putString(DATA, "");
    putString(DATA + 64, "empty");
    expect(call(36, DATA, AT_FDCWD, DATA + 64)).toBe(-Errno.ENOENT);
    expect(call(36, 0x10, AT_FDCWD, DATA + 64)).toBe(-Errno.EFAULT);

    mkdirSync(join(dir, "sub"));
    const sub = open("sub", O_RDONLY | O_DIRECTORY);
    expect(call(50, sub)).toBe(0);
    expect(call(17, DATA, 100)).toBe(5);
    expect(bytesAt(DATA, 4).toString()).toBe("/sub");
    expect(call(50, fd)).toBe(-Errno.ENOTDIR);
    expect(call(50, 99)).toBe(-Errno.EBADF);

    expect(call(32, fd, 2 | 4)).toBe(0); // LOCK_EX | LOCK_NB
    expect(call(32, fd, 8)).toBe(0); // LOCK_UN
    expect(call(32, fd, 3)).toBe(-Errno.EINVAL);
    expect(call(32, 99, 2)).toBe(-Errno.EBADF);

    putString(DATA, "/target.txt");
    expect(call(439, AT_FDCWD, DATA, 4, 0x200)).toBe(0); // R_OK, AT_EACCESS
    expect(call(439, AT_FDCWD, DATA, 4, 0x8)).toBe(-Errno.EINVAL);
  });
});

describe("owners, modes and the umask", () => {
  test("fchown and fchownat are accepted without changing the host owner; missing files are ENOENT", () => {
    writeFileSync(join(dir, "f"), "x");
    const before = statSync(join(dir, "f"));
    const fd = open("f", O_RDONLY);
    expect(call(55, fd, 0, 0)).toBe(0);
    expect(call(55, 40, 0, 0)).toBe(-Errno.EBADF);
    putString(DATA, "f");
    expect(call(54, AT_FDCWD, DATA, 0, 0, 0)).toBe(0);
    putString(DATA, "missing");
    expect(call(54, AT_FDCWD, DATA, 0, 0, 0)).toBe(-Errno.ENOENT);
    expect(call(54, AT_FDCWD, DATA, 0, 0, 0x4)).toBe(-Errno.EINVAL);
    putString(DATA, "");
    expect(call(54, fd, DATA, 0, 0, 0x1000)).toBe(0); // AT_EMPTY_PATH
    expect(call(54, AT_FDCWD, 0x10, 0, 0, 0)).toBe(-Errno.EFAULT);
    expect(statSync(join(dir, "f")).uid).toBe(before.uid);
  });

  test("fchmod changes an open file's permission bits", () => {
    writeFileSync(join(dir, "f"), "x");
    const fd = open("f", O_RDONLY);
    expect(call(52, fd, 0o4751)).toBe(0);
    expect(statSync(join(dir, "f")).mode & 0o7777).toBe(0o751); // no set-ID bits on the host
    expect(call(52, 33, 0o600)).toBe(-Errno.EBADF);
  });

  test("umask returns the old mask; open and mkdirat apply the new one", () => {
    expect(call(166, 0o077)).toBe(0o022);
    expect(call(166, 0o1002)).toBe(0o077); // mask & 0777
    expect(call(166, 0o027)).toBe(0o002);
    open("made", O_WRONLY | O_CREAT, 0o666);
    expect(statSync(join(dir, "made")).mode & 0o777).toBe(0o640);
    putString(DATA, "d");
    expect(call(34, AT_FDCWD, DATA, 0o777)).toBe(0);
    expect(statSync(join(dir, "d")).mode & 0o777).toBe(0o750);
    call(166, 0);
    putString(DATA, "e");
    expect(call(34, AT_FDCWD, DATA, 0o777)).toBe(0);
    expect(statSync(join(dir, "e")).mode & 0o777).toBe(0o777); // not the host process's umask
    open("made0", O_WRONLY | O_CREAT, 0o666);
    expect(statSync(join(dir, "made0")).mode & 0o777).toBe(0o666);
  });
});

describe("statfs and /proc links", () => {
  test("statfs64 and fstatfs64 fill the 88-byte struct; a wrong size is EINVAL", () => {
    putString(DATA, "/");
    expect(call(43, DATA, 88, DATA + 256)).toBe(0);
    const v = new DataView(bytesAt(DATA + 256, 88).buffer);
    expect(v.getUint32(4, true)).toBeGreaterThan(0); // f_bsize
    expect(v.getBigUint64(8, true)).toBeGreaterThan(0n); // f_blocks
    expect(v.getUint32(56, true)).toBe(255);
    expect(call(43, DATA, 64, DATA + 256)).toBe(-Errno.EINVAL);
    putString(DATA, "/nope");
    expect(call(43, DATA, 88, DATA + 256)).toBe(-Errno.ENOENT);
    const fd = open(".", O_RDONLY | O_DIRECTORY);
    expect(call(44, fd, 88, DATA + 256)).toBe(0);
    expect(call(44, fd, 88, 0x10)).toBe(-Errno.EFAULT);
    expect(call(44, 66, 88, DATA + 256)).toBe(-Errno.EBADF);
  });

  test("readlinkat of /proc/self/exe is the program (its path when it is the one the guest started with), /proc/self/fd/N the file", () => {
    // The process as /proc sees it (procfs.ts): the caller, on the hart.
    const me = { pid: 1000, tgid: 1000, exe: "", files: c.files, status: "running" };
    Object.assign(c.kernel, { current: me, options: { argv: ["bin/prog.elf"] } });
    c.kernel.tasks.set(1000, me as never);
    c.files.shared.proc = new ProcFs(c.kernel);
    putString(DATA, "/proc/self/exe");
    expect(call(78, AT_FDCWD, DATA, DATA + 256, 100)).toBe("/bin/prog.elf".length);
    expect(bytesAt(DATA + 256, 13).toString()).toBe("/bin/prog.elf");
    me.exe = "/usr/bin/other";
    expect(call(78, AT_FDCWD, DATA, DATA + 256, 4)).toBe(4); // cut to bufsiz
    expect(bytesAt(DATA + 256, 4).toString()).toBe("/usr");
    mkdirSync(join(dir, "sub"));
    const fd = open("sub/x", O_WRONLY | O_CREAT);
    putString(DATA, `/proc/self/fd/${fd}`);
    expect(call(78, AT_FDCWD, DATA, DATA + 256, 100)).toBe("/sub/x".length);
    putString(DATA, "/proc/self/fd/77");
    expect(call(78, AT_FDCWD, DATA, DATA + 256, 100)).toBe(-Errno.ENOENT);
  });
});

describe("the virtual /dev", () => {
  test("/dev/null, /dev/zero, /dev/full and /dev/urandom read and write as on Linux, whatever the sandbox has at dev/", () => {
    mkdirSync(join(dir, "dev"));
    writeFileSync(join(dir, "dev", "null"), "not a device");
    const nul = open("/dev/null", O_RDWR);
    expect(call(63, nul, DATA, 10)).toBe(0);
    c.space.write(DATA, Buffer.from("hello"));
    expect(call(64, nul, DATA, 5)).toBe(5);
    expect(readFileSync(join(dir, "dev", "null"), "utf8")).toBe("not a device");
    const zero = open("/dev/zero", O_RDONLY);
    c.space.write(DATA, Buffer.alloc(8, 0xff));
    expect(call(63, zero, DATA, 8)).toBe(8);
    expect([...bytesAt(DATA, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(call(64, zero, DATA, 8)).toBe(-Errno.EBADF); // opened read-only
    const full = open("/dev/full", O_WRONLY);
    expect(call(64, full, DATA, 8)).toBe(-Errno.ENOSPC);
    const random = open("/dev/urandom", O_RDONLY);
    expect(call(63, random, DATA, 64)).toBe(64);
    expect(bytesAt(DATA, 64).some((b) => b !== 0)).toBe(true);
    expect(call(62, random, 0, 0, DATA + 512, 0)).toBe(0); // lseek on a device: position 0
  });

  test("fstat and stat say character device with Linux's major and minor", () => {
    const expected: Record<string, [number, number]> = { null: [1, 3], zero: [1, 5], full: [1, 7], random: [1, 8], urandom: [1, 9], tty: [5, 0] };
    c.console.isTerminal = () => true; // /dev/tty opens only with a terminal
    for (const [name, [major, minor]] of Object.entries(expected)) {
      const fd = open(`/dev/${name}`, O_RDONLY);
      expect(call(80, fd, DATA + 256)).toBe(0);
      const st = new DataView(bytesAt(DATA + 256, 104).buffer);
      expect(st.getUint32(16, true)).toBe(0o020666);
      expect(Number(st.getBigUint64(32, true))).toBe((major << 8) | minor);
      putString(DATA, `/dev/${name}`);
      expect(call(291, AT_FDCWD, DATA, 0, 0x7ff, DATA + 512)).toBe(0);
      const sx = new DataView(bytesAt(DATA + 512, 256).buffer);
      expect(sx.getUint16(28, true)).toBe(0o020666);
      expect([sx.getUint32(128, true), sx.getUint32(132, true)]).toEqual([major, minor]);
    }
  });

  test("/dev/tty without a terminal: ENXIO, as with no controlling terminal", () => {
    expect(open("/dev/tty", O_RDWR)).toBe(-Errno.ENXIO);
    expect(c.files.files.size).toBe(3); // nothing left open
  });

  test("/dev lists its devices; nothing can be made or removed there", () => {
    const fd = open("/dev", O_RDONLY | O_DIRECTORY);
    const n = call(61, fd, DATA, 4096);
    const names: string[] = [];
    for (let at = 0; at < n;) {
      const rec = bytesAt(DATA + at, 280);
      const len = rec.readUInt16LE(16);
      names.push(rec.subarray(19, rec.indexOf(0, 19)).toString());
      at += len;
    }
    expect(names).toEqual([".", "..", "full", "null", "random", "stderr", "stdin", "stdout", "tty", "urandom", "zero"]);
    putString(DATA, "/dev/x");
    expect(call(34, AT_FDCWD, DATA, 0o755)).toBe(-Errno.EACCES);
    expect(open("/dev/x", O_WRONLY | O_CREAT)).toBe(-Errno.ENOENT);
    putString(DATA, "/dev/null");
    expect(call(35, AT_FDCWD, DATA, 0)).toBe(-Errno.EPERM);
    expect(open("/dev/null/x", O_RDONLY)).toBe(-Errno.ENOTDIR);
    putString(DATA, "/dev/stdout");
    expect(call(78, AT_FDCWD, DATA, DATA + 256, 100)).toBe(15);
    expect(bytesAt(DATA + 256, 15).toString()).toBe("/proc/self/fd/1");
  });

  test("stat of /dev/stdout follows it to fd 1 (a pipe here), lstat sees the link; / lists dev", () => {
    putString(DATA, "/dev/stdout");
    expect(call(79, AT_FDCWD, DATA, DATA + 256, 0)).toBe(0);
    expect(bytesAt(DATA + 256, 104).readUInt32LE(16) & 0o170000).toBe(0o010000);
    expect(call(79, AT_FDCWD, DATA, DATA + 256, 0x100)).toBe(0); // AT_SYMLINK_NOFOLLOW
    expect(bytesAt(DATA + 256, 104).readUInt32LE(16) & 0o170000).toBe(0o120000);
    call(57, 1);
    expect(call(79, AT_FDCWD, DATA, DATA + 256, 0)).toBe(-Errno.ENOENT);
    const root = open("/", O_RDONLY | O_DIRECTORY);
    const n = call(61, root, DATA, 4096);
    expect(bytesAt(DATA, n).includes(Buffer.from("dev\0"))).toBe(true);
  });

  test("/dev/stdout writes where fd 1 does, a file reopened by its path", () => {
    const fd = open("/dev/stdout", O_WRONLY);
    c.space.write(DATA, Buffer.from("via /dev/stdout\n"));
    expect(call(64, fd, DATA, 16)).toBe(16);
    expect(Buffer.concat(output).toString()).toBe("via /dev/stdout\n");
    call(57, 1);
    expect(open("out.txt", O_WRONLY | O_CREAT)).toBe(1); // the lowest free descriptor
    const again = open("/dev/stdout", O_WRONLY);
    expect(call(64, again, DATA, 4)).toBe(4);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("via ");
  });
});
