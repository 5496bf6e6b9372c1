// Labels and requirements: a guest run with --require runs, is restored and
// moves only where the host carries its labels — on every path that places a
// guest: run --on a host, run --on cluster, restore, migrate (to a member the
// source knows, and to a host it does not, which refuses at mig-begin before
// any page). Random placements and migrations, then: nothing ever ran where it
// must not. The load balancer too: an overloaded host leaves a guest that
// requires a label where it is, though a plain member would run it faster,
// and moves another guest there instead.
// Four real hosts, started once (and a fifth, loaded, for the balancer).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { connect } from "../../src/net/peer.js";
import { elfPath, HostProc, migrate, quickPs, roam, stopAll, tempDir, vectorsLater, waitUntil } from "./cluster.js";

describe("labels and requirements", () => {
  const root = tempDir("labels");
  let secure: HostProc, both: HostProc, plain: HostProc, stranger: HostProc;
  const hosts: HostProc[] = [];
  const labelsOf = new Map<string, string[]>();

  beforeAll(async () => {
    // S and SG are capped low and P is not: for the balancer P is the only member where a guest would run faster (the last test).
    secure = await HostProc.start({ name: "S", root: root.path, extra: ["--force", "--label", "secure", "--capacity", "5M"] });
    [both, plain] = await Promise.all([
      HostProc.start({ name: "SG", root: root.path, extra: ["--force", "--label", "secure,gpu", "--capacity", "5M", "--join", secure.url] }),
      HostProc.start({ name: "P", root: root.path, extra: ["--force", "--join", secure.url] }),
    ]);
    stranger = await HostProc.start({ name: "X", root: root.path }); // no labels, and not a member
    hosts.push(secure, both, plain, stranger);
    labelsOf.set(secure.url, ["secure"]).set(both.url, ["secure", "gpu"]).set(plain.url, []).set(stranger.url, []);
    // Every member knows the others' labels before decisions are made.
    await waitUntil(() => [secure, both, plain].every((h) => (h.log.match(/joined the cluster/g) ?? []).length >= 2), 20_000, "the three members to know each other");
  }, 60_000);

  afterAll(async () => {
    await stopAll(hosts);
    root.remove();
  });

  /** `roam run --detach` of an idle guest (cat waiting on its input) with `require`; the result. */
  const run = (on: string[], require: string[]) =>
    roam(["run", ...on, ...require.flatMap((r) => ["--require", r]), "--detach", "--ram", "4M", elfPath("cat")]);

  it("run --on a host without the labels is refused, saying which", async () => {
    const r = await run(["--on", plain.url], ["secure"]);
    expect(r.code, r.describe()).toBe(1);
    expect(r.stderr).toMatch(/run: cat\.elf requires label secure; host P has no labels/);
    const g = await run(["--on", secure.url], ["secure", "gpu"]);
    expect(g.stderr).toMatch(/requires label gpu; host S has labels secure/);
    expect((await quickPs(plain.url)).length).toBe(0);
  }, 30_000);

  it("run --on cluster picks only hosts with the labels, and says which", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await run(["--on", "cluster", "--via", plain.url], ["gpu"]);
      expect(r.code, r.describe()).toBe(0);
      expect(r.stderr).toMatch(/roam: placed on SG \(/);
    }
    const none = await run(["--on", "cluster", "--via", plain.url], ["tpu"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no host up in the cluster has label tpu/);
  }, 60_000);

  it("the requirement travels with the guest: migrate and restore refuse hosts without the labels, before any transfer", async () => {
    const started = await run(["--on", secure.url], ["secure"]);
    const id = started.stdout.trim();
    // To a member whose labels the source knows: refused by the source.
    const toPlain = await migrate(id, secure.url, plain.url, "precopy");
    expect(toPlain.result.code).toBe(1);
    expect(toPlain.result.stderr).toMatch(new RegExp(`guest ${id} requires label secure; host P \\(ws://[^)]+\\) has no labels`));
    // To a host that is no member: refused by the destination at mig-begin, before any page.
    const toStranger = await migrate(id, secure.url, stranger.url, "precopy");
    expect(toStranger.result.code).toBe(1);
    expect(toStranger.result.stderr).toMatch(new RegExp(`guest ${id} requires label secure; host X has no labels`));
    expect(stranger.log).not.toMatch(new RegExp(`guest ${id} arrived`));
    expect((await quickPs(secure.url)).find((g) => g.id === id)?.status).toBe("running"); // it runs on where it was
    // Allowed where the labels are; and from there it still requires them.
    const ok = await migrate(id, secure.url, both.url, "precopy");
    expect(ok.result.code, ok.result.describe()).toBe(0);
    expect((await migrate(id, both.url, plain.url, "stop-copy")).result.stderr).toMatch(/requires label secure/);
    // Restore: a checkpoint carries the requirement.
    const file = join(root.path, `${id}.snap`);
    const saved = await roam(["checkpoint", id, "-o", file, "--on", both.url]);
    expect(saved.code, saved.describe()).toBe(0);
    const refused = await roam(["restore", file, "--on", plain.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`guest ${id} requires label secure; host P has no labels`));
    const restored = await roam(["restore", file, "--on", secure.url]);
    expect(restored.code, restored.describe()).toBe(0);
  }, 90_000);

  it("a backup for replication (where the guest would fail over) must carry its labels too", async () => {
    const r = await run(["--on", secure.url], ["secure"]);
    expect(r.code, r.describe()).toBe(0);
    const id = r.stdout.trim();
    const refused = await roam(["replicate", id, "--on", secure.url, "--to", plain.url]);
    expect(refused.code, refused.describe()).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`guest ${id} requires label secure; host P has no labels`));
    const kept = await roam(["replicate", id, "--on", secure.url, "--to", both.url]);
    expect(kept.code, kept.describe()).toBe(0);
    const s = await connect(secure.url, { role: "client" });
    await s.request({ t: "kill", guest: id });
    s.close();
  }, 60_000);

  it("--prefer secure: the guest starts where it is put, then moves to a member with the label, and stays there", async () => {
    const r = await roam(["run", "--on", plain.url, "--prefer", "secure", "--detach", "--ram", "4M", elfPath("cat")]);
    expect(r.code, r.describe()).toBe(0);
    const id = r.stdout.trim();
    const moved = new RegExp(`balance \\(none\\): migrate guest ${id} P -> (S|SG): it prefers secure; P has no labels`);
    await waitUntil(() => moved.test(plain.log), 30_000, () => `P to move ${id} to a secure host:\n${plain.log}`);
    const to = moved.exec(plain.log)![1] === "S" ? secure : both;
    await waitUntil(() => to.log.includes(`guest ${id} arrived`), 20_000, `${id} to arrive at ${to.name}`);
    const before = (to.log.match(/balance \(\w+\): migrate guest/g) ?? []).length;
    await vectorsLater(to.url, 6); // several rounds of its balancer: it does not send the guest on
    expect((await quickPs(to.url)).find((g) => g.id === id)?.status).toBe("running");
    expect((to.log.match(/balance \(\w+\): migrate guest/g) ?? []).length).toBe(before);
    const s = await connect(to.url, { role: "client" });
    await s.request({ t: "kill", guest: id });
    s.close();
  }, 60_000);

  it("random placements and migrations never put a guest on a host without its labels", async () => {
    const all = [secure, both, plain, stranger];
    const needs = [[], ["secure"], ["gpu"], ["secure", "gpu"]];
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
    const required = new Map<string, string[]>();
    for (let i = 0; i < 6; i++) {
      const need = pick(needs);
      const r = await run(Math.random() < 0.5 ? ["--on", pick(all).url] : ["--on", "cluster", "--via", pick([secure, both, plain]).url], need);
      if (r.code === 0) required.set(r.stdout.trim(), need);
    }
    for (let i = 0; i < 6 && required.size; i++) {
      const id = pick([...required.keys()]);
      const from = await hostOf(id);
      await migrate(id, from.url, pick(all.filter((h) => h !== from)).url, "stop-copy");
    }
    for (const host of all) {
      for (const g of await quickPs(host.url)) {
        const need = required.get(g.id);
        if (need && (g.status === "running" || g.status === "frozen")) {
          expect(need.filter((l) => !labelsOf.get(host.url)!.includes(l)), `guest ${g.id} on ${host.name}`).toEqual([]);
        }
      }
    }
    async function hostOf(id: string): Promise<HostProc> {
      for (const host of all) if ((await quickPs(host.url)).some((g) => g.id === id && g.status === "running")) return host;
      throw new Error(`guest ${id} runs nowhere`);
    }
  }, 120_000);

  it("the load balancer never moves a guest to a member without its labels, though it would run faster there: it moves another", async () => {
    // L is overloaded (two busy guests on 10M: 5M each, low enough for a loaded machine); only the plain hosts
    // (uncapped: P, and X, which the migrations above made a member) would run either faster; S and SG give 5M.
    const loaded = await HostProc.start({ name: "L", root: root.path, extra: ["--force", "--label", "secure", "--capacity", "10M", "--balance", "sender", "--join", secure.url] });
    hosts.push(loaded);
    const busy = async (require: string[]) => {
      const r = await roam(["run", "--on", loaded.url, ...require.flatMap((l) => ["--require", l]), "--detach", "--ram", "4M", elfPath("compute"), "100000"]);
      expect(r.code, r.describe()).toBe(0);
      return r.stdout.trim();
    };
    const needs = await busy(["secure"]); // the oldest: the balancer's first choice, were it not for its label
    const free = await busy([]);
    await waitUntil(() => /balance \(sender\): migrate guest/.test(loaded.log), 40_000, () => `L to move a guest:\n${loaded.log}`);
    const decisions = loaded.log.split("\n").filter((l) => /balance \(\w+\): \w+ guest/.test(l)).join("\n");
    const moved = new RegExp(`balance \\(sender\\): migrate guest ${free} L -> (P|X): `).exec(decisions);
    expect(moved, `L's decisions (${needs} requires secure, ${free} nothing):\n${decisions}`).not.toBeNull();
    expect(decisions).not.toMatch(new RegExp(`guest ${needs} L ->`));
    const to = moved![1] === "P" ? plain : stranger;
    await waitUntil(() => to.log.includes(`guest ${free} arrived`), 20_000, `${free} to arrive at ${to.name}`);
    expect((await quickPs(loaded.url)).find((g) => g.id === needs)?.status).toBe("running");
    for (const [url, id] of [[loaded.url, needs], [to.url, free]]) {
      const peer = await connect(url, { role: "client" });
      await peer.request({ t: "kill", guest: id });
      peer.close();
    }
  }, 90_000);
});
