// Hosts started with --token: a client without it (or with another) is
// refused with a clear error and a non-zero exit; with it (--token or
// ROAM_TOKEN) everything works, including an attached run that follows its
// guest through a migration between two hosts sharing the token. A host
// with a different token refuses the migration, and the guest stays.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decode, encode } from "../../src/net/protocol.js";
import { memwalkOutput, memwalkRounds } from "../process-cases.js";
import { figures, HostProc, ps, roam, runAttached, stopAll, tempDir, waitUntil } from "./cluster.js";

const TOKEN = "s3cret-token";
let hosts: HostProc[] = [];
const root = tempDir("token");
beforeAll(async () => {
  hosts = await Promise.all([
    HostProc.start({ name: "A", root: root.path, token: TOKEN }),
    HostProc.start({ name: "B", root: root.path, token: TOKEN }),
    HostProc.start({ name: "D", root: root.path, token: "another-token" }),
  ]);
});
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

describe("hosts that require a token", () => {
  test("a client without the token, or with a wrong one, is refused with a clear error", async () => {
    const [a] = hosts;
    for (const [what, extra] of [["no token", []], ["a wrong token", ["--token", "guess"]]] as const) {
      for (const args of [["ps", "--on", a.url], ["stats", "gnone", "--on", a.url], ["run", "--on", a.url, "guests/bin/process/hello.elf"]]) {
        const r = await roam([...args, ...extra]);
        expect(r.code, `${args[0]} with ${what}: ${r.describe()}`).not.toBe(0);
        expect(r.code).not.toBeNull();
        expect(r.stderr, `${args[0]} with ${what}`).toMatch(/^roam: [^\n]*token[^\n]*\n$/);
        expect(r.stdout).toBe("");
      }
    }
    // A wrong token in the environment is no better; the right one works there as on the command line.
    expect((await roam(["ps", "--on", a.url], { env: { ROAM_TOKEN: "guess" } })).code).not.toBe(0);
    expect((await roam(["ps", "--on", a.url], { env: { ROAM_TOKEN: TOKEN } })).code).toBe(0);
    expect((await roam(["ps", "--on", a.url, "--token", TOKEN])).code).toBe(0);
    expect(await ps(a.url, TOKEN)).toEqual([]); // nothing was started by the refused run

    // On the wire: the hello is answered with an error, and the connection is closed.
    const ws = new WebSocket(a.url);
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    const answers: Array<Record<string, unknown>> = [];
    ws.on("message", (d: Buffer) => answers.push(decode(d)));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send(encode({ t: "hello", rid: 1, role: "host", name: "intruder" }));
    let code = 0;
    await Promise.race([closed.then((c) => (code = c)), new Promise((r) => setTimeout(r, 20_000))]);
    expect(answers[0]).toMatchObject({ t: "error", rid: 1, message: "bad token" });
    expect(code).toBe(4001);
  }, 120_000);

  test("with the token: an attached run migrates between two hosts sharing it and ends right; a host with another token refuses it", async () => {
    const [a, b, d] = hosts;
    // Round after round until the stop file appears: still running at both migrations, however slow they are.
    const args = ["--mib", "8", "--fraction", "0.25", "--rounds", "0", "--rate", "4", "--until", "token.stop"];
    const { proc: client, id } = await runAttached(a.url, "memwalk", args, { token: TOKEN, root: "." });
    await waitUntil(() => client.text.includes("round 1:"), 20_000, () => `memwalk's first round (${client.describe()})`);

    // To the host with another token: refused there, and the guest stays on A.
    const refused = await roam(["migrate", id, "--on", a.url, "--to", d.url, "--token", TOKEN, "--json"]);
    expect(refused.code, refused.describe()).not.toBe(0);
    expect(refused.stderr).toMatch(/^roam: [^\n]*token[^\n]*\n$/);
    console.log(`[e2e token] migrate to a host with another token: ${refused.stderr.trim()}`);
    expect((await ps(a.url, TOKEN)).find((g) => g.id === id)?.status).toBe("running");
    expect(await ps(d.url, "another-token")).toEqual([]);

    // To the host sharing the token.
    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--token", TOKEN, "--strategy", "precopy", "--json"]);
    expect(moved.code, moved.describe()).toBe(0);
    const stats = JSON.parse(moved.stdout);
    expect(stats.status).toBe("completed");
    console.log(`[e2e token] ${figures(stats)}`);
    expect((await ps(b.url, TOKEN)).find((g) => g.id === id)?.status).toBe("running");

    writeFileSync(join(root.path, "token.stop"), "");
    const exited = await client.wait(30_000);
    expect(client.text).toBe(memwalkOutput(8, "0.25", 0, "4", memwalkRounds(client.text)));
    expect(exited.code, client.describe()).toBe(0);
    expect(client.err).toContain(`moved to ${b.url}`);
  }, 120_000);
});
