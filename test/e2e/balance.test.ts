// `roam host --balance`: guests move off an overloaded host, sender- and
// receiver-initiated, each decision logged with its reason and shown by
// `roam stats --cluster`; once the load is even nothing moves again (no
// ping-pong over several decision rounds, counted by the host's own load
// vectors, not a guessed delay). Two pairs of capped hosts, started once.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elfPath, HostProc, quickPs, roam, stopAll, tempDir, vectorsLater, waitUntil } from "./cluster.js";

const CAPPED = ["--force", "--capacity", "40M"];

const balanced = (log: string) => (log.match(/balance \(\w+\): migrate guest/g) ?? []).length;

describe("balancing", () => {
  const root = tempDir("balance");
  const hosts: HostProc[] = [];

  beforeAll(async () => {
    const a = await HostProc.start({ name: "A", root: root.path, extra: [...CAPPED, "--balance", "sender"] });
    const c = await HostProc.start({ name: "C", root: root.path, extra: CAPPED });
    hosts.push(a, await HostProc.start({ name: "B", root: root.path, extra: [...CAPPED, "--join", a.url] }));
    hosts.push(c, await HostProc.start({ name: "D", root: root.path, extra: [...CAPPED, "--balance", "receiver", "--join", c.url] }));
  }, 60_000);

  afterAll(async () => {
    await stopAll(hosts);
    root.remove();
  });

  async function twoGuestsOn(host: HostProc): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await roam(["run", "--on", host.url, "--detach", "--ram", "4M", elfPath("compute"), "100000"]);
      expect(r.code, r.describe()).toBe(0);
      ids.push(r.stdout.trim());
    }
    return ids;
  }

  it.each([["sender", "A", "B"], ["receiver", "C", "D"]])("%s-initiated: one of two guests moves from %s to %s, and stays", async (policy, fromName, toName) => {
    const from = hosts.find((h) => h.name === fromName)!, to = hosts.find((h) => h.name === toName)!;
    const ids = await twoGuestsOn(from);
    const moved = new RegExp(`balance \\((sender|none)\\): migrate guest (\\S+) ${fromName} -> ${toName}: .*which: age [\\d.]+ s > move cost`);
    await waitUntil(() => moved.test(from.log) && /guest \S+ migrated to/.test(from.log), 40_000, () => `a balancing migration in ${fromName}'s log:\n${from.log}\n${to.log}`);
    const id = moved.exec(from.log)![2];
    expect(ids).toContain(id);
    if (policy === "receiver") expect(to.log).toMatch(new RegExp(`balance \\(receiver\\): ask ${fromName} -> ${toName}: underloaded`));
    await waitUntil(() => to.log.includes(`guest ${id} arrived`), 20_000, `${id} to arrive at ${toName}`);

    // Several decision rounds later (and past the minimum residence), nothing has moved again.
    await vectorsLater(from.url, 14);
    expect(balanced(from.log) + balanced(to.log)).toBe(1);
    expect((await quickPs(from.url)).filter((g) => g.status === "running").map((g) => g.id)).toEqual(ids.filter((g) => g !== id));
    expect((await quickPs(to.url)).filter((g) => g.status === "running").map((g) => g.id)).toEqual([id]);

    const stats = await roam(["stats", "--cluster", "--on", policy === "sender" ? from.url : to.url]);
    expect(stats.stdout).toMatch(new RegExp(`^balance: ${policy}; \\d+ decisions kept, 1 migrations`, "m"));
    expect(stats.stdout).toMatch(new RegExp(`(migrate ${id} ${fromName} -> ${toName}|ask ${fromName} -> ${toName}): \\S`));
  }, 120_000);
});
