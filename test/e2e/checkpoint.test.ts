// Checkpoint and restore with the CLI: `roam checkpoint GID -o FILE` stops a
// running guest on host A into a file (A no longer lists it, the attached
// client ends), `roam inspect FILE` describes it, and `roam restore FILE --on
// B --attach` finishes it: what the first client printed plus what the
// restoring client prints is exactly an uninterrupted run's output. A file
// open at the checkpoint stays on A, which B reaches because it was started
// with --peer A (a host contacts no home a snapshot names unless it knows it).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GATE_OPEN, memwalkOutput, memwalkRounds, pseudoRandomBytes } from "../process-cases.js";
import { HostProc, openGate, ps, quickPs, roam, runAttached, sleep, stopAll, tempDir, waitUntil } from "./cluster.js";

let hosts: HostProc[] = [];
const root = tempDir("checkpoint");
beforeAll(async () => {
  const a = await HostProc.start({ name: "A", root: root.path });
  hosts = [a, await HostProc.start({ name: "B", root: root.path, peers: [a.url] })];
});
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

interface Inspected {
  guest: { id: string; argv: string[]; host: string };
  instructionsRetired: string;
  console: { outputOffset: number };
  openFiles: Array<{ fd: number; path: string; kind: string; position: number }>;
}

/** Checkpoints `id` on `host` into `file`; checks it is gone from the host and the attached client ended. */
async function checkpoint(host: HostProc, id: string, file: string): Promise<void> {
  const r = await roam(["checkpoint", id, "--on", host.url, "-o", file]);
  expect(r.code, r.describe()).toBe(0);
  expect(r.stderr).toContain(`roam: guest ${id} saved to ${file}`);
  expect((await ps(host.url)).some((g) => g.id === id), `ps on ${host.name} still lists ${id} after its checkpoint`).toBe(false);
}

async function inspect(file: string, id: string): Promise<Inspected> {
  const text = await roam(["inspect", file]);
  expect(text.code, text.describe()).toBe(0);
  expect(text.stdout).toContain(`guest ${id}: process mode`);
  const retired = /(\d+) instructions retired/.exec(text.stdout);
  expect(retired, text.stdout).not.toBeNull();
  const json = await roam(["inspect", file, "--json"]);
  expect(json.code, json.describe()).toBe(0);
  const summary = JSON.parse(json.stdout) as Inspected;
  expect(summary.guest.id).toBe(id);
  expect(summary.instructionsRetired).toBe(retired![1]);
  expect(BigInt(summary.instructionsRetired)).toBeGreaterThan(0n);
  return summary;
}

describe("checkpoint on one host, restore on another", () => {
  test("memwalk: checkpointed mid-run on A, inspected, restored on B with --attach; the two halves make the whole output", async () => {
    const [a, b] = hosts;
    // Round after round until the stop file appears: still running when the checkpoint comes, however slow.
    const args = ["--mib", "8", "--fraction", "0.25", "--rounds", "0", "--rate", "4", "--until", "memwalk.stop"];
    const expected = (ran: number) => memwalkOutput(8, "0.25", 0, "4", ran);
    const { proc: client, id } = await runAttached(a.url, "memwalk", args, { root: "." });
    await waitUntil(() => client.text.includes("round 3:"), 20_000, () => `memwalk's third round (${client.describe()})`);
    const file = join(root.path, "memwalk.snap");
    await checkpoint(a, id, file);
    const ended = await client.wait(30_000); // the attached client lets go of a checkpointed guest
    const before = client.text;
    expect(expected(memwalkRounds(before)).startsWith(before), `printed before the checkpoint: ${JSON.stringify(before)}`).toBe(true);
    expect(before).not.toContain("final checksum");
    console.log(`[e2e checkpoint] the attached client ended with ${JSON.stringify(ended)}, stderr ${JSON.stringify(client.err)}`);

    const summary = await inspect(file, id);
    expect(summary.console.outputOffset).toBe(Buffer.byteLength(before));
    expect(summary.guest.host).toBe("A");

    writeFileSync(join(root.path, "memwalk.stop"), ""); // restored, it ends after its round in progress
    const restored = await roam(["restore", file, "--on", b.url, "--attach"]);
    expect(restored.code, restored.describe()).toBe(0);
    expect(before + restored.stdout).toBe(expected(memwalkRounds(before + restored.stdout)));
    expect((await ps(b.url)).find((g) => g.id === id)).toMatchObject({ status: "exited", exitCode: 0 });
    // The restored guest has run on from where the snapshot left it.
    expect((await ps(b.url)).find((g) => g.id === id)!.instret).toBeGreaterThan(Number(summary.instructionsRetired));
  }, 120_000);

  test("slowcat: the snapshot records the open file and its offset; restored, it reads on from there", async () => {
    const [a, b] = hosts;
    const data = pseudoRandomBytes(40_000, 7);
    writeFileSync(join(root.path, "input.bin"), data);
    // Held at byte 10000 until the gate opens after the checkpoint: mid-file, however slow the checkpoint.
    openGate(root.path, "input.gate", 10_000);
    const { proc: client, id } = await runAttached(a.url, "slowcat", ["input.bin", "1000", "25", "input.gate"], { root: "." });
    await waitUntil(() => client.stdout.length >= 10_000, 20_000, () => `slowcat to reach byte 10000 (${client.describe()})`);
    const file = join(root.path, "slowcat.snap");
    await checkpoint(a, id, file);
    await client.wait(30_000);
    const before = client.stdout;
    expect(before.length).toBeLessThan(data.length);

    const summary = await inspect(file, id);
    expect(summary.console.outputOffset).toBe(before.length);
    const open = summary.openFiles.find((f) => f.path === "/input.bin");
    expect(open, JSON.stringify(summary.openFiles)).toMatchObject({ fd: 3, kind: "file" });
    // Frozen at the gate: everything read has been written.
    expect(open!.position).toBe(10_000);
    expect(before.length).toBe(10_000);
    const text = await roam(["inspect", file]);
    expect(text.stdout).toContain(`fd 3: file /input.bin at ${open!.position}`);

    openGate(root.path, "input.gate", GATE_OPEN);

    const restored = await roam(["restore", file, "--on", b.url, "--attach"]);
    expect(restored.code, restored.describe()).toBe(0);
    const after = restored.out;
    expect(Buffer.concat([before, after]).equals(data), `before (${before.length}) + after (${after.length}) bytes differ from the file`).toBe(true);
  }, 120_000);

  test("restore without --attach, then `roam attach`: the late client sees the output since the restore", async () => {
    const [a, b] = hosts;
    // Round after round until the stop file appears, so it still runs at the checkpoint and prints after the restore.
    const args = ["--mib", "1", "--fraction", "0.25", "--rounds", "0", "--rate", "4", "--until", "late.stop"];
    const { proc: client, id } = await runAttached(a.url, "memwalk", args, { root: "." });
    await waitUntil(() => client.text.includes("round 2:"), 20_000, () => `memwalk's second round (${client.describe()})`);
    const file = join(root.path, "late.snap");
    await checkpoint(a, id, file);
    await client.wait(30_000);
    const before = client.text;

    const restored = await roam(["restore", file, "--on", b.url]);
    expect(restored.code, restored.describe()).toBe(0);
    expect(restored.stdout.trim()).toBe(id);
    // It ends on B (after the round in progress) before anyone attaches: all it printed there is backlog.
    writeFileSync(join(root.path, "late.stop"), "");
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(20)) {
      if ((await quickPs(b.url)).find((g) => g.id === id)?.status === "exited") break;
    }
    const attached = await roam(["attach", id, "--on", b.url]);
    expect(attached.code, attached.describe()).toBe(0);
    // The late client gets what B keeps: everything since the restore, and the last output the guest carried
    // with it from before the checkpoint (so its start overlaps what the first client saw).
    const lastRound = Math.max(...[...(before + attached.stdout).matchAll(/^round (\d+)/gm)].map((m) => Number(m[1])), 0);
    const expected = memwalkOutput(1, "0.25", 0, "4", lastRound);
    expect(expected.endsWith(attached.stdout), attached.describe()).toBe(true);
    expect(attached.stdout.length, "the late client missed output from between the restore and its attach")
      .toBeGreaterThanOrEqual(expected.length - before.length);
  }, 120_000);
});
