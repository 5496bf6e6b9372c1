// Socket calls on their own, through callIn: the edge cases a C program
// rarely reaches — wild pointers, short address buffers, vectors, full
// buffers, MSG_WAITALL, the guest's own address, what a path-name bind leaves
// in the sandbox — each with the errno Linux gives.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import { guestAddress } from "../../src/kernel/sockets/addresses.js";
import { STREAM_CAPACITY } from "../../src/kernel/sockets/socket.js";
import { runSyscall, type SyscallContext } from "../../src/kernel/syscalls.js";
import { POLLOUT, readiness } from "../../src/kernel/calls/poll.js";
import type { Kernel } from "../../src/kernel/kernel.js";
import { cannotTakeOut } from "../../src/kernel/lone-process.js";
import { callIn, spaceOver, unitContext, quietConsole } from "./unit-context.js";

const ram = new Uint8Array(8 << 20);
const DATA = 0x20000, PAGES = 200;
const BUF = DATA, ADDR = DATA + 0x100, LEN = DATA + 0x200, MSG = DATA + 0x300, IOV = DATA + 0x400, BIG = DATA + 0x10000;
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, STREAM = 1, DGRAM = 2, SEQPACKET = 5, NONBLOCK = 0o4000;
const SOCKET = 198, SOCKETPAIR = 199, BIND = 200, LISTEN = 201, CONNECT = 203, GETSOCKNAME = 204, GETPEERNAME = 205;
const SENDTO = 206, RECVFROM = 207, SETSOCKOPT = 208, GETSOCKOPT = 209, SENDMSG = 211, RECVMSG = 212, ACCEPT4 = 242;
const READ = 63, WRITE = 64, CLOSE = 57, FCNTL = 25, FSTAT = 80, IOCTL = 29, FIONREAD = 0x541b;
const MSG_PEEK = 2, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000;
const WILD = 0x10;

let dir: string;
let c: SyscallContext;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "roam-socket-calls-"));
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + PAGES * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  c = unitContext(space, dir, { monotonicNs: () => process.hrtime.bigint(), realtimeNs: () => 0n },
    quietConsole());
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const call = (n: number, ...args: number[]) => callIn(c, n, ...args);
/** The outcome of a call that may wait: "blocks", or its value. */
const tryCall = (n: number, ...args: number[]) => {
  const r = runSyscall(c, n, [...args, 0, 0, 0, 0, 0, 0].slice(0, 6).map((v) => v >>> 0))!;
  return r.kind === "return" ? r.value : r.kind === "block-event" ? "blocks" : r.kind;
};
const put = (at: number, bytes: Uint8Array | string) => c.space.write(at, typeof bytes === "string" ? Buffer.from(bytes) : bytes);
const bytesAt = (at: number, n: number) => Buffer.from(c.space.read(at, n)!);
const u32At = (at: number) => bytesAt(at, 4).readUInt32LE(0);
const putU32 = (at: number, ...values: number[]) => put(at, new Uint8Array(Uint32Array.from(values).buffer));

function inet(address: number, port: number): number {
  const a = Buffer.alloc(16);
  a.writeUInt16LE(AF_INET, 0); a.writeUInt16BE(port, 2); a.writeUInt32BE(address >>> 0, 4);
  put(ADDR, a);
  return 16;
}
function unixPath(path: string): number {
  const a = Buffer.alloc(110);
  a.writeUInt16LE(AF_UNIX, 0); a.write(path, 2);
  put(ADDR, a);
  return 2 + path.length + 1;
}
const LOOPBACK = 0x7f000001;

/** A TCP listener on 127.0.0.1 and a connected client and server end: [listener, client, server, port]. */
function tcpConnection(): [number, number, number, number] {
  const listener = call(SOCKET, AF_INET, STREAM, 0);
  expect(call(BIND, listener, ADDR, inet(LOOPBACK, 0))).toBe(0);
  expect(call(LISTEN, listener, 4)).toBe(0);
  putU32(LEN, 16);
  expect(call(GETSOCKNAME, listener, ADDR, LEN)).toBe(0);
  const port = bytesAt(ADDR + 2, 2).readUInt16BE(0);
  const client = call(SOCKET, AF_INET, STREAM, 0);
  expect(call(CONNECT, client, ADDR, inet(LOOPBACK, port))).toBe(0);
  const server = call(ACCEPT4, listener, 0, 0, 0);
  expect(server).toBeGreaterThan(0);
  return [listener, client, server, port];
}

describe("socket and socketpair", () => {
  test("families, types and protocols Linux refuses, each with its errno", () => {
    expect(call(SOCKET, AF_INET6, STREAM, 0)).toBe(-Errno.EAFNOSUPPORT);
    expect(call(SOCKET, AF_INET, SEQPACKET, 0)).toBe(-Errno.ESOCKTNOSUPPORT);
    expect(call(SOCKET, AF_UNIX, 4, 0)).toBe(-Errno.ESOCKTNOSUPPORT);
    expect(call(SOCKET, AF_INET, STREAM, 17)).toBe(-Errno.EPROTONOSUPPORT);
    expect(call(SOCKET, AF_UNIX, STREAM | 0x100, 0)).toBe(-Errno.EINVAL);
    expect(call(SOCKET, AF_INET, DGRAM, 17)).toBe(3);
    expect(call(SOCKETPAIR, AF_UNIX, STREAM, 0, WILD)).toBe(-Errno.EFAULT);
    expect(call(SOCKETPAIR, AF_INET, DGRAM, 0, BUF)).toBe(-Errno.EOPNOTSUPP);
  });

  test("a socket's fstat says S_IFSOCK; a file descriptor that is no socket is ENOTSOCK, none at all EBADF", () => {
    const s = call(SOCKET, AF_UNIX, STREAM, 0);
    expect(call(FSTAT, s, BUF)).toBe(0);
    expect(u32At(BUF + 16) & 0o170000).toBe(0o140000);
    expect(call(LISTEN, 1, 1)).toBe(-Errno.ENOTSOCK);
    expect(call(LISTEN, 77, 1)).toBe(-Errno.EBADF);
  });
});

describe("addresses", () => {
  test("getsockname with a short buffer truncates and reports the full length; wild pointers are EFAULT", () => {
    const s = call(SOCKET, AF_INET, STREAM, 0);
    expect(call(BIND, s, ADDR, inet(LOOPBACK, 4000))).toBe(0);
    put(ADDR, new Uint8Array(16).fill(0xee));
    putU32(LEN, 4);
    expect(call(GETSOCKNAME, s, ADDR, LEN)).toBe(0);
    expect(u32At(LEN)).toBe(16);
    expect([...bytesAt(ADDR, 6)]).toEqual([AF_INET, 0, 4000 >> 8, 4000 & 255, 0xee, 0xee]);
    expect(call(GETSOCKNAME, s, WILD, LEN)).toBe(-Errno.EFAULT);
    expect(call(GETSOCKNAME, s, ADDR, WILD)).toBe(-Errno.EFAULT);
    putU32(LEN, 0xffffffff);
    expect(call(GETSOCKNAME, s, ADDR, LEN)).toBe(-Errno.EINVAL);
    expect(call(BIND, s, WILD, 16)).toBe(-Errno.EFAULT);
    expect(call(BIND, s, ADDR, 129)).toBe(-Errno.EINVAL);
  });

  test("the guest's own address reaches the guest itself; other addresses are not here", () => {
    const own = guestAddress("unit");
    expect(own >>> 16).toBe((10 << 8) | 77);
    const listener = call(SOCKET, AF_INET, STREAM, 0);
    expect(call(BIND, listener, ADDR, inet(0, 5000))).toBe(0); // INADDR_ANY
    expect(call(LISTEN, listener, 1)).toBe(0);
    const client = call(SOCKET, AF_INET, STREAM, 0);
    expect(call(CONNECT, client, ADDR, inet(own, 5000))).toBe(0);
    putU32(LEN, 16);
    expect(call(GETSOCKNAME, client, ADDR, LEN)).toBe(0);
    expect(bytesAt(ADDR + 4, 4).readUInt32BE(0)).toBe(own); // it left from the address that reaches its destination
    const other = call(SOCKET, AF_INET, STREAM, 0);
    expect(call(CONNECT, other, ADDR, inet(((10 << 24) | (77 << 16) | ((own + 1) & 0xffff)) >>> 0, 5000))).toBe(-Errno.ENETUNREACH);
    expect(call(BIND, other, ADDR, inet(0x0a4d0000 + ((own + 1) & 0xffff), 0))).toBe(-Errno.EADDRNOTAVAIL);
    expect(call(BIND, other, ADDR, inet(LOOPBACK, 5000))).toBe(-Errno.EADDRINUSE); // INADDR_ANY holds the port on every address
    expect(call(BIND, other, ADDR, inet(own, 5001))).toBe(0);
  });

  test("a path-name bind leaves a socket file in the sandbox; an existing path is EADDRINUSE; unlinked, the path binds again", () => {
    const s = call(SOCKET, AF_UNIX, STREAM, 0);
    expect(call(BIND, s, ADDR, unixPath("srv"))).toBe(0);
    expect(statSync(join(dir, "srv")).isSocket()).toBe(true);
    expect(statSync(join(dir, "srv")).mode & 0o777).toBe(0o755); // 0777 & ~umask
    const t = call(SOCKET, AF_UNIX, STREAM, 0);
    expect(call(BIND, t, ADDR, unixPath("srv"))).toBe(-Errno.EADDRINUSE);
    writeFileSync(join(dir, "plain"), "");
    expect(call(BIND, t, ADDR, unixPath("plain"))).toBe(-Errno.EADDRINUSE);
    expect(call(BIND, t, ADDR, unixPath("no/such/dir"))).toBe(-Errno.ENOENT);
    expect(call(CLOSE, s)).toBe(0);
    expect(statSync(join(dir, "srv")).isSocket(), "the file stays after its socket closes").toBe(true);
    rmSync(join(dir, "srv"));
    expect(call(BIND, t, ADDR, unixPath("srv"))).toBe(0);
  });
});

describe("streams", () => {
  test("a write fills the peer's buffer, then takes what fits and waits (or EAGAIN); ppoll sees no room", () => {
    const [, client, server] = tcpConnection();
    const chunk = 64 * 1024;
    let sent = 0;
    for (;;) {
      const r = tryCall(SENDTO, client, BIG, chunk, MSG_DONTWAIT, 0, 0);
      if (r === -Errno.EAGAIN) break;
      expect(typeof r === "number" && r > 0).toBe(true);
      sent += r as number;
    }
    expect(sent).toBe(STREAM_CAPACITY);
    expect(tryCall(WRITE, client, BIG, 10)).toBe("blocks");
    expect(readiness(c, c.files.get(client)) & POLLOUT, "poll: no room").toBe(0);
    expect(call(READ, server, BIG, 100)).toBe(100);
    expect(call(WRITE, client, BIG, 1000)).toBe(100); // what fits
  });

  test("MSG_WAITALL takes nothing until all has come; MSG_PEEK leaves it", () => {
    const [, client, server] = tcpConnection();
    put(BUF, "abcdef");
    expect(call(WRITE, client, BUF, 3)).toBe(3);
    expect(tryCall(RECVFROM, server, BIG, 6, MSG_WAITALL, 0, 0)).toBe("blocks");
    expect(call(RECVFROM, server, BIG, 6, MSG_PEEK, 0, 0)).toBe(3);
    expect(call(WRITE, client, BUF + 3, 3)).toBe(3);
    expect(call(RECVFROM, server, BIG, 6, MSG_WAITALL, 0, 0)).toBe(6);
    expect(bytesAt(BIG, 6).toString()).toBe("abcdef");
    // The peer shuts down: MSG_WAITALL returns what there is.
    expect(call(WRITE, client, BUF, 2)).toBe(2);
    expect(call(CLOSE, client)).toBe(0);
    expect(call(RECVFROM, server, BIG, 6, MSG_WAITALL, 0, 0)).toBe(2);
  });

  test("a blocking accept waits; O_NONBLOCK makes it EAGAIN; closing the listener resets a connection nobody accepted", () => {
    const listener = call(SOCKET, AF_UNIX, SEQPACKET, 0);
    put(ADDR, Buffer.from([AF_UNIX, 0, 0, ...Buffer.from("unit-listener")]));
    expect(call(BIND, listener, ADDR, 16)).toBe(0);
    expect(call(LISTEN, listener, 0)).toBe(0);
    expect(tryCall(ACCEPT4, listener, 0, 0, 0)).toBe("blocks");
    expect(call(FCNTL, listener, 4, NONBLOCK)).toBe(0);
    expect(call(ACCEPT4, listener, 0, 0, 0)).toBe(-Errno.EAGAIN);
    const client = call(SOCKET, AF_UNIX, SEQPACKET, 0);
    expect(call(CONNECT, client, ADDR, 16)).toBe(0);
    // A backlog of 0 holds one connection (unix_recvq_full: "queue length > backlog"); the next waits, or EAGAIN.
    const second = call(SOCKET, AF_UNIX, SEQPACKET | NONBLOCK, 0);
    expect(call(CONNECT, second, ADDR, 16)).toBe(-Errno.EAGAIN);
    const third = call(SOCKET, AF_UNIX, SEQPACKET, 0);
    expect(tryCall(CONNECT, third, ADDR, 16)).toBe("blocks");
    expect(call(CLOSE, listener)).toBe(0);
    expect(call(READ, client, BUF, 10)).toBe(-Errno.ECONNRESET);
    expect(call(READ, client, BUF, 10)).toBe(0);
    expect(call(SENDTO, client, BUF, 1, MSG_NOSIGNAL, 0, 0)).toBe(-Errno.EPIPE);
  });

  test("a record longer than a seqpacket socket holds is EMSGSIZE", () => {
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, SEQPACKET, 0, BUF)).toBe(0);
    const [a] = [u32At(BUF)];
    expect(call(SENDTO, a, BIG, STREAM_CAPACITY + 1, 0, 0, 0)).toBe(-Errno.EMSGSIZE);
  });
});

describe("sendmsg and recvmsg", () => {
  function msghdr(name: number, nameLength: number, iov: Array<[number, number]>, control = 0, controlLength = 0): void {
    iov.forEach(([base, len], i) => putU32(IOV + i * 8, base, len));
    putU32(MSG, name, nameLength, IOV, iov.length, control, controlLength, 0);
  }

  test("gather and scatter over iovecs, with the sender's address and MSG_TRUNC", () => {
    const receiver = call(SOCKET, AF_INET, DGRAM, 0);
    expect(call(BIND, receiver, ADDR, inet(LOOPBACK, 7000))).toBe(0);
    const sender = call(SOCKET, AF_INET, DGRAM, 0);
    put(BUF, "hello world");
    inet(LOOPBACK, 7000);
    msghdr(ADDR, 16, [[BUF, 5], [BUF + 5, 6]]);
    expect(call(SENDMSG, sender, MSG, 0)).toBe(11);
    msghdr(ADDR + 32, 16, [[BIG, 4], [BIG + 100, 3]]);
    expect(call(RECVMSG, receiver, MSG, 0)).toBe(7);
    expect(bytesAt(BIG, 4).toString() + bytesAt(BIG + 100, 3).toString()).toBe("hello w");
    expect(u32At(MSG + 4)).toBe(16); // msg_namelen
    expect(bytesAt(ADDR + 32 + 4, 4).readUInt32BE(0)).toBe(LOOPBACK);
    expect(u32At(MSG + 24)).toBe(0x20); // msg_flags: MSG_TRUNC
  });

  test("bad headers and vectors are EFAULT, too many vectors EMSGSIZE, ancillary data EOPNOTSUPP", () => {
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, DGRAM, 0, BUF)).toBe(0);
    const a = u32At(BUF), b = u32At(BUF + 4);
    expect(call(SENDMSG, a, WILD, 0)).toBe(-Errno.EFAULT);
    msghdr(0, 0, [[WILD, 4]]);
    expect(call(SENDMSG, a, MSG, 0)).toBe(-Errno.EFAULT);
    putU32(MSG, 0, 0, IOV, 1025, 0, 0, 0);
    expect(call(SENDMSG, a, MSG, 0)).toBe(-Errno.EMSGSIZE);
    msghdr(0, 0, [[BUF, 1]], BIG, 16);
    expect(call(SENDMSG, a, MSG, 0)).toBe(-Errno.EOPNOTSUPP);
    msghdr(0, 0, [[WILD, 4]]);
    expect(call(RECVMSG, b, MSG, MSG_DONTWAIT)).toBe(-Errno.EFAULT);
    expect(call(RECVFROM, b, WILD, 4, 0, 0, 0)).toBe(-Errno.EFAULT);
    // A wild address for the sender is found before anything is taken: the datagram stays queued.
    expect(call(WRITE, a, BUF, 1)).toBe(1);
    putU32(LEN, 16);
    expect(call(RECVFROM, b, BIG, 4, 0, WILD, LEN)).toBe(-Errno.EFAULT);
    expect(call(RECVFROM, b, BIG, 4, MSG_DONTWAIT, 0, 0)).toBe(1);
    expect(call(SENDTO, a, WILD, 4, 0, 0, 0)).toBe(-Errno.EFAULT);
  });
});

describe("options", () => {
  test("buffer sizes are doubled and floored as Linux's; SO_LINGER and TCP_NODELAY come back as set; SO_ERROR is taken once", () => {
    const s = call(SOCKET, AF_INET, DGRAM, 0);
    putU32(BUF, 1);
    expect(call(SETSOCKOPT, s, 1, 7, BUF, 4)).toBe(0); // SO_SNDBUF 1
    putU32(LEN, 4);
    expect(call(GETSOCKOPT, s, 1, 7, BUF, LEN)).toBe(0);
    expect(u32At(BUF)).toBe(4608);
    const t = call(SOCKET, AF_INET, STREAM, 0);
    putU32(BUF, 1, 30);
    expect(call(SETSOCKOPT, t, 1, 13, BUF, 8)).toBe(0); // SO_LINGER {1, 30}
    putU32(BUF, 0, 0);
    putU32(LEN, 8);
    expect(call(GETSOCKOPT, t, 1, 13, BUF, LEN)).toBe(0);
    expect([u32At(BUF), u32At(BUF + 4), u32At(LEN)]).toEqual([1, 30, 8]);
    expect(call(SETSOCKOPT, t, 1, 13, BUF, 4)).toBe(-Errno.EINVAL);
    putU32(BUF, 1);
    expect(call(SETSOCKOPT, t, 6, 1, BUF, 4)).toBe(0);
    putU32(LEN, 4);
    expect(call(GETSOCKOPT, t, 6, 1, BUF, LEN)).toBe(0);
    expect(u32At(BUF)).toBe(1);
    expect(call(SETSOCKOPT, t, 1, 2, WILD, 4)).toBe(-Errno.EFAULT);
    expect(call(GETSOCKOPT, t, 1, 4, BUF, WILD)).toBe(-Errno.EFAULT);
    // A connected UDP socket learns that nobody listens: SO_ERROR says so once.
    expect(call(CONNECT, s, ADDR, inet(LOOPBACK, 9))).toBe(0);
    expect(call(WRITE, s, BUF, 1)).toBe(1);
    putU32(LEN, 4);
    expect(call(GETSOCKOPT, s, 1, 4, BUF, LEN)).toBe(0);
    expect(u32At(BUF)).toBe(Errno.ECONNREFUSED);
    expect(call(GETSOCKOPT, s, 1, 4, BUF, LEN)).toBe(0);
    expect(u32At(BUF)).toBe(0);
  });
});

describe("unix names after the peer goes", () => {
  test("getpeername still answers; writes are EPIPE; reads are end of file", () => {
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, STREAM, 0, BUF)).toBe(0);
    const a = u32At(BUF), b = u32At(BUF + 4);
    expect(call(CLOSE, b)).toBe(0);
    putU32(LEN, 16);
    expect(call(GETPEERNAME, a, ADDR, LEN)).toBe(0);
    expect(u32At(LEN)).toBe(2);
    expect(call(SENDTO, a, BUF, 1, MSG_NOSIGNAL, 0, 0)).toBe(-Errno.EPIPE);
    expect(call(READ, a, BUF, 1)).toBe(0);
  });
});

describe("a process that moves alone (--children home)", () => {
  test("is refused while it holds a socket, which stays with the guest's kernel", () => {
    const task = (pid: number, files: Array<[number, { kind: string }]>) =>
      ({ pid, tgid: pid, ppid: 1000, status: "running", vforkChild: 0, sharesSpaceOf: 0, away: undefined, files: { files: new Map(files) } });
    const kernel = { firstPid: 1000, tasks: new Map([[1000, task(1000, [])], [1001, task(1001, [[0, { kind: "terminal" }], [4, { kind: "socket" }]])], [1002, task(1002, [[0, { kind: "pipe" }]])]]) };
    expect(cannotTakeOut(kernel as unknown as Kernel, 1001)).toBe("process 1001 holds a socket (fd 4), which cannot move alone yet; move the whole tree (--children together) instead");
    expect(cannotTakeOut(kernel as unknown as Kernel, 1002)).toBeUndefined();
  });
});

describe("ioctl", () => {
  test("FIONREAD: a stream's queued bytes, a datagram socket's next datagram; other requests ENOTTY", () => {
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, STREAM, 0, BUF)).toBe(0);
    const [a, b] = [u32At(BUF), u32At(BUF + 4)];
    put(BUF, "abcdefgh");
    expect(call(WRITE, a, BUF, 3)).toBe(3);
    expect(call(WRITE, a, BUF, 5)).toBe(5);
    expect(call(IOCTL, b, FIONREAD, LEN)).toBe(0);
    expect(u32At(LEN)).toBe(8);
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, DGRAM, 0, BUF)).toBe(0);
    const [d, e] = [u32At(BUF), u32At(BUF + 4)];
    expect(call(WRITE, d, BUF, 3)).toBe(3);
    expect(call(WRITE, d, BUF, 5)).toBe(5);
    expect(call(IOCTL, e, FIONREAD, LEN)).toBe(0);
    expect(u32At(LEN)).toBe(3);
    expect(call(IOCTL, e, FIONREAD, WILD)).toBe(-Errno.EFAULT);
    expect(call(IOCTL, e, 0x5401 /* TCGETS */, LEN)).toBe(-Errno.ENOTTY);
  });
});

describe("shutdown(SHUT_RD)", () => {
  test("TCP: reads see end of file until bytes come, which are still read (as Linux); AF_UNIX: the peer's writes are EPIPE", () => {
    const [, client, server] = tcpConnection();
    expect(call(210, server, 0)).toBe(0);
    expect(call(READ, server, BUF, 5)).toBe(0);
    put(BUF, "abc");
    expect(call(WRITE, client, BUF, 3)).toBe(3);
    expect(call(READ, server, BIG, 5)).toBe(3);
    expect(bytesAt(BIG, 3).toString()).toBe("abc");
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, STREAM, 0, BUF)).toBe(0);
    const [a, b] = [u32At(BUF), u32At(BUF + 4)];
    expect(call(210, b, 0)).toBe(0);
    expect(call(SENDTO, a, BUF, 1, MSG_NOSIGNAL, 0, 0)).toBe(-Errno.EPIPE);
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, DGRAM, 0, BUF)).toBe(0);
    const [d, e] = [u32At(BUF), u32At(BUF + 4)];
    expect(call(210, e, 0)).toBe(0);
    expect(call(WRITE, d, BUF, 1)).toBe(-Errno.EPIPE);
  });
});

describe("SO_RCVTIMEO and SO_SNDTIMEO", () => {
  test("come back as set (struct of two 64-bit fields); a blocked call waits until the deadline, then EAGAIN", () => {
    putU32(BUF, 0, 0);
    expect(call(SOCKETPAIR, AF_UNIX, STREAM, 0, BUF)).toBe(0);
    const a = u32At(BUF);
    putU32(BUF, 2, 0, 500_000, 0); // { tv_sec = 2, tv_usec = 500000 }
    expect(call(SETSOCKOPT, a, 1, 66, BUF, 16)).toBe(0);
    putU32(BUF, 0, 0, 0, 0);
    putU32(LEN, 16);
    expect(call(GETSOCKOPT, a, 1, 66, BUF, LEN)).toBe(0);
    expect([u32At(BUF), u32At(BUF + 8), u32At(LEN)]).toEqual([2, 500_000, 16]);
    putU32(BUF, 1, 0, 1_000_000, 0);
    expect(call(SETSOCKOPT, a, 1, 66, BUF, 16)).toBe(-Errno.EDOM);
    expect(call(SETSOCKOPT, a, 1, 66, BUF, 8)).toBe(-Errno.EINVAL);
    const before = c.clock.monotonicNs();
    const r = runSyscall(c, READ, [a, BUF, 1, 0, 0, 0])!;
    expect(r.kind).toBe("block-event");
    const deadline = (r as { deadlineNs: bigint }).deadlineNs;
    expect(deadline - before >= 2_500_000_000n && deadline - before < 3_000_000_000n).toBe(true);
    c.sleepDeadline = before; // the deadline has passed when the call runs again
    expect(call(READ, a, BUF, 1)).toBe(-Errno.EAGAIN);
    expect(c.sleepDeadline).toBeUndefined();
  });
});
