// A cluster made with `roam host --join`: hosts learn each other transitively
// (joining any one member is enough) and exchange load vectors; a wrong token
// is refused; a member killed with SIGKILL is marked down within the bound
// (DOWN_MS after its last vector) and leaves placement; clients see every host
// (ps --cluster, stats --cluster). Real host processes, started once.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/net/peer.js";
import { DOWN_MS } from "../../src/cluster/membership.js";
import { elfPath, HostProc, roam, sleep, stopAll, tempDir, waitUntil } from "./cluster.js";

const TOKEN = "cluster-secret";

interface Member { name: string; state: string; url: string; labels: string[]; capacity: number | null; dirtyBytesPerSecond: number }

async function view(url: string): Promise<Member[]> {
  const peer = await connect(url, { role: "client", token: TOKEN });
  try {
    return (await peer.request({ t: "cluster" }, 10_000)).members as Member[];
  } finally {
    peer.close();
  }
}

/** Polls `url`'s view of the cluster until `test` holds. */
async function untilView(url: string, test: (members: Member[]) => boolean, what: string): Promise<Member[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const members = await view(url);
    if (test(members)) return members;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (view: ${JSON.stringify(members.map((m) => [m.name, m.state]))})`);
    await sleep(100);
  }
}

describe("a cluster joined through any member", () => {
  const root = tempDir("membership");
  let a: HostProc, b: HostProc, c: HostProc;
  const hosts: HostProc[] = [];

  beforeAll(async () => {
    a = await HostProc.start({ name: "A", root: root.path, token: TOKEN, extra: ["--force", "--label", "secure", "--capacity", "300M"] });
    b = await HostProc.start({ name: "B", root: root.path, token: TOKEN, extra: ["--force", "--join", a.url] });
    c = await HostProc.start({ name: "C", root: root.path, token: TOKEN, extra: ["--force", "--join", b.url] }); // knows only B
    hosts.push(a, b, c);
  }, 60_000);

  afterAll(async () => {
    await stopAll(hosts);
    root.remove();
  });

  it("every host learns every other, with its labels and capacity, and clients see them all", async () => {
    for (const host of [a, b, c]) {
      const members = await untilView(host.url, (ms) => ms.filter((m) => m.state !== "down").length === 3, `${host.name} to know 3 hosts up`);
      const fromA = members.find((m) => m.name === "A")!;
      expect(fromA.labels).toEqual(["secure"]);
      expect(fromA.capacity).toBe(300e6);
    }
    expect(c.log).toMatch(/member A \(ws:\/\/127\.0\.0\.1:\d+\) joined the cluster \(heard from ws:/); // C never named A

    const stats = await roam(["stats", "--cluster", "--on", c.url, "--token", TOKEN]);
    expect(stats.code, stats.describe()).toBe(0);
    for (const name of ["A", "B", "C"]) expect(stats.stdout).toMatch(new RegExp(`^${name}\\s+up`, "m"));
    expect(stats.stdout).toMatch(/^A\s+up\s+\S+\s+300M .*secure/m);

    const run = await roam(["run", "--on", b.url, "--token", TOKEN, "--detach", elfPath("hello"), "x"]);
    expect(run.code, run.describe()).toBe(0);
    const ps = await roam(["ps", "--cluster", "--on", a.url, "--token", TOKEN, "--json"]);
    expect(ps.code, ps.describe()).toBe(0);
    const guests = JSON.parse(ps.stdout) as Array<{ id: string; hostName: string }>;
    expect(guests.find((g) => g.id === run.stdout.trim())?.hostName).toBe("B");
  }, 60_000);

  it("carries each host's dirty rate, measured while its guests run, not only in a migration", async () => {
    // memwalk rewrites its 4 MiB at 2 MiB/s: B's vector must say so, at A, though nothing ever moved.
    const run = await roam(["run", "--on", b.url, "--token", TOKEN, "--detach", elfPath("memwalk"), "--mib", "4", "--fraction", "1", "--rounds", "0", "--rate", "2"]);
    expect(run.code, run.describe()).toBe(0);
    const rateOfB = (ms: Member[]) => ms.find((m) => m.name === "B")?.dirtyBytesPerSecond ?? 0;
    const members = await untilView(a.url, (ms) => rateOfB(ms) > 1e6, "A to see B dirty > 1 MB/s");
    expect(members.find((m) => m.name === "C")!.dirtyBytesPerSecond).toBe(0);
    // One sample after a stall may hold memwalk's catching up (its whole 4 MiB in ~0.4 s); the median of five
    // successive vectors is its rate, 2 MiB/s, with room for a loaded machine.
    const samples = [rateOfB(members)];
    while (samples.length < 5) {
      const next = rateOfB(await untilView(a.url, (ms) => rateOfB(ms) !== samples[samples.length - 1], "B's next vector"));
      samples.push(next);
    }
    const median = [...samples].sort((x, y) => x - y)[2];
    expect(median, `B's dirty rates ${samples.join(", ")}`).toBeGreaterThan(1e6);
    expect(median, `B's dirty rates ${samples.join(", ")}`).toBeLessThan(6e6);
    const stats = await roam(["stats", "--cluster", "--on", a.url, "--token", TOKEN]);
    expect(stats.stdout).toMatch(/DIRTY MB\/S/);
    await roam(["kill", run.stdout.trim(), "--on", b.url, "--token", TOKEN]);
  }, 60_000);

  it("refuses a join with a wrong token, saying so", async () => {
    const d = await roam(["host", "--listen", "127.0.0.1:0", "--name", "D", "--root", root.path, "--force", "--token", "wrong", "--join", a.url]);
    expect(d.code, d.describe()).toBe(1);
    expect(d.stderr).toMatch(new RegExp(`roam: host: --join ${a.url.replace(/[/.]/g, "\\$&")}: refused: wrong token`));
    await waitUntil(() => /refused a host link from \S+ \(ws:\/\/127\.0\.0\.1:\d+\): bad token/.test(a.log), 10_000, "A to log the refused join");
    expect((await view(a.url)).map((m) => m.name)).not.toContain("D");
  }, 30_000);

  it("marks a member killed with SIGKILL down within the bound, and places no guest there", async () => {
    const killedAt = Date.now();
    await c.crash();
    await waitUntil(() => /member C \(\S+\) is down: no load vector for/.test(a.log) && /member C \(\S+\) is down/.test(b.log),
      DOWN_MS + 15_000, "A and B to mark C down");
    const noticedMs = Date.now() - killedAt;
    // The bound: DOWN_MS after C's last vector (sent every ~0.5 s), plus the time a loaded machine takes to notice.
    expect(noticedMs).toBeLessThan(DOWN_MS + 5_000);
    expect((await view(a.url)).find((m) => m.name === "C")?.state).toBe("down");
    const stats = await roam(["stats", "--cluster", "--on", a.url, "--token", TOKEN]);
    expect(stats.stdout).toMatch(/^C\s+down/m);
    for (let i = 0; i < 3; i++) {
      const placed = await roam(["run", "--on", "cluster", "--via", a.url, "--token", TOKEN, "--detach", elfPath("hello")]);
      expect(placed.code, placed.describe()).toBe(0);
      expect(placed.stderr).toMatch(/roam: placed on [AB] /);
    }
  }, 60_000);
});
