// Two hosts in this process on loopback: a memwalk guest migrates with each
// strategy and ends exactly like an unmigrated run.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { connect, type Peer } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { memwalkOutput } from "../process-cases.js";

const root = mkdtempSync(join(tmpdir(), "roam-hosts-"));
const elf = readFileSync(new URL("../../guests/bin/process/memwalk.elf", import.meta.url));
let hosts: Host[] = [];
beforeAll(async () => {
  hosts = ["A", "B", "C"].map((name) => new Host({ name, host: "127.0.0.1", port: 0, root }));
  for (const h of hosts) await h.listen();
});
afterAll(async () => {
  for (const h of hosts) await h.close();
  rmSync(root, { recursive: true, force: true });
});

/** Follows a guest's output across hosts, as an attached terminal would. */
async function follow(firstUrl: string, id: string, onMoved?: () => void): Promise<{ text: () => string; exit: Promise<Message> }> {
  const chunks: Buffer[] = [];
  let offset = 0;
  let finish: (m: Message) => void;
  const exit = new Promise<Message>((r) => (finish = r));
  const attach = async (url: string) => {
    const peer: Peer = await connect(url, { role: "client" });
    peer.onMessage((m) => {
      if (m.t === "out" && m.guest === id) {
        const data = Buffer.from(m.data as Uint8Array);
        const start = m.offset as number;
        if (start + data.length > offset) { chunks.push(data.subarray(offset - start)); offset = start + data.length; }
      } else if (m.t === "moved" && m.guest === id) {
        onMoved?.();
        peer.close();
        void attach(String(m.to));
      } else if (m.t === "exit" && m.guest === id) { peer.close(); finish(m); }
    });
    await peer.request({ t: "attach", guest: id, from: offset });
  };
  await attach(firstUrl);
  return { text: () => Buffer.concat(chunks).toString(), exit };
}

const args = ["memwalk", "--mib", "8", "--fraction", "0.25", "--rounds", "200"];

describe("migration between hosts (in process)", () => {
  for (const strategy of ["stop-copy", "precopy", "postcopy", "hybrid"]) {
    test(`${strategy}: memwalk moves A -> B -> C mid-run and ends as an unmigrated run`, async () => {
      const client = await connect(hosts[0].url, { role: "client" });
      const ran = await client.request({ t: "run", program: "memwalk", argv: args, elf, ramBytes: 32 << 20 });
      const id = (ran.guest as { id: string }).id;
      const watch = await follow(hosts[0].url, id);
      const hops: Array<[Host, Host]> = [[hosts[0], hosts[1]], [hosts[1], hosts[2]]];
      const allStats: unknown[] = [];
      for (const [from, to] of hops) {
        await new Promise((r) => setTimeout(r, 60));
        const c = await connect(from.url, { role: "client" });
        const reply = await c.request({ t: "migrate", guest: id, to: to.url, strategy, maxDowntimeMs: 5 });
        allStats.push(reply.stats);
        c.close();
        expect(to.guests.has(id)).toBe(true);
        expect(from.guests.has(id)).toBe(false);
      }
      const exit = await watch.exit;
      expect(exit.code).toBe(0);
      expect(watch.text()).toBe(memwalkOutput(8, "0.25", 200, "0"));
      const stats = allStats as Array<{ status: string; downtimeMs: number; pagesSent: number; zeroPagesSkipped: number }>;
      for (const s of stats) expect(s.status).toBe("completed");
      client.close();
    }, 60_000);
  }
});

describe("machine-mode guests between hosts (in process)", () => {
  const bench = readFileSync(new URL("../../guests/bin/baremetal/compute-mix-bench.elf", import.meta.url));
  const echo = readFileSync(new URL("../../guests/bin/baremetal/echo.elf", import.meta.url));

  for (const strategy of ["precopy", "postcopy"]) {
    test(`${strategy}: a bare-metal compute guest moves twice and prints its checksums as if it never moved`, async () => {
      const client = await connect(hosts[0].url, { role: "client" });
      const ran = await client.request({ t: "run", kind: "machine", program: "compute-mix-bench", argv: ["compute-mix-bench"], elf: bench, ramBytes: 64 << 20 });
      const id = (ran.guest as { id: string }).id;
      const watch = await follow(hosts[0].url, id);
      for (const [from, to] of [[hosts[0], hosts[1]], [hosts[1], hosts[2]]] as Array<[Host, Host]>) {
        await new Promise((r) => setTimeout(r, 300));
        const c = await connect(from.url, { role: "client" });
        const reply = await c.request({ t: "migrate", guest: id, to: to.url, strategy });
        expect((reply.stats as { status: string }).status).toBe("completed");
        c.close();
      }
      const exit = await watch.exit;
      expect(exit.code).toBe(0);
      expect(watch.text()).toMatch(/compute-mix: checksum 0x211e8c97 ok\n$/);
      client.close();
    }, 60_000);
  }

  test("a bare-metal guest waiting on its UART moves, then echoes the line typed after", async () => {
    const client = await connect(hosts[0].url, { role: "client" });
    const ran = await client.request({ t: "run", kind: "machine", program: "echo", argv: ["echo"], elf: echo, ramBytes: 16 << 20 });
    const id = (ran.guest as { id: string }).id;
    const watch = await follow(hosts[0].url, id);
    await client.request({ t: "input", guest: id, offset: 0, data: Buffer.from("before\n") });
    await new Promise((r) => setTimeout(r, 100));
    const c = await connect(hosts[0].url, { role: "client" });
    await c.request({ t: "migrate", guest: id, to: hosts[1].url, strategy: "precopy" });
    c.close();
    const b = await connect(hosts[1].url, { role: "client" });
    // The client resends all it typed; the console takes "before" once.
    await b.request({ t: "input", guest: id, offset: 0, data: Buffer.from("before\nafter\n\n") });
    const exit = await watch.exit;
    expect(exit.code).toBe(0);
    expect(watch.text()).toContain("BEFORE");
    expect(watch.text()).toContain("AFTER");
    expect(watch.text().match(/BEFORE/g)!.length).toBe(1);
    b.close();
    client.close();
  }, 30_000);
});

describe("ended guests", () => {
  test("a guest that ends gives back its core and RAM, but ps and a late attach still see it", async () => {
    const client = await connect(hosts[0].url, { role: "client" });
    const hello = readFileSync(new URL("../../guests/bin/process/hello.elf", import.meta.url));
    const ran = await client.request({ t: "run", program: "hello", argv: ["hello"], elf: hello, ramBytes: 16 << 20 });
    const id = (ran.guest as { id: string }).id;
    const watch = await follow(hosts[0].url, id);
    expect((await watch.exit).code).toBe(0);
    const hosted = hosts[0].guests.get(id)!;
    expect(hosted.status).toBe("exited");
    expect(() => hosted.guest).toThrow(/exited/); // the core is gone
    const ps = await client.request({ t: "ps" });
    expect((ps.guests as Array<{ id: string; status: string }>).find((g) => g.id === id)?.status).toBe("exited");
    const late = await follow(hosts[0].url, id);
    expect((await late.exit).code).toBe(0);
    expect(late.text()).toBe(watch.text());
    client.close();
  });
});
