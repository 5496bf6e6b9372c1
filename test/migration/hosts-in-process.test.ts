// Two hosts in this process on loopback: a memwalk guest migrates with each
// strategy and ends exactly like an unmigrated run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { connect } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { memwalkOutput, memwalkRounds } from "../process-cases.js";
import { followGuest } from "../e2e/cluster.js";

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
async function follow(firstUrl: string, id: string): Promise<{ text: () => string; exit: Promise<Message> }> {
  const watch = await followGuest(firstUrl, id);
  return { text: () => watch.output().toString(), exit: watch.exited };
}

/** memwalk rewriting a quarter of 8 MiB per round at 16 MiB/s, round after round until `stop` appears in the sandbox. */
const args = (stop: string) => ["memwalk", "--mib", "8", "--fraction", "0.25", "--rounds", "0", "--rate", "16", "--until", stop];

/** Resolves once `condition` holds (polled), or fails naming `what` after 20 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; !condition(); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

describe("migration between hosts (in process)", () => {
  for (const strategy of ["stop-copy", "precopy", "postcopy", "hybrid"]) {
    test(`${strategy}: memwalk moves A -> B -> C mid-run and ends as an unmigrated run`, async () => {
      const client = await connect(hosts[0].url, { role: "client" });
      const stop = `hosts-${strategy}.stop`;
      const ran = await client.request({ t: "run", program: "memwalk", argv: args(stop), elf, ramBytes: 32 << 20, root: "." });
      const id = (ran.guest as { id: string }).id;
      const watch = await follow(hosts[0].url, id);
      const hops: Array<[Host, Host]> = [[hosts[0], hosts[1]], [hosts[1], hosts[2]]];
      const allStats: unknown[] = [];
      let rounds = 0;
      for (const [from, to] of hops) {
        // Moved mid-run, a round after the last move (it runs until the stop file appears).
        await until(() => memwalkRounds(watch.text()) > rounds, `memwalk's round ${rounds + 1}`);
        rounds = memwalkRounds(watch.text());
        const c = await connect(from.url, { role: "client" });
        const reply = await c.request({ t: "migrate", guest: id, to: to.url, strategy, maxDowntimeMs: 5 });
        allStats.push(reply.stats);
        c.close();
        expect(to.guests.has(id)).toBe(true);
        expect(from.guests.has(id)).toBe(false);
      }
      writeFileSync(join(root, stop), "");
      const exit = await watch.exit;
      expect(exit.code).toBe(0);
      expect(watch.text()).toBe(memwalkOutput(8, "0.25", 0, "16", memwalkRounds(watch.text())));
      const stats = allStats as Array<{ status: string; downtimeMs: number; pagesSent: number; zeroPagesSkipped: number }>;
      for (const s of stats) expect(s.status).toBe("completed");
      client.close();
    }, 60_000);
  }
});

describe("machine-mode guests between hosts (in process)", () => {
  const computeUntil = readFileSync(new URL("../../guests/bin/baremetal/compute-until.elf", import.meta.url));
  const echo = readFileSync(new URL("../../guests/bin/baremetal/echo.elf", import.meta.url));

  for (const strategy of ["precopy", "postcopy"]) {
    test(`${strategy}: a bare-metal compute guest moves twice and prints its checksums as if it never moved`, async () => {
      const client = await connect(hosts[0].url, { role: "client" });
      // It computes until a byte arrives on its UART: busy at both moves, however slow the machine.
      const ran = await client.request({ t: "run", kind: "machine", program: "compute-until", argv: ["compute-until"], elf: computeUntil, ramBytes: 64 << 20 });
      const id = (ran.guest as { id: string }).id;
      const watch = await follow(hosts[0].url, id);
      const runs = () => watch.text().match(/checksum 0x[0-9a-f]+ ok\n/g)?.length ?? 0;
      let done = 0;
      for (const [from, to] of [[hosts[0], hosts[1]], [hosts[1], hosts[2]]] as Array<[Host, Host]>) {
        await until(() => runs() > done, "a run of the compute mix"); // it ran here: moved mid-computation
        done = runs();
        const c = await connect(from.url, { role: "client" });
        const reply = await c.request({ t: "migrate", guest: id, to: to.url, strategy });
        expect((reply.stats as { status: string }).status).toBe("completed");
        c.close();
      }
      await until(() => runs() > done, "a run of the compute mix on the last host");
      const last = await connect(hosts[2].url, { role: "client" });
      await last.request({ t: "input", guest: id, offset: 0, data: Buffer.from("x") });
      const exit = await watch.exit;
      expect(exit.code).toBe(0);
      // Every run printed the same checksums, each verified against the known total, and nothing else came out.
      const blocks = watch.text().split(/(?<=ok\n)/);
      const tail = blocks.pop()!;
      expect(tail).toBe(`compute-until: ${blocks.length} runs\n`);
      expect(blocks[0]).toMatch(/^compute-until: 2 rounds\n(  \w+ +0x[0-9a-f]{8}\n){5}compute-until: checksum 0xc02c7b84 ok\n$/);
      for (const block of blocks) expect(block).toBe(blocks[0]);
      last.close();
      client.close();
    }, 60_000);
  }

  test("a bare-metal guest waiting on its UART moves, then echoes the line typed after", async () => {
    const client = await connect(hosts[0].url, { role: "client" });
    const ran = await client.request({ t: "run", kind: "machine", program: "echo", argv: ["echo"], elf: echo, ramBytes: 16 << 20 });
    const id = (ran.guest as { id: string }).id;
    const watch = await follow(hosts[0].url, id);
    await client.request({ t: "input", guest: id, offset: 0, data: Buffer.from("before\n") });
    await until(() => watch.text().includes("BEFORE\n"), "the echo of the first line"); // then it waits on its UART
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
