// Sockets are part of the guest that migrates: BusyBox's shell runs an `nc`
// server and an `nc` client connected over 127.0.0.1, both blocked in select
// while their inputs are gated, and `roam migrate` moves the guest
// A -> B -> A with each strategy. Opening the gate sends "hi" through the
// connection where the guest is now: it must come out once, as unmoved.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { migrate, Proc, ps, startHosts, stopAll, tempDir, waitUntil, type HostProc, REPO } from "./cluster.js";

const BUSYBOX = join(REPO, "guests/bin/real/busybox.elf");
const GATE = "release";
// nc ends when its peer does, and shuts its side when its input ends: the server's input is held open too, until "stop".
const SCRIPT = `(while [ ! -e stop ]; do sleep 1; done) | nc -l -p 7000 & `
  + `(while [ ! -e ${GATE} ]; do sleep 1; done; echo hi) | (until nc 127.0.0.1 7000 2>/dev/null; do sleep 1; done); wait; echo done $?`;

interface ProcessRow { pid: number; ppid: number; state: string; name: string }

let hosts: HostProc[] = [];
let root: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await stopAll(hosts);
  hosts = [];
  root?.remove();
});

/** The guest's processes once both nc's wait (the connection is made): the server in select, the client too. */
async function connected(url: string, id: string): Promise<ProcessRow[]> {
  let rows: ProcessRow[] = [];
  const deadline = Date.now() + 90_000; // a bound on a hang, not a guess: BusyBox's sh, two loops and two nc start first, slowly beside a CPU hog
  while (Date.now() < deadline) {
    const entry = (await ps(url)).find((g) => g.id === id) as unknown as { processes?: ProcessRow[] } | undefined;
    rows = entry?.processes ?? [];
    const nc = rows.filter((r) => r.name === "nc" && r.state !== "zombie");
    if (nc.length === 2 && nc.every((r) => r.state === "waiting")) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for both nc processes to wait on ${url}: ${JSON.stringify(rows)}`);
}

describe("a guest with connected sockets migrates", () => {
  for (const strategy of ["stop-copy", "precopy", "postcopy", "hybrid"]) {
    test(`${strategy}: nc server and client connected over TCP move A -> B -> A and finish as unmoved`, async () => {
      root = tempDir("sockets");
      hosts = await startHosts(["A", "B"], root.path);
      const [a, b] = hosts;
      const client = new Proc(["run", "--on", a.url, "--root", ".", BUSYBOX, "sh", "-c", SCRIPT]);
      const started = /roam: guest (\S+) on (\S+)/;
      await waitUntil(() => started.test(client.err) || client.exited !== undefined, 20_000, () => `the guest id from ${client.describe()}`);
      const id = started.exec(client.err)![1];
      await connected(a.url, id);
      for (const [from, to] of [[a, b], [b, a]]) {
        const { result, stats } = await migrate(id, from.url, to.url, strategy);
        expect(result.code, `${from.name} -> ${to.name}: ${result.describe()}`).toBe(0);
        expect(stats!.status).toBe("completed");
        await connected(to.url, id);
      }
      writeFileSync(join(root.path, GATE), "");
      await waitUntil(() => client.text.includes("hi\n") || client.exited !== undefined, 60_000, () => `"hi" through the connection: ${client.describe()}`);
      writeFileSync(join(root.path, "stop"), "");
      const exited = await client.wait(60_000);
      expect(client.text).toBe("hi\ndone 0\n");
      expect(exited.code, client.describe()).toBe(0);
    }, 240_000);
  }
});
