// A new backup after a failover (issue 13), with real host processes: four
// hosts in a cluster, three labelled `safe`. A guest that requires `safe`
// runs on A, replicated to B. A is killed: B takes the guest over and picks a
// new backup by itself among the members that carry the guest's labels — C,
// never the unlabelled X — and replicates to it. B is killed in turn: C takes
// over, and with only X alive runs it on unprotected rather than back it up
// on a host without the label. The client attached from the start sees the
// undisturbed output.
import { afterAll, describe, expect, test } from "vitest";
import { connect } from "../../src/net/peer.js";
import type { ReplicationStats } from "../../src/replication/epoch.js";
import { counterOutput } from "../process-cases.js";
import { elfPath, HostProc, Proc, stopAll, tempDir, waitUntil } from "./cluster.js";

const SLEEP_MS = 20;
const LINES = 300;
const root = tempDir("replication-rebackup");
const hosts: HostProc[] = [];
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

function startHost(name: string, extra: string[]): Promise<HostProc> {
  return HostProc.start({ name, root: root.path, timeoutMs: 60_000, extra: ["--force", ...extra] }).then((h) => (hosts.push(h), h));
}

async function replicationOn(url: string, id: string): Promise<ReplicationStats | undefined> {
  const peer = await connect(url, { role: "client" });
  try {
    return (await peer.request({ t: "stats", guest: id }, 60_000)).replication as ReplicationStats | undefined;
  } finally {
    peer.close();
  }
}

/** Waits (asking again as each answer comes) until `url` replicates `id` to a backup that acknowledged its first epoch. */
async function protectedFrom(url: string, id: string): Promise<ReplicationStats> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await replicationOn(url, id);
    if (r?.role === "primary" && r.status === "protected") return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url} to replicate ${id} to a new backup (last: ${JSON.stringify(r)})`);
  }
}

const linesOf = (text: string): number => text.split("\n").length - 1;

async function afterMoreLines(client: Proc, most: number): Promise<void> {
  const target = linesOf(client.text) + 1 + Math.floor(Math.random() * most);
  await waitUntil(() => linesOf(client.text) >= target || client.exited !== undefined, 60_000, () => `line ${target} (${client.describe()})`);
  expect(client.exited, `the guest ended too soon: ${client.describe()}`).toBeUndefined();
}

describe("replication: a new backup after each failover", () => {
  test("two kills in a row: each new primary picks a labelled backup from the cluster, and the output is exact", async () => {
    const a = await startHost("A", ["--label", "safe"]);
    const [b, c, x] = await Promise.all([
      startHost("B", ["--label", "safe", "--join", a.url]),
      startHost("C", ["--label", "safe", "--join", a.url]),
      startHost("X", ["--join", a.url]),
    ]);
    await waitUntil(() => [a, b, c, x].every((h) => (h.log.match(/joined the cluster/g) ?? []).length >= 3), 30_000, "the four members to know each other");
    const client = new Proc(["run", "--on", a.url, "--replicate", b.url, "--epoch", "10ms", "--require", "safe", elfPath("counter"), String(LINES), "1", String(SLEEP_MS)]);
    client.endInput();
    await waitUntil(() => /guest (g[0-9a-f]+) on/.test(client.err) || client.exited !== undefined, 60_000, () => `the guest to start (${client.describe()})`);
    const id = /guest (g[0-9a-f]+) on/.exec(client.err)![1];

    await afterMoreLines(client, 25);
    await a.crash();
    await waitUntil(() => /taken over from/.test(b.log), 30_000, () => `B to take ${id} over (log: ${b.log})`);
    expect((await protectedFrom(b.url, id)).peer, "B's new backup must carry the guest's label").toBe(c.url);

    await afterMoreLines(client, 25);
    await b.crash();
    await waitUntil(() => /taken over from/.test(c.log), 30_000, () => `C to take ${id} over (log: ${c.log})`);
    // Only X is left alive, and it lacks the label: C runs the guest on without a backup rather than break its requirement.
    await waitUntil(() => /no member of the cluster can keep its backup now/.test(c.log), 30_000, () => `C to find no labelled backup (log: ${c.log})`);

    const exited = await client.wait(120_000);
    expect(client.text).toBe(counterOutput(LINES, 1, SLEEP_MS));
    expect(exited.code, client.describe()).toBe(0);
    expect(client.err.match(/following it to its backup/g)?.length).toBe(2);
    expect(x.log).not.toContain(id);
  }, 240_000);
});
