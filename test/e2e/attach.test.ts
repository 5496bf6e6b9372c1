// What an attached terminal sees at the edges: a guest that ends before the
// client has attached (`roam run --on` attaches on a second connection after
// the run request), a late `roam attach` to a guest that has already ended, a
// guest's stderr staying stderr in a late attach, and `roam kill` of a guest
// with a client attached.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { counterOutput } from "../process-cases.js";
import { elfPath, ps, Proc, roam, runAttached, startHosts, stopAll, tempDir, waitUntil, type HostProc } from "./cluster.js";

let hosts: HostProc[] = [];
const root = tempDir("attach");
beforeAll(async () => {
  hosts = await startHosts(["A"], root.path);
});
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

const HELLO = "Hello from Roam! (process mode, RV32IMAC)\nargc = 1\nargv[0] = hello.elf\nROAM_NAME is not set\n";

describe("attached clients at the edges of a guest's life", () => {
  test("`roam run --on A hello.elf`: a guest that ends at once still gives its output and exit status, and the client returns", async () => {
    const [a] = hosts;
    for (let i = 0; i < 3; i++) {
      const p = new Proc(["run", "--on", a.url, elfPath("hello")]);
      p.endInput();
      let exited;
      try {
        exited = await p.wait(20_000); // a node start on a loaded machine takes seconds
      } catch (error) {
        throw new Error(
          `BUG: \`roam run --on\` hangs when the guest ends before the client attaches. The CLI (src/cli/cluster-commands.ts ` +
          `remoteRun) sends "run" on one connection, closes it, and attaches on a second; by then hello has exited, and ` +
          `Host.attach (src/cluster/host.ts) only sends "exit" from an onEnd listener, which never fires again for a guest ` +
          `that has already ended. Fix: in attach(), after the backlog, send "exit" at once when the guest has exited or ` +
          `was killed ("moved" likewise); and/or have remoteRun ask for the attach in the run request (run's attach: true).\n` +
          `Got so far: stdout ${JSON.stringify(p.text)}, stderr ${JSON.stringify(p.err)}\n(${(error as Error).message.split("\n")[0]})`,
        );
      }
      expect(p.text).toBe(HELLO);
      expect(exited.code, p.describe()).toBe(0);
    }
  }, 120_000);

  test("a late `roam attach` to a guest that has ended prints what the host kept and exits with the guest's status", async () => {
    const [a] = hosts;
    const started = await roam(["run", "--on", a.url, "--detach", elfPath("slowcat"), "no-such-file", "100", "1"]);
    expect(started.code, started.describe()).toBe(0);
    const id = started.stdout.trim();
    let listed: Array<{ id: string; status: string; exitCode?: number }> = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      listed = await ps(a.url);
      if (listed.find((g) => g.id === id)?.status === "exited") break;
    }
    expect(listed.find((g) => g.id === id)).toMatchObject({ status: "exited", exitCode: 1 });

    const p = new Proc(["attach", id, "--on", a.url]);
    p.endInput();
    let exited;
    try {
      exited = await p.wait(20_000); // a node start on a loaded machine takes seconds
    } catch {
      throw new Error(
        `BUG: \`roam attach ${id}\` to a guest that has exited never returns: src/cluster/host.ts attach() waits for an onEnd ` +
        `that has already happened. (Printed: stdout ${JSON.stringify(p.text)}, stderr ${JSON.stringify(p.err)})`,
      );
    }
    expect(exited.code).toBe(1);
    expect(p.err + p.text).toContain("slowcat: no-such-file: No such file or directory\n");
    expect(p.text,
      "BUG: a late attach shows the guest's stderr on stdout: src/cluster/host.ts attach() sends the backlog as one `out` " +
      "message without `stream` (the client takes that as stdout), and GuestConsole (src/guest/guest-console.ts) keeps one " +
      "log for both streams. Fix: keep the stream with each chunk of the log (e.g. a list of [offset, stream, bytes]) and " +
      "send the backlog chunk by chunk with its stream.",
    ).toBe("");
  }, 120_000);

  test("`roam kill` of a guest with an attached client: the client ends with 137 and says so; ps shows it killed", async () => {
    const [a] = hosts;
    const { proc: client, id } = await runAttached(a.url, "counter", ["1000", "1", "20"]);
    await waitUntil(() => client.text.includes("count 3/"), 20_000, () => `counter to start (${client.describe()})`);
    const r = await roam(["kill", id, "--on", a.url]);
    expect(r.code, r.describe()).toBe(0);
    const exited = await client.wait(30_000);
    expect(exited.code).toBe(137);
    expect(client.err).toContain(`roam: guest ${id} was killed`);
    expect(counterOutput(1000, 1, 20).startsWith(client.text)).toBe(true);
    expect((await ps(a.url)).find((g) => g.id === id)).toMatchObject({ status: "killed" });
  }, 120_000);
});
