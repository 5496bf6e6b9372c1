// A process with threads migrates with its guest between real host processes:
// guests/calls/threads.c's gated mode has three threads waiting on a condition
// variable (futex waits), one polling for a file in a sleep loop and main
// joining them (a futex wait on a thread id), when `roam migrate` moves it
// A -> B -> C -> A by stop-copy, postcopy and precopy. Opening the gate lets it
// finish where it is: the output must be the unmoved run's. Moving the process
// alone (--children home) is refused: its threads move together only.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { migrate, perTest, ps, REPO, roam, runAttached, startHosts, tempDir, waitUntil } from "./cluster.js";

const THREADS = join(REPO, "guests/bin/calls/threads.elf");
const GATE = "release";
const WAITING = `waiting for ${GATE}\n`;
const FINISHED = "gated: counter 15000, sums 899997 899997 899997\n";

interface ProcessRow { pid: number; ppid: number; state: string; name: string; threads?: number }

/** The guest's processes as `roam ps` on `url` lists them, once its process shows `threads` threads. */
async function processesOf(url: string, id: string, threads: number): Promise<ProcessRow[]> {
  let rows: ProcessRow[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const entry = (await ps(url)).find((g) => g.id === id) as unknown as { processes?: ProcessRow[] } | undefined;
    rows = entry?.processes ?? [];
    if (rows.some((r) => r.threads === threads)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`guest ${id} on ${url} never showed a process of ${threads} threads: ${JSON.stringify(rows)}`);
}

const state = perTest();

describe("a process with threads migrates with its guest", () => {
  test("five threads waiting in futexes and a sleep move A -> B -> C -> A by stop-copy, postcopy and precopy, and finish as unmoved", async () => {
    const root = (state.root = tempDir("threads"));
    const [a, b, c] = (state.hosts = await startHosts(["A", "B", "C"], root.path));
    const { proc: client, id } = await runAttached(a.url, THREADS, ["gated", GATE], { root: "." });
    await waitUntil(() => client.text === WAITING || client.exited !== undefined, 30_000, () => `"${WAITING.trim()}" from ${client.describe()}`);
    const [process] = await processesOf(a.url, id, 5);
    expect(process.name).toBe("threads.elf");

    // Moving the process alone would split its threads from their memory: refused, with the reason.
    const alone = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(process.pid)]);
    expect(alone.code, alone.describe()).not.toBe(0);
    expect(alone.stderr).toContain(`process ${process.pid} has threads, which move together with the whole guest (--children together) only`);

    const route = [a, b, c, a];
    const strategies = ["stop-copy", "postcopy", "precopy"];
    for (let i = 0; i + 1 < route.length; i++) {
      const [from, to] = [route[i], route[i + 1]];
      const { result, stats } = await migrate(id, from.url, to.url, strategies[i]);
      expect(result.code, `move ${i + 1} ${from.name} -> ${to.name} by ${strategies[i]}: ${result.describe()}`).toBe(0);
      expect(stats!.status).toBe("completed");
      const [arrived] = await processesOf(to.url, id, 5);
      expect(arrived.pid).toBe(process.pid);
    }
    writeFileSync(join(root.path, GATE), "");
    const exited = await client.wait(120_000);
    expect(client.text).toBe(WAITING + FINISHED);
    expect(exited.code, client.describe()).toBe(0);
  }, 240_000);
});
