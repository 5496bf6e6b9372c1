// A move to a member that hangs (issue 12, "Bad input and faults"): the
// destination is alive but answers nothing (SIGSTOP of its process) once it
// has made the guest's memory ready (mig-begin answered). The membership marks
// it down after DOWN_MS without a load vector; that must cancel the move then,
// not after a request's 30 s timeout: the guest runs on at its source. When
// the member wakes (SIGCONT), it finds the connection closed before any
// commit and drops the half-received guest: it never runs it. Both kinds of
// move: a balancer's (sender-initiated) and a client's `migrate`.
//
// The sources run in this process so that the stop happens at the exact point
// (Host.onMigrationPoint), not after a guessed delay; the members are real
// `roam host` processes. The two cases run at once, on separate hosts.

import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { memwalkRounds } from "../process-cases.js";
import { endsIntact, memwalkArgs } from "./memwalk-guest.js";
import { elfPath, followGuest, guestStarter, HostProc, quickPs, stopAll, tempDir, waitUntil } from "./cluster.js";

const root = tempDir("cluster-hang");
const processes: HostProc[] = [];
const inProcess: Host[] = [];
afterAll(async () => {
  for (const p of processes) if (p.alive) p.proc.kill("SIGCONT"); // a stopped process ignores SIGTERM until it runs
  await Promise.all(inProcess.map((h) => h.close()));
  await stopAll(processes);
  root.remove();
});

/** A request's timeout: the move must end well before it, at the mark-down. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A source host in this process running G (memwalk, until its stop file
 * exists), and with `--balance sender` a compute guest too, so that it is
 * overloaded (--capacity 10M) and moves G, its oldest, to an idle member.
 * `stopAt(member)`: SIGSTOP `member` when a move to it has begun.
 */
async function source(name: string, balance: "sender" | undefined) {
  const lines: string[] = [];
  let target: { member: HostProc; stoppedAt?: number } | undefined;
  const host = new Host({
    name, host: "127.0.0.1", port: 0, root: root.path, capacity: 10e6, balance,
    log: (line) => lines.push(line),
    onMigrationPoint: (_guest, point) => {
      if (point !== "begun" || !target || target.stoppedAt !== undefined) return;
      target.member.proc.kill("SIGSTOP"); // alive, its port open, but answering nothing
      target.stoppedAt = performance.now();
    },
  });
  inProcess.push(host);
  await host.listen();
  const { client, run } = await guestStarter(host.url);
  const stop = `${name}-g.stop`;
  const g = await run("memwalk", memwalkArgs(stop));
  if (balance) await run("compute", ["100000"]);
  const followed = await followGuest(host.url, g);
  return {
    host, client, g, followed, log: () => lines.join("\n"),
    stopAt: (member: HostProc) => { target = { member }; return () => target?.stoppedAt; },
    /** Waits until G has written another round (it runs, not frozen). */
    progresses: async () => {
      const before = memwalkRounds(followed.output().toString());
      await waitUntil(() => memwalkRounds(followed.output().toString()) > before, 20_000, `G to write another round at ${name}`);
    },
    /** Stops G and checks it ended at this host with exactly an undisturbed run's output. */
    endsIntact: () => endsIntact(followed, join(root.path, stop)),
  };
}
type Source = Awaited<ReturnType<typeof source>>;

/** The member woke: it dropped the half-received G on the closed connection, never ran it, and does not list it. */
async function wokeAndDropped(s: Source, member: HostProc): Promise<void> {
  member.proc.kill("SIGCONT");
  const dropped = new RegExp(`arrival of guest ${s.g} from \\S+ dropped: the connection closed before the commit`);
  await waitUntil(() => dropped.test(member.log), 20_000, () => `${member.name} to drop G's arrival after SIGCONT:\n${member.log}`);
  expect(member.log, `${member.name} never ran G`).not.toMatch(new RegExp(`guest ${s.g} arrived`));
  expect((await quickPs(member.url)).map((g) => g.id), `${member.name}'s guests`).not.toContain(s.g);
  expect(s.host.guests.get(s.g)?.status, `G at ${s.host.name}`).toBe("running");
}

describe("a move to a member that hangs after mig-begin", () => {
  it.concurrent("a balancer's move is cancelled when the member is marked down; G runs on at the source, the woken member drops it", async () => {
    const s = await source("S", "sender");
    // Idle and uncapped: where G would run fastest, so S picks it once G has stayed its minimum residence.
    const h = await HostProc.start({ name: "H", root: root.path, extra: ["--force", "--join", s.host.url] });
    processes.push(h);
    const stoppedAt = s.stopAt(h);
    const failed = new RegExp(`balance \\(sender\\): failed guest ${s.g} S -> H: migration failed, the guest runs on here: .*member H .*is down`);
    await waitUntil(() => failed.test(s.log()), 60_000, () => `S to record the cancelled move to H:\n${s.log()}`);
    const tookMs = performance.now() - stoppedAt()!;
    console.log(`H stopped at begun; S's move cancelled after ${tookMs.toFixed(0)} ms: ${s.log().split("\n").find((l) => failed.test(l))}`);
    expect(tookMs, "cancelled at the mark-down, not at a request's timeout").toBeLessThan(REQUEST_TIMEOUT_MS - 10_000);
    expect(s.host.migrations.get(s.g)?.at(-1)?.status).toBe("failed");
    await s.progresses();
    await wokeAndDropped(s, h);
    await h.crash(); // else, up again, it would be picked once S leaves it out no longer: a real move, not this test's
    await s.endsIntact();
  }, 120_000);

  it.concurrent("a client's migrate is cancelled when its destination is marked down; it fails saying why, G runs on, the woken member drops it", async () => {
    const s = await source("M", undefined);
    const k = await HostProc.start({ name: "K", root: root.path, extra: ["--force", "--join", s.host.url] });
    processes.push(k);
    await waitUntil(() => s.host.cluster.membership.about(k.url)?.state === "up", 20_000, "M to hear of K");
    const stoppedAt = s.stopAt(k);
    const started = performance.now();
    const error = await s.client.request({ t: "migrate", guest: s.g, to: k.url }, REQUEST_TIMEOUT_MS + 30_000).then(() => undefined, (e: Error) => e);
    const tookMs = performance.now() - stoppedAt()!;
    expect(error?.message, "the migrate request fails").toMatch(/cancelled \(member K \(\S+\) is down: no load vector for/);
    console.log(`K stopped at begun; the migrate failed after ${tookMs.toFixed(0)} ms (${(performance.now() - started).toFixed(0)} ms in all): ${error!.message}`);
    expect(tookMs, "cancelled at the mark-down, not at a request's timeout").toBeLessThan(REQUEST_TIMEOUT_MS - 10_000);
    expect(s.host.migrations.get(s.g)?.at(-1)?.status).toBe("failed");
    await s.progresses();
    await wokeAndDropped(s, k);
    await s.endsIntact();
  }, 120_000);
});
