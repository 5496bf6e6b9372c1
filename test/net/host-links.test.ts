// Host links carry guests' messages in order, and lose none when a connection
// drops: what was not acknowledged is sent again on a new connection, and the
// receiver drops what it had already taken.
import { afterEach, describe, expect, test } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { HostLinks, type GuestMessage } from "../../src/net/host-links.js";
import { Peer } from "../../src/net/peer.js";

const servers: WebSocketServer[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.close(); });

/** A host's receiving side: says hello back, takes `gm` frames through its own HostLinks, records what it took. */
async function receivingHost(dropEvery = 0) {
  const receiver = new HostLinks({ selfUrl: () => "ws://receiver", undeliverable: () => {} });
  const got: GuestMessage[] = [];
  const connections: WebSocket[] = [];
  let frames = 0;
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  servers.push(server);
  server.on("connection", (ws) => {
    connections.push(ws);
    const peer = new Peer(ws);
    peer.onMessage((m) => {
      if (m.t === "hello") { peer.reply(m, { name: "receiver", version: 1 }); return; }
      if (m.t !== "gm") return;
      const message = receiver.receive(m, (ack) => peer.send(ack as { t: string }));
      if (!message) return;
      got.push(message);
      // Cut the connection now and then, before the burst's acknowledgement leaves.
      if (dropEvery && ++frames % dropEvery === 0) ws.terminate();
    });
  });
  await new Promise((r) => server.once("listening", r));
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, got, connections };
}

const message = (n: number): GuestMessage => ({ to: "g1", from: "g2", kind: "data", seq: n, data: new Uint8Array([n & 255]) });

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
}

describe("host links", () => {
  test("messages arrive once each, in order, and are acknowledged", async () => {
    const to = await receivingHost();
    const links = new HostLinks({ selfUrl: () => "ws://sender", undeliverable: () => { throw new Error("none is undeliverable"); } });
    for (let n = 1; n <= 500; n++) links.send(to.url, message(n));
    await until(() => to.got.length === 500 && links.pending().get(to.url) === 0);
    expect(to.got.map((m) => m.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(to.connections.length).toBe(1);
    links.close();
  });

  test("a connection cut again and again loses nothing and repeats nothing", async () => {
    const to = await receivingHost(97);
    const links = new HostLinks({ selfUrl: () => "ws://sender", undeliverable: () => { throw new Error("none is undeliverable"); } });
    for (let n = 1; n <= 1000; n++) links.send(to.url, message(n));
    await until(() => to.got.length === 1000 && links.pending().get(to.url) === 0);
    expect(to.got.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(to.connections.length).toBeGreaterThan(1); // it was cut, and the link came back
    links.close();
  });

  test("a host that never answers gives its messages back", async () => {
    const given: GuestMessage[] = [];
    const links = new HostLinks({ selfUrl: () => "ws://sender", undeliverable: (_url, messages) => given.push(...messages), giveUpMs: 300 });
    links.send("ws://127.0.0.1:1", message(1));
    links.send("ws://127.0.0.1:1", message(2));
    await until(() => given.length === 2);
    expect(given.map((m) => m.seq)).toEqual([1, 2]);
  });
});
