// A published port (`roam run --publish HOSTPORT:GUESTPORT`): an outside TCP
// client, a plain Node socket, talks to a guest's server through the host the
// guest started on, and keeps its one connection through 20 migrations of the
// guest between two hosts: every message is echoed once, in order.
import { Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { freePort, HostProc, migrate, Proc, REPO, tempDir, waitUntil, perTest } from "./cluster.js";

const MSGPEER = join(REPO, "guests/bin/net/msgpeer.elf");

const scratch = perTest();

/** Sends numbered 16-byte messages one at a time, each after the echo of the one before; checks every echo. */
class PingPong {
  readonly socket: Socket;
  sent = 0;
  echoed = 0;
  closed = false;
  error: string | undefined;
  private buffer = Buffer.alloc(0);

  constructor(port: number) {
    this.socket = new Socket();
    this.socket.setNoDelay(true);
    this.socket.on("data", (d: Buffer) => this.took(d));
    this.socket.on("close", () => (this.closed = true));
    this.socket.on("error", (e) => (this.error = e.message));
    this.socket.connect(port, "127.0.0.1", () => this.send());
  }

  private send(): void {
    const m = Buffer.alloc(16);
    m.writeUInt32LE(this.echoed + 1, 0);
    this.sent = this.echoed + 1;
    this.socket.write(m);
  }

  private took(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    while (this.buffer.length >= 16) {
      const n = this.buffer.readUInt32LE(0);
      this.buffer = this.buffer.subarray(16);
      if (n !== this.echoed + 1) { this.error = `echo ${n} where ${this.echoed + 1} was due`; return; }
      this.echoed = n;
      if (!this.stopped) this.send();
    }
  }

  stopped = false;
}

/** Whether a connection to `port` is refused now (nobody listens there). */
async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = new Socket();
    probe.once("connect", () => { probe.destroy(); resolve(false); });
    probe.once("error", () => resolve(true));
    probe.connect(port, "127.0.0.1");
  });
}

/**
 * A guest publishing a port on A serves one client through `moves` migrations
 * between A and B (ending on A if even, on B if odd); the client stops with a
 * half-close while its last message is on its way, and must still get its echo.
 * The port closes at A once the guest ended, wherever that was.
 */
async function servesThroughMoves(moves: number): Promise<void> {
  const root = scratch.root = tempDir("publish");
  const a = await HostProc.start({ name: "A", root: root.path });
  const b = await HostProc.start({ name: "B", root: root.path, peers: [a.url] });
  scratch.hosts = [a, b];
  const port = await freePort();
  const server = new Proc(["run", "--on", a.url, "--root", ".", "--publish", `127.0.0.1:${port}:7000`, MSGPEER, "server", "tcp", "7000", "1"]);
  await waitUntil(() => server.text.includes("listening") || server.exited !== undefined, 20_000, () => server.describe());
  const started = /roam: guest (\S+) on/.exec(server.err);
  expect(started, server.describe()).not.toBeNull();
  const id = started![1];
  const client = new PingPong(port);
  await waitUntil(() => client.echoed >= 20 || client.closed, 20_000, () => `echoes through the published port (${client.echoed}, ${client.error})`);
  let on = a, other = b;
  for (let move = 1; move <= moves; move++) {
    const { result } = await migrate(id, on.url, other.url, move % 2 ? "precopy" : "stop-copy");
    expect(result.code, `move ${move}: ${result.describe()}`).toBe(0);
    [on, other] = [other, on];
    const before = client.echoed;
    await waitUntil(() => client.echoed >= before + 10 || client.closed || client.error !== undefined, 30_000, () => `echoes after move ${move} (${client.echoed})`);
    expect(client.error).toBeUndefined();
    expect(client.closed).toBe(false);
  }
  // One message may still be on its way when the client stops: the server
  // reads it, echoes it and counts it, then sees the end and closes.
  client.stopped = true;
  client.socket.end();
  const exited = await server.wait(30_000);
  await waitUntil(() => client.closed, 30_000, () => `the server's close reaching the client (${client.echoed}/${client.sent})`);
  expect(client.error).toBeUndefined();
  expect(client.echoed).toBe(client.sent);
  expect(server.text).toContain(`server: ${client.sent} messages in order`);
  expect(exited.code, server.describe()).toBe(0);
  // The host the guest started on hears of its end after its last bytes (the ended notice rides the same link).
  const deadline = Date.now() + 20_000;
  while (!(await refused(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} still open 20 s after the guest ended`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a published port", () => {
  test("an outside TCP client keeps its connection to a guest's server through 20 migrations, no byte lost or repeated", () => servesThroughMoves(20), 240_000);
  test("a guest that ends on another host closes its published port at the host it started on", () => servesThroughMoves(1), 60_000);
});
