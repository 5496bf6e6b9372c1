// A guest with a connection to another guest is checkpointed to a file and
// restored later on another host (issue 11: "a checkpoint restored later
// reconnects its peers or gives them ECONNRESET"). The client, whose server
// went away with the checkpoint, gets ECONNRESET once no host has the server;
// the restored server asks its old connection's other end whether it is still
// there, is answered with a reset, and goes on serving: a new client at the
// same address is echoed every message.
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { dottedQuad, guestAddress } from "../../src/kernel/sockets/addresses.js";
import { HostProc, Proc, roam, tempDir, waitUntil, perTest } from "./cluster.js";
import { msgpeer, received, until } from "./msgpeer-hosts.js";

const scratch = perTest();

describe("a checkpoint restored later, with connections", () => {
  test("the old client gets ECONNRESET; the restored server's old connection is reset, and it serves a new client", async () => {
    const root = scratch.root = tempDir("socket-checkpoint");
    const a = await HostProc.start({ name: "A", root: root.path });
    const b = await HostProc.start({ name: "B", root: root.path, peers: [a.url] });
    scratch.hosts = [a, b];
    const server = await msgpeer(a.url, ["server", "tcp", "7000", "0"]);
    await waitUntil(() => server.proc.text.includes("listening") || server.proc.exited !== undefined, 20_000, () => server.proc.describe());
    const target = `${dottedQuad(guestAddress(server.id))}:7000`;
    const first = await msgpeer(b.url, ["client", "tcp", target, "0", "200", "/never"]);
    await until(() => received(a.url, server.id), (n) => n > 50, "the stream to flow");

    const file = join(root.path, "server.roam");
    const saved = await roam(["checkpoint", server.id, "-o", file, "--on", a.url]);
    expect(saved.code, saved.describe()).toBe(0);
    // No host has the server now: the client's next messages are answered with a reset.
    const firstEnd = await first.proc.wait(60_000);
    // Its next read or write fails, whichever comes first (as on Linux, once a reset came).
    expect(first.proc.err, first.proc.describe()).toMatch(/msgpeer: (read|send): Connection reset by peer/);
    expect(firstEnd.code).toBe(2);

    const restored = new Proc(["restore", file, "--on", b.url, "--attach"]);
    // The whole line, not its start: output can arrive mid-line ("... after 482").
    await waitUntil(() => /server: connection reset after \d+ messages/.test(restored.text) || restored.exited !== undefined, 30_000, () => restored.describe());
    expect(restored.text).toMatch(/server: connection reset after \d+ messages/);
    const second = await msgpeer(a.url, ["client", "tcp", target, "100", "0"]);
    const secondEnd = await second.proc.wait(60_000);
    expect(second.proc.text, second.proc.describe()).toContain("sent 100 echoed 100 lost 0 dup 0 reordered 0");
    expect(secondEnd.code).toBe(0);
    await waitUntil(() => restored.text.includes("server: 100 messages in order"), 30_000, () => restored.describe());
    restored.kill();
    server.proc.kill();
  }, 180_000);
});
