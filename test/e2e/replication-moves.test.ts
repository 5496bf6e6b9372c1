// Moving a replicated guest (issue 13), with real host processes: a guest
// printing numbered lines, replicated from A to B, is migrated to a third host
// D; replication goes on from D to the same backup B, so when D is then killed
// with SIGKILL, B takes the guest over and the client attached from the start
// sees exactly the undisturbed run's output. A replicated guest migrated to its
// own backup is promoted there: a failover without loss (the guest frozen
// since its last, acknowledged epoch), and the old primary lists it no more.
// A primary killed in the middle of a move: the backup asks the destination,
// which has not started the guest and now never will (fenced), and takes it
// over; the output is still exact and the guest runs on the backup alone.
// A host draining on SIGTERM (--drain-to its guest's backup) promotes it too.
import { afterAll, describe, test } from "vitest";
import type { ReplicationStats } from "../../src/replication/epoch.js";
import { counterOutput } from "../process-cases.js";
import { ask, elfPath, HostProc, Proc, quickPs, roam, stopAll, tempDir, waitUntil } from "./cluster.js";

const SLEEP_MS = 20;
const root = tempDir("replication-moves");
const hosts: HostProc[] = [];
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

function startHost(name: string, extra: string[] = []): Promise<HostProc> {
  return HostProc.start({ name, root: root.path, timeoutMs: 60_000, extra }).then((h) => (hosts.push(h), h));
}

const linesOf = (text: string): number => text.split("\n").length - 1;

async function replicatedCounter(primary: HostProc, backup: HostProc, lines: number): Promise<{ client: Proc; id: string }> {
  const client = new Proc(["run", "--on", primary.url, "--replicate", backup.url, "--epoch", "10ms", elfPath("counter"), String(lines), "1", String(SLEEP_MS)]);
  client.endInput();
  await waitUntil(() => /guest (g[0-9a-f]+) on/.test(client.err) || client.exited !== undefined, 60_000, () => `the guest to start (${client.describe()})`);
  return { client, id: /guest (g[0-9a-f]+) on/.exec(client.err)![1] };
}

async function afterMoreLines(client: Proc, most: number): Promise<void> {
  const target = linesOf(client.text) + 1 + Math.floor(Math.random() * most);
  await waitUntil(() => linesOf(client.text) >= target || client.exited !== undefined, 60_000, () => `line ${target} (${client.describe()})`);
  if (client.exited !== undefined) throw new Error(`the guest ended too soon: ${client.describe()}`);
}

// The three cases run at once, on their own hosts (their guests mostly sleep): the file takes as long as the longest.
describe.concurrent("replication: moving a replicated guest", () => {
  test("migrated to a third host, it is replicated on from there to the same backup, which takes it over when that host dies", async ({ expect }) => {
    const [a, b, d] = await Promise.all([startHost("A"), startHost("B"), startHost("D")]);
    const lines = 300;
    const { client, id } = await replicatedCounter(a, b, lines);
    await afterMoreLines(client, 20);
    const moved = await roam(["migrate", id, "--on", a.url, "--to", d.url]);
    expect(moved.code, moved.describe()).toBe(0);
    expect(moved.stdout).toContain(`replicated on from ${d.url} to ${b.url}`);
    const there = (await ask(d.url, { t: "stats", guest: id })).replication as ReplicationStats;
    expect(there).toMatchObject({ role: "primary", peer: b.url, status: "protected" });
    expect(((await ask(a.url, { t: "stats", guest: id })).replication as ReplicationStats).status).toBe("moved");
    await afterMoreLines(client, 20);
    await d.crash();
    await waitUntil(() => /taken over from/.test(b.log), 30_000, () => `${b.name} to take ${id} over (log: ${b.log})`);
    const exited = await client.wait(120_000);
    expect(client.text).toBe(counterOutput(lines, 1, SLEEP_MS));
    expect(exited.code, client.describe()).toBe(0);
    expect((await quickPs(a.url)).find((g) => g.id === id)).toBeUndefined();
  }, 240_000);

  test("migrated to its own backup, it is promoted there: nothing lost or doubled, and it runs there alone", async ({ expect }) => {
    const [a, b] = await Promise.all([startHost("A2"), startHost("B2")]);
    const lines = 250;
    const { client, id } = await replicatedCounter(a, b, lines);
    await afterMoreLines(client, 20);
    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url]);
    expect(moved.code, moved.describe()).toBe(0);
    expect(moved.stdout).toContain(`promoted: its backup ${b.url} took it over`);
    const stats = (await ask(b.url, { t: "stats", guest: id })).replication as ReplicationStats;
    expect(stats).toMatchObject({ role: "backup", status: "took-over" });
    expect((await quickPs(a.url)).find((g) => g.id === id)).toBeUndefined();
    const exited = await client.wait(120_000);
    expect(client.text).toBe(counterOutput(lines, 1, SLEEP_MS));
    expect(exited.code, client.describe()).toBe(0);
  }, 180_000);

  test("the primary killed during the move: the destination is fenced, the backup takes over, output exact", async ({ expect }) => {
    const [a, b, d] = await Promise.all([startHost("A3"), startHost("B3"), startHost("D3")]);
    const lines = 250;
    const { client, id } = await replicatedCounter(a, b, lines);
    await afterMoreLines(client, 20);
    // A slow page stream: the move is still under way when its source dies.
    const migration = new Proc(["migrate", id, "--on", a.url, "--to", d.url, "--bandwidth", "100KB/s"]);
    migration.endInput();
    const deadline = Date.now() + 30_000;
    while (!(await ask(a.url, { t: "stats", guest: id })).active) {
      if (Date.now() > deadline || migration.exited !== undefined) throw new Error(`the move to start (${migration.describe()})`);
    }
    await a.crash();
    await waitUntil(() => /taken over from/.test(b.log), 30_000, () => `${b.name} to take ${id} over (log: ${b.log})`);
    expect(b.log).toContain(`during its move to ${d.url}, which will not start it (fenced there)`);
    const exited = await client.wait(120_000);
    expect(client.text).toBe(counterOutput(lines, 1, SLEEP_MS));
    expect(exited.code, client.describe()).toBe(0);
    expect((await quickPs(d.url)).find((g) => g.id === id)).toBeUndefined();
    expect((await migration.wait(30_000)).code).not.toBe(0);
  }, 180_000);

  test("a primary draining on SIGTERM to its guest's backup promotes it there: output exact", async ({ expect }) => {
    const b = await startHost("B4");
    const a = await startHost("A4", ["--drain-to", b.url]);
    const lines = 250;
    const { client, id } = await replicatedCounter(a, b, lines);
    await afterMoreLines(client, 20);
    a.proc.child.kill("SIGTERM");
    expect((await a.proc.wait(60_000)).code, a.log).toBe(0);
    expect(b.log).toMatch(new RegExp(`guest ${id} taken over from .*promoted`));
    const exited = await client.wait(120_000);
    expect(client.text).toBe(counterOutput(lines, 1, SLEEP_MS));
    expect(exited.code, client.describe()).toBe(0);
  }, 180_000);
});
