// The syscall layer on its own: an address space over a plain buffer, a file
// table over a temporary directory, no hart. Checks results and error paths.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AddressSpace, PROT_READ, PROT_WRITE, type PhysicalMemory } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import { FileTable } from "../../src/kernel/files.js";
import { spaceOver, unitContext, callIn, quietConsole } from "./unit-context.js";
import { Frames } from "../../src/kernel/frames.js";
import { runSyscall, type SyscallContext } from "../../src/kernel/syscalls.js";

const ram = new Uint8Array(4 << 20);
const memory: PhysicalMemory = { ram: () => ram, ramGuestBase: 0x80000000, wrote: () => {}, flushTranslations: () => {} };
const DATA = 0x20000;

let dir: string;
let c: SyscallContext;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "roam-sys-"));
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + 16 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  space.brkStart = space.brk = 0x100000;
  space.mmapTop = 0x7000000;
  const output: Buffer[] = [];
  c = unitContext(space, dir, { monotonicNs: () => process.hrtime.bigint(), realtimeNs: () => BigInt(Date.now()) * 1_000_000n }, quietConsole({ write: (_s, b) => void output.push(Buffer.from(b)) }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const call = (n: number, ...args: number[]) => callIn(c, n, ...args);
const putString = (at: number, s: string) => c.space.write(at, Buffer.from(s + "\0"));

describe("syscalls", () => {
  test("openat + read + llseek + fstat64 on a file at offsets", () => {
    writeFileSync(join(dir, "f.txt"), "hello, world");
    putString(DATA, "f.txt");
    const fd = call(56, -100, DATA, 0, 0);
    expect(fd).toBe(3);
    expect(call(62, fd, 0, 7, DATA + 64, 0)).toBe(0); // llseek to 7
    expect(Number(new DataView(c.space.read(DATA + 64, 8)!.buffer).getBigInt64(0, true))).toBe(7);
    expect(call(63, fd, DATA + 128, 100)).toBe(5);
    expect(Buffer.from(c.space.read(DATA + 128, 5)!).toString()).toBe("world");
    expect(call(80, fd, DATA + 256)).toBe(0);
    const st = new DataView(c.space.read(DATA + 256, 104)!.buffer);
    expect(st.getUint32(16, true) & 0o170000).toBe(0o100000); // S_IFREG
    expect(Number(st.getBigInt64(48, true))).toBe(12); // st_size
    expect(call(80, 77, DATA + 256)).toBe(-Errno.EBADF);
    expect(call(80, fd, 0x10)).toBe(-Errno.EFAULT);
  });

  test("bad pointers give EFAULT, never a host exception", () => {
    expect(call(64, 1, 0xdead0000, 10)).toBe(-Errno.EFAULT);
    expect(call(63, 0, 0xffffff00, 10)).toBe(-Errno.EFAULT);
    expect(call(56, -100, 0x12, 0, 0)).toBe(-Errno.EFAULT);
    expect(call(291, -100, 0x12, 0, 0x7ff, DATA)).toBe(-Errno.EFAULT);
    expect(call(66, 1, 0x12, 3)).toBe(-Errno.EFAULT);
  });

  test("getrandom rejects unknown flags", () => {
    expect(call(278, DATA, 16, 0)).toBe(16);
    expect(call(278, DATA, 16, 0x40)).toBe(-Errno.EINVAL);
  });

  test("brk grows and shrinks; the heap pages read as zero again", () => {
    expect(call(214, 0)).toBe(0x100000);
    expect(call(214, 0x100000 + 10000)).toBe(0x100000 + 10000);
    expect(c.space.write(0x100000 + 5000, Buffer.from([7]))).toBe(true);
    expect(call(214, 0x100000)).toBe(0x100000);
    expect(c.space.read(0x100000 + 5000, 1)).toBeNull(); // gone with the shrink
    call(214, 0x100000 + 10000);
    expect(c.space.read(0x100000 + 5000, 1)![0]).toBe(0);
  });

  test("mmap anonymous, mprotect, munmap", () => {
    const at = call(222, 0, 8192, PROT_READ | PROT_WRITE, 0x22, -1, 0);
    expect(at > 0 && at % 4096 === 0).toBe(true);
    expect(c.space.write(at, Buffer.from("x"))).toBe(true);
    expect(call(226, at, 8192, PROT_READ)).toBe(0);
    expect(c.space.write(at, Buffer.from("y"))).toBe(false);
    expect(call(215, at, 8192)).toBe(0);
    expect(c.space.read(at, 1)).toBeNull();
    expect(call(222, 0, 0, 3, 0x22, -1, 0)).toBe(-Errno.EINVAL);
  });

  test("paths cannot leave the sandbox", () => {
    putString(DATA, "../../../../etc/os-release");
    expect(call(56, -100, DATA, 0, 0)).toBe(-Errno.ENOENT);
    putString(DATA, "/etc/os-release");
    expect(call(56, -100, DATA, 0, 0)).toBe(-Errno.ENOENT);
    // /etc/passwd is the base layer's (src/kernel/base-layer.ts), not the host's
    putString(DATA, "../../../../etc/passwd");
    const fd = call(56, -100, DATA, 0, 0);
    expect(fd).toBe(3);
    expect(call(63, fd, DATA + 128, 200)).toBe(30);
    expect(Buffer.from(c.space.read(DATA + 128, 30)!).toString()).toBe("root:x:0:0:root:/root:/bin/sh\n");
  });
});

describe("out of memory", () => {
  test("a system call that needs a frame when RAM is full fails with ENOMEM, not a host error", () => {
    const small = new Uint8Array(8 * 4096);
    const mem: PhysicalMemory = { ram: () => small, ramGuestBase: 0x80000000, wrote: () => {}, flushTranslations: () => {} };
    const space = new AddressSpace(new Frames(mem, small.length / 4096));
    space.addRegion({ start: DATA, end: DATA + 64 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
    const ctx = { ...c, space };
    // getrandom into 32 pages of untouched memory: there are only 8 frames.
    const r = runSyscall(ctx, 278, [DATA, 32 * 4096, 0, 0, 0, 0]);
    expect(r).toEqual({ kind: "return", value: -Errno.ENOMEM });
  });
});

describe("address-space map across a restore", () => {
  test("after heavy map/unmap churn, a restored space maps every page to the same frame", () => {
    const bigRam = new Uint8Array(16 << 20);
    const mem: PhysicalMemory = { ram: () => bigRam, ramGuestBase: 0x80000000, wrote: () => {}, flushTranslations: () => {} };
    const bigFrames = new Frames(mem, bigRam.length / 4096);
    const a = new AddressSpace(bigFrames);
    a.addRegion({ start: 0x100000, end: 0x100000 + 3000 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
    for (let round = 0; round < 6; round++) {
      for (let p = 0; p < 3000; p++) a.ramOffset(0x100000 + p * 4096, PROT_WRITE);
      if (round < 5) a.removeRange(0x100000 + 1000 * 4096, 0x100000 + 2500 * 4096); // unmap, and the region goes
      if (round < 5) a.addRegion({ start: 0x100000 + 1000 * 4096, end: 0x100000 + 2500 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
    }
    const b = AddressSpace.restore(bigFrames, a.state());
    expect(b.residentPages).toBe(a.residentPages);
    for (let p = 0; p < 3000; p += 7) expect(b.ramOffset(0x100000 + p * 4096, PROT_READ)).toBe(a.ramOffset(0x100000 + p * 4096, PROT_READ));
    // A restored space is made without its constructor: what a read(2) and a write(2) use works there too.
    expect(b.fillInPlace(0x100000, 6000, (views) => { for (const v of views) v.fill(7); return 6000; }, undefined, 0)).toBe(6000);
    expect(b.useInPlace(0x100000, 6000, (views) => views.reduce((n, v) => n + v.filter((x) => x === 7).length, 0), undefined, 0)).toBe(6000);
  });
});
