// fds 0/1/2 are what the user gave (ProcessConsole.describe): fstat and lseek
// of a terminal, a pipe, a redirected file and a device; TCGETS only on a terminal.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import type { ProcessConsole, StreamDescription, SyscallContext } from "../../src/kernel/syscalls.js";
import { spaceOver, unitContext, callIn, quietConsole } from "./unit-context.js";

const ram = new Uint8Array(1 << 20);
const DATA = 0x20000;
let dir: string;
let c: SyscallContext;
let described: StreamDescription | undefined;
let terminal = false;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "roam-streams-"));
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  described = undefined;
  terminal = false;
  const console = quietConsole({
    isTerminal: () => terminal,
    describe: () => described ?? (terminal ? { kind: "terminal" } : { kind: "pipe" }),
  });
  c = unitContext(space, dir, { monotonicNs: () => 0n, realtimeNs: () => 0n }, console);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const call = (n: number, ...args: number[]) => callIn(c, n, ...args);
const fstat = (fd: number) => {
  expect(call(80, fd, DATA)).toBe(0);
  const v = new DataView(c.space.read(DATA, 104)!.buffer);
  return { type: v.getUint32(16, true) & 0o170000, size: Number(v.getBigInt64(48, true)) };
};
const seek = (fd: number, offset: number, whence: number) => call(62, fd, 0, offset, DATA + 512, whence);

test("a pipe: S_IFIFO, lseek is ESPIPE, not a terminal", () => {
  expect(fstat(1).type).toBe(0o010000);
  expect(seek(1, 0, 1)).toBe(-Errno.ESPIPE);
  expect(call(29, 1, 0x5401, DATA)).toBe(-Errno.ENOTTY); // TCGETS
});

test("a terminal: S_IFCHR, lseek is ESPIPE, TCGETS works", () => {
  terminal = true;
  expect(fstat(0).type).toBe(0o020000);
  expect(seek(0, 0, 1)).toBe(-Errno.ESPIPE);
  expect(call(29, 0, 0x5401, DATA)).toBe(0);
});

test("a redirected file: S_IFREG with its size; lseek tells where its offset is, and cannot move it", () => {
  writeFileSync(join(dir, "out"), "123456");
  described = { kind: "host", stat: statSync(join(dir, "out")), position: 6 };
  expect(fstat(1)).toEqual({ type: 0o100000, size: 6 });
  expect(seek(1, 0, 1)).toBe(0);
  expect(Number(new DataView(c.space.read(DATA + 512, 8)!.buffer).getBigInt64(0, true))).toBe(6);
  expect(seek(1, 0, 2)).toBe(0); // SEEK_END: also 6
  expect(seek(1, 2, 0)).toBe(-Errno.ESPIPE);
  expect(call(62, 1, -1, -7, DATA + 512, 1)).toBe(-Errno.EINVAL); // before the start
  expect(call(29, 1, 0x5401, DATA)).toBe(-Errno.ENOTTY);
});

test("a device (> /dev/null): its host stat, lseek gives 0", () => {
  described = { kind: "host", stat: statSync("/dev/null") };
  expect(fstat(1).type).toBe(0o020000);
  expect(seek(1, 100, 0)).toBe(0);
});
