// AF_UNIX datagrams between two guests' kernels (datagram-order.ts): as on
// one Linux machine, none is lost, one sender's arrive in order, and a sender
// whose receiver is full waits (EAGAIN, or a blocked send) and goes on when
// the receiver reads — also when the hosts' routes reorder and duplicate
// messages, and across a snapshot of the sender. UDP keeps its drops.
import { afterEach, beforeEach, expect, test } from "vitest";
import { pack, unpack } from "msgpackr";
import { Errno } from "../../src/kernel/errno.js";
import { DATAGRAM_CAPACITY } from "../../src/kernel/sockets/socket.js";
import { checkSockets } from "../../src/snapshot/validate-sockets.js";
import { DATA, TwoGuestNetwork, callOn, type DeliveryPlan, type TestGuest, abstractAt, callNow, put } from "./two-guests.js";

const AF_UNIX = 1, AF_INET = 2, DGRAM = 2;
const SOCKET = 198, BIND = 200, CONNECT = 203, SENDTO = 206, RECVFROM = 207, CLOSE = 57, MSG_DONTWAIT = 0x40;
const BUF = DATA, ADDR = DATA + 0x100;
const SIZE = 1000;

let net: TwoGuestNetwork;
let a: TestGuest, b: TestGuest;
beforeEach(() => {
  net = new TwoGuestNetwork();
  a = net.add("gaaaa");
  b = net.add("gbbbb");
});
afterEach(() => net.close());

const call = callNow;
const abstract = (g: TestGuest, name: string) => abstractAt(g, ADDR, name);

/** Datagram number `i`: SIZE bytes starting with i. */
function datagram(i: number): Uint8Array {
  const d = Buffer.alloc(SIZE, i & 0xff);
  d.writeUInt32LE(i, 0);
  return d;
}

/** Sends datagram `i` on a's connected socket `fd`: its length, -errno, or "blocks". */
function send(fd: number, i: number, flags = MSG_DONTWAIT): number | "blocks" {
  put(a, BUF, datagram(i));
  return callOn(a, SENDTO, fd, BUF, SIZE, flags, 0, 0);
}

/** Every datagram b's socket `fd` holds now, by number; checks each one's bytes. */
function drain(fd: number): number[] {
  const got: number[] = [];
  for (;;) {
    const n = call(b, RECVFROM, fd, BUF, 4096, MSG_DONTWAIT, 0, 0);
    if (n === -Errno.EAGAIN) return got;
    expect(n).toBe(SIZE);
    const d = Buffer.from(b.c.space.read(BUF, SIZE)!);
    const i = d.readUInt32LE(0);
    expect(d.subarray(4).every((x) => x === (i & 0xff))).toBe(true);
    got.push(i);
  }
}

/** A receiver bound to \0q in b and a sender in a connected to it: [sender, receiver]. */
function unixPair(): [number, number] {
  const receiver = call(b, SOCKET, AF_UNIX, DGRAM, 0);
  expect(call(b, BIND, receiver, ADDR, abstract(b, "\0q"))).toBe(0);
  const sender = call(a, SOCKET, AF_UNIX, DGRAM, 0);
  expect(call(a, CONNECT, sender, ADDR, abstract(a, "\0q"))).toBe(0);
  return [sender, receiver];
}

/**
 * a sends `total` datagrams while b reads now and then; returns what b read,
 * in order. Each send that finds no room waits for the network to settle.
 */
async function exchange(total: number, plan: DeliveryPlan, readEvery: number): Promise<{ got: number[]; waits: number }> {
  const [sender, receiver] = unixPair();
  const got: number[] = [];
  let waits = 0;
  for (let i = 0; i < total; ) {
    const r = send(sender, i);
    if (r === SIZE) i++;
    else {
      expect(r).toBe(-Errno.EAGAIN);
      waits++;
      await net.settle(plan);
      got.push(...drain(receiver));
    }
    if (i % readEvery === 0) {
      await net.turn(plan);
      got.push(...drain(receiver));
    }
  }
  for (let quiet = 0; got.length < total && quiet < 100; quiet++) {
    await net.settle(plan);
    got.push(...drain(receiver));
  }
  return { got, waits };
}

const inOrder = (n: number) => Array.from({ length: n }, (_, i) => i);

test("a full receiver in another guest makes the sender wait (EAGAIN; a blocking send blocks), and nothing is lost when it reads", async () => {
  const [sender, receiver] = unixPair();
  const fit = Math.floor(DATAGRAM_CAPACITY / SIZE);
  let sent = 0;
  // The receiver never reads: its queue fills, then the sender's window of unaccepted datagrams.
  for (let rounds = 0; rounds < 10; rounds++) {
    while (send(sender, sent) === SIZE) sent++;
    await net.settle();
  }
  expect(send(sender, sent)).toBe(-Errno.EAGAIN);
  expect(send(sender, sent, 0)).toBe("blocks");
  expect(sent).toBeGreaterThanOrEqual(2 * fit); // a queue's worth accepted, a window's worth kept by the sender
  expect(sent).toBeLessThanOrEqual(2 * fit + 1);
  // Reading makes room; the sender's kept datagrams come, in order; none was lost.
  const got: number[] = [];
  for (let rounds = 0; got.length < sent && rounds < 100; rounds++) {
    got.push(...drain(receiver));
    await net.settle();
  }
  expect(got).toEqual(inOrder(sent));
  expect(send(sender, sent)).toBe(SIZE); // room again
  expect(a.warnings).toEqual([]);
  expect(b.warnings).toEqual([]);
});

test("routes that reorder and duplicate messages: every datagram arrives once, in the order sent", async () => {
  const { got, waits } = await exchange(600, { shuffle: true, duplicateEvery: 3 }, 50);
  expect(got).toEqual(inOrder(600));
  expect(waits).toBeGreaterThan(0); // the window filled at least once, so resends happened
});

test("a snapshot of the sender holds what the receiver has not accepted; restored, it sends it and goes on", async () => {
  const [sender, receiver] = unixPair();
  for (let i = 0; i < 5; i++) expect(send(sender, i)).toBe(SIZE);
  net.inFlight.splice(0); // lost with the sender's old host: only the snapshot has them
  const state = unpack(pack(a.sockets.state())) as ReturnType<typeof a.sockets.state>;
  expect(checkSockets(state, "sockets")).toBeDefined();
  net.restore(a, state);
  // Nothing arrived, so b is missing seq 0: the first datagram after the restore shows the gap, b asks, a sends all again.
  for (let i = 5; i < 8; i++) expect(send(sender, i)).toBe(SIZE);
  await net.settle();
  expect(drain(receiver)).toEqual(inOrder(8));
});

test("a guest restored from an older checkpoint: its kept datagrams go again under a new pair id, and what it sends next is not taken for a copy", async () => {
  const [sender, receiver] = unixPair();
  for (let i = 0; i < 3; i++) expect(send(sender, i)).toBe(SIZE);
  const checkpoint = unpack(pack(a.sockets.state())) as ReturnType<typeof a.sockets.state>;
  for (let i = 3; i < 6; i++) expect(send(sender, i)).toBe(SIZE);
  await net.settle();
  expect(drain(receiver)).toEqual(inOrder(6));
  net.restore(a, checkpoint);
  a.sockets.probeRemoteStreams();
  await net.settle();
  expect(drain(receiver)).toEqual([0, 1, 2]); // the restored guest sent them (as it will send what follows) again
  expect(send(sender, 3)).toBe(SIZE);
  await net.settle();
  expect(drain(receiver)).toEqual([3]);
});

test("a receiver restored from an older checkpoint takes what its senders send next", async () => {
  const [sender, receiver] = unixPair();
  const checkpoint = unpack(pack(b.sockets.state())) as ReturnType<typeof b.sockets.state>;
  for (let i = 0; i < 4; i++) expect(send(sender, i)).toBe(SIZE);
  await net.settle();
  expect(drain(receiver)).toEqual(inOrder(4));
  net.restore(b, checkpoint);
  b.sockets.probeRemoteStreams();
  for (let i = 4; i < 7; i++) expect(send(sender, i)).toBe(SIZE);
  await net.settle();
  expect(drain(receiver)).toEqual([4, 5, 6]);
});

test("a guest taken over by its backup: it sends again what it kept, and asks its senders for what its dead primary took", async () => {
  const [sender, receiver] = unixPair();
  // b also sends to a: its kept datagrams must go again too.
  const back = call(a, SOCKET, AF_UNIX, DGRAM, 0);
  expect(call(a, BIND, back, ADDR, abstract(a, "\0r"))).toBe(0);
  const bSender = call(b, SOCKET, AF_UNIX, DGRAM, 0);
  expect(call(b, CONNECT, bSender, ADDR, abstract(b, "\0r"))).toBe(0);
  for (let i = 0; i < 3; i++) expect(send(sender, i)).toBe(SIZE);
  await net.settle();
  expect(drain(receiver)).toEqual([0, 1, 2]);
  put(b, BUF, datagram(100));
  expect(call(b, SENDTO, bSender, BUF, SIZE, MSG_DONTWAIT, 0, 0)).toBe(SIZE);
  const committed = checkSockets(unpack(pack(b.sockets.state())), "sockets")!; // b's last committed epoch
  net.inFlight.splice(0); // b's datagram 100 died with its primary on the way
  for (let i = 3; i < 6; i++) expect(send(sender, i)).toBe(SIZE);
  await net.turn(); // b's primary accepted 3-5; its acks died with it
  net.inFlight.splice(0);
  net.restore(b, committed);
  b.sockets.resumeAfterTakeover();
  await net.settle({ shuffle: true, duplicateEvery: 2 });
  expect(drain(receiver)).toEqual([3, 4, 5]);
  const got = call(a, RECVFROM, back, BUF, 4096, MSG_DONTWAIT, 0, 0);
  expect(got).toBe(SIZE);
  expect(Buffer.from(a.c.space.read(BUF, 4)!).readUInt32LE(0)).toBe(100);
  expect(call(a, RECVFROM, back, BUF, 4096, MSG_DONTWAIT, 0, 0)).toBe(-Errno.EAGAIN);
});

test("a snapshot whose kept datagrams are out of order is refused, naming the field", () => {
  const [sender] = unixPair();
  for (let i = 0; i < 3; i++) expect(send(sender, i)).toBe(SIZE);
  const state = unpack(pack(a.sockets.state())) as { sockets: Array<{ datagrams?: { outbound: Array<{ unaccepted: Array<{ seq: number }> }> } }> };
  const kept = state.sockets.find((s) => s.datagrams)!.datagrams!.outbound[0].unaccepted;
  kept[1].seq = 7;
  expect(() => checkSockets(state, "sockets")).toThrow(/outbound\[0\]\.unaccepted: seqs are not consecutive/);
});

test("the receiver closes: its connected sender's next send says ECONNREFUSED, then ENOTCONN, and nothing is kept for it", async () => {
  const [sender, receiver] = unixPair();
  expect(call(b, CLOSE, receiver)).toBe(0);
  expect(send(sender, 0)).toBe(SIZE); // the datagram goes before the sender can know
  await net.settle();
  expect(send(sender, 1)).toBe(-Errno.ECONNREFUSED);
  expect(send(sender, 2)).toBe(-Errno.ENOTCONN);
  expect(a.sockets.get(a.sockets.all()[0].id)!.datagrams.empty).toBe(true);
});

test("UDP between guests still drops at a full receiver: its sender never waits", async () => {
  const server = call(b, SOCKET, AF_INET, DGRAM, 0);
  const address = Buffer.alloc(16);
  address.writeUInt16LE(AF_INET, 0); address.writeUInt16BE(5353, 2);
  put(b, ADDR, address);
  expect(call(b, BIND, server, ADDR, 16)).toBe(0);
  const client = call(a, SOCKET, AF_INET, DGRAM, 0);
  address.writeUInt32BE(b.address >>> 0, 4);
  put(a, ADDR, address);
  expect(call(a, CONNECT, client, ADDR, 16)).toBe(0);
  const total = Math.floor(DATAGRAM_CAPACITY / SIZE) + 50;
  for (let i = 0; i < total; i++) expect(send(client, i)).toBe(SIZE);
  await net.settle();
  expect(drain(server)).toEqual(inOrder(Math.floor(DATAGRAM_CAPACITY / SIZE)));
});
