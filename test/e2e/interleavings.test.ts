// Random interleavings of run, migrate, kill, checkpoint and restore requests
// at three hosts (in this process), fired a few at a time so they overlap:
// at no moment does a guest run in two places, and at the end every guest
// the answers say is alive runs in exactly one place, and no other does.
// Bounded: a fixed number of rounds, from a fixed seed (ROAM_SEED picks another).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { isLive } from "../../src/cluster/hosted-guest.js";
import { connect, type Peer } from "../../src/net/peer.js";
import { checkpointOver } from "./cluster.js";
import { seeded } from "../fuzz/mutate.js";

const root = mkdtempSync(join(tmpdir(), "roam-interleave-"));
const elf = readFileSync(new URL("../../guests/bin/process/memwalk.elf", import.meta.url));
const STRATEGIES = ["stop-copy", "precopy", "postcopy", "hybrid"];
const ROUNDS = 40;
let hosts: Host[] = [];
const peers: Peer[] = [];

beforeAll(async () => {
  hosts = ["A", "B", "C"].map((name) => new Host({ name, host: "127.0.0.1", port: 0, root }));
  for (const h of hosts) await h.listen();
});
afterAll(async () => {
  for (const p of peers) p.close();
  for (const h of hosts) await h.close();
  rmSync(root, { recursive: true, force: true });
});

/**
 * Where guest `id` runs. (A source's frozen copy may overlap the destination's
 * running one for an instant, between the commit and its answer: it never runs
 * again unless the destination does not have the guest.)
 */
const runningOn = (id: string): string[] => hosts.filter((h) => h.guests.get(id)?.status === "running").map((h) => h.name);
/** Where guest `id` is running or frozen: once all is quiet, exactly where it runs. */
const liveOn = (id: string): string[] => hosts.filter((h) => { const g = h.guests.get(id); return g !== undefined && isLive(g.status); }).map((h) => h.name);

test("run / migrate / kill / checkpoint / restore at three hosts, overlapping: one copy at most, none lost", async () => {
  const seed = Number(process.env.ROAM_SEED ?? 20261204);
  const rand = seeded(seed);
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)];
  const clients = await Promise.all(hosts.map(async (h) => { const p = await connect(h.url, { role: "client" }); peers.push(p); return p; }));
  const alive = new Set<string>(); // by the answers so far
  const saved = new Map<string, Buffer>(); // checkpointed (stopped) guests and their files
  const log: string[] = [];
  const run = async (at: number) => {
    const reply = await clients[at].request({ t: "run", program: "memwalk", argv: ["memwalk", "--mib", "2", "--rounds", "0", "--rate", "20"], elf, ramBytes: 16 << 20 });
    alive.add((reply.guest as { id: string }).id);
  };
  let twice = "";
  const watch = setInterval(() => { for (const id of [...alive, ...saved.keys()]) if (runningOn(id).length > 1) twice ||= `${id} on ${runningOn(id)}`; }, 1);
  try {
    for (let i = 0; i < 3; i++) await run(i);
    for (let round = 0; round < ROUNDS; round++) {
      const ops: Array<Promise<void>> = [];
      const guests = [...alive];
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(rand() * 3); // the host the request goes to: not always where the guest is
        const kind = rand();
        const record = (what: string, p: Promise<unknown>, onDone: () => void) =>
          ops.push(p.then(() => { onDone(); log.push(`${round}: ${what} ok`); }, (e: Error) => void log.push(`${round}: ${what} refused: ${e.message}`)));
        if (guests.length === 0 || (kind < 0.15 && alive.size < 4)) { record(`run at ${at}`, run(at), () => {}); continue; }
        const id = pick(guests);
        const where = liveOn(id)[0];
        const from = where && rand() < 0.8 ? hosts.findIndex((h) => h.name === where) : at;
        if (kind < 0.55) {
          const to = pick(hosts.filter((_, j) => j !== from));
          const strategy = pick(STRATEGIES);
          record(`migrate ${id} ${hosts[from].name}->${to.name} ${strategy}`, clients[from].request({ t: "migrate", guest: id, to: to.url, strategy }), () => {});
        } else if (kind < 0.75) {
          record(`kill ${id} at ${hosts[from].name}`, clients[from].request({ t: "kill", guest: id }), () => alive.delete(id));
        } else if (kind < 0.9) {
          record(`checkpoint ${id} at ${hosts[from].name}`, checkpointOver(clients[from], id).then((file) => saved.set(id, file)), () => alive.delete(id));
        } else if (saved.size > 0) {
          const [gone, file] = pick([...saved.entries()]);
          saved.delete(gone);
          record(`restore ${gone} at ${hosts[at].name}`, clients[at].request({ t: "restore", snapshot: file }), () => alive.add(gone));
        }
      }
      await Promise.all(ops);
      expect(twice, log.slice(-12).join("\n")).toBe("");
    }
    // Quiet now: every guest alive by the answers runs in exactly one place; the rest nowhere.
    for (const id of alive) {
      expect(liveOn(id), `${id} (seed ${seed})\n${log.slice(-20).join("\n")}`).toHaveLength(1);
      expect(runningOn(id)).toEqual(liveOn(id));
    }
    for (const id of saved.keys()) expect(liveOn(id), `${id} was checkpointed`).toEqual([]);
    console.log(`[interleavings] seed ${seed}: ${log.length} requests, ${log.filter((l) => l.includes(" ok")).length} done, ${alive.size} guests alive at the end`);
  } finally {
    clearInterval(watch);
  }
}, 180_000);
