// Input across moves: echo-lines, blocked in read(), migrates between host
// processes while a `roam run --on` client is attached. A line typed into the
// client after a move reaches the guest once; lines typed all through a move
// (before the freeze, while frozen, between the commit and the client's
// re-attach) each reach it exactly once and in order.
//
// The tests after it pin the window down in process (Host objects, the CLI's
// own Attachment class): a line typed when the source has frozen the guest,
// encoded its state, sent it, or is about to send the commit.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Attachment } from "../../src/cli/attachment.js";
import { Host } from "../../src/cluster/host.js";
import { connect } from "../../src/net/peer.js";
import { numberLines } from "../process-cases.js";
import { elfPath, migrate, runAttached, sleep, startHosts, stopAll, tempDir, waitUntil, type HostProc, type Proc } from "./cluster.js";

let hosts: HostProc[] = [];
const root = tempDir("stdin");
beforeAll(async () => {
  hosts = await startHosts(["A", "B", "C"], root.path);
});
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

/** Types `line` and waits until the guest has echoed everything typed so far. */
async function type(client: Proc, typed: { text: string }, line: string): Promise<void> {
  typed.text += line;
  client.write(line);
  await waitUntil(() => client.text === numberLines(typed.text), 10_000, () => `the echo of ${JSON.stringify(line)}; got ${JSON.stringify(client.text.slice(-300))}`);
}

describe("stdin of an attached client across moves", () => {
  test("echo-lines gets each line once: typed after a move, and typed all through moves of every strategy", async () => {
    const [a, b, c] = hosts;
    const { proc: client, id } = await runAttached(a.url, "echo-lines", []);
    const typed = { text: "" };
    await type(client, typed, "first line, on A\n");

    // Blocked in read() on A, it moves to B; the next line goes to B, once.
    const first = await migrate(id, a.url, b.url, "precopy");
    expect(first.result.code, first.result.describe()).toBe(0);
    expect(first.stats!.status).toBe("completed");
    await waitUntil(() => client.err.includes(`moved to ${b.url}`), 10_000, "the client to follow the guest to B");
    await type(client, typed, "second line, typed after the move\n");
    await sleep(200); // a repeat would show up by now
    expect(client.text).toBe(numberLines(typed.text));

    // Lines typed every few ms from before each move starts until after the client has re-attached.
    const route: Array<[HostProc, HostProc, string]> = [[b, c, "stop-copy"], [c, a, "precopy"], [a, b, "postcopy"], [b, c, "hybrid"], [c, a, "stop-copy"]];
    let n = 0;
    for (const [from, to, strategy] of route) {
      const moves = client.err.split("moved to").length;
      let typing = true;
      const typist = (async () => {
        for (const deadline = Date.now() + 20_000; typing && Date.now() < deadline; await sleep(3)) {
          const line = `during ${strategy} ${from.name}->${to.name}: line ${++n}\n`;
          typed.text += line;
          client.write(line);
        }
      })();
      try {
        await sleep(20);
        const { result, stats } = await migrate(id, from.url, to.url, strategy, strategy === "stop-copy" ? ["--bandwidth", "20MB/s"] : []);
        expect(result.code, result.describe()).toBe(0);
        expect(stats!.status).toBe("completed");
        await waitUntil(() => client.err.split("moved to").length > moves, 10_000, `the client to follow the guest to ${to.name}`);
        await sleep(50);
      } finally {
        typing = false;
        await typist;
      }
      await waitUntil(() => client.text.length >= numberLines(typed.text).length, 20_000,
        () => `every line typed during the ${strategy} move to come back (typed ${typed.text.split("\n").length - 1} lines, got ${client.text.split("\n").length - 1}): ${JSON.stringify(diff(client.text, numberLines(typed.text)))}`).catch((error) => {
        throw new Error(`${(error as Error).message}\n${client.err}\nThe lines from the first one missing on are lost for good: ` +
          `see the in-process tests below for the window (input the source accepts once the guest is frozen for the move).`);
      });
      expect(client.text, `lines typed during the ${strategy} move ${from.name} -> ${to.name}`).toBe(numberLines(typed.text));
    }

    await type(client, typed, "last line\n");
    client.endInput();
    const exited = await client.wait(15_000);
    expect(exited.code, client.describe()).toBe(0);
    expect(client.text).toBe(numberLines(typed.text));
    const lines = typed.text.split("\n").length - 1;
    expect(client.err).toContain(`echo-lines: ${lines} lines\n`);
    console.log(`[e2e stdin] ${lines} lines typed across ${route.length + 1} moves, each echoed once`);
  }, 180_000);
});

describe("stdin typed at an exact point of a move (hosts in process)", () => {
  for (const point of ["frozen", "state-encoded", "state-sent", "commit-sent"]) {
    test(`a line typed when the source reaches '${point}' is echoed once, and later lines still arrive`, async () => {
      const dir = tempDir("stdin-point");
      let attachment: Attachment | undefined;
      let id = "";
      let typedAt = "";
      const a = new Host({
        name: "A", host: "127.0.0.1", port: 0, root: dir.path,
        onMigrationPoint: (guest, at) => {
          if (guest !== id || at !== point) return;
          typedAt = at;
          attachment!.input(Buffer.from("typed during the move\n")); // goes to A, as a terminal's keystrokes would
        },
      });
      const b = new Host({ name: "B", host: "127.0.0.1", port: 0, root: dir.path });
      const output: Buffer[] = [];
      const text = () => Buffer.concat(output).toString();
      try {
        await a.listen();
        await b.listen();
        const client = await connect(a.url, { role: "client" });
        const ran = await client.request({ t: "run", program: "echo-lines", argv: ["echo-lines"], elf: readFileSync(elfPath("echo-lines")) });
        id = (ran.guest as { id: string }).id;
        attachment = new Attachment(a.url, id, (data) => output.push(Buffer.from(data)));
        await attachment.start();
        attachment.input(Buffer.from("before\n"));
        await waitUntil(() => text() === numberLines("before\n"), 20_000, "the first echo");
        const moved = await client.request({ t: "migrate", guest: id, to: b.url, strategy: "stop-copy" });
        expect((moved.stats as { status: string }).status).toBe("completed");
        expect(typedAt).toBe(point);
        await waitUntil(() => attachment!.host === b.url, 20_000, "the attachment to follow the guest to B");
        attachment.input(Buffer.from("after\n"));
        const want = numberLines("before\ntyped during the move\nafter\n");
        await waitUntil(() => text().length >= want.length, 20_000, () =>
          `all three lines to be echoed; got ${JSON.stringify(text())}; B's console took ${b.guests.get(id)?.console.acceptedInput} ` +
          `of the ${Buffer.byteLength("before\ntyped during the move\n")} bytes typed before "after". BUG: A accepted and acknowledged the line ` +
          `typed at '${point}' after the migration had taken (or was about to take, with no turn of the event loop in between) the ` +
          `snapshot of the console, so it never reached B; and the client, having dropped the acknowledged bytes, now sends from an ` +
          `offset B refuses as a gap, so every later keystroke is lost as well (src/cluster/host.ts, case "input", accepts input for a ` +
          `guest that is frozen for a move)`,
        );
        expect(text()).toBe(want);
        attachment.endInput();
        const done = await Promise.race([attachment.done, sleep(20_000).then(() => undefined)]);
        expect(done?.code).toBe(0);
        client.close();
      } finally {
        attachment?.close();
        await a.close();
        await b.close();
        dir.remove();
      }
    }, 120_000);
  }
});

/** Where two texts part: a little context for a failure message. */
function diff(got: string, want: string): { at: number; got: string; want: string } {
  let i = 0;
  while (i < got.length && got[i] === want[i]) i++;
  return { at: i, got: got.slice(Math.max(0, i - 60), i + 120), want: want.slice(Math.max(0, i - 60), i + 120) };
}
