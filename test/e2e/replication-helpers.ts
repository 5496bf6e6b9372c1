// Helpers of the replication tests (issue 13). An outside TCP client of a
// guest's published port (Streamer): it streams numbered 16-byte messages (msgpeer's format) to msgpeer's
// echo server, at most IN_FLIGHT unechoed (a stream, not a ping-pong), and
// keeps every byte that comes back, so a test can check that what came back
// is exactly what was sent: nothing lost, nothing doubled, in order. The
// echo server behind a published port, replicating a guest, and waiting for a
// new primary to have its new backup.
import { Socket } from "node:net";
import { expect } from "vitest";
import type { ReplicationStats } from "../../src/replication/epoch.js";
import { ask, freePort, migrate, Proc, waitUntil, type HostProc } from "./cluster.js";
import { MSGPEER } from "./msgpeer-hosts.js";
const IN_FLIGHT = 16; // messages the client keeps on their way

export class Streamer {
  readonly socket = new Socket();
  private readonly sentChunks: Buffer[] = [];
  private readonly got: Buffer[] = [];
  sent = 0;
  gotBytes = 0;
  closed = false;
  error: string | undefined;
  stopped = false;

  constructor(port: number) {
    this.socket.setNoDelay(true);
    this.socket.on("data", (d: Buffer) => { this.got.push(d); this.gotBytes += d.length; this.fill(); });
    this.socket.on("close", () => (this.closed = true));
    this.socket.on("error", (e) => (this.error = e.message));
    this.socket.connect(port, "127.0.0.1", () => this.fill());
  }

  get echoed(): number {
    return Math.floor(this.gotBytes / 16);
  }

  private fill(): void {
    while (!this.stopped && this.sent - this.echoed < IN_FLIGHT) {
      const m = Buffer.alloc(16);
      m.writeUInt32LE(++this.sent, 0);
      this.sentChunks.push(m);
      this.socket.write(m);
    }
  }

  get sentBytes(): Buffer { return Buffer.concat(this.sentChunks); }
  get gotBytesAll(): Buffer { return Buffer.concat(this.got); }

  /** What came back so far is what was sent, from its start: none lost in between, none doubled. */
  prefixHolds(): boolean {
    const got = this.gotBytesAll;
    return got.equals(this.sentBytes.subarray(0, got.length));
  }

  /** Stops sending and half-closes: the server echoes what is on its way, counts, and closes; then every byte must have come back. */
  async endIntact(server: Proc, progress: () => string): Promise<void> {
    this.stopped = true;
    this.socket.end();
    await waitUntil(() => this.closed, 60_000, () => `the server's close (${progress()})`);
    expect(this.error, progress()).toBeUndefined();
    expect(this.gotBytesAll.length, progress()).toBe(this.sent * 16);
    expect(this.prefixHolds(), progress()).toBe(true);
    const exited = await server.wait(60_000);
    expect(server.text).toContain(`server: ${this.sent} messages in order`);
    expect(exited.code, server.describe()).toBe(0);
  }
}

/**
 * msgpeer's echo server started on `relayHost` with its TCP port 7000 published there (the relay stays on that
 * host, which must outlive the test's kills), then moved to `to` by precopy: the server process, its guest id and
 * the published port.
 */
export async function echoServerPublished(relayHost: HostProc, to: HostProc, ram = "64M"): Promise<{ server: Proc; id: string; port: number }> {
  const port = await freePort();
  const server = new Proc(["run", "--on", relayHost.url, "--ram", ram, "--root", ".", "--publish", `127.0.0.1:${port}:7000`, MSGPEER, "server", "tcp", "7000", "1"]);
  server.endInput();
  await waitUntil(() => server.text.includes("listening") || server.exited !== undefined, 30_000, () => server.describe());
  const id = /roam: guest (\S+) on/.exec(server.err)![1];
  const moved = await migrate(id, relayHost.url, to.url, "precopy");
  expect(moved.result.code, moved.result.describe()).toBe(0);
  return { server, id, port };
}

/**
 * Replicates guest `id` on `primary` to `backup` (epochs of 10 ms), answered once the backup has the first epoch. A
 * guest just taken over looks for a new backup by itself (src/replication/new-backup.ts): if it found `backup` first,
 * that replication is taken instead (`adopt`, the test's logs).
 */
export async function replicateTo(primary: HostProc, id: string, backup: HostProc, adopt?: () => string): Promise<void> {
  let reply: Record<string, unknown>;
  try {
    reply = await ask(primary.url, { t: "replicate", guest: id, to: backup.url, epochMs: 10 });
  } catch (error) {
    if (!adopt || !/busy: a replication/.test((error as Error).message)) throw error;
    expect((await protectedOn(primary.url, id, adopt)).peer, `the backup ${primary.url} found for ${id} by itself`).toBe(backup.url);
    return;
  }
  expect((reply.replication as ReplicationStats | undefined)?.status, JSON.stringify(reply)).toBe("protected");
}

/** The replication of `id` on `url` as its stats say, once it is a primary whose backup has its first epoch. */
export async function protectedOn(url: string, id: string, logs: () => string): Promise<ReplicationStats> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = (await ask(url, { t: "stats", guest: id })).replication as ReplicationStats | undefined;
    if (r?.role === "primary" && r.status === "protected") return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url} to replicate ${id} to a new backup (last: ${JSON.stringify(r)})\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
