// "Never two running copies" under any interleaving of client requests, with
// three hosts in this process: two migrations of one guest at once, a kill
// that lands at every step of a migration, checkpoints racing migrations, and
// a postcopy whose link breaks after the commit (recovered: the source opens
// it again and the guest gets every page it lacks).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { isLive } from "../../src/cluster/hosted-guest.js";
import { connect, type Peer } from "../../src/net/peer.js";
import { checkpointOver, waitUntil } from "./cluster.js";

const root = mkdtempSync(join(tmpdir(), "roam-ordering-"));
const elf = readFileSync(new URL("../../guests/bin/process/memwalk.elf", import.meta.url));
/** Called at each named point of every outgoing migration (a test arms it). */
let atPoint: ((host: Host, guest: string, point: string, cut: () => void) => void) | undefined;
let hosts: Host[] = [];
const logs: string[] = [];
const clients: Peer[] = [];

beforeAll(async () => {
  hosts = ["A", "B", "C"].map((name) => {
    const host: Host = new Host({ name, host: "127.0.0.1", port: 0, root, onMigrationPoint: (g, p, cut) => atPoint?.(host, g, p, cut), log: (line) => logs.push(`[${name}] ${line}`) });
    return host;
  });
  for (const h of hosts) await h.listen();
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const h of hosts) await h.close();
  rmSync(root, { recursive: true, force: true });
});

async function client(host: Host): Promise<Peer> {
  const peer = await connect(host.url, { role: "client" });
  clients.push(peer);
  return peer;
}

/** A guest that runs until killed, rewriting memory (so precopy has rounds to do). */
async function startGuest(on: Host, mib = 8): Promise<string> {
  const c = await client(on);
  const ran = await c.request({ t: "run", program: "memwalk", argv: ["memwalk", "--mib", String(mib), "--rounds", "0", "--rate", "40"], elf, ramBytes: 32 << 20 });
  return (ran.guest as { id: string }).id;
}

/** The hosts where guest `id` is alive (running or frozen) now. */
const liveOn = (id: string): string[] => hosts.filter((h) => { const g = h.guests.get(id); return g !== undefined && isLive(g.status); }).map((h) => h.name);

const STRATEGIES = ["stop-copy", "precopy", "postcopy", "hybrid"];

describe("one migration of a guest at a time", () => {
  test("two migrate requests at once, every strategy pair: one moves it, the other is refused; one copy", async () => {
    const [a, b, c] = hosts;
    for (const first of STRATEGIES) {
      for (const second of STRATEGIES) {
        const id = await startGuest(a, 2);
        const [c1, c2] = [await client(a), await client(a)];
        const results = await Promise.allSettled([
          c1.request({ t: "migrate", guest: id, to: b.url, strategy: first }),
          c2.request({ t: "migrate", guest: id, to: c.url, strategy: second }),
        ]);
        const moved = results.filter((r) => r.status === "fulfilled");
        const refusals = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
        expect(moved.length, `${first} + ${second}: ${refusals.join("; ")}`).toBe(1);
        expect(refusals[0]).toMatch(/busy: a migration to ws:\/\/.* is under way|has moved to/);
        await waitUntil(() => liveOn(id).length === 1 && !a.arrivals.has(id) && !b.arrivals.has(id) && !c.arrivals.has(id), 10_000, `one copy of ${id} (${liveOn(id)})`);
        expect(liveOn(id)).toEqual([results[0].status === "fulfilled" ? "B" : "C"]);
        await c1.request({ t: "kill", guest: id }); // at A: it follows the guest to where it went
        expect(liveOn(id)).toEqual([]);
      }
    }
  }, 120_000);

  test("a checkpoint during a migration, and a migration during a checkpoint, are refused", async () => {
    const [a, b] = hosts;
    const id = await startGuest(a);
    const [c1, c2] = [await client(a), await client(a)];
    const migration = c1.request({ t: "migrate", guest: id, to: b.url, strategy: "precopy", bandwidth: 20e6 });
    await waitUntil(() => a.guests.get(id)?.operation !== undefined, 5000, "the migration to start");
    await expect(c2.request({ t: "checkpoint", guest: id })).rejects.toThrow(/busy: a migration to .* is under way/);
    await migration;
    const c3 = await client(b);
    // The snapshot arrives (answered), but the guest stays frozen until the client confirms the file is safe.
    const sent = await c3.request({ t: "checkpoint", guest: id });
    expect(sent.bytes).toBeGreaterThan(2 << 20);
    expect(b.guests.get(id)?.status).toBe("frozen");
    await expect(c3.request({ t: "migrate", guest: id, to: a.url })).rejects.toThrow(/busy: a checkpoint is under way/);
    c3.close(); // the client goes away before it confirmed the file: the guest runs on, here
    await waitUntil(() => b.guests.get(id)?.status === "running" && b.guests.get(id)?.operation === undefined, 5000, "the guest to run on at B");
    await (await client(b)).request({ t: "kill", guest: id });
    expect(liveOn(id)).toEqual([]);
  }, 60_000);
});

describe("a kill ordered against a migration", () => {
  const points: Record<string, string[]> = {
    "stop-copy": ["begun", "prestate-sent", "frozen", "state-sent", "commit-sent", "commit-answered"],
    precopy: ["begun", "round-1", "prestate-sent", "frozen", "final-pages-sent", "commit-sent", "commit-answered"],
    postcopy: ["begun", "prestate-sent", "frozen", "state-sent", "commit-sent", "commit-answered"],
    hybrid: ["begun", "round-1", "frozen", "commit-sent", "commit-answered"],
  };
  for (const [strategy, at] of Object.entries(points)) {
    test(`${strategy}: a kill at ${at.join(", ")} is answered only once the guest runs nowhere`, async () => {
      const [a, b] = hosts;
      for (const point of at) {
        const id = await startGuest(a, 4);
        const killer = await client(a);
        let kill: Promise<unknown> | undefined;
        atPoint = (host, guest, reached) => {
          if (host === a && guest === id && reached === point && !kill) kill = killer.request({ t: "kill", guest: id });
        };
        const migration = (await client(a)).request({ t: "migrate", guest: id, to: b.url, strategy }).then(() => "moved", (e: Error) => e.message);
        const outcome = await migration;
        await waitUntil(() => kill !== undefined, 5000, `the migration to reach ${point} (${outcome})`);
        const answer = await kill!.then(() => "killed", (e: Error) => `kill refused: ${e.message}`);
        atPoint = undefined;
        expect(answer, `${point}: the migration said: ${outcome}`).toBe("killed");
        expect(liveOn(id), `${point}: the migration said: ${outcome}`).toEqual([]);
        // Nothing starts later either: B has no arrival pending for it.
        await waitUntil(() => !b.arrivals.has(id), 5000, `B to let go of the arrival of ${id}`);
        expect(liveOn(id), `${point}, later`).toEqual([]);
      }
    }, 90_000);
  }
});

describe("a postcopy whose link breaks after the commit (postcopy recovery)", () => {
  // Cut at the commit's answer, pages are still to come: the source opens the link again and sends what is missing.
  // Cut once every page has landed but before the source said it was complete: the source opens the link again and
  // hears that nothing is missing (before, the destination had dropped the arrival and the source declared the guest
  // lost, while it ran on at the destination).
  for (const point of ["commit-answered", "postcopy-pushed"]) {
    test(`cut at ${point}: the source opens the link again, the guest gets every page it lacks and runs at the destination alone`, async () => {
      const [a, b] = hosts;
      const ran = await (await client(a)).request({ t: "run", program: "memwalk", argv: ["memwalk", "--mib", "16", "--rounds", "8", "--rate", "40"], elf, ramBytes: 32 << 20 });
      const id = (ran.guest as { id: string }).id;
      let cuts = 0;
      atPoint = (host, guest, reached, cut) => {
        if (host === a && guest === id && reached === point && cuts++ === 0) cut();
      };
      const c = await client(a);
      const outcome = await c.request({ t: "migrate", guest: id, to: b.url, strategy: "postcopy" }).then((r) => r.stats as { status: string; error?: string }, (e: Error) => ({ status: "failed", error: e.message }));
      atPoint = undefined;
      expect(cuts, `the migration reached ${point}`).toBeGreaterThan(0);
      expect(outcome, `cut at ${point}: ${outcome.error ?? ""}\n${logs.join("\n")}`).toMatchObject({ status: "completed" });
      expect(liveOn(id)).toEqual(["B"]);
      await waitUntil(() => !b.arrivals.has(id), 10_000, `B to have every page of ${id}`);
      const back = logs.filter((l) => l.startsWith(`[B] guest ${id}: its postcopy source is back`)).length;
      if (point === "commit-answered") expect(back, logs.join("\n")).toBeGreaterThan(0);
      // It ends there having verified every page of its region against what it wrote (exit 1 on a wrong one).
      await waitUntil(() => b.guests.get(id)?.status !== "running", 30_000, `${id} to end at B`);
      const output = b.guests.get(id)!.console.outputSince(0).map((chunk) => Buffer.from(chunk.data).toString()).join("");
      expect(b.guests.get(id)?.exitCode, output).toBe(0);
      expect(output).toMatch(/final checksum 0x[0-9a-f]+, verify ok/);
    }, 90_000);
  }
});

describe("restore", () => {
  test("a snapshot whose guest id belongs to an ended guest restores; one whose guest runs is refused", async () => {
    const [a] = hosts;
    const id = await startGuest(a, 2);
    const c = await client(a);
    const file = await checkpointOver(c, id, true);
    await expect(c.request({ t: "restore", snapshot: file })).rejects.toThrow(/already runs on A/);
    await c.request({ t: "kill", guest: id });
    const restored = await c.request({ t: "restore", snapshot: file });
    expect((restored.guest as { id: string }).id).toBe(id);
    expect(liveOn(id)).toEqual(["A"]);
    await c.request({ t: "kill", guest: id });
  }, 30_000);
});
