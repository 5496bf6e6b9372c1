// Messages between guests on different hosts while they move (issue 11): for
// each of the seed's four forwarding approaches, four pairs of msgpeer guests
// at once — an AF_UNIX stream, SOCK_SEQPACKET records, UDP and AF_UNIX
// datagrams — exchange numbered messages while every server moves, then every
// client, then every server and client at the same moment, the strategy
// changing at each step. Streams must lose, repeat and reorder nothing (the
// client checks every echo, the server every message); AF_UNIX datagrams too
// (they are reliable on Linux and here); UDP's counts are checked the same way
// at a rate that never fills a receive queue. TCP's own matrix is in
// messages.test.ts. A gate file ends every client's stream.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { dottedQuad, guestAddress } from "../../src/kernel/sockets/addresses.js";
import { HostProc, Proc, migrate, tempDir, waitUntil, perTest } from "./cluster.js";
import { msgpeer, received, STRATEGIES, threeHosts, until } from "./msgpeer-hosts.js";

const scratch = perTest();
const APPROACHES = ["resend", "origin", "traversal", "update"];
const KINDS = ["unix", "seqpacket", "udp", "unixdg"] as const;

interface Pair { kind: (typeof KINDS)[number]; server: { proc: Proc; id: string }; client: { proc: Proc; id: string } }

/** Moves each `[id, from, to]` at the same moment by `strategy`; every move must succeed. */
async function moveTogether(moves: Array<[string, HostProc, HostProc]>, strategy: string): Promise<void> {
  const results = await Promise.all(moves.map(([id, from, to]) => migrate(id, from.url, to.url, strategy)));
  for (const [k, { result }] of results.entries()) {
    const [id, from, to] = moves[k];
    expect(result.code, `${id} ${from.name} -> ${to.name} by ${strategy}: ${result.describe()}`).toBe(0);
  }
}

/** Waits until every server on `host` has taken `n` more messages (each stream flows there). */
async function flowing(host: HostProc, pairs: Pair[], n = 30): Promise<void> {
  await Promise.all(pairs.map(async ({ kind, server }) => {
    const before = await received(host.url, server.id);
    await until(() => received(host.url, server.id), (now) => now > before + n, `${kind} messages to flow into ${server.id} on ${host.name}`);
  }));
}

/** A server of `kind` on `on` and its client on `from`, under `forwarding`. */
async function pair(kind: Pair["kind"], name: string, on: HostProc, from: HostProc, forwarding: string): Promise<Pair> {
  const where = kind === "udp" ? "7000" : name;
  const server = await msgpeer(on.url, ["server", kind, where, kind === "udp" || kind === "unixdg" ? "0" : "1"], forwarding);
  await waitUntil(() => server.proc.text.includes("listening") || server.proc.exited !== undefined, 20_000, () => server.proc.describe());
  const target = kind === "udp" ? `${dottedQuad(guestAddress(server.id))}:${where}` : where;
  // 300 a second each: beside a CPU hog an echo server of three busy hosts must never fall a whole UDP receive
  // buffer behind (UDP may drop then; AF_UNIX would make the sender wait).
  const client = await msgpeer(from.url, ["client", kind, target, "0", "300", "/gate"], forwarding);
  return { kind, server, client };
}

/** Opens the gate; every client had each message echoed once, in order, every stream server took them all; all exit 0. */
async function endIntact(root: string, pairs: Pair[]): Promise<void> {
  writeFileSync(join(root, "gate"), "");
  for (const { kind, server, client } of pairs) {
    const clientEnd = await client.proc.wait(60_000);
    const counts = /sent (\d+) echoed (\d+) lost 0 dup 0/.exec(client.proc.text);
    expect(counts, `${kind}: ${client.proc.describe()}`).not.toBeNull();
    expect(counts![1], `${kind}: ${client.proc.describe()}`).toBe(counts![2]);
    expect(clientEnd.code, `${kind}: ${client.proc.describe()}`).toBe(0);
    if (kind === "unix" || kind === "seqpacket") {
      const serverEnd = await server.proc.wait(60_000);
      expect(server.proc.text, `${kind}: ${server.proc.describe()}`).toContain(`server: ${counts![1]} messages in order`);
      expect(serverEnd.code).toBe(0);
    } else server.proc.kill();
  }
}

describe("messages between guests while they move: each socket kind under each approach", () => {
  for (const [i, forwarding] of APPROACHES.entries()) {
    test(`${forwarding}: unix, seqpacket, udp and unixdg pairs lose, repeat and reorder nothing while the servers, the clients and both move`, async () => {
      const root = scratch.root = tempDir(`moving-${forwarding}`);
      const [a, b, c] = scratch.hosts = await threeHosts(root.path);
      const pairs = await Promise.all(KINDS.map((kind) => pair(kind, `${kind}-${forwarding}`, b, a, forwarding)));
      const servers = (from: HostProc, to: HostProc) => pairs.map(({ server }): [string, HostProc, HostProc] => [server.id, from, to]);
      const clients = (from: HostProc, to: HostProc) => pairs.map(({ client }): [string, HostProc, HostProc] => [client.id, from, to]);
      await flowing(b, pairs);
      await moveTogether(servers(b, c), STRATEGIES[i]);
      await flowing(c, pairs);
      await moveTogether(clients(a, b), STRATEGIES[(i + 1) % 4]);
      await flowing(c, pairs);
      await moveTogether([...servers(c, a), ...clients(b, c)], STRATEGIES[(i + 2) % 4]);
      await flowing(a, pairs);
      await endIntact(root.path, pairs);
    }, 240_000);
  }
});
