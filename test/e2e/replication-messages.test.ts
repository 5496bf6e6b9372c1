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
// A connect to the replicated guest whose syn its primary took and died with
// (its accept held for an epoch the backup never got: the backup is stopped
// meanwhile) completes at the backup: the connecting side sends its syn again,
// as TCP retransmits a SYN — a guest's kernel, and a published port's relay.
//
// Two rules make it hold: what the replicated guest sends (data and acks
// alike) waits at its primary until the epoch that produced it is
// acknowledged, and each end of a stream keeps what it sent until the other
// end acks it, sending it again from the other end's last ack when that end
// was taken over by its backup.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { dottedQuad, guestAddress } from "../../src/kernel/sockets/addresses.js";
import { elfPath, HostProc, Proc, roam, stopAll, tempDir, vectorsLater, waitUntil } from "./cluster.js";
import { endStreamIntact, MSGPEER, msgpeer, received, until } from "./msgpeer-hosts.js";
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

  /**
   * The replicated server `id` on `primary` takes a connect (its host counts the syn) while `backup` is stopped, so
   * no epoch after it is acknowledged and its accept waits at the primary; then the primary is killed and the
   * backup goes on, from before the syn.
   */
  async function synDiesWithPrimary(primary: HostProc, backup: HostProc, id: string, connect: () => void, logs: () => string): Promise<void> {
    const before = await received(primary.url, id);
    backup.proc.child.kill("SIGSTOP");
    try {
      connect();
      await until(() => received(primary.url, id), (n) => n > before, `${primary.name}'s guest to take the syn`);
      await primary.crash();
    } finally {
      backup.proc.child.kill("SIGCONT");
    }
    await waitUntil(() => backup.log.includes(`guest ${id} taken over from`), 30_000, () => `${backup.name} to take ${id} over\n${logs()}`);
  }

  test("a connect whose syn died with the listener's primary is sent again: an outside client through a published port, and a guest", async () => {
    const r = await startHost("R2");
    const [primary, backup, s] = await Promise.all([startHost(undefined, [r.url]), startHost(undefined, [r.url]), startHost("S2", [r.url])]);
    // The outside client: the relay on R sends its syn again.
    const { server, id, port } = await echoServerPublished(r, primary);
    await replicateTo(primary, id, backup);
    let client: Streamer | undefined;
    const progress = () => `${client?.echoed}/${client?.sent} echoed, error ${client?.error}\nserver: ${server.describe()}\nlogs:\n${hosts.map((h) => `--- ${h.name}\n${h.log}`).join("\n")}`;
    await synDiesWithPrimary(primary, backup, id, () => { client = new Streamer(port); }, progress);
    await waitUntil(() => client!.echoed >= 50 || client!.closed, 30_000, () => `echoes from the backup (${progress()})`);
    await client!.endIntact(server, progress);

    // A guest's connect: its kernel sends the syn again.
    const guestServer = new Proc(["run", "--on", backup.url, "--replicate", s.url, "--epoch", "10ms", "--root", ".", MSGPEER, "server", "tcp", "7001", "1"]);
    await waitUntil(() => guestServer.text.includes("listening") || guestServer.exited !== undefined, 30_000, () => guestServer.describe());
    const serverId = /guest (g[0-9a-f]+) on/.exec(guestServer.err)![1];
    const target = `${dottedQuad(guestAddress(serverId))}:7001`;
    let guestClient: Proc | undefined;
    const logs = () => `client: ${guestClient?.describe()}\nserver: ${guestServer.describe()}\nlogs:\n${hosts.map((h) => `--- ${h.name}\n${h.log}`).join("\n")}`;
    await synDiesWithPrimary(backup, s, serverId, () => {
      guestClient = new Proc(["run", "--on", r.url, "--root", ".", MSGPEER, "client", "tcp", target, "0", "0", "/gate-connect"]);
    }, logs);
    await until(() => received(s.url, serverId), (n) => n > 20, `the stream to go on at ${s.name}`);
    writeFileSync(join(root.path, "gate-connect"), "");
    const [clientEnd, serverEnd] = await Promise.all([guestClient!.wait(60_000), guestServer.wait(60_000)]);
    const counts = /sent (\d+) echoed (\d+) lost 0 dup 0 reordered 0/.exec(guestClient!.text);
    expect(counts, logs()).not.toBeNull();
    expect(counts![1]).toBe(counts![2]);
    expect(guestServer.text).toContain(`server: ${counts![1]} messages in order`);
    expect([clientEnd.code, serverEnd.code], logs()).toEqual([0, 0]);
  }, 120_000);
});
