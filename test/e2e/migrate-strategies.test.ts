// Live migration as a user does it: three `roam host` processes, a memwalk
// guest started with `roam run --on A` (an attached client, like a
// terminal), and separate `roam migrate` invocations moving it A -> B -> C ->
// A -> B while it runs. What the client prints must be exactly what an
// unmigrated run prints, and its exit status the guest's. The guest keeps its
// id on every host, and each source host's `roam stats --json` lists the
// migrations it sent.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { memwalkOutput, memwalkRounds } from "../process-cases.js";
import { figures, migrate, ps, roam, runAttached, startHosts, stopAll, tempDir, waitUntil, type HostProc, type Stats } from "./cluster.js";

// 16 MiB rewritten a quarter per round at 4 MiB/s (1 s a round), round after
// round until the test creates the stop file: however slow the machine, the
// guest is still running at each move. (Slow rounds keep the JavaScript model
// of its output, which checksums all 16 MiB per round, cheap.)
const STOP = "memwalk.stop";
const ARGS = ["--mib", "16", "--fraction", "0.25", "--rounds", "0", "--rate", "4", "--until", STOP];

let hosts: HostProc[] = [];
let root: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await stopAll(hosts);
  hosts = [];
  root?.remove();
});

describe("migration between host processes, driven by the CLI", () => {
  for (const strategy of ["stop-copy", "precopy", "postcopy", "hybrid"]) {
    test(`${strategy}: memwalk moves A -> B -> C -> A -> B under an attached client, which sees an unmigrated run`, async () => {
      root = tempDir("strategies");
      hosts = await startHosts(["A", "B", "C"], root.path);
      const [a, b, c] = hosts;
      const { proc: client, id } = await runAttached(a.url, "memwalk", ARGS, { root: "." });
      expect(id).toMatch(/^g[0-9a-f]+$/);

      // Moves start once the rewriting rounds do (the pages are then being dirtied).
      await waitUntil(() => client.text.includes("round 1:"), 20_000, () => `memwalk's first round (${client.describe()})`);
      const route = [a, b, c, a, b];
      const sent: Stats[] = [];
      for (let i = 0; i + 1 < route.length; i++) {
        const [from, to] = [route[i], route[i + 1]];
        const printed = client.stdout.length;
        const { result, stats } = await migrate(id, from.url, to.url, strategy, ["--max-downtime", "5ms"]);
        expect(result.code, `move ${i + 1} ${from.name} -> ${to.name}: ${result.describe()}`).toBe(0);
        expect(stats!.status).toBe("completed");
        expect(stats!.guest).toBe(id);
        expect(stats!.strategy).toBe(strategy);
        expect(stats!.from).toBe(from.name);
        expect(stats!.to).toBe(to.url);
        expect(stats!.residualDependency).toBe("none");
        sent.push(stats!);
        console.log(`[e2e ${strategy}] move ${i + 1}: ${figures(stats!)}`);

        // Same id on the new host, gone from the old one.
        const [there, here] = await Promise.all([ps(to.url), ps(from.url)]);
        const arrived = there.find((g) => g.id === id);
        expect(arrived, `ps on ${to.name} after move ${i + 1}: ${JSON.stringify(there)}`).toBeDefined();
        expect(["running", "exited"]).toContain(arrived!.status);
        expect(here.some((g) => g.id === id), `ps on ${from.name} still lists ${id}`).toBe(false);
        // Each move happens mid-run: the guest has printed more since the last one and has not finished.
        await waitUntil(() => client.stdout.length > printed, 30_000, `memwalk output after move ${i + 1}`);
        if (i + 2 < route.length) expect(client.text, `memwalk finished before move ${i + 2}`).not.toContain("final checksum");
      }

      writeFileSync(join(root.path, STOP), "");
      const exited = await client.wait(60_000);
      expect(client.text).toBe(memwalkOutput(16, "0.25", 0, "4", memwalkRounds(client.text)));
      expect(exited.code, client.describe()).toBe(0);
      expect(client.err.match(/moved to/g)?.length, client.err).toBe(route.length - 1);
      for (let i = 1; i < route.length; i++) expect(client.err).toContain(`roam: guest ${id} moved to ${route[i].url}`);

      // Where it ended, ps shows the same id, exited with 0.
      const last = (await ps(b.url)).find((g) => g.id === id);
      expect(last).toMatchObject({ id, status: "exited", exitCode: 0 });

      // Every source host keeps the figures of the moves it sent.
      for (const host of [a, b, c]) {
        const r = await roam(["stats", id, "--on", host.url, "--json"]);
        expect(r.code, r.describe()).toBe(0);
        const history = JSON.parse(r.stdout) as Stats[];
        const expected = sent.filter((s) => s.from === host.name);
        expect(history.map((s) => s.to)).toEqual(expected.map((s) => s.to));
        for (const s of history) {
          expect(s).toMatchObject({ guest: id, strategy, status: "completed", from: host.name });
          expect(s.downtimeMs).toBeGreaterThan(0);
          expect(s.totalMs).toBeGreaterThanOrEqual(s.downtimeMs);
          expect(s.pagesSent).toBeGreaterThan(0);
          expect(s.bytes).toBeGreaterThan(s.pagesSent); // pages plus the state
        }
      }
      // What each strategy does shows in its figures.
      for (const s of sent) {
        if (strategy === "stop-copy") expect(s.rounds).toEqual([]);
        if (strategy === "precopy") expect(s.rounds.length).toBeGreaterThan(0);
        if (strategy === "postcopy") {
          expect(s.rounds).toEqual([]);
          expect(s.postcopy).toBeDefined();
        }
        // 16 MiB of memwalk's pages (4096) plus program, stack and tables must all have crossed.
        expect(s.pagesSent).toBeGreaterThanOrEqual(4096);
      }
    }, 240_000); // a CLI command takes seconds to start on a loaded machine, and this test runs twenty
  }
});
