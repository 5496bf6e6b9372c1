// After a move, files the guest had open stay on the host they live on and are
// served from there: reads continue at the right offsets even though the new
// host's sandbox has no such file, and `ps` lists the dependency until it ends.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { connect } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { GATE_OPEN, openGate } from "../process-cases.js";
import { followGuest } from "../e2e/cluster.js";

const base = mkdtempSync(join(tmpdir(), "roam-remote-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

test("a file opened on A is read on from A after the guest moves to B (whose sandbox lacks it)", async () => {
  const roots = ["A", "B"].map((n) => { const r = join(base, n); mkdirSync(r); return r; });
  const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(""));
  writeFileSync(join(roots[0], "data.txt"), content);
  const [a, b] = roots.map((root, i) => new Host({ name: "AB"[i], host: "127.0.0.1", port: 0, root }));
  await a.listen();
  await b.listen();
  try {
    const elf = readFileSync(new URL("../../guests/bin/process/slowcat.elf", import.meta.url));
    const client = await connect(a.url, { role: "client" });
    // Held at each move's offset by its gate (in both sandboxes: it is opened where the guest runs).
    openGate(roots, "data.gate", 1000);
    const ran = await client.request({ t: "run", program: "slowcat", argv: ["slowcat", "data.txt", "100", "15", "data.gate"], elf, root: "." });
    const id = (ran.guest as { id: string }).id;
    const watch = await followGuest(a.url, id);
    const reached = async (bytes: number) => {
      for (const deadline = Date.now() + 20_000; watch.offset < bytes && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
      expect(watch.offset).toBe(bytes);
    };
    await reached(1000);
    await client.request({ t: "migrate", guest: id, to: b.url, strategy: "precopy" });
    const cb = await connect(b.url, { role: "client" });
    const ps = await cb.request({ t: "ps" });
    const listed = (ps.guests as Array<{ id: string; dependencies: string[] }>).find((g) => g.id === id)!;
    expect(listed.dependencies).toEqual([`file /data.txt on ${a.url}`]);
    // Back home, the file is local again: no dependency left.
    openGate(roots, "data.gate", 2000);
    await reached(2000);
    await cb.request({ t: "migrate", guest: id, to: a.url, strategy: "stop-copy" });
    const dependencies = async () =>
      ((await client.request({ t: "ps" })).guests as Array<{ id: string; dependencies: string[] }>).find((g) => g.id === id)!.dependencies;
    expect(await dependencies(), "the data file is A's own again").not.toContain(`file /data.txt on ${a.url}`);
    // The freeze may fall while slowcat has its gate open on B (it opens, reads and closes it between its waits):
    // that open file is B's until slowcat closes it, which it does at its next step. Then nothing is left.
    let left = await dependencies();
    for (const deadline = Date.now() + 20_000; left.length > 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 5));
      left = await dependencies();
    }
    expect(left).toEqual([]);
    openGate(roots, "data.gate", GATE_OPEN);
    const exit = await watch.exited;
    expect(exit.code).toBe(0);
    expect(watch.output().equals(content)).toBe(true);
    cb.close();
    client.close();
  } finally {
    await a.close();
    await b.close();
  }
}, 30_000);
