import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { defaultCorePath } from "../../src/machine/core.js";
import { connect, type Peer } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { deviceStorm, stormImage } from "./storm-images.js";

// A guest in a trap storm on a host: the others keep running beside it, and the
// host stops it rather than spend a core on it forever.

const haveCore = existsSync(defaultCorePath());
const root = mkdtempSync(join(tmpdir(), "roam-storm-host-"));
let host: Host;
let client: Peer;
beforeAll(async () => {
  host = new Host({ name: "A", host: "127.0.0.1", port: 0, root });
  await host.listen();
  client = await connect(host.url, { role: "client" });
});
afterAll(async () => {
  client?.close();
  await host?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Resolves with the guest's exit message. */
async function exitOf(id: string): Promise<Message> {
  const peer = await connect(host.url, { role: "client" });
  const exit = new Promise<Message>((resolve) => peer.onMessage((m) => { if (m.t === "exit" && m.guest === id) resolve(m); }));
  await peer.request({ t: "attach", guest: id, from: 0 });
  return exit.finally(() => peer.close());
}

describe.skipIf(!haveCore)("a trap storm on a host", () => {
  it("does not starve the other guests, and is stopped with a report", async () => {
    const storm = await client.request({ t: "run", kind: "machine", program: "storm", argv: ["storm"], elf: stormImage(deviceStorm()), ramBytes: 1 << 20 });
    const stormId = (storm.guest as { id: string }).id;
    const stormExit = exitOf(stormId);
    const order: string[] = [];
    void stormExit.then(() => order.push("storm"));

    const hello = readFileSync(new URL("../../guests/bin/process/hello.elf", import.meta.url));
    const ran = await client.request({ t: "run", program: "hello", argv: ["hello"], elf: hello, ramBytes: 16 << 20 });
    const helloExit = await exitOf((ran.guest as { id: string }).id);
    order.push("hello");
    expect(helloExit.code).toBe(0);

    const stopped = await stormExit;
    expect(order).toEqual(["hello", "storm"]); // hello ran beside the storm, not after it
    expect(stopped.code).toBe(1);
    expect(String(stopped.report)).toMatch(/^the hart is stuck in a trap storm \(\d+ traps, 0 instructions retired; mcause 5, mepc 0x80000014, mtvec 0x80000014\)$/);
  }, 60_000);
});
