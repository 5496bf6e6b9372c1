// `roam host --balance symmetric,locality`: a guest in a stream with a peer on
// another host is moved next to it by its host's balancer, which says why
// (the bytes per second it exchanged with each host, against its RAM); the
// bytes crossing hosts, as each host measures them for its load vector and
// `roam stats --cluster` shows, drop to (nearly) nothing after the move; the
// stream loses, repeats and reorders nothing; and the guest stays. Likewise a
// guest reading a file left on the host it came from goes back there.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/net/peer.js";
import { dottedQuad, guestAddress } from "../../src/kernel/sockets/addresses.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATE_OPEN } from "../process-cases.js";
import { elfPath, HostProc, migrate, openGate, Proc, quickPs, roam, sleep, stopAll, tempDir, waitUntil } from "./cluster.js";
import { endStreamIntact, MSGPEER, msgpeer } from "./msgpeer-hosts.js";

interface Member { name: string; seq: number; crossingBytesPerSecond: number; messagesPerSecond: number }

async function view(url: string): Promise<Member[]> {
  const peer = await connect(url, { role: "client" });
  try {
    return (await peer.request({ t: "cluster" })).members as Member[];
  } finally {
    peer.close();
  }
}

/** Polls `url`'s own load vector (a new one each ~0.5 s) until `done` holds of it; at most `timeoutMs`. */
async function ownVectorUntil(url: string, done: (m: Member) => boolean, timeoutMs: number, what: string): Promise<Member> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const self = (await view(url))[0];
    if (done(self)) return self;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(self)})`);
    await sleep(100);
  }
}

describe("locality", () => {
  const root = tempDir("locality");
  const hosts: HostProc[] = [];

  beforeAll(async () => {
    const a = await HostProc.start({ name: "A", root: root.path, extra: ["--force", "--balance", "symmetric,locality"] });
    hosts.push(a, await HostProc.start({ name: "B", root: root.path, extra: ["--force", "--join", a.url] }));
  }, 60_000);

  afterAll(async () => {
    await stopAll(hosts);
    root.remove();
  });

  // Both kinds at once (their minimum residences pass together: CI time): a stream server and a file reader on A.
  it("moves a stream's server next to its client, and a file reader back to its file's host; the bytes crossing hosts drop", async () => {
    const [a, b] = hosts;
    // Their moves cost the pages they wrote (a few hundred KiB of their 64 MiB), so they pay back within seconds.
    // 1. A server on A, streamed to as fast as the stream's credit allows by a client on B.
    const server = new Proc(["run", "--on", a.url, "--root", ".", MSGPEER, "server", "tcp", "7000", "1"]);
    await waitUntil(() => server.text.includes("listening") || server.exited !== undefined, 20_000, () => server.describe());
    const serverId = /roam: guest (\S+) on/.exec(server.err)![1];
    const client = await msgpeer(b.url, ["client", "tcp", `${dottedQuad(guestAddress(serverId))}:7000`, "0", "0", "/gate"]);
    // 2. A reader started on B and moved to A by hand: its open file stays on B (a residual dependency), so each read crosses.
    writeFileSync(join(root.path, "big.bin"), Buffer.alloc(64 << 20, 0x5a));
    openGate(root.path, "big.gate", 0);
    const run = await roam(["run", "--on", b.url, "--root", ".", "--detach", elfPath("slowcat"), "big.bin", "32768", "4", "big.gate"]);
    expect(run.code, run.describe()).toBe(0);
    const readerId = run.stdout.trim();
    const moved = await migrate(readerId, b.url, a.url, "precopy");
    expect(moved.result.code, moved.result.describe()).toBe(0);
    openGate(root.path, "big.gate", GATE_OPEN);

    const crossingBefore = (await ownVectorUntil(a.url, (m) => m.crossingBytesPerSecond > 100_000, 30_000, "A to measure the stream and the reads crossing to B")
      .catch((e: Error) => { throw new Error(`${e.message}\n${server.describe()}\n${a.log}\n${b.log}`); })).crossingBytesPerSecond;

    const decision = (id: string) => new RegExp(`balance \\(symmetric,locality\\): migrate guest ${id} A -> B: locality: ([\\d.]+) KiB/s exchanged with B, ([\\d.]+) KiB/s with guests here; gain .* > its move [\\d.]+ MiB`);
    for (const id of [serverId, readerId]) {
      await waitUntil(() => decision(id).test(a.log), 60_000, () => `A's locality decision for ${id}:\n${a.log}`);
      await waitUntil(() => b.log.includes(`guest ${id} arrived`), 30_000, () => `${id} to arrive at B:\n${b.log}`);
      const [line, withB, withA] = decision(id).exec(a.log)!.map((v, i) => (i ? Number(v) : v)) as [string, number, number];
      console.log(line);
      expect(withB).toBeGreaterThan(2 * withA);
    }

    // Both hosts' crossing bytes drop once the stream and the reads are local to B (stragglers forwarded from A end).
    const afterA = await ownVectorUntil(a.url, (m) => m.crossingBytesPerSecond < crossingBefore / 20, 20_000, "A's crossing bytes to drop");
    const afterB = await ownVectorUntil(b.url, (m) => m.crossingBytesPerSecond < crossingBefore / 20, 20_000, "B's crossing bytes to drop");
    // ... while the stream still flows, now within B, and the reader still reads there.
    const onB = await ownVectorUntil(b.url, (m) => m.messagesPerSecond > 100, 20_000, "the stream to flow within B");
    console.log(`crossing bytes/s: before the moves ${crossingBefore} (A), after ${afterA.crossingBytesPerSecond} (A) and ${afterB.crossingBytesPerSecond} (B); B's messages/s ${onB.messagesPerSecond}`);
    expect((await quickPs(b.url)).filter((g) => g.status === "running").map((g) => g.id).sort()).toEqual([client.id, serverId, readerId].sort());

    const stats = await roam(["stats", "--cluster", "--on", a.url]);
    expect(stats.code, stats.describe()).toBe(0);
    expect(stats.stdout).toMatch(/CROSS KiB\/S/);
    expect(stats.stdout).toMatch(/^balance: symmetric,locality; \d+ decisions kept, 2 migrations/m);
    for (const id of [serverId, readerId]) expect(stats.stdout).toContain(`migrate ${id} A -> B: locality: `);

    await endStreamIntact(root.path, client, { proc: server });
    expect((a.log.match(/balance \([\w,]+\): migrate guest/g) ?? []).length, "no guest moved twice").toBe(2);
  }, 180_000);

  it("--balance takes one load policy at most, and locality; anything else is a one-line usage error", async () => {
    const cases: Array<[string, string]> = [
      ["sender,receiver", "--balance sender,receiver: one load policy at most (sender and receiver given), with or without locality"],
      ["symmetric,nearby", "--balance symmetric,nearby: 'nearby' is not a policy (sender, receiver, symmetric or locality, e.g. symmetric,locality)"],
    ];
    for (const [text, error] of cases) {
      const r = await roam(["host", "--listen", "127.0.0.1:0", "--root", root.path, "--balance", text]);
      expect(r.code, r.describe()).toBe(2);
      expect(r.stderr).toBe(`roam: host: ${error}\n`);
    }
  });
});
