// Streams between two guests' kernels (docs/MESSAGES.md), with no host: the
// in-memory network of two-guests.ts carries each kernel's messages to the
// other. Connect and accept across guests (TCP to the other's 10.77 address,
// AF_UNIX abstract names), data both ways, credit (a writer stops when the
// reader does not read, and goes on when it does), shutdown, reset, refusal,
// reordered and duplicated segments, malformed messages, and a snapshot of
// either guest mid-stream restored into a fresh kernel that goes on.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { pack, unpack } from "msgpackr";
import { Errno } from "../../src/kernel/errno.js";
import { STREAM_CAPACITY } from "../../src/kernel/sockets/socket.js";
import { checkSockets } from "../../src/snapshot/validate-sockets.js";
import { DATA, TwoGuestNetwork, callOn, type TestGuest, abstractAt, callNow, put } from "./two-guests.js";

const AF_UNIX = 1, AF_INET = 2, STREAM = 1, DGRAM = 2, SEQPACKET = 5, NONBLOCK = 0o4000;
const SOCKET = 198, BIND = 200, LISTEN = 201, CONNECT = 203, GETSOCKNAME = 204, GETPEERNAME = 205, SHUTDOWN = 210, ACCEPT4 = 242;
const SENDTO = 206, RECVFROM = 207, READ = 63, WRITE = 64, CLOSE = 57, GETSOCKOPT = 209, SO_ERROR = 4, SOL_SOCKET = 1;
const BUF = DATA, ADDR = DATA + 0x100, LEN = DATA + 0x200, BIG = DATA + 0x10000;

let net: TwoGuestNetwork;
let a: TestGuest, b: TestGuest;
beforeEach(() => {
  net = new TwoGuestNetwork();
  a = net.add("gaaaa");
  b = net.add("gbbbb");
});
afterEach(() => net.close());

const bytesAt = (g: TestGuest, at: number, n: number) => Buffer.from(g.c.space.read(at, n)!);
const call = callNow;

function inet(g: TestGuest, address: number, port: number): number {
  const s = Buffer.alloc(16);
  s.writeUInt16LE(AF_INET, 0); s.writeUInt16BE(port, 2); s.writeUInt32BE(address >>> 0, 4);
  put(g, ADDR, s);
  return 16;
}
const abstract = (g: TestGuest, name: string) => abstractAt(g, ADDR, name);

function write(g: TestGuest, fd: number, text: string | Uint8Array): number | "blocks" {
  const data = typeof text === "string" ? Buffer.from(text) : text;
  put(g, BIG, data);
  return callOn(g, WRITE, fd, BIG, data.length);
}
function read(g: TestGuest, fd: number, max = 4096): string | number | "blocks" {
  const n = callOn(g, READ, fd, BUF, max);
  return typeof n === "number" && n >= 0 ? bytesAt(g, BUF, n).toString() : n;
}

/** A TCP listener in b on port 7000 and a connection to it from a: [client in a, server in b, listener in b]. */
async function tcpPair(flags = 0, port = 7000): Promise<[number, number, number]> {
  const listener = call(b, SOCKET, AF_INET, STREAM, 0);
  expect(call(b, BIND, listener, ADDR, inet(b, 0, port))).toBe(0);
  expect(call(b, LISTEN, listener, 8)).toBe(0);
  const client = call(a, SOCKET, AF_INET, STREAM | flags, 0);
  const first = callOn(a, CONNECT, client, ADDR, inet(a, b.address, port));
  expect(first).toBe(flags & NONBLOCK ? -Errno.EINPROGRESS : "blocks");
  await net.settle();
  expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, port))).toBe(0); // the waiting connect completes (or says so once)
  const server = call(b, ACCEPT4, listener, 0, 0, 0);
  expect(server).toBeGreaterThan(0);
  return [client, server, listener];
}

/** An AF_UNIX stream over an abstract name bound in b: [client in a, server in b]. */
async function unixPair(): Promise<[number, number]> {
  const listener = call(b, SOCKET, AF_UNIX, STREAM, 0);
  expect(call(b, BIND, listener, ADDR, abstract(b, "roam-test"))).toBe(0);
  expect(call(b, LISTEN, listener, 8)).toBe(0);
  const client = call(a, SOCKET, AF_UNIX, STREAM, 0);
  expect(callOn(a, CONNECT, client, ADDR, abstract(a, "roam-test"))).toBe("blocks");
  await net.settle();
  expect(callOn(a, CONNECT, client, ADDR, abstract(a, "roam-test"))).toBe(0);
  return [client, call(b, ACCEPT4, listener, 0, 0, 0)];
}

describe("connecting across guests", () => {
  test("TCP to the other guest's address: connect waits for its accept; both ends name each other", async () => {
    const [client, server] = await tcpPair();
    const u32 = (g: TestGuest, v: number) => put(g, LEN, new Uint8Array(Uint32Array.of(v).buffer));
    u32(a, 16);
    expect(call(a, GETPEERNAME, client, ADDR, LEN)).toBe(0);
    expect(bytesAt(a, ADDR + 2, 2).readUInt16BE(0)).toBe(7000);
    expect(bytesAt(a, ADDR + 4, 4).readUInt32BE(0)).toBe(b.address);
    u32(a, 16);
    expect(call(a, GETSOCKNAME, client, ADDR, LEN)).toBe(0);
    const clientPort = bytesAt(a, ADDR + 2, 2).readUInt16BE(0);
    expect(bytesAt(a, ADDR + 4, 4).readUInt32BE(0)).toBe(a.address);
    u32(b, 16);
    expect(call(b, GETPEERNAME, server, ADDR, LEN)).toBe(0);
    expect(bytesAt(b, ADDR + 2, 2).readUInt16BE(0)).toBe(clientPort);
    expect(bytesAt(b, ADDR + 4, 4).readUInt32BE(0)).toBe(a.address);
  });

  test("a non-blocking connect says EINPROGRESS, EALREADY while it waits, then 0 once", async () => {
    const listener = call(b, SOCKET, AF_INET, STREAM, 0);
    expect(call(b, BIND, listener, ADDR, inet(b, 0, 7001))).toBe(0);
    expect(call(b, LISTEN, listener, 8)).toBe(0);
    const client = call(a, SOCKET, AF_INET, STREAM | NONBLOCK, 0);
    expect(call(a, CONNECT, client, ADDR, inet(a, b.address, 7001))).toBe(-Errno.EINPROGRESS);
    expect(call(a, CONNECT, client, ADDR, inet(a, b.address, 7001))).toBe(-Errno.EALREADY);
    await net.settle();
    expect(call(a, CONNECT, client, ADDR, inet(a, b.address, 7001))).toBe(0);
    expect(call(a, CONNECT, client, ADDR, inet(a, b.address, 7001))).toBe(-Errno.EISCONN);
  });

  test("nobody listening on the port: ECONNREFUSED; an address no guest has: ENETUNREACH", () => {
    const client = call(a, SOCKET, AF_INET, STREAM, 0);
    expect(call(a, CONNECT, client, ADDR, inet(a, b.address, 9))).toBe(-Errno.ECONNREFUSED);
    expect(call(a, CONNECT, client, ADDR, inet(a, (10 << 24) | (78 << 16) | 1, 9))).toBe(-Errno.ENETUNREACH);
    const nobody = b.address === a.address + 1 ? a.address + 2 : a.address + 1;
    expect(call(a, CONNECT, client, ADDR, inet(a, nobody, 9))).toBe(-Errno.ENETUNREACH);
  });

  test("a full backlog makes connects wait (blocking or EINPROGRESS) until accept makes room, in order; the listener's close refuses the rest", async () => {
    const listener = call(b, SOCKET, AF_UNIX, STREAM, 0);
    expect(call(b, BIND, listener, ADDR, abstract(b, "full"))).toBe(0);
    expect(call(b, LISTEN, listener, 0)).toBe(0);
    const first = call(a, SOCKET, AF_UNIX, STREAM, 0), second = call(a, SOCKET, AF_UNIX, STREAM, 0);
    const third = call(a, SOCKET, AF_UNIX, STREAM | NONBLOCK, 0), fourth = call(a, SOCKET, AF_UNIX, STREAM, 0);
    expect(callOn(a, CONNECT, first, ADDR, abstract(a, "full"))).toBe("blocks");
    await net.settle();
    expect(callOn(a, CONNECT, second, ADDR, abstract(a, "full"))).toBe("blocks");
    expect(callOn(a, CONNECT, third, ADDR, abstract(a, "full"))).toBe(-Errno.EINPROGRESS);
    expect(callOn(a, CONNECT, fourth, ADDR, abstract(a, "full"))).toBe("blocks");
    await net.settle();
    expect(callOn(a, CONNECT, first, ADDR, abstract(a, "full"))).toBe(0);
    expect(callOn(a, CONNECT, second, ADDR, abstract(a, "full"))).toBe("blocks"); // waits at the listener, unanswered
    // The waiting syns are the listener's state: a snapshot of b holds them, and a restored b goes on.
    const state = unpack(pack(b.sockets.state())) as ReturnType<typeof b.sockets.state>;
    expect(checkSockets(state, "sockets")!.sockets.find((s) => s.listening)!.waitingSyns).toHaveLength(3);
    net.restore(b, state);
    expect(write(a, first, "one")).toBe(3);
    const one = call(b, ACCEPT4, listener, 0, 0, 0);
    await net.settle();
    expect(read(b, one)).toBe("one");
    expect(callOn(a, CONNECT, second, ADDR, abstract(a, "full"))).toBe(0); // the accept made room for the oldest
    expect(call(b, ACCEPT4, listener, 0, 0, 0)).toBeGreaterThan(0);
    await net.settle();
    put(a, LEN, new Uint8Array(Uint32Array.of(4).buffer));
    expect(call(a, GETSOCKOPT, third, SOL_SOCKET, SO_ERROR, BUF, LEN)).toBe(0);
    expect(bytesAt(a, BUF, 4).readInt32LE(0)).toBe(0); // connected
    expect(callOn(a, CONNECT, fourth, ADDR, abstract(a, "full"))).toBe("blocks");
    expect(call(b, CLOSE, listener)).toBe(0);
    await net.settle();
    expect(callOn(a, CONNECT, fourth, ADDR, abstract(a, "full"))).toBe(-Errno.ECONNREFUSED);
  });

  test("a connect whose socket closes before the accept comes resets the server's end", async () => {
    const listener = call(b, SOCKET, AF_UNIX, STREAM, 0);
    expect(call(b, BIND, listener, ADDR, abstract(b, "gone"))).toBe(0);
    expect(call(b, LISTEN, listener, 4)).toBe(0);
    const client = call(a, SOCKET, AF_UNIX, STREAM, 0);
    expect(callOn(a, CONNECT, client, ADDR, abstract(a, "gone"))).toBe("blocks");
    expect(call(a, CLOSE, client)).toBe(0);
    await net.settle();
    const server = call(b, ACCEPT4, listener, 0, 0, 0);
    expect(read(b, server)).toBe(-Errno.ECONNRESET);
  });
});

describe("a stream between guests", () => {
  test.each([["TCP", tcpPair], ["AF_UNIX", unixPair]] as const)("%s: bytes both ways, in order", async (_kind, pair) => {
    const [client, server] = await pair();
    expect(write(a, client, "hello, ")).toBe(7);
    expect(write(a, client, "b")).toBe(1);
    expect(read(b, server)).toBe("blocks");
    await net.settle();
    expect(read(b, server)).toBe("hello, b");
    expect(write(b, server, "and back")).toBe(8);
    await net.settle();
    expect(read(a, client)).toBe("and back");
  });

  test("credit: a writer stops when the reader does not read, and goes on once it reads", async () => {
    const [client, server] = await tcpPair(NONBLOCK);
    const chunk = new Uint8Array(65536).fill(7);
    let sent = 0;
    for (let i = 0; i < 100; i++) {
      const n = write(a, client, chunk);
      if (n === -Errno.EAGAIN) break;
      expect(typeof n === "number" && n > 0).toBe(true);
      sent += n as number;
      await net.settle();
    }
    expect(sent).toBe(STREAM_CAPACITY); // the receiver's whole window, and not a byte more
    expect(write(a, client, chunk)).toBe(-Errno.EAGAIN);
    expect(call(b, READ, server, BUF, 4096)).toBe(4096);
    expect(write(a, client, chunk)).toBe(-Errno.EAGAIN); // the ack has not come yet
    await net.settle();
    expect(write(a, client, chunk)).toBe(4096);
  });

  test("a blocking writer waits for credit", async () => {
    const [client, server] = await tcpPair();
    const chunk = new Uint8Array(STREAM_CAPACITY).fill(1);
    expect(write(a, client, chunk)).toBe(STREAM_CAPACITY);
    expect(write(a, client, "x")).toBe("blocks");
    await net.settle();
    expect(write(a, client, "x")).toBe("blocks"); // every byte arrived, and the reader has read none
    expect(call(b, READ, server, BUF, 100)).toBe(100);
    await net.settle();
    expect(write(a, client, "x")).toBe(1);
  });

  test("shutdown(SHUT_RD) of an AF_UNIX end: the other guest's writes fail with EPIPE, as a local peer's do; TCP's are not told", async () => {
    const [client, server] = await unixPair();
    expect(call(a, SHUTDOWN, client, 0)).toBe(0);
    await net.settle();
    put(b, BUF, Buffer.from("x"));
    expect(call(b, SENDTO, server, BUF, 1, 0x4000 /* MSG_NOSIGNAL */, 0, 0)).toBe(-Errno.EPIPE);
    const [tcpClient, tcpServer] = await tcpPair();
    expect(call(a, SHUTDOWN, tcpClient, 0)).toBe(0);
    await net.settle();
    expect(write(b, tcpServer, "x")).toBe(1);
  });

  test("shutdown(SHUT_WR): the other end reads what came, then end of file, and can still write back", async () => {
    const [client, server] = await unixPair();
    expect(write(a, client, "last words")).toBe(10);
    expect(call(a, SHUTDOWN, client, 1)).toBe(0);
    await net.settle();
    expect(read(b, server)).toBe("last words");
    expect(read(b, server)).toBe("");
    expect(write(b, server, "reply")).toBe(5);
    await net.settle();
    expect(read(a, client)).toBe("reply");
  });

  test("close after reading everything: end of file; close with unread bytes: ECONNRESET", async () => {
    const [client, server] = await tcpPair();
    expect(call(b, CLOSE, server)).toBe(0);
    await net.settle();
    expect(read(a, client)).toBe("");

    const [client2, server2] = await unixPair();
    expect(write(a, client2, "never read")).toBe(10);
    await net.settle();
    expect(call(b, CLOSE, server2)).toBe(0);
    await net.settle();
    expect(read(a, client2)).toBe(-Errno.ECONNRESET);
  });

  test("segments that overtake each other and come twice arrive once, in order", async () => {
    const [client, server] = await tcpPair();
    let expected = "";
    for (let i = 0; i < 300; i++) {
      const text = `<${i}>`;
      expected += text;
      expect(write(a, client, text)).toBe(text.length);
    }
    expect(call(a, SHUTDOWN, client, 1)).toBe(0); // the fin may overtake the data too
    const before = net.delivered;
    await net.settle({ shuffle: true, duplicateEvery: 3 });
    expect(net.delivered - before).toBeGreaterThan(400);
    let got = "";
    for (;;) {
      const r = read(b, server, 65536);
      if (typeof r !== "string" || r === "blocks") throw new Error(`read: ${r} after ${got.length} bytes`);
      if (r === "") break;
      got += r;
    }
    expect(got).toBe(expected);
  });
});

test("SOCK_SEQPACKET: records keep their boundaries, reordered and repeated on the way", async () => {
  const listener = call(b, SOCKET, AF_UNIX, SEQPACKET, 0);
  expect(call(b, BIND, listener, ADDR, abstract(b, "records"))).toBe(0);
  expect(call(b, LISTEN, listener, 4)).toBe(0);
  const client = call(a, SOCKET, AF_UNIX, SEQPACKET, 0);
  expect(callOn(a, CONNECT, client, ADDR, abstract(a, "records"))).toBe("blocks");
  await net.settle();
  expect(callOn(a, CONNECT, client, ADDR, abstract(a, "records"))).toBe(0);
  const server = call(b, ACCEPT4, listener, 0, 0, 0);
  const records = Array.from({ length: 50 }, (_, i) => "r".repeat(i % 7) + i);
  for (const r of records) expect(write(a, client, r)).toBe(r.length);
  await net.settle({ shuffle: true, duplicateEvery: 2 });
  for (const r of records) expect(read(b, server, 4096)).toBe(r);
  expect(read(b, server)).toBe("blocks");
});

describe("a guest's sockets mid-stream in a snapshot", () => {
  test.each(["receiver", "sender"] as const)("the %s restored into a fresh kernel goes on with the stream", async (which) => {
    const [client, server] = await tcpPair();
    expect(write(a, client, "one ")).toBe(4);
    await net.settle();
    expect(write(a, client, "two ")).toBe(4);
    expect(write(a, client, "three")).toBe(5);
    // "two " is held back (it arrives after the move); "three" arrives first and waits in the reorder queue.
    await net.turn({}, (m) => m.kind === "data" && Buffer.from(m.data as Uint8Array).toString() === "two ");
    const moved = which === "receiver" ? b : a;
    const encoded = pack(moved.sockets.state());
    const state = checkSockets(unpack(encoded), "sockets")!;
    net.restore(moved, state);
    await net.settle();
    expect(read(b, server)).toBe("one two three");
    expect(write(b, server, "back")).toBe(4);
    await net.settle();
    expect(read(a, client)).toBe("back");
  });
});

describe("a guest taken over by its backup (issue 13): it goes on from an older state", () => {
  test("each end keeps what it sent until acked; the taken-over end and its peer send again what the other lacks", async () => {
    const [client, server] = await tcpPair();
    expect(write(a, client, "one ")).toBe(4);
    expect(write(b, server, "ONE ")).toBe(4);
    await net.settle();
    expect(read(b, server)).toBe("one ");
    await net.settle(); // the read's ack
    expect(a.sockets.all().find((s) => s.channel)!.channel!.keptBytes, "acked bytes are let go").toBe(0);
    // b's last committed epoch: b has read "one ", a's "ONE " waits unread in a, and b has sent "lost" ...
    expect(write(b, server, "lost")).toBe(4);
    const committed = checkSockets(unpack(pack(b.sockets.state())), "sockets")!;
    // ... which died with b's primary on its way, as did everything b sent after that epoch (its held messages).
    net.inFlight.splice(0);
    expect(write(a, client, "two ")).toBe(4);
    await net.turn(); // b's primary took "two ", and its ack died with it
    net.inFlight.splice(0);
    expect(write(a, client, "three")).toBe(5);
    // The backup goes on from the committed state.
    net.restore(b, committed);
    b.sockets.resumeAfterTakeover();
    await net.settle({ shuffle: true, duplicateEvery: 2 });
    expect(read(b, server)).toBe("two three");
    expect(read(a, client)).toBe("ONE lost");
    expect(a.warnings.concat(b.warnings)).toEqual([]);
    for (const g of [a, b]) expect(g.sockets.all().find((s) => s.channel)!.channel!.keptBytes, `${g.id} keeps nothing acked`).toBe(0);
  });

  test("a connect waiting for its answer sends its syn again: the accept the dead primary took is given again", async () => {
    const listener = call(b, SOCKET, AF_INET, STREAM, 0);
    expect(call(b, BIND, listener, ADDR, inet(b, 0, 7000))).toBe(0);
    expect(call(b, LISTEN, listener, 8)).toBe(0);
    const client = call(a, SOCKET, AF_INET, STREAM, 0);
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe("blocks");
    const committed = checkSockets(unpack(pack(a.sockets.state())), "sockets")!; // a's last committed epoch: dialing
    await net.turn(); // the syn reaches b, which accepts ...
    await net.turn(); // ... and a's primary takes the accept, then dies
    net.restore(a, committed);
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe("blocks");
    a.sockets.resumeAfterTakeover();
    await net.settle();
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe(0);
    const server = call(b, ACCEPT4, listener, 0, 0, 0);
    expect(callOn(b, ACCEPT4, listener, 0, 0, 0), "one connection, not two").toBe("blocks");
    expect(write(a, client, "hello")).toBe(5);
    await net.settle();
    expect(read(b, server)).toBe("hello");
  });

  test("a fin the taken-over end sent goes again too", async () => {
    const [client, server] = await unixPair();
    expect(write(b, server, "bye")).toBe(3);
    expect(call(b, SHUTDOWN, server, 1)).toBe(0);
    const committed = checkSockets(unpack(pack(b.sockets.state())), "sockets")!;
    net.inFlight.splice(0); // lost with the primary
    net.restore(b, committed);
    b.sockets.resumeAfterTakeover();
    await net.settle();
    expect(read(a, client)).toBe("bye");
    expect(read(a, client)).toBe("");
  });
});

describe("a syn that dies on its way is sent again, as TCP retransmits a SYN (1 s, then doubling)", () => {
  /** A listener in b on TCP port 7000 and a blocking connect to it from a: [client, listener, the connect's time]. */
  function dialing(): [number, number, number] {
    const listener = call(b, SOCKET, AF_INET, STREAM, 0);
    expect(call(b, BIND, listener, ADDR, inet(b, 0, 7000))).toBe(0);
    expect(call(b, LISTEN, listener, 8)).toBe(0);
    const client = call(a, SOCKET, AF_INET, STREAM, 0);
    const at = 5000;
    a.sockets.clockMs = () => at; // the guest's clock when it connects (retrySyns is given the later times)
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe("blocks");
    return [client, listener, at];
  }
  const syns = () => net.inFlight.filter((m) => m.kind === "syn").length;

  test("a lost syn: sent again after 1 s, and the connect completes with one connection", async () => {
    const [client, listener, at] = dialing();
    net.inFlight.splice(0); // the syn died (with the listener's primary)
    await net.settle();
    a.sockets.runTimers(at + 990);
    expect(syns(), "not before its time").toBe(0);
    a.sockets.runTimers(at + 1000);
    expect(syns()).toBe(1);
    await net.settle();
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe(0);
    expect(call(b, ACCEPT4, listener, 0, 0, 0)).toBeGreaterThan(0);
    a.sockets.runTimers(at + 10_000);
    expect(syns(), "a connected socket sends no syn").toBe(0);
  });

  test("a duplicate syn (the first came, its accept died) is answered with the same connection", async () => {
    const [client, listener, at] = dialing();
    await net.turn(); // the syn reaches b ...
    net.inFlight.splice(0); // ... whose accept dies on its way
    a.sockets.runTimers(at + 1000);
    a.sockets.runTimers(at + 3000); // and the second retry: both copies reach b
    expect(syns()).toBe(2);
    await net.settle({ duplicateEvery: 1 });
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe(0);
    const server = call(b, ACCEPT4, listener, 0, 0, 0);
    expect(server).toBeGreaterThan(0);
    expect(callOn(b, ACCEPT4, listener, 0, 0, 0), "one connection, not two").toBe("blocks");
    expect(write(a, client, "hello")).toBe(5);
    await net.settle();
    expect(read(b, server)).toBe("hello");
    expect(a.warnings.concat(b.warnings)).toEqual([]);
  });

  test("no answer at all: six retries (1, 2, 4 ... 32 s apart), then ETIMEDOUT at 127 s, as Linux's tcp_syn_retries", async () => {
    const [client, , at] = dialing();
    net.inFlight.splice(0);
    const sentAt: number[] = [];
    for (let t = at; t <= at + 130_000; t += 500) {
      a.sockets.runTimers(t);
      if (syns() > 0) sentAt.push(t - at);
      net.inFlight.splice(0);
    }
    expect(sentAt).toEqual([1000, 3000, 7000, 15000, 31000, 63000]);
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe(-Errno.ETIMEDOUT);
  });

  test("the retry schedule is the socket's state: it goes on after a snapshot (and version 4, without it, reads)", async () => {
    const [client, , at] = dialing();
    net.inFlight.splice(0);
    a.sockets.runTimers(at + 1000); // the first retry went (and died) too
    net.inFlight.splice(0);
    const state = checkSockets(unpack(pack(a.sockets.state())), "sockets")!;
    expect(state.schemaVersion).toBe(5);
    net.restore(a, state);
    a.sockets.runTimers(at + 2990);
    expect(syns(), "the next retry is 2 s after the first").toBe(0);
    a.sockets.runTimers(at + 3000);
    expect(syns()).toBe(1);
    await net.settle();
    expect(callOn(a, CONNECT, client, ADDR, inet(a, b.address, 7000))).toBe(0);
    // Version 4 kept no schedule: its dialing socket sends its syn again at the first check, then every 1, 2, 4 ... s.
    const v4 = a.sockets.state() as unknown as { schemaVersion: number; sockets: Array<Record<string, unknown>> };
    v4.schemaVersion = 4;
    for (const s of v4.sockets) delete s.syn;
    expect(checkSockets(v4, "sockets")!.schemaVersion).toBe(5);
  });
});

describe("a stream closed with bytes still on their way lingers (as Linux's FIN_WAIT) until its other end has them", () => {
  const streams = (g: TestGuest) => g.sockets.all().filter((s) => s.channel);

  test("its last bytes and fin died with the primary: the taken-over guest sends them again", async () => {
    const [client, server] = await unixPair();
    expect(write(b, server, "last words")).toBe(10);
    expect(call(b, CLOSE, server)).toBe(0);
    const committed = checkSockets(unpack(pack(b.sockets.state())), "sockets")!; // the epoch with the close
    net.inFlight.splice(0); // its released messages died on the way with b's primary
    net.restore(b, committed);
    b.sockets.resumeAfterTakeover();
    await net.settle({ duplicateEvery: 2 });
    expect(read(a, client)).toBe("last words");
    expect(read(a, client)).toBe("");
    expect(streams(b), "let go once the other end acked its fin").toHaveLength(0);
    expect(a.warnings.concat(b.warnings)).toEqual([]);
  });

  test("without a takeover it goes once acked; new data for it is answered with a reset; unanswered, it goes after 60 s", async () => {
    const [client, server] = await tcpPair();
    expect(write(b, server, "bye")).toBe(3);
    expect(call(b, CLOSE, server)).toBe(0);
    expect(streams(b), "it lingers").toHaveLength(1);
    await net.settle();
    expect(streams(b)).toHaveLength(0);
    expect(read(a, client)).toBe("bye");
    expect(read(a, client)).toBe("");

    const [client2, server2] = await tcpPair(0, 7001);
    expect(call(b, CLOSE, server2)).toBe(0);
    expect(write(a, client2, "late")).toBe(4); // crosses the fin
    await net.settle();
    expect(streams(b), "new data for a closed socket resets it, as TCP's RST").toHaveLength(0);

    const [, server3] = await tcpPair(0, 7002);
    expect(write(b, server3, "unheard")).toBe(7);
    expect(call(b, CLOSE, server3)).toBe(0);
    net.inFlight.splice(0); // and no answer ever comes
    const now = b.sockets.clockMs();
    b.sockets.runTimers(now + 59_000);
    expect(streams(b)).toHaveLength(1);
    b.sockets.runTimers(now + 61_000);
    expect(streams(b), "tcp_fin_timeout").toHaveLength(0);
  });
});

test("the sockets section: versions 1 and 3 still read, and a channel whose reorder queue is not ahead of it is refused", async () => {
  const [client] = await tcpPair();
  const state = b.sockets.state() as unknown as Record<string, unknown>;
  expect(state.schemaVersion).toBe(5);
  const v1 = { ...state, schemaVersion: 1, sockets: [] };
  expect(checkSockets(v1, "sockets")!.schemaVersion).toBe(5);
  // Version 3 kept nothing it sent: it reads as a channel whose every byte sent was acked.
  expect(write(a, client, "unacked")).toBe(7);
  const v3 = a.sockets.state() as unknown as { sockets: Array<{ channel: Record<string, unknown> | null }> };
  for (const s of v3.sockets) if (s.channel) { delete s.channel.acked; delete s.channel.unacked; delete s.channel.finClosed; }
  const read3 = checkSockets({ ...v3, schemaVersion: 3 }, "sockets")!.sockets.find((s) => s.channel)!.channel!;
  expect(read3).toMatchObject({ acked: read3.sent, unacked: [] });
  const wrong = a.sockets.state();
  const channel3 = wrong.sockets.find((s) => s.channel)!.channel!;
  expect(channel3.unacked).toHaveLength(1);
  channel3.acked = channel3.sent + 1;
  expect(() => checkSockets(wrong, "sockets")).toThrow(/acked/);
  const withChannel = (state.sockets as Array<Record<string, unknown>>).find((s) => s.channel)!;
  const channel = withChannel.channel as Record<string, unknown>;
  channel.reorder = [{ seq: channel.expected, data: new Uint8Array(3) }];
  expect(() => checkSockets(state, "sockets")).toThrow(/reorder\[0\]\.seq/);
  channel.reorder = [];
  withChannel.peer = { kind: "remote", guest: "", socket: 1 };
  expect(() => checkSockets(state, "sockets")).toThrow(/peer\.guest/);
});

test("datagrams between guests: UDP to the other's address and port, with the sender's address; one for a socket that is gone is dropped", async () => {
  const server = call(b, SOCKET, AF_INET, DGRAM, 0);
  expect(call(b, BIND, server, ADDR, inet(b, 0, 5353))).toBe(0);
  const client = call(a, SOCKET, AF_INET, DGRAM, 0);
  put(a, BUF, "ping");
  expect(call(a, SENDTO, client, BUF, 4, 0, ADDR, inet(a, b.address, 5353))).toBe(4);
  await net.settle();
  put(b, LEN, new Uint8Array(Uint32Array.of(16).buffer));
  expect(call(b, RECVFROM, server, BUF, 100, 0, ADDR, LEN)).toBe(4);
  expect(bytesAt(b, BUF, 4).toString()).toBe("ping");
  expect(bytesAt(b, ADDR + 4, 4).readUInt32BE(0)).toBe(a.address);
  const port = bytesAt(b, ADDR + 2, 2).readUInt16BE(0);
  put(b, BUF, "pong");
  expect(call(b, SENDTO, server, BUF, 4, 0, ADDR, inet(b, a.address, port))).toBe(4);
  expect(call(a, CLOSE, client)).toBe(0);
  await net.settle();
  expect(net.inFlight).toEqual([]);
  expect(a.warnings).toEqual([]);
});

describe("messages from other guests", () => {
  test("a malformed message is dropped with one warning; one for a socket that is gone is answered with a reset", async () => {
    const [client, server] = await tcpPair();
    const conn = b.sockets.all().find((s) => s.peer?.kind === "remote")!;
    const bad = [
      { kind: "data", to: "gbbbb", from: "gaaaa", conn: [1, conn.id], seq: -1, data: new Uint8Array(1) },
      { kind: "data", to: "gbbbb", from: "gaaaa", conn: [1], seq: 0, data: new Uint8Array(1) },
      { kind: "data", to: "gbbbb", from: "gaaaa", conn: [1, conn.id], seq: 0, data: "text" },
      { kind: "ack", to: "gbbbb", from: "gaaaa", conn: [1, conn.id], ack: 1.5, window: 2 },
      { kind: "syn", to: "gbbbb", from: "gaaaa", conn: [1, 0], name: { kind: "inet", protocol: "tcp", address: 1, port: 0 }, window: 1, domain: 2, type: 1 },
      { kind: "shout", to: "gbbbb", from: "gaaaa", conn: [1, 2] },
      { kind: "fin", to: "gbbbb", conn: [1, conn.id], seq: 0 },
    ];
    for (const m of bad) net.inFlight.push(m as never);
    await net.turn();
    expect(b.warnings.length).toBe(bad.length);
    expect(net.inFlight).toEqual([]); // nothing answered a malformed message
    net.inFlight.push({ kind: "data", to: "gbbbb", from: "gaaaa", conn: [77, 9999], seq: 0, data: new Uint8Array(1) });
    await net.turn();
    expect(net.inFlight).toMatchObject([{ kind: "reset", to: "gaaaa", conn: [9999, 77] }]);
    // The real stream is untouched.
    expect(write(a, client, "still here")).toBe(10);
    await net.settle();
    expect(read(b, server)).toBe("still here");
  });
});
