// Peer: frames held back while a migration's freeze sends its last ones, then
// written together, in order.
import { afterAll, beforeAll, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { createServer, type AddressInfo } from "node:net";
import { connect, Peer } from "../../src/net/peer.js";
import { encode, type Message } from "../../src/net/protocol.js";

let server: WebSocketServer;
let url = "";
const received: Message[] = [];
beforeAll(async () => {
  server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address();
  url = `ws://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  server.on("connection", (ws, request) => {
    const peer = new Peer(ws, undefined, request.socket);
    peer.onMessage((m) => {
      if (m.t === "hello") peer.reply(m);
      else received.push(m);
    });
  });
});
afterAll(() => server.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("frames sent while held stay on this side until released, then arrive in order", async () => {
  const peer = await connect(url, { role: "host" });
  const release = peer.hold();
  let taken = false;
  // a pre-encoded frame of a few pages' size, as a freeze's last pages
  peer.sendEncoded(encode({ t: "pages", data: new Uint8Array(70_000) }), () => (taken = true));
  peer.send({ t: "state", n: 1 });
  peer.send({ t: "commit", n: 2 });
  await sleep(50);
  expect(received, "nothing leaves while held").toEqual([]);
  expect(taken).toBe(false);
  release();
  release(); // a second release does nothing
  for (const deadline = Date.now() + 20_000; received.length < 3 && Date.now() < deadline; ) await sleep(5);
  expect(received.map((m) => m.t)).toEqual(["pages", "state", "commit"]);
  expect(taken).toBe(true);
  peer.close();
});

test("a peer without a known socket sends at once", async () => {
  received.length = 0;
  const peer = await connect(url, { role: "host" });
  const bare = new Peer(peer.ws); // same connection, socket not given
  const release = bare.hold();
  bare.send({ t: "now" });
  for (const deadline = Date.now() + 20_000; received.length < 1 && Date.now() < deadline; ) await sleep(5);
  expect(received.map((m) => m.t)).toEqual(["now"]);
  release();
  peer.close();
});

test("connecting to a host that accepts but never answers (a stopped process) fails within the bound, saying so", async () => {
  // The kernel completes the TCP handshake for a listening process that is stopped (SIGSTOP, a frozen machine); the
  // WebSocket upgrade then gets no answer. Without a limit a balancer's move to such a member waited for ever.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as AddressInfo).port;
  try {
    const started = performance.now();
    const error = await connect(`ws://127.0.0.1:${port}`, { role: "host", timeoutMs: 300 }).then(() => undefined, (e: Error) => e);
    expect(error?.message).toBe(`cannot reach ws://127.0.0.1:${port}: no answer to the connection in 0.3 s`);
    expect(performance.now() - started).toBeLessThan(5000);
  } finally {
    silent.close();
  }
});
