// A guest that is a tree of processes migrates as one (--children together):
// BusyBox's shell runs a pipeline `seq | gate | sort | md5sum` on host A, and
// while the gate holds the pipeline (seq blocked writing a full pipe, the
// shell blocked in waitid, md5sum blocked reading) `roam migrate` moves it
// A -> B -> C -> A with each strategy. Opening the gate lets it finish where
// it is: the digest must be the one of an unmigrated run. `--children
// disallow` refuses the same move, naming the children.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { migrate, Proc, ps, roam, startHosts, stopAll, tempDir, waitUntil, type HostProc, REPO } from "./cluster.js";

const BUSYBOX = join(REPO, "guests/bin/real/busybox.elf");
const COUNT = 100_000;
const GATE = "release";
// The gate is a subshell that waits for a file, then passes its input on.
const PIPELINE = `seq 1 ${COUNT} | (while [ ! -e ${GATE} ]; do sleep 1; done; sort -n) | md5sum`;
const numbersText = () => Array.from({ length: COUNT }, (_, i) => `${i + 1}\n`).join("");
const expectedDigest = () => `${createHash("md5").update(numbersText()).digest("hex")}  -\n`;

interface ProcessRow { pid: number; ppid: number; state: string; name: string }

let hosts: HostProc[] = [];
let root: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await stopAll(hosts);
  hosts = [];
  root?.remove();
});

async function startPipeline(on: string): Promise<{ client: Proc; id: string }> {
  const client = new Proc(["run", "--on", on, "--root", ".", BUSYBOX, "sh", "-c", PIPELINE]);
  const started = /roam: guest (\S+) on (\S+)/;
  await waitUntil(() => started.test(client.err) || client.exited !== undefined, 20_000, () => `the guest id from ${client.describe()}`);
  const match = started.exec(client.err);
  if (!match) throw new Error(`roam run did not start the guest: ${client.describe()}`);
  return { client, id: match[1] };
}

describe("a process tree migrates as one guest", () => {
  for (const strategy of ["stop-copy", "precopy", "postcopy", "hybrid"]) {
    test(`${strategy}: a gated pipeline moves A -> B -> C -> A with its pipes, waits and blocked reads, and finishes as unmoved`, async () => {
      root = tempDir("tree");
      hosts = await startHosts(["A", "B", "C"], root.path);
      const [a, b, c] = hosts;
      const { client, id } = await startPipeline(a.url);
      const route = [a, b, c, a];
      for (let i = 0; i + 1 < route.length; i++) {
        const [from, to] = [route[i], route[i + 1]];
        const rows = await treeOf(from.url, id);
        expect(rows.filter((r) => r.state !== "zombie").length, JSON.stringify(rows)).toBeGreaterThanOrEqual(4);
        const { result, stats } = await migrate(id, from.url, to.url, strategy);
        expect(result.code, `move ${i + 1} ${from.name} -> ${to.name}: ${result.describe()}`).toBe(0);
        expect(stats!.status).toBe("completed");
      }
      const arrived = await treeOf(a.url, id);
      expect(arrived.filter((r) => r.state !== "zombie").length, JSON.stringify(arrived)).toBeGreaterThanOrEqual(4);
      writeFileSync(join(root.path, GATE), "");
      const exited = await client.wait(120_000);
      expect(client.text).toBe(expectedDigest());
      expect(exited.code, client.describe()).toBe(0);
    }, 240_000);
  }

  test("--children home: md5sum moves alone to B; its pipe and terminal go through A, its exit reaches the waiting shell", async () => {
    root = tempDir("tree-home");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const { client, id } = await startPipeline(a.url);
    const rows = await treeOf(a.url, id);
    const first = Math.min(...rows.map((r) => r.pid));
    const stages = rows.filter((r) => r.ppid === first).map((r) => r.pid).sort((x, y) => x - y);
    const gate = stages[1], md5sum = stages[2]; // the shell forks the stages in order
    // A process with children of its own cannot move alone.
    const refused = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(gate)]);
    expect(refused.code, refused.describe()).not.toBe(0);
    expect(refused.stderr).toMatch(/has 1 live child process; move the whole tree/);

    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(md5sum)]);
    expect(moved.code, moved.describe()).toBe(0);
    expect(moved.stdout).toContain(`process ${md5sum} of ${id} moved alone to ${b.url}`);
    const there = (await ps(b.url)).find((g) => g.id === `${id}-${md5sum}`);
    expect(there?.status).toBe("running");
    expect((await treeOf(a.url, id)).find((r) => r.pid === md5sum)?.state).toBe("away");

    writeFileSync(join(root.path, GATE), "");
    const exited = await client.wait(120_000);
    expect(client.text).toBe(expectedDigest());
    expect(exited.code, client.describe()).toBe(0);
    // The extra hop, as a residual dependency: the sorted numbers crossed A -> B through the home.
    const stats = await roam(["stats", id, "--on", a.url]);
    const forwarded = /home of process (\d+) on (\S+) \(guest \S+\): forwarded (\d+) messages, (\d+) bytes/.exec(stats.stdout);
    expect(forwarded, stats.stdout).not.toBeNull();
    expect(Number(forwarded![1])).toBe(md5sum);
    // Every byte md5sum read (the sorted numbers) and wrote (its digest), once: nothing lost or repeated.
    expect(Number(forwarded![4])).toBe(numbersText().length + expectedDigest().length);
    expect((await ps(b.url)).find((g) => g.id === `${id}-${md5sum}`)?.status).toBe("exited");
  }, 240_000);

  test("--children disallow refuses to move a guest whose process has children, and the guest runs on", async () => {
    root = tempDir("tree-disallow");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const { client, id } = await startPipeline(a.url);
    await treeOf(a.url, id);
    const r = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "disallow"]);
    expect(r.code, r.describe()).not.toBe(0);
    expect(r.stderr).toMatch(/has \d+ live child process(es)?; --children disallow refuses/);
    expect((await ps(a.url)).find((g) => g.id === id)?.status).toBe("running");
    writeFileSync(join(root.path, GATE), "");
    expect((await client.wait(120_000)).code, client.describe()).toBe(0);
    expect(client.text).toBe(expectedDigest());
  }, 240_000);
});

/** ps --json's processes of guest `id` on `url`, once the pipeline has all of them (sh, seq, the gate, sort's shell, md5sum). */
async function treeOf(url: string, id: string): Promise<ProcessRow[]> {
  let rows: ProcessRow[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const entry = (await ps(url)).find((g) => g.id === id) as unknown as { processes?: ProcessRow[] } | undefined;
    rows = entry?.processes ?? [];
    if (rows.filter((r) => r.state !== "zombie").length >= 4) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for the pipeline's processes on ${url}: ${JSON.stringify(rows)}`);
}
