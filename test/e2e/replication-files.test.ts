// Output commit for files on another host (issue 13), with real host
// processes: appender opens a file on host H and appends numbered lines to it,
// one write each; it moves to P (the file stays open at its home, H, reached
// through remote file requests) and is replicated to B; P is killed with
// SIGKILL at a random moment and B takes the guest over; then the guest is
// killed. The file at H must hold every line from the first exactly once, in
// order, at least as far as the guest said it wrote: the home never saw a
// write the backup's guest would not do again (each write waits at the
// primary until the epoch holding the guest that waits for it is
// acknowledged), and the write the backup's guest issues again (same request
// id, part of the open file's state) is answered from the home's last answers
// rather than done twice. (Before this, a kill left a line or two doubled.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { elfPath, HostProc, migrate, Proc, roam, stopAll, tempDir, waitUntil } from "./cluster.js";
import { replicateTo } from "./replication-helpers.js";

const LINES = 1_000_000; // more than it writes: it is killed once its primary has been
const SLEEP_MS = 0; // one write after another: a kill always finds writes the backup's last epoch has not seen done

const root = tempDir("replication-files");
const hosts: HostProc[] = [];
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

function startHost(name: string, peers: string[] = []): Promise<HostProc> {
  return HostProc.start({ name, root: root.path, peers, timeoutMs: 60_000 }).then((h) => (hosts.push(h), h));
}

const written = (text: string): number => Number(/wrote (\d+)\n(?![\s\S]*wrote)/.exec(text)?.[1] ?? 0);

describe("replication: a file on another host under output commit", () => {
  test("appended lines reach the file at its home exactly once across a SIGKILL of the guest's primary", async () => {
    const home = await startHost("H");
    const [primary, backup] = await Promise.all([startHost("P", [home.url]), startHost("B", [home.url])]);
    const client = new Proc(["run", "--on", home.url, "--root", ".", elfPath("appender"), "appended.txt", String(LINES), String(SLEEP_MS)]);
    client.endInput();
    await waitUntil(() => written(client.text) >= 5 || client.exited !== undefined, 30_000, () => `the first lines (${client.describe()})`);
    const id = /roam: guest (\S+) on/.exec(client.err)![1];
    const logs = () => `${client.describe()}\nlogs:\n${hosts.map((h) => `--- ${h.name}\n${h.log}`).join("\n")}`;
    const moved = await migrate(id, home.url, primary.url, "precopy");
    expect(moved.result.code, moved.result.describe()).toBe(0);
    await replicateTo(primary, id, backup);
    const target = written(client.text) + 5 + Math.floor(Math.random() * 40);
    await waitUntil(() => written(client.text) >= target || client.exited !== undefined, 60_000, () => `line ${target} (${logs()})`);
    await primary.crash();
    await waitUntil(() => /taken over from/.test(backup.log), 30_000, () => `${backup.name} to take ${id} over (${logs()})`);
    const after = written(client.text) + 20;
    await waitUntil(() => written(client.text) >= after || client.exited !== undefined, 60_000, () => `line ${after} after the kill (${logs()})`);
    const killed = await roam(["kill", id, "--on", backup.url]);
    expect(killed.code, killed.describe()).toBe(0);
    await client.wait(60_000);
    const lines = readFileSync(join(root.path, "appended.txt"), "utf8");
    const count = lines.split("\n").length - 1;
    expect(count, `the file has every line the guest said it wrote (${logs()})`).toBeGreaterThanOrEqual(written(client.text));
    const expected = Array.from({ length: count }, (_, i) => `line ${i + 1}\n`).join("");
    expect(lines, `each line once, in order (${logs()})`).toBe(expected);
  }, 120_000);
});
