// Helpers of the e2e tests of messages between guests: three hosts that know
// each other, msgpeer guests run on them, and the counts their switches keep.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { connect } from "../../src/net/peer.js";
import { HostProc, Proc, REPO, waitUntil } from "./cluster.js";

export const MSGPEER = join(REPO, "guests/bin/net/msgpeer.elf");
export const STRATEGIES = ["precopy", "stop-copy", "postcopy", "hybrid"];

/** Three hosts that know each other (each names the earlier ones with --peer). */
export async function threeHosts(path: string): Promise<HostProc[]> {
  const a = await HostProc.start({ name: "A", root: path });
  const b = await HostProc.start({ name: "B", root: path, peers: [a.url] });
  const c = await HostProc.start({ name: "C", root: path, peers: [a.url, b.url] });
  return [a, b, c];
}

/** `roam run --on URL --root . msgpeer ARGS`, attached; resolves with the guest id once printed. */
export async function msgpeer(on: string, args: string[], forwarding?: string): Promise<{ proc: Proc; id: string }> {
  const proc = new Proc(["run", "--on", on, "--root", ".", ...(forwarding ? ["--forwarding", forwarding] : []), MSGPEER, ...args]);
  const started = /roam: guest (\S+) on (\S+)/;
  await waitUntil(() => started.test(proc.err) || proc.exited !== undefined, 20_000, () => `the guest id from ${proc.describe()}`);
  return { proc, id: started.exec(proc.err)![1] };
}

/** The messages the guest's kernel took on `url` so far (its host's switch counts them). */
export async function received(url: string, id: string): Promise<number> {
  const peer = await connect(url, { role: "client" });
  try {
    const stats = await peer.request({ t: "stats", guest: id }, 10_000);
    return (stats.messages as { received?: number } | undefined)?.received ?? 0;
  } finally {
    peer.close();
  }
}

/** Polls `read` (an async figure) until `done` holds, at most 30 s. */
export async function until(read: () => Promise<number>, done: (n: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let n = await read();
  while (!done(n)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (at ${n})`);
    await new Promise((r) => setTimeout(r, 20));
    n = await read();
  }
}

/**
 * Opens the gate file in `root` and checks how a gated stream ended: the
 * client had every message echoed once, in order, the server took exactly that
 * many in order, and both exited 0.
 */
export async function endStreamIntact(root: string, client: { proc: Proc }, server: { proc: Proc }): Promise<void> {
  writeFileSync(join(root, "gate"), "");
  const [clientEnd, serverEnd] = await Promise.all([client.proc.wait(60_000), server.proc.wait(60_000)]);
  const counts = /sent (\d+) echoed (\d+) lost 0 dup 0 reordered 0/.exec(client.proc.text);
  expect(counts, client.proc.describe()).not.toBeNull();
  expect(counts![1]).toBe(counts![2]);
  expect(server.proc.text).toContain(`server: ${counts![1]} messages in order`);
  expect([clientEnd.code, serverEnd.code], `${client.proc.describe()}\n${server.proc.describe()}`).toEqual([0, 0]);
}
