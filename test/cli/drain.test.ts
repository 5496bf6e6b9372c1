// A host stopped like a daemon (SIGTERM / Ctrl-C) with guests running: it
// drains them to another host (--drain-to) or into a directory (--drain-dir)
// and then stops, or it refuses to stop and says why (neither given), or it
// stops with them (--force). Nothing is lost unless --force says so.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { HostProc, quickPs, roam, runAttached, stopAll, tempDir, waitUntil } from "../e2e/cluster.js";

const root = tempDir("drain");
const started: HostProc[] = [];
afterAll(async () => {
  await stopAll(started);
  root.remove();
});

async function host(name: string, extra: string[]): Promise<HostProc> {
  const h = await HostProc.start({ name, root: root.path, extra });
  started.push(h);
  return h;
}

/** A guest that runs until it is killed. */
async function busyGuest(on: HostProc): Promise<string> {
  const { proc, id } = await runAttached(on.url, "memwalk", ["--mib", "2", "--rounds", "0", "--rate", "10"]);
  await waitUntil(() => proc.text.includes("round 1:"), 30_000, () => `the guest to run (${proc.describe()})`);
  return id;
}

describe("stopping a host with guests", () => {
  test("--drain-to: SIGTERM migrates its guests there, then the host exits 0", async () => {
    const b = await host("B", ["--force"]);
    const a = await host("A", ["--drain-to", b.url]);
    const ids = [await busyGuest(a), await busyGuest(a)];
    a.proc.kill("SIGTERM");
    const exited = await a.proc.wait(60_000);
    expect(exited.code, a.log).toBe(0);
    const onB = await quickPs(b.url);
    for (const id of ids) expect(onB.find((g) => g.id === id)?.status, a.log).toBe("running");
    expect(a.log).toMatch(/draining 2 guest\(s\) to ws:/);
  }, 120_000);

  test("--drain-dir: SIGTERM saves its guests there; roam restore starts them again", async () => {
    const dir = join(root.path, "saved");
    const a = await host("A2", ["--drain-dir", dir]);
    const id = await busyGuest(a);
    a.proc.kill("SIGTERM");
    expect((await a.proc.wait(60_000)).code, a.log).toBe(0);
    const file = join(dir, `${id}.snap`);
    expect(existsSync(file)).toBe(true);
    const c = await host("C", ["--force"]);
    const restored = await roam(["restore", file, "--on", c.url]);
    expect(restored.code, restored.describe()).toBe(0);
    expect((await quickPs(c.url)).find((g) => g.id === id)?.status).toBe("running");
  }, 120_000);

  test("neither: SIGTERM is refused while guests run, with the reason; the guest runs on; --force stops it", async () => {
    const a = await host("A3", []);
    const id = await busyGuest(a);
    a.proc.kill("SIGTERM");
    await waitUntil(() => /not stopping: 1 guest\(s\) still run here/.test(a.log), 30_000, () => `the refusal (${a.log})`);
    expect(a.alive).toBe(true);
    expect((await quickPs(a.url)).find((g) => g.id === id)?.status).toBe("running");
    await roam(["kill", id, "--on", a.url]);
    a.proc.kill("SIGTERM"); // nothing runs now: it stops
    expect((await a.proc.wait(30_000)).code).toBe(0);

    const forced = await host("A4", ["--force"]);
    await busyGuest(forced);
    forced.proc.kill("SIGTERM");
    expect((await forced.proc.wait(30_000)).code).toBe(0);
  }, 120_000);
});
