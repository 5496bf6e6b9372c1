// Output commit for messages (issue 13) with real host processes: a guest's
// echo server (msgpeer) publishes a port on R, moves to P (so the relay for
// outside clients stays on R, which survives) and is replicated to B. An
// outside TCP client streams numbered messages through the port and reads the
// echoes while P is killed with SIGKILL at random moments (after a random
// number of further echoes); each time the backup takes over, becomes the next
// primary and is replicated in turn to a fresh host. What the client gets must
// be exactly what it sent (the server echoes): nothing lost, nothing doubled,
// and the server itself checks that every message came once, in order.
//
// Guest to guest likewise: a replicated msgpeer client streams to a server
// guest on a host that survives while the client's primary is killed.
//
// Two rules make it hold: what the replicated guest sends (data and acks
// alike) waits at its primary until the epoch that produced it is
// acknowledged, and each end of a stream keeps what it sent until the other
// end acks it, sending it again from the other end's last ack when that end
// was taken over by its backup.
import { afterAll, describe, expect, test } from "vitest";
import { dottedQuad, guestAddress } from "../../src/kernel/sockets/addresses.js";
import { elfPath, HostProc, Proc, roam, stopAll, tempDir, vectorsLater, waitUntil } from "./cluster.js";
import { endStreamIntact, MSGPEER, msgpeer, received } from "./msgpeer-hosts.js";
import { echoServerPublished, protectedOn, replicateTo, Streamer } from "./replication-helpers.js";

const KILLS = Number(process.env.ROAM_MESSAGE_KILLS ?? 3);

const root = tempDir("replication-messages");
const hosts: HostProc[] = [];
let hostNumber = 0;
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

function startHost(name = `H${hostNumber++}`, peers: string[] = []): Promise<HostProc> {
  return HostProc.start({ name, root: root.path, peers, timeoutMs: 60_000 }).then((h) => (hosts.push(h), h));
}

describe("replication: messages and published-port bytes under output commit", () => {
  test(`an outside client's echoed stream through a published port is exact across ${KILLS} SIGKILLs of the guest's primary`, async () => {
    // R keeps the published port's relay and must survive: once the guest has left, a ballast guest fills R's memory
    // so that no takeover picks R as the guest's new backup (a later kill would take the relay with it).
    const r = await HostProc.start({ name: "R", root: root.path, timeoutMs: 60_000, extra: ["--force", "--max-memory", "96M"] }).then((h) => (hosts.push(h), h));
    const others = await Promise.all(Array.from({ length: KILLS + 1 }, () => startHost(undefined, [r.url])));
    const byUrl = (url: string) => others.find((h) => h.url === url)!;
    let [primary, backup] = others;
    const { server, id, port } = await echoServerPublished(r, primary);
    const ballast = await roam(["run", "--on", r.url, "--ram", "48M", "--detach", elfPath("counter"), "100000", "1", "1000"]);
    expect(ballast.code, ballast.describe()).toBe(0);
    await vectorsLater(r.url, 2);
    await replicateTo(primary, id, backup);

    const client = new Streamer(port);
    const progress = () => `${client.echoed}/${client.sent} echoed, error ${client.error}, closed ${client.closed}\nserver: ${server.describe()}\nlogs:\n${hosts.map((h) => `--- ${h.name}\n${h.log}`).join("\n")}`;
    await waitUntil(() => client.echoed >= 20 || client.closed, 30_000, () => `the first echoes (${progress()})`);
    for (let kill = 1; kill <= KILLS; kill++) {
      const target = client.echoed + 1 + Math.floor(Math.random() * 60);
      await waitUntil(() => client.echoed >= target || client.closed, 30_000, () => `echo ${target} before kill ${kill} (${progress()})`);
      expect(client.closed, progress()).toBe(false);
      await primary.crash();
      await waitUntil(() => /taken over from/.test(backup.log), 30_000, () => `${backup.name} to take ${id} over (${progress()})`);
      // The stream goes on at the backup: the relay on R sends again what the killed primary took and never committed.
      const before = client.echoed;
      await waitUntil(() => client.echoed >= before + 30 || client.closed, 30_000, () => `echoes after kill ${kill} (${progress()})`);
      expect(client.prefixHolds(), `the echoes after kill ${kill} differ from what was sent (${progress()})`).toBe(true);
      primary = backup;
      if (kill === KILLS) break; // no host is left for a backup but R
      // The new primary picks its new backup from the cluster by itself (never R: it has no room).
      const replication = await protectedOn(primary.url, id, progress);
      expect(replication.peer).not.toBe(r.url);
      backup = byUrl(replication.peer);
    }
    await client.endIntact(server, progress);
  }, 60_000 + KILLS * 40_000);

  test("guest to guest: a replicated client's stream to a server guest is exact across a SIGKILL of the client's primary", async () => {
    const s = await startHost("S");
    const [primary, backup] = await Promise.all([startHost(undefined, [s.url]), startHost(undefined, [s.url])]);
    const server = await msgpeer(s.url, ["server", "tcp", "7000", "1"]);
    await waitUntil(() => server.proc.text.includes("listening") || server.proc.exited !== undefined, 30_000, () => server.proc.describe());
    const target = `${dottedQuad(guestAddress(server.id))}:7000`;
    const client = new Proc(["run", "--on", primary.url, "--replicate", backup.url, "--epoch", "10ms", "--root", ".", MSGPEER, "client", "tcp", target, "0", "0", "/gate"]);
    await waitUntil(() => /guest (g[0-9a-f]+) on/.test(client.err) || client.exited !== undefined, 60_000, () => `the client to start (${client.describe()})`);
    const id = /guest (g[0-9a-f]+) on/.exec(client.err)![1];
    const logs = () => `client: ${client.describe()}\nserver: ${server.proc.describe()}\nlogs:\n${hosts.map((h) => `--- ${h.name}\n${h.log}`).join("\n")}`;
    // The server's host counts the messages its guest took (data and acks): the stream's progress.
    const takenPast = async (n: number) => {
      const deadline = Date.now() + 30_000;
      while ((await received(s.url, server.id)) < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for the server to take ${n} messages\n${logs()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await takenPast((await received(s.url, server.id)) + 20 + Math.floor(Math.random() * 300));
    await primary.crash();
    await waitUntil(() => /taken over from/.test(backup.log), 30_000, () => `${backup.name} to take ${id} over\n${logs()}`);
    await takenPast((await received(s.url, server.id)) + 50); // the stream goes on from the backup
    await endStreamIntact(root.path, { proc: client }, server);
  }, 120_000);
});
