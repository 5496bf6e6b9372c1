// Sockets are kernel state: a guest mid-exchange (guests/calls/socket-exchange.c:
// a child blocked in accept on a TCP listener, a child blocked reading a
// socketpair with bytes still in flight towards its parent, the parent
// waiting for its terminal) is snapshotted, encoded, decoded, restored on a
// fresh core and kernel, and finishes as the run that never stopped.
import { readFileSync, rmSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { allRamPages } from "../../src/guest/runnable.js";
import { Core } from "../../src/machine/core.js";
import { applyChanges, changedSections, changesSince, sameValue } from "../../src/snapshot/changes.js";
import { decodeSnapshot, encodeSnapshot, type RamPages } from "../../src/snapshot/snapshot.js";
import { fixtureRoot, frame, payloadOf } from "./fixtures.js";

afterAll(() => rmSync(fixtureRoot, { recursive: true, force: true }));

const program = readFileSync(new URL("../../guests/bin/calls/socket-exchange.elf", import.meta.url));
const READY = "parent read 6: first;\nready\n";
const REST = "parent read 7: second;\nconnect: 0\nchild a: 0\nchild b: 0\n";

function started(): Promise<ProcessGuest> {
  return Core.load().then((core) => ProcessGuest.start({ core, root: fixtureRoot, hostName: "A" }, {
    elf: program, program: "socket-exchange", argv: ["socket-exchange"], ramBytes: 8 << 20,
  }));
}

async function startedUntilReady(given?: ProcessGuest): Promise<{ guest: ProcessGuest; output: () => string }> {
  const guest = given ?? ProcessGuest.start({ core: await Core.load(), root: fixtureRoot, hostName: "A" }, {
    elf: program, program: "socket-exchange", argv: ["socket-exchange"], ramBytes: 8 << 20,
  });
  let output = "";
  const ready = new Promise<void>((resolve) => guest.console.onOutput((_offset, bytes) => {
    output += Buffer.from(bytes).toString();
    if (output.includes("ready\n")) resolve();
  }));
  const running = guest.run();
  await ready;
  guest.pause();
  const paused = await running;
  if (!paused.paused) throw new Error(`socket-exchange did not pause: ${JSON.stringify(paused)} ${output}`);
  return { guest, output: () => output };
}

async function finish(guest: ProcessGuest): Promise<{ exitCode: number; output: string }> {
  let output = "";
  guest.console.onOutput((_offset, bytes) => { output += Buffer.from(bytes).toString(); });
  guest.console.pushInput(guest.console.acceptedInput, Buffer.from("go\n"));
  const result = await guest.run();
  return { exitCode: result.exitCode, output };
}

describe("a guest mid-exchange on sockets", () => {
  test("the snapshot holds the listener, the connection in flight and the blocked processes", async () => {
    const { guest, output } = await startedUntilReady();
    expect(output()).toBe(READY);
    const k = guest.snapshot().process!;
    guest.kill();
    const sockets = k.sockets!.sockets;
    const listener = sockets.find((s) => s.listening)!;
    expect(listener.name).toMatchObject({ kind: "inet", protocol: "tcp", address: 0x7f000001 });
    const pair = sockets.filter((s) => s.domain === 1);
    expect(pair.map((s) => Buffer.concat(s.received.map((d) => d.data)).toString()).sort()).toEqual(["", "second;"]);
    expect(pair[0].peer?.socket).toBe(pair[1].id);
    // The socket descriptions are shared across fork, as on Linux: one description per socket.
    expect(k.openFiles.files.filter((f) => f.kind === "socket").map((f) => f.socket).sort()).toEqual(sockets.map((s) => s.id).sort());
    // The parent may still be on its way to read its terminal (the pause comes at a slice's end); its children wait.
    expect(k.tasks.slice(1).map((t) => t.blockedInCall), "child a (accept), child b (read)").toEqual([true, true]);
  }, 60_000);

  test("restored on a fresh core and kernel, it finishes as the run that never stopped", async () => {
    const { guest } = await startedUntilReady();
    const snapshot = decodeSnapshot(encodeSnapshot(guest.snapshot()));
    guest.kill();
    const restored = ProcessGuest.restore({ core: await Core.load(), root: fixtureRoot, hostName: "B" }, snapshot);
    expect(await finish(restored)).toEqual({ exitCode: 0, output: REST });
  }, 60_000);

  test("the run that never stopped prints the same", async () => {
    const { guest } = await startedUntilReady();
    expect(await finish(guest)).toEqual({ exitCode: 0, output: REST });
  }, 60_000);

  test("a snapshot whose sockets disagree with its descriptions is refused with the field and why", async () => {
    const { guest } = await startedUntilReady();
    const snapshot = guest.snapshot();
    guest.kill();
    const damaged = (change: (p: Record<string, any>) => void) => {
      const p = payloadOf(snapshot);
      change(p);
      return () => decodeSnapshot(frame(p));
    };
    expect(damaged((p) => { p.process.sockets.sockets.pop(); })).toThrow(/bad snapshot: process\.openFiles: open file \d+ is socket \d+, which is not there/);
    expect(damaged((p) => { const s = p.process.sockets.sockets.find((x: any) => x.peer); s.peer.socket = 999; }))
      .toThrow(/bad snapshot: process\.sockets\.sockets\[\d+\]\.peer: socket 999 is not connected back/);
    expect(damaged((p) => { p.process.sockets.sockets[0].type = 3; })).toThrow(/bad snapshot: process\.sockets\.sockets\[0\]\.type: 3 is not one of 1, 2, 5/);
    expect(damaged((p) => { p.process.sockets.sockets[0].received = [{ data: new Uint8Array(300000), from: null }]; }))
      .toThrow(/bad snapshot: process\.sockets\.sockets\[0\]\.received: 300000 bytes queued/);
    // A snapshot from before sockets (schema 2 without the section) still restores.
    const p = payloadOf(snapshot);
    delete p.process.sockets;
    p.process.openFiles.files = p.process.openFiles.files.filter((f: any) => f.kind !== "socket");
    const keep = new Set(p.process.openFiles.files.map((f: any) => f.id));
    for (const t of p.process.tasks) if (t.files) t.files.fds = t.files.fds.filter(([, id]: [number, number]) => keep.has(id));
    expect(decodeSnapshot(frame(p)).process!.sockets).toBeUndefined();
  }, 60_000);

  test("a migration's final state that added the sockets updates the guest its prestate built, which then finishes the same", async () => {
    const guest = await started();
    const NO_PAGES: RamPages = { indices: new Uint32Array(0), data: new Uint8Array(0) };
    const before = decodeSnapshot(encodeSnapshot(guest.snapshotWithout(NO_PAGES))); // nothing run yet: no sockets
    await startedUntilReady(guest);
    const after = guest.snapshotWithout(NO_PAGES);
    const changes = changesSince(before, after);
    expect(changedSections(changes).has("sockets")).toBe(true);
    const rebuilt = applyChanges(before, changes);
    expect(sameValue(rebuilt.process, after.process)).toBe(true);
    const core = await Core.load();
    core.init(8 << 20);
    const ram = allRamPages(guest.core, 8 << 20);
    ram.indices.forEach((page, k) => core.ram.set(ram.data.subarray(k * 4096, (k + 1) * 4096), page * 4096));
    guest.kill();
    const noPages = { isMissing: () => false, fetch: async () => {}, arriving: false };
    const moved = ProcessGuest.restore({ core, root: fixtureRoot, hostName: "B" }, before, true, noPages);
    moved.update(rebuilt, changedSections(changes));
    expect(await finish(moved)).toEqual({ exitCode: 0, output: REST });
  }, 60_000);
});
