// A member that dies mid-decision leaves no guest lost or running twice
// (issue 12, "Bad input and faults"). Host A, loaded, decides to move its
// oldest guest G to an idle member C; C is killed (SIGKILL of its process) at
// a named point of that move — when A logs the decision, when C has made the
// guest's memory ready (mig-begin answered), and when the commit has left A
// but C has not answered it (test/e2e/failure.test.ts cuts a link at every
// point of a migration; here the member itself dies). Each time: the move
// fails, A records it with its reason (log, `stats --cluster`), G runs on at A
// only and makes progress, C is marked down within the membership's bound, and
// no later decision picks C. Then a live member B joins and G moves there for
// real, and ends with exactly the output of an undisturbed run. The same for
// the receiver-initiated side: a member R asks A for work, A says yes (a
// guest moves to R), and R dies at the decision or when its memory is ready.
//
// A runs in this process so that the test acts at exact points (its log line,
// Host.onMigrationPoint), not after a guessed delay; the members that die are
// real `roam host` processes, killed from inside those hooks. One test per
// side: each starts its hosts once, and the two sides run at once.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Host } from "../../src/cluster/host.js";
import type { Decision } from "../../src/cluster/balance/balancer.js";
import { DOWN_MS } from "../../src/cluster/membership.js";
import type { Peer } from "../../src/net/peer.js";
import { memwalkRounds } from "../process-cases.js";
import { endsIntact, memwalkArgs } from "./memwalk-guest.js";
import { elfPath, followGuest, guestStarter, HostProc, roam, stopAll, tempDir, waitUntil, type Followed } from "./cluster.js";

const root = tempDir("cluster-faults");
const processes: HostProc[] = [];
const inProcess: Host[] = [];
afterAll(async () => {
  await Promise.all(inProcess.map((h) => h.close()));
  await stopAll(processes);
  root.remove();
});

/** memwalk's arguments: 2 MiB, an eighth rewritten per round at 1 MiB/s (4 rounds a second) until `stop` exists. */

interface Logged { at: number; line: string }

/**
 * A loaded host in this process: --capacity 10M shared by G (the oldest guest)
 * and a compute guest. `arm(point, member)`: kill `member` when this host's
 * move to it reaches `point` ("decision": when the host logs its decision to
 * move a guest there; else a point of Host.onMigrationPoint).
 */
async function loadedHost(name: string, balance: "sender" | undefined) {
  const lines: Logged[] = [];
  let armed: { point: string; member: HostProc; killedAt?: number } | undefined;
  const kill = (point: string) => {
    if (armed?.point !== point || armed.killedAt !== undefined) return;
    armed.member.proc.kill("SIGKILL"); // synchronous: the member dies here, before this host goes on
    armed.killedAt = performance.now();
  };
  const decided = (line: string) => armed !== undefined && new RegExp(`balance \\((sender|none)\\): migrate guest \\S+ ${name} -> ${armed.member.name}:`).test(line);
  const host = new Host({
    name, host: "127.0.0.1", port: 0, root: root.path, capacity: 10e6, balance,
    log: (line) => { lines.push({ at: performance.now(), line }); if (decided(line)) kill("decision"); },
    onMigrationPoint: (_guest, point) => kill(point),
  });
  inProcess.push(host);
  await host.listen();
  const { client, run } = await guestStarter(host.url);
  const stop = `${name}-g.stop`;
  const g = await run("memwalk", memwalkArgs(stop)); // first: the oldest, so `which` picks it
  await run("compute", ["100000"]); // busy for the whole test: the host stays overloaded
  const followed = await followGuest(host.url, g);
  return {
    host, lines, client, g, stop, followed,
    log: () => lines.map((l) => l.line).join("\n"),
    /** Arms the kill of `member` at `point`; returns when it was killed (after the failure is recorded). */
    arm: (point: string, member: HostProc) => { armed = { point, member }; return () => armed?.killedAt; },
  };
}
type Loaded = Awaited<ReturnType<typeof loadedHost>>;

async function decisionsOf(client: Peer): Promise<{ decisions: Decision[]; failures: number; migrations: number }> {
  return (await client.request({ t: "cluster" })).balance as { decisions: Decision[]; failures: number; migrations: number };
}

/** Waits until G has written another round at A after the failed move (it runs there, not frozen). */
async function progresses(followed: Followed, where: string): Promise<void> {
  const before = memwalkRounds(followed.output().toString());
  await waitUntil(() => memwalkRounds(followed.output().toString()) > before, 20_000, `G to write another round ${where}`);
}


/** Checks what A must show after its move of G to `member` failed because `member` died. */
async function failedAndRunsHere(a: Loaded, member: HostProc, point: string): Promise<void> {
  const failed = new RegExp(`balance \\((sender|none)\\): failed guest ${a.g} ${a.host.name} -> ${member.name}: migration failed, the guest runs on here: `);
  await waitUntil(() => failed.test(a.log()), 30_000, () => `${a.host.name} to record the failed move to ${member.name} (killed at ${point}):\n${a.log()}`);
  console.log(`${member.name} killed at ${point}: ${a.lines.find((l) => failed.test(l.line))!.line}`);
  expect(a.host.guests.get(a.g)?.status, `G on ${a.host.name} after ${member.name} died at ${point}`).toBe("running");
  expect((await member.proc.wait(10_000)).signal, `${member.name} died of the kill`).toBe("SIGKILL");
  expect(member.log, `${member.name} never ran G`).not.toMatch(new RegExp(`guest ${a.g} arrived`));
  await progresses(a.followed, `at ${a.host.name} after ${member.name} died at ${point}`);
}

/** Each member killed was marked down within the membership's bound, and no decision but the failed one named it. */
async function downAndLeftAlone(a: Loaded, killed: Array<{ member: HostProc; at: number }>): Promise<void> {
  for (const { member, at } of killed) {
    const down = new RegExp(`member ${member.name} \\(\\S+\\) is down: no load vector for`);
    await waitUntil(() => down.test(a.log()), DOWN_MS + 15_000, () => `${a.host.name} to mark ${member.name} down:\n${a.log()}`);
    // The bound: DOWN_MS after its last vector (sent every ~0.5 s), plus what a loaded machine takes to notice.
    expect(a.lines.find((l) => down.test(l.line))!.at - at, `${member.name} noticed down`).toBeLessThan(DOWN_MS + 5_000);
    const { decisions } = await decisionsOf(a.client);
    expect(decisions.filter((d) => d.to === member.name && d.action !== "decline").map((d) => d.action), `decisions naming ${member.name}`).toEqual(["migrate", "failed"]);
  }
}

describe("a member that dies mid-decision", () => {
  let sender: Loaded, answering: Loaded;
  beforeAll(async () => {
    // Both at once: their guests' minimum residence passes together.
    [sender, answering] = await Promise.all([loadedHost("A", "sender"), loadedHost("A2", undefined)]);
  }, 60_000);

  // The two sides run at once (separate hosts, separate clusters): CI time.
  it.concurrent("sender-initiated: the chosen destination dies at the decision, when ready, after the commit left; G runs on at A only, then moves to a live member intact", async () => {
    const a = sender;
    const points = ["decision", "begun", "commit-sent"];
    const killed: Array<{ member: HostProc; at: number }> = [];
    for (const [i, point] of points.entries()) {
      // Idle and uncapped: where every guest of A would run fastest, so A picks it as soon as it hears of it
      // (and, the previous one being dead but not yet marked down, picks it over that one).
      const member = await HostProc.start({ name: `C${i + 1}`, root: root.path, extra: ["--force", "--join", a.host.url] });
      processes.push(member);
      const killedAt = a.arm(point, member);
      await failedAndRunsHere(a, member, point);
      if (point !== "decision") expect(a.host.migrations.get(a.g)?.at(-1)?.status).toBe("failed");
      killed.push({ member, at: killedAt()! });
    }

    // A live member joins: the next decision picks it, never a dead one, and G moves there for real.
    const b = await HostProc.start({ name: "B", root: root.path, extra: ["--force", "--join", a.host.url] });
    processes.push(b);
    await waitUntil(() => b.log.includes(`guest ${a.g} arrived`), 30_000, () => `G to arrive at B:\n${a.log()}\n${b.log}`);
    await downAndLeftAlone(a, killed);
    // (A's other guest, alone then, may follow G to B: the only moves after the failures are to B.)
    const { decisions, failures } = await decisionsOf(a.client);
    expect(failures).toBe(points.length);
    const lastFailed = decisions.map((d) => d.action).lastIndexOf("failed");
    expect(decisions.slice(lastFailed + 1).map((d) => `${d.action} ${d.to}`)[0]).toBe("migrate B");
    expect(decisions.slice(lastFailed + 1).every((d) => d.to === "B"), JSON.stringify(decisions)).toBe(true);
    expect(decisions.find((d) => d.guest === a.g && d.to === "B")?.action).toBe("migrate");
    const stats = await roam(["stats", "--cluster", "--on", a.host.url]);
    expect(stats.stdout).toMatch(new RegExp(`^balance: sender; \\d+ decisions kept, \\d+ migrations, 0 refusals, ${points.length} failures`, "m"));
    expect(stats.stdout).toMatch(/failed \S+ A -> C3: migration failed, the guest runs on here: /);
    await endsIntact(a.followed, join(root.path, a.stop));
  }, 180_000);

  it.concurrent("receiver-initiated: the member that asked for work dies after A said yes; G runs on at A only, and a live receiver gets it", async () => {
    const a = answering; // no policy of its own: it only answers members that ask it for work
    const points = ["decision", "begun"];
    const killed: Array<{ member: HostProc; at: number }> = [];
    for (const [i, point] of points.entries()) {
      const member = await HostProc.start({ name: `R${i + 1}`, root: root.path, extra: ["--force", "--balance", "receiver", "--join", a.host.url] });
      processes.push(member);
      const killedAt = a.arm(point, member);
      await failedAndRunsHere(a, member, point);
      expect(a.log()).toMatch(new RegExp(`balance \\(none\\): migrate guest ${a.g} A2 -> ${member.name}: ${member.name} asked for work`));
      killed.push({ member, at: killedAt()! });
    }

    const d = await HostProc.start({ name: "D", root: root.path, extra: ["--force", "--balance", "receiver", "--join", a.host.url] });
    processes.push(d);
    await waitUntil(() => d.log.includes(`guest ${a.g} arrived`), 30_000, () => `G to arrive at D:\n${a.log()}\n${d.log}`);
    expect(d.log).toMatch(/balance \(receiver\): ask A2 -> D: underloaded/);
    await downAndLeftAlone(a, killed);
    const { failures, decisions } = await decisionsOf(a.client);
    expect(failures).toBe(points.length);
    // After the failures only D gets guests (G, and A2's other guest too: alone on a 10M host, it runs faster on D).
    const lastFailed = decisions.map((d) => d.action).lastIndexOf("failed");
    expect(decisions.slice(lastFailed + 1).filter((d) => d.action === "migrate").map((d) => d.to)[0]).toBe("D");
    expect(decisions.slice(lastFailed + 1).filter((d) => d.action === "migrate").every((d) => d.to === "D"), JSON.stringify(decisions)).toBe(true);
    await endsIntact(a.followed, join(root.path, a.stop));
  }, 120_000);
});
