// The receiving side, fed message by message: a postcopy arrival starts with
// the pages the final state names missing, asks for one the guest touches, and
// takes each page in once it comes.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { Core } from "../../src/machine/core.js";
import type { PostcopyPages } from "../../src/machine/postcopy-pages.js";
import { MigrationReceiver, type ReceivingHost } from "../../src/migration/destination.js";
import type { Peer } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { changesSince } from "../../src/snapshot/changes.js";
import { encodeSnapshot } from "../../src/snapshot/snapshot.js";
import { allRamPages } from "../../src/guest/runnable.js";

const root = mkdtempSync(join(tmpdir(), "roam-receiver-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const NO_PAGES = { indices: new Uint32Array(0), data: new Uint8Array(0) };
const RAM = 8 << 20;

function bitmap(pages: number[]): Uint8Array {
  const bits = new Uint8Array(RAM / 4096 / 8);
  for (const p of pages) bits[p >>> 3] |= 1 << (p & 7);
  return bits;
}

test("postcopy: pages the final state names are missing until they arrive; a touched one is asked for", async () => {
  const core = await Core.load();
  const elf = readFileSync(new URL("../../guests/bin/process/hello.elf", import.meta.url));
  const guest = ProcessGuest.start({ core, root, hostName: "A" }, { elf, program: "hello", argv: ["hello"], ramBytes: RAM });
  const prestate = guest.snapshotWithout(NO_PAGES);
  const final = guest.snapshotWithout(NO_PAGES);

  let pages: PostcopyPages | undefined;
  let started = false;
  const host: ReceivingHost = {
    name: "B",
    hasGuest: () => false,
    reserve: () => {},
    lose: () => {},
    arriving: () => {},
    prepare: (_core, _snapshot, given) => {
      pages = given;
      return { update: () => {}, start: () => { started = true; }, discard: () => {} };
    },
  };
  const replies: Message[] = [];
  const sent: Message[] = [];
  const peer = {
    closed: new Promise<void>(() => {}),
    reply: (m: Message) => replies.push(m),
    send: (m: Message) => sent.push(m),
  } as unknown as Peer;
  const receiver = new MigrationReceiver(host, peer);
  await receiver.handle({ v: 2, t: "mig-begin", rid: 1, guest: guest.info, strategy: "postcopy" });
  await receiver.handle({ v: 2, t: "mig-prestate", rid: 2, snapshot: encodeSnapshot(prestate) });
  await receiver.handle({ v: 2, t: "mig-state", changes: changesSince(prestate, final), missing: bitmap([3, 4, 7, 100]) });
  await receiver.handle({ v: 2, t: "mig-commit", rid: 3 });
  expect(replies.map((m) => m.rid)).toEqual([1, 2, 3]);
  expect(started).toBe(true);
  for (const p of [3, 4, 7, 100]) expect(pages!.isMissing(p), `page ${p}`).toBe(true);
  for (const p of [0, 5, 6, 99]) expect(pages!.isMissing(p), `page ${p}`).toBe(false);
  expect(pages!.arriving).toBe(true);

  // The guest touches page 7: a request goes out, and the page's arrival answers it.
  const fetched = pages!.fetch(7);
  expect(sent).toContainEqual({ t: "mig-page-request", page: 7 });
  const data = new Uint8Array(4096).fill(0xab);
  await receiver.handle({ v: 2, t: "mig-pages", round: 1, indices: new Uint8Array(new Uint32Array([7]).buffer), data, zero: new Uint8Array(0) });
  await fetched;
  expect(pages!.isMissing(7)).toBe(false);
  const ram = (receiver as unknown as { core: Core }).core.ram;
  expect(ram[7 * 4096 + 123]).toBe(0xab);
  // The rest arrive as zero pages; then nothing is missing any more.
  await receiver.handle({ v: 2, t: "mig-pages", round: 1, indices: new Uint8Array(0), data: new Uint8Array(0), zero: new Uint8Array(new Uint32Array([3, 4, 100]).buffer) });
  expect(pages!.arriving).toBe(false);
});

test("a prestate refreshed before the freeze: the fork since it is rebuilt there, and the final changes count from it", async () => {
  // The family guest forks, makes pipes and takes a handler after its prestate: that structure reaches the
  // destination only through mig-prestate-changes (the final changes, counted from the refreshed state, hold none of it).
  const elf = readFileSync(new URL("../../guests/bin/process/family.elf", import.meta.url));
  const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf, program: "family", argv: ["family"], ramBytes: RAM });
  const prestate = a.snapshotWithout(NO_PAGES); // one process, not yet run
  let outputA = "";
  const off = a.console.onOutput((_offset, bytes) => { outputA += Buffer.from(bytes).toString(); if (outputA.includes("ready")) a.pause(); });
  expect((await a.run()).paused).toBe(true);
  off?.();
  const refreshed = a.snapshotWithout(NO_PAGES);
  const final = a.snapshotWithout(NO_PAGES);
  expect(refreshed.process!.tasks).toHaveLength(2);

  let b: ProcessGuest | undefined;
  const changedAtFinal: string[][] = [];
  const host: ReceivingHost = {
    name: "B", hasGuest: () => false, reserve: () => {}, lose: () => {}, arriving: () => {},
    prepare: (core, snapshot, pages) => {
      b = ProcessGuest.restore({ core, root, hostName: "B" }, snapshot, true, pages);
      return { update: (later, changed) => { changedAtFinal.push([...changed]); b!.update(later, changed); }, start: () => {}, discard: () => {} };
    },
  };
  const replies: Message[] = [];
  const peer = { closed: new Promise<void>(() => {}), reply: (m: Message) => replies.push(m), send: () => {} } as unknown as Peer;
  const receiver = new MigrationReceiver(host, peer);
  await receiver.handle({ v: 2, t: "mig-begin", rid: 1, guest: a.info, strategy: "precopy" });
  const ram = allRamPages(a.core, RAM);
  await receiver.handle({ v: 2, t: "mig-pages", round: 1, indices: new Uint8Array(ram.indices.buffer, ram.indices.byteOffset, ram.indices.byteLength), data: ram.data, zero: new Uint8Array(0) });
  await receiver.handle({ v: 2, t: "mig-prestate", rid: 2, snapshot: encodeSnapshot(prestate) });
  await receiver.handle({ v: 2, t: "mig-prestate-changes", rid: 3, changes: changesSince(prestate, refreshed) });
  await receiver.handle({ v: 2, t: "mig-state", changes: changesSince(refreshed, final) });
  await receiver.handle({ v: 2, t: "mig-commit", rid: 4 });
  expect(replies.map((m) => [m.rid, m.error])).toEqual([[1, undefined], [2, undefined], [3, undefined], [4, undefined]]);
  expect(changedAtFinal[0]).toContain("tasks"); // the refresh brought the fork
  expect(changedAtFinal[1]).not.toContain("pipes"); // the final state did not need to

  // Both go on with the same input and print the same.
  const finish = async (guest: ProcessGuest) => {
    let out = "";
    guest.console.onOutput((_offset, bytes) => { out += Buffer.from(bytes).toString(); });
    guest.console.pushInput(guest.console.acceptedInput, Buffer.from("go\n"));
    return { exitCode: (await guest.run()).exitCode, out };
  };
  const atA = await finish(a);
  expect(atA.out).toContain("child");
  expect(await finish(b!)).toEqual(atA);
}, 60_000);
