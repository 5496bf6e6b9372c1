// A checkpoint far over one frame: a guest with 160 MiB in use is saved with
// the CLI (the snapshot streams in chunks, lands under a temporary name, is
// synced and renamed), the host lets it go only then, and the file restores on
// another host and finishes with the output of an unmigrated run. A client
// that cannot write its file leaves the guest running.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { memwalkOutput } from "../process-cases.js";
import { HostProc, Proc, quickPs, roam, runAttached, startHosts, stopAll, tempDir, waitUntil } from "./cluster.js";

const root = tempDir("checkpoint-large");
let hosts: HostProc[] = [];
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

/** memwalk's round lines (run with --rounds 0, until killed) in the order printed. */
const roundLines = (text: string): string[] => text.split("\n").filter((line) => line.startsWith("round "));

describe("checkpoint and restore of a large guest", () => {
  test("160 MiB in use: saved through the CLI in chunks, released only after, restored elsewhere, goes on exactly", async () => {
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    // Runs until killed, so it is busy whenever the checkpoint comes, however loaded the machine.
    const args = ["--mib", "160", "--fraction", "0.01", "--rounds", "0"];
    const { proc, id } = await runAttached(a.url, "memwalk", args, { ram: "256M" });
    await waitUntil(() => proc.text.includes("round 1:"), 60_000, () => `memwalk to touch its memory (${proc.describe()})`);

    // A file the client cannot write: the checkpoint fails and the guest runs on at A.
    const refused = await roam(["checkpoint", id, "--on", a.url, "-o", join(root.path, "no-such-dir", "g.snap")], { timeoutMs: 60_000 });
    expect(refused.code, refused.describe()).not.toBe(0);
    expect(refused.stderr).toMatch(/^roam: [^\n]*no-such-dir[^\n]*\n$/);
    expect((await quickPs(a.url)).find((g) => g.id === id)?.status).toBe("running");

    const dir = join(root.path, "snaps");
    mkdirSync(dir);
    const file = join(dir, "big.snap");
    const saved = await roam(["checkpoint", id, "--on", a.url, "-o", file], { timeoutMs: 120_000 });
    expect(saved.code, saved.describe()).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(160 << 20); // over the 64 MiB frame limit: it came in chunks
    expect(readdirSync(dir)).toEqual(["big.snap"]); // no partial file left beside it
    expect((await quickPs(a.url)).find((g) => g.id === id)).toBeUndefined(); // gone from A: it left as the file
    await proc.wait(30_000); // the attached client hears that the guest was checkpointed
    const before = roundLines(proc.text).length;

    const restored = new Proc(["restore", file, "--on", b.url, "--attach"]);
    await waitUntil(() => roundLines(restored.text).length >= 2, 120_000, () => `the restored guest to go on (${restored.describe()})`);
    const killed = await roam(["kill", id, "--on", b.url]);
    expect(killed.code, killed.describe()).toBe(0);
    await restored.wait(30_000);

    // Together the two halves are the rounds of one run: none lost, none repeated.
    const rounds = [...roundLines(proc.text), ...roundLines(restored.text)];
    expect(rounds.length).toBeGreaterThan(before);
    const expected = roundLines(memwalkOutput(160, "0.01", rounds.length, "0")).map((line) => line.replace(/^round (\d+)\/\d+:/, "round $1:"));
    expect(rounds).toEqual(expected);
    expect(existsSync(file)).toBe(true);
  }, 300_000);
});
