// --strace's lines: strings, buffers and flags decoded, errors by name, as strace prints them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { formatSyscall } from "../../src/kernel/strace.js";
import { runSyscall, type SyscallContext } from "../../src/kernel/syscalls.js";
import { spaceOver, unitContext, quietConsole } from "./unit-context.js";

const ram = new Uint8Array(4 << 20);
const DATA = 0x20000;
let dir: string;
let c: SyscallContext;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "roam-strace-"));
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + 4 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  c = unitContext(space, dir, { monotonicNs: () => 0n, realtimeNs: () => 0n }, quietConsole());
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a call and formats it as --strace would. */
function traced(n: number, args: number[], showPid = false): string {
  const a = [...args, 0, 0, 0, 0, 0, 0].slice(0, 6).map((v) => v >>> 0);
  const outcome = runSyscall(c, n, a) ?? { kind: "return" as const, value: -38 };
  return formatSyscall(c, n, a, outcome, showPid);
}

test("openat, read, write and close as strace shows them", () => {
  writeFileSync(join(dir, "f.txt"), "hello\n\tworld \"quoted\" and a long tail after it\n");
  c.space.write(DATA, Buffer.from("f.txt\0"));
  expect(traced(56, [-100, DATA, 0o100000, 0])).toBe('openat(AT_FDCWD, "f.txt", O_RDONLY|O_LARGEFILE) = 3');
  expect(traced(63, [3, DATA + 64, 4096])).toBe('read(3, "hello\\n\\tworld \\"quoted\\" and a long"..., 4096) = 47');
  c.space.write(DATA + 512, Buffer.from("out\n"));
  expect(traced(64, [1, DATA + 512, 4])).toBe('write(1, "out\\n", 4) = 4');
  expect(traced(57, [3])).toBe("close(3) = 0");
  c.space.write(DATA, Buffer.from("new\0"));
  expect(traced(56, [-100, DATA, 0o1101, 0o644], true)).toBe('[pid 1000] openat(AT_FDCWD, "new", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3');
});

test("errors by name and strerror's words; addresses in hex; unknown calls by number", () => {
  c.space.write(DATA, Buffer.from("nope\0"));
  expect(traced(56, [-100, DATA, 0, 0])).toBe('openat(AT_FDCWD, "nope", O_RDONLY) = -1 ENOENT (No such file or directory)');
  expect(traced(63, [77, DATA, 10])).toBe("read(77, 0x20000, 10) = -1 EBADF (Bad file descriptor)");
  expect(traced(226, [DATA, 4096, 1])).toBe("mprotect(0x20000, 4096, PROT_READ) = 0");
  expect(traced(999, [1, 2, 3])).toBe("syscall_0x3e7(0x1, 0x2, 0x3) = -1 ENOSYS (Function not implemented)");
  expect(traced(56, [-100, 0x10, 0, 0])).toBe("openat(AT_FDCWD, 0x10, O_RDONLY) = -1 EFAULT (Bad address)");
});

test("an exit says what the process exited with", () => {
  expect(formatSyscall(c, 94, [3, 0, 0, 0, 0, 0], { kind: "exit", code: 3 }, false)).toBe("exit_group(3) = ?\n+++ exited with 3 +++");
});

test("socket calls: families, types with their flags, AF_UNIX paths and abstract names, shutdown and message flags", () => {
  expect(traced(198, [1, 1 | 0o4000 | 0o2000000, 0])).toBe("socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 3");
  expect(traced(198, [10, 1, 0])).toBe("socket(AF_INET6, SOCK_STREAM, 0) = -1 EAFNOSUPPORT (Address family not supported by protocol)");
  c.space.write(DATA, Buffer.from([1, 0, ...Buffer.from("srv.sock"), 0]));
  expect(traced(200, [3, DATA, 11])).toBe('bind(3, {sa_family=AF_UNIX, sun_path="srv.sock"}, 11) = 0');
  c.space.write(DATA, Buffer.from([1, 0, 0, ...Buffer.from("name")]));
  expect(traced(203, [3, DATA, 7])).toBe('connect(3, {sa_family=AF_UNIX, sun_path=@"name"}, 7) = -1 ECONNREFUSED (Connection refused)');
  expect(traced(210, [3, 1])).toBe("shutdown(3, SHUT_WR) = 0");
  c.space.write(DATA + 64, Buffer.from("x"));
  expect(traced(206, [3, DATA + 64, 1, 0x4040, 0, 0])).toBe('sendto(3, "x", 1, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = -1 ENOTCONN (Transport endpoint is not connected)');
});
