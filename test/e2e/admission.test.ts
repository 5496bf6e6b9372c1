// A host protects itself and its guests from what arrives: guests are admitted
// against its memory budget (--max-memory) whichever way they come (run,
// restore, migration), a connection that never says hello or dribbles a frame
// is closed, an oversized frame is answered (not left hanging), and numbers
// that are not numbers are refused before they reach the core.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { isLive } from "../../src/cluster/hosted-guest.js";
import { connect, type Peer } from "../../src/net/peer.js";
import { encode } from "../../src/net/protocol.js";
import { checkpointOver, waitUntil } from "./cluster.js";

const root = mkdtempSync(join(tmpdir(), "roam-admission-"));
const elf = readFileSync(new URL("../../guests/bin/process/memwalk.elf", import.meta.url));
const MiB = 1 << 20;
const logs: string[] = [];
let small: Host; // takes 96 MiB of guests
let roomy: Host;
const peers: Peer[] = [];

beforeAll(async () => {
  small = new Host({ name: "S", host: "127.0.0.1", port: 0, root, maxMemoryBytes: 96 * MiB, log: (l) => logs.push(l), connectionLimits: { helloMs: 300, frameMs: 500 } });
  roomy = new Host({ name: "R", host: "127.0.0.1", port: 0, root });
  await small.listen();
  await roomy.listen();
});
afterAll(async () => {
  for (const p of peers) p.close();
  await small.close();
  await roomy.close();
  rmSync(root, { recursive: true, force: true });
});

async function client(host: Host): Promise<Peer> {
  const peer = await connect(host.url, { role: "client" });
  peers.push(peer);
  return peer;
}

const run = (c: Peer, ramMiB: number) =>
  c.request({ t: "run", program: "memwalk", argv: ["memwalk", "--mib", "1", "--rounds", "0", "--rate", "20"], elf, ramBytes: ramMiB * MiB });

describe("the memory budget", () => {
  test("run, migration and restore are admitted only while they fit; refusals say what is free", async () => {
    const s = await client(small);
    const first = ((await run(s, 64)).guest as { id: string }).id;
    await expect(run(s, 64)).rejects.toThrow(/needs 64 MiB; host S has 32 of its 96 MiB \(--max-memory\) free/);

    // A migration into the full host is refused before the freeze: the guest runs on at R.
    const r = await client(roomy);
    const other = ((await run(r, 64)).guest as { id: string }).id;
    await expect(r.request({ t: "migrate", guest: other, to: small.url, strategy: "precopy" })).rejects.toThrow(/needs 64 MiB; host S has 32/);
    expect(roomy.guests.get(other)?.status).toBe("running");
    expect(small.arrivals.has(other)).toBe(false);

    // Once the first guest is gone, the same migration fits.
    await s.request({ t: "kill", guest: first });
    await r.request({ t: "migrate", guest: other, to: small.url, strategy: "precopy" });
    expect(isLive(small.guests.get(other)!.status)).toBe(true);

    // A restore counts too: a checkpoint of it (taken with it left running) does not fit beside it.
    const snapshot = await checkpointOver(s, other, true);
    await s.request({ t: "kill", guest: other });
    const restored = await s.request({ t: "restore", snapshot });
    expect((restored.guest as { id: string }).id).toBe(other);
    await expect(run(s, 64)).rejects.toThrow(/has 32 of its 96 MiB/);
    await s.request({ t: "kill", guest: other });
  }, 60_000);
});

describe("connections", () => {
  const open = async (url: string): Promise<{ ws: WebSocket; closed: Promise<number> }> => {
    const ws = new WebSocket(url);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    return { ws, closed };
  };

  test("one that never says hello is closed, and the host says why", async () => {
    const { closed } = await open(small.url);
    await closed;
    await waitUntil(() => logs.some((l) => /closed the connection from .*: no hello within 0.3 s/.test(l)), 5000, "the host's log line");
  });

  test("one that dribbles a frame is closed; the host serves others meanwhile", async () => {
    const { ws, closed } = await open(small.url);
    ws.send(encode({ t: "hello", role: "client" }));
    // The start of a 4 KiB binary frame, then nothing more.
    (ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x82, 0xfe, 0x10, 0x00, 1, 2, 3, 4, 5, 6]));
    const other = await client(small);
    expect((await other.request({ t: "ps" })).host).toBe("S");
    await closed;
    await waitUntil(() => logs.some((l) => /a frame took over 0.5 s to arrive/.test(l)), 5000, "the host's log line");
  });

  test("a frame over the size limit is answered with its rid; the connection and host carry on", async () => {
    const c = await client(roomy);
    await expect(c.request({ t: "run", program: "big", argv: ["big"], elf: Buffer.alloc(65 * MiB) })).rejects.toThrow(/over the 67108864-byte limit/);
    expect((await c.request({ t: "ps" })).host).toBe("R");
  }, 30_000);

  test("mig-begin with a RAM size that is not a number is refused before a core is made", async () => {
    const h = await connect(roomy.url, { role: "host" });
    peers.push(h);
    for (const ramBytes of [Number.NaN, -4096, 4097, 2 ** 31, "64M"]) {
      await expect(h.request({ t: "mig-begin", guest: { id: "gbad", kind: "process", ramBytes }, strategy: "precopy" })).rejects.toThrow(/mig-begin: (bad RAM size|guest info missing)/);
    }
    expect(roomy.arrivals.size).toBe(0);
  });
});
