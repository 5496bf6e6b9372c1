// Messages between guests on different hosts, while they migrate (issue 11):
// an msgpeer server on one host and a client on another exchange numbered
// messages over a stream; the server moves around three hosts, then both ends
// move, under each of the seed's four forwarding approaches. A stream must lose,
// repeat and reorder nothing: the client checks every echo, the server every
// message. The messages keep flowing through every move; a gate file ends them.
import { describe, expect, test } from "vitest";
import { dottedQuad, guestAddress } from "../../src/kernel/sockets/addresses.js";
import { HostProc, migrate, tempDir, waitUntil, perTest } from "./cluster.js";
import { endStreamIntact, msgpeer, received, STRATEGIES, threeHosts, until } from "./msgpeer-hosts.js";

const scratch = perTest();

describe("messages between two guests of one host", () => {
  for (const [kind, where] of [["unix", "same-host"], ["seqpacket", "same-host-sp"], ["udp", "7400"]] as const) {
    test(`${kind}: 2,000 messages echoed once each, in order`, async () => {
      const root = scratch.root = tempDir(`messages-one-${kind}`);
      const a = await HostProc.start({ name: "A", root: root.path });
      scratch.hosts = [a];
      const server = await msgpeer(a.url, ["server", kind, where, kind === "udp" ? "2000" : "1"]);
      await waitUntil(() => server.proc.text.includes("listening") || server.proc.exited !== undefined, 20_000, () => server.proc.describe());
      const target = kind === "udp" ? `${dottedQuad(guestAddress(server.id))}:${where}` : where;
      const client = await msgpeer(a.url, ["client", kind, target, "2000", kind === "udp" ? "2000" : "0"]);
      const exited = await client.proc.wait(60_000);
      // Datagrams between guests of one host are not dropped (nothing overflows at 2,000 a second).
      expect(client.proc.text, client.proc.describe()).toContain("sent 2000 echoed 2000 lost 0 dup 0 reordered 0");
      expect(exited.code).toBe(0);
      await server.proc.wait(30_000);
    }, 120_000);
  }
});

describe("messages between guests on different hosts, through migrations", () => {
  for (const [i, forwarding] of ["resend", "origin", "traversal", "update"].entries()) {
    test(`${forwarding}: a TCP stream loses, repeats and reorders nothing while the server moves A<-B->C, then the client, then both ends at once`, async () => {
      const root = scratch.root = tempDir(`messages-${forwarding}`);
      scratch.hosts = await threeHosts(root.path);
      const [a, b, c] = scratch.hosts;
      const server = await msgpeer(b.url, ["server", "tcp", "7000", "1"], forwarding);
      await waitUntil(() => server.proc.text.includes("listening") || server.proc.exited !== undefined, 20_000, () => server.proc.describe());
      const client = await msgpeer(a.url, ["client", "tcp", `${dottedQuad(guestAddress(server.id))}:7000`, "0", "2000", "/gate"], forwarding);
      await until(() => received(b.url, server.id), (n) => n > 50, "the stream to flow to B");
      const moves: Array<[string, HostProc, HostProc]> = [[server.id, b, c], [server.id, c, a], [server.id, a, b], [client.id, a, c]];
      for (const [k, [id, from, to]] of moves.entries()) {
        const strategy = STRATEGIES[(i + k) % STRATEGIES.length];
        const { result } = await migrate(id, from.url, to.url, strategy);
        expect(result.code, `${id} ${from.name} -> ${to.name} by ${strategy}: ${result.describe()}`).toBe(0);
        if (id === server.id) {
          const before = await received(to.url, id);
          await until(() => received(to.url, id), (n) => n > before + 50, `the stream to flow to ${to.name} after the move`);
        }
      }
      // Both ends at the same moment: the server B -> A while the client C -> B.
      const both = await Promise.all([migrate(server.id, b.url, a.url, STRATEGIES[i]), migrate(client.id, c.url, b.url, STRATEGIES[(i + 1) % 4])]);
      for (const { result } of both) expect(result.code, result.describe()).toBe(0);
      const before = await received(a.url, server.id);
      await until(() => received(a.url, server.id), (n) => n > before + 50, "the stream to flow to A after both moved");
      await endStreamIntact(root.path, client, server);
    }, 180_000);
  }
});
