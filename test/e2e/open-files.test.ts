// An open file across moves: slowcat reads a 64 KiB file in small chunks with
// pauses, and migrates twice mid-file between host processes that share one
// sandbox root. Its output must be the file, byte for byte: after each move
// the reads continue at the offset where they stopped. The file stays on A:
// B learns A from A's migration link, C is told of A with --peer.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GATE_OPEN, pseudoRandomBytes } from "../process-cases.js";
import { figures, HostProc, migrate, openGate, ps, runAttached, startHosts, stopAll, tempDir, waitUntil } from "./cluster.js";

const SIZE = 64 * 1024;
const CHUNK = 700; // not a divisor of the file size or of a page: the last read is short
const DELAY_MS = 20; // 94 reads, about 2 s
const GATE = "data.gate"; // held at each move's offset until the move is done

let hosts: HostProc[] = [];
const root = tempDir("files");
const data = pseudoRandomBytes(SIZE, 0x5eed);
beforeAll(async () => {
  writeFileSync(join(root.path, "data.bin"), data);
  hosts = await startHosts(["A", "B"], root.path);
  hosts.push(await HostProc.start({ name: "C", root: root.path, peers: [hosts[0].url] }));
});
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

describe("open files across moves", () => {
  for (const [first, second] of [["stop-copy", "postcopy"], ["precopy", "hybrid"]]) {
    test(`slowcat's file offset survives ${first} then ${second}: stdout is the file, byte for byte`, async () => {
      const [a, b, c] = hosts;
      openGate(root.path, GATE, SIZE / 4);
      const { proc: client, id } = await runAttached(a.url, "slowcat", ["data.bin", String(CHUNK), String(DELAY_MS), GATE], { root: "." });
      const offsets: number[] = [];
      for (const [from, to, strategy, at, then] of [[a, b, first, SIZE / 4, SIZE / 2], [b, c, second, SIZE / 2, GATE_OPEN]] as const) {
        await waitUntil(() => client.stdout.length >= at, 20_000, () => `slowcat to reach byte ${at} (${client.describe()})`);
        offsets.push(client.stdout.length);
        const { result, stats } = await migrate(id, from.url, to.url, strategy);
        expect(result.code, result.describe()).toBe(0);
        expect(stats!.status).toBe("completed");
        console.log(`[e2e files] ${figures(stats!)}`);
        expect((await ps(to.url)).find((g) => g.id === id)?.status).toBe("running");
        openGate(root.path, GATE, then);
      }
      const exited = await client.wait(30_000);
      expect(exited.code, client.describe()).toBe(0);
      expect(client.err).toContain(`moved to ${c.url}`);
      // Moved mid-file (held at the gate), and nothing lost, repeated or reordered.
      expect(offsets).toEqual([SIZE / 4, SIZE / 2]);
      expect(client.stdout.length).toBe(SIZE);
      expect(client.stdout.equals(data), `stdout differs from the file from byte ${firstDifference(client.stdout, data)}`).toBe(true);
    }, 120_000);
  }
});

function firstDifference(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
