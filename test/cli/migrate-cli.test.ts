// `roam migrate` as a user drives it: progress several times a second in
// every strategy (what the bar draws), `roam stats` and `roam ps` showing a
// migration under way, `roam migrate --cancel GID` from another terminal, and
// an interrupt (SIGINT without a terminal to ask on) cancelling at once; a
// cancelled guest runs on where it was.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import type { MigrationStats } from "../../src/migration/stats.js";
import { connect, type Peer } from "../../src/net/peer.js";
import { formatProgress } from "../../src/cli/progress-line.js";
import { Proc, quickPs, roam, runAttached, startHosts, stopAll, tempDir, waitUntil, type HostProc } from "../e2e/cluster.js";

const elf = readFileSync(new URL("../../guests/bin/process/memwalk.elf", import.meta.url));

describe("progress while pages flow (hosts in this process)", () => {
  const root = mkdtempSync(join(tmpdir(), "roam-progress-"));
  let hosts: Host[] = [];
  const peers: Peer[] = [];
  beforeAll(async () => {
    hosts = ["A", "B"].map((name) => new Host({ name, host: "127.0.0.1", port: 0, root }));
    for (const h of hosts) await h.listen();
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    for (const h of hosts) await h.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const strategy of ["stop-copy", "precopy", "postcopy", "hybrid"]) {
    test(`${strategy}: progress comes several times a second, with what is left and the rate`, async () => {
      const [a, b] = hosts;
      const c = await connect(a.url, { role: "client" });
      peers.push(c);
      const ran = await c.request({ t: "run", program: "memwalk", argv: ["memwalk", "--mib", "12", "--rounds", "0", "--rate", "4"], elf, ramBytes: 32 << 20 });
      const id = (ran.guest as { id: string }).id;
      // Its 12 MiB must be written before the migration starts, or there is little to send.
      const printed = () => Buffer.concat(a.guests.get(id)!.console.outputSince(0).map((c) => c.data)).toString();
      await waitUntil(() => printed().includes("touched"), 30_000, () => `memwalk to touch its memory (${printed()})`);
      const seen: MigrationStats[] = [];
      c.onMessage((m) => { if (m.t === "migrate-progress" && m.guest === id) seen.push(structuredClone(m.stats as MigrationStats)); });
      // 12 MiB at 6 MB/s: about two seconds of pages for the strategies that send them while or after freezing.
      const reply = await c.request({ t: "migrate", guest: id, to: b.url, strategy, bandwidth: 6e6 });
      const paged = seen.filter((s) => s.remainingBytes > 0);
      if (strategy === "postcopy") {
        // The push is not paced: it may be quick, but it reports what is left as it goes.
        expect(seen.some((s) => s.status === "postcopy" && s.remainingBytes > 0)).toBe(true);
      } else {
        expect(paged.length, `${seen.length} reports over ${(reply.stats as MigrationStats).totalMs.toFixed(0)} ms`).toBeGreaterThanOrEqual(5);
        for (let i = 1; i < paged.length; i++) expect(paged[i].bytes).toBeGreaterThanOrEqual(paged[i - 1].bytes);
        expect(paged.some((s) => s.rateMBps > 0)).toBe(true);
      }
      expect(seen[seen.length - 1]).toMatchObject({ status: "completed", remainingBytes: 0 });
            await (await connect(b.url, { role: "client" })).request({ t: "kill", guest: id });
    }, 60_000);
  }

  test("the progress line: phase, round, bar, bytes of the total, rate, dirty rate, ETA", () => {
    const line = formatProgress({
      strategy: "precopy", status: "active", bytes: 30 << 20, remainingBytes: 10 << 20, rateMBps: 20,
      rounds: [{ round: 1, pages: 1, bytes: 1, ms: 1, dirtyRateMBps: 3.25 }], throttlePercent: 0,
    } as MigrationStats);
    expect(line).toBe("precopy round 1 [###############.....] 30.0 of 40.0 MiB  20 MB/s  dirty 3.3 MB/s  ETA 0.5 s");
  });
});

/** `roam stats GID` until it shows a migration under way (bounded: the migration must get going). */
async function statsOnceUnderWay(url: string, id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const out = (await roam(["stats", id, "--on", url])).stdout;
    if (out.includes("migration in progress")) return out;
    if (Date.now() > deadline) throw new Error(`stats never showed the migration of ${id}: ${out}`);
  }
}

describe("cancelling (host processes and the CLI)", () => {
  const scratch = tempDir("migrate-cli");
  let hosts: HostProc[] = [];
  beforeAll(async () => { hosts = await startHosts(["A", "B"], scratch.path); });
  afterAll(async () => { await stopAll(hosts); scratch.remove(); });

  test("stats and ps show it under way; migrate --cancel stops it and the guest runs on at A", async () => {
    const [a, b] = hosts;
    const { id } = await runAttached(a.url, "memwalk", ["--mib", "32", "--rounds", "0", "--rate", "2"], { ram: "64M" });
    const migration = new Proc(["migrate", id, "--on", a.url, "--to", b.url, "--bandwidth", "2MB/s"]);
    const stats = await statsOnceUnderWay(a.url, id);
    expect(stats).toMatch(/migration in progress: precopy .*\[[#.]{20}\] [\d.]+ of [\d.]+ MiB/);
    expect((await roam(["ps", "--on", a.url])).stdout).toMatch(new RegExp(`${id}\\s+process\\s+migrating`));
    const cancel = await roam(["migrate", "--cancel", id, "--on", a.url]);
    expect(cancel.code, cancel.describe()).toBe(0);
    expect(cancel.stderr).toBe(`roam: migration of ${id} cancelled; it runs on where it was\n`);
    const ended = await migration.wait(30_000);
    expect(ended.code, migration.describe()).toBe(1);
    expect(migration.err).toMatch(/^roam: migrate: .*cancelled/);
    expect((await quickPs(a.url)).find((g) => g.id === id)?.status).toBe("running");
    expect((await quickPs(b.url)).find((g) => g.id === id)).toBeUndefined();

    // An interrupt with no terminal to ask on cancels at once.
    const again = new Proc(["migrate", id, "--on", a.url, "--to", b.url, "--bandwidth", "2MB/s"]);
    await statsOnceUnderWay(a.url, id);
    again.child.kill("SIGINT");
    expect((await again.wait(30_000)).code, again.describe()).toBe(1);
    expect(again.err).toMatch(/cancelled/);
    expect((await quickPs(a.url)).find((g) => g.id === id)?.status).toBe("running");
    await roam(["kill", id, "--on", a.url]);
  }, 120_000);
});
