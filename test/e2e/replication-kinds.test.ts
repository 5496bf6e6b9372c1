// Replication works with every guest kind (issue 13), with real host processes: a machine-mode guest and a process
// tree (BusyBox sh with a pipeline: seq, the shell's loop and sleep, forked and exec'd all the time) are replicated,
// their primary is killed with SIGKILL while they print, and the attached client, following the guest to its backup,
// sees exactly what an undisturbed run prints: no line lost, none doubled.
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { ReplicationStats } from "../../src/replication/epoch.js";
import { ask, HostProc, Proc, REPO, stopAll, tempDir, waitUntil } from "./cluster.js";
import { replicateTo } from "./replication-helpers.js";

const BUSYBOX = join(REPO, "guests/bin/real/busybox.elf");
const COMPUTE_UNTIL = join(REPO, "guests/bin/baremetal/compute-until.elf");
const BLOCK_END = /compute-until: checksum 0x[0-9a-f]+ ok\n/g; // the last line of each run's block

const root = tempDir("replication-kinds");
const hosts: HostProc[] = [];
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

async function twoHosts(name: string): Promise<[HostProc, HostProc]> {
  const [p, b] = await Promise.all(["P", "B"].map((h) => HostProc.start({ name: `${name}-${h}`, root: root.path, timeoutMs: 60_000 })));
  hosts.push(p, b);
  return [p, b];
}

/** Starts `args` attached on `primary`, replicates the guest to `backup`; the client and the guest's id. */
async function replicated(primary: HostProc, backup: HostProc, args: string[]): Promise<{ client: Proc; id: string }> {
  const client = new Proc(args);
  await waitUntil(() => /guest (g[0-9a-f]+) on/.test(client.err) || client.exited !== undefined, 60_000, () => `the guest to start (${client.describe()})`);
  const id = /guest (g[0-9a-f]+) on/.exec(client.err)![1];
  await replicateTo(primary, id, backup);
  return { client, id };
}

/** Kills `primary` once `printed` holds, and waits for `backup` to take `id` over and the client to follow it there. */
async function killPrimary(primary: HostProc, backup: HostProc, id: string, client: Proc, printed: () => boolean): Promise<void> {
  await waitUntil(() => printed() || client.exited !== undefined, 60_000, () => `output before the kill (${client.describe()})`);
  expect(client.exited, `the guest ended before the kill: ${client.describe()}`).toBeUndefined();
  await primary.crash();
  await waitUntil(() => backup.log.includes(`guest ${id} taken over from`), 30_000, () => `${backup.name} to take ${id} over (${backup.log})`);
  expect(((await ask(backup.url, { t: "stats", guest: id })).replication as ReplicationStats).status).toBe("took-over");
  await waitUntil(() => /following it to its backup/.test(client.err), 30_000, () => `the client to follow the guest (${client.describe()})`);
}

describe("replication of every guest kind", () => {
  test("a machine-mode guest (compute-until on the UART) goes on at its backup: every run's block whole, the count right", async () => {
    const [primary, backup] = await twoHosts("machine");
    const { client, id } = await replicated(primary, backup, ["boot", "--on", primary.url, COMPUTE_UNTIL]);
    const blocks = () => client.text.match(BLOCK_END)?.length ?? 0;
    await killPrimary(primary, backup, id, client, () => blocks() >= 2);
    const atKill = blocks();
    await waitUntil(() => blocks() >= atKill + 2 || client.exited !== undefined, 60_000, () => `two more runs at the backup (${client.describe()})`);
    client.write("x"); // a byte on the UART ends it
    const exited = await client.wait(60_000);
    expect(exited.code, client.describe()).toBe(0);
    // Every run prints the same block; the guest counts its runs: a lost or doubled block would break one or the other.
    const text = client.text;
    const runs = Number(/compute-until: (\d+) runs\n$/.exec(text)?.[1]);
    const first = new RegExp(BLOCK_END.source).exec(text)!;
    const block = text.slice(0, first.index + first[0].length);
    expect(text, "whole blocks, in order, then the count").toBe(block.repeat(runs) + `compute-until: ${runs} runs\n`);
    expect(runs).toBeGreaterThanOrEqual(atKill + 2);
  }, 240_000);

  test("a process tree (BusyBox sh: a pipeline, a loop forking sleep) goes on at its backup with its output exact", async () => {
    const [primary, backup] = await twoHosts("tree");
    const LINES = 300;
    const script = `seq 1 ${LINES} | while read i; do echo "line $i"; sleep 0.01; done; echo done`;
    const { client, id } = await replicated(primary, backup, ["run", "--on", primary.url, BUSYBOX, "sh", "-c", script]);
    client.endInput();
    await killPrimary(primary, backup, id, client, () => client.text.includes("line 40\n"));
    const exited = await client.wait(120_000);
    const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join("") + "done\n";
    expect(client.text).toBe(expected);
    expect(exited.code, client.describe()).toBe(0);
  }, 240_000);
});
