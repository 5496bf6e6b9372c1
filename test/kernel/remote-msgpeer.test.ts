// Two guests' programs talk over a stream between their kernels, with no host:
// msgpeer's server runs in one ProcessGuest, its client in another, each
// kernel's sendMessage carried into the other's receiveMessage on a later
// turn (as a host's switch would), their names found cluster-wide. Every
// numbered message must come back once, in order (msgpeer exits 1 otherwise).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { dottedQuad, guestAddress, type SocketName } from "../../src/kernel/sockets/addresses.js";
import { LocalNames, type SocketNames, type SocketRef } from "../../src/kernel/sockets/names.js";
import { Core } from "../../src/machine/core.js";
import { decodeSnapshot, encodeSnapshot } from "../../src/snapshot/snapshot.js";
import type { GuestMessage } from "../../src/net/host-links.js";

const program = readFileSync(new URL("../../guests/bin/net/msgpeer.elf", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "roam-msgpeer-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Member { id: string; address: number; local: LocalNames; guest?: ProcessGuest }

/** A guest's names: its own, then those the other guests bound (IPv4 ones by the owner's address). */
function namesOf(self: Member, members: Member[]): SocketNames {
  return {
    bind: (name, socket) => self.local.bind(name, socket),
    unbind: (name, socket) => self.local.unbind(name, socket),
    ephemeralPort: (protocol, address) => self.local.ephemeralPort(protocol, address),
    hasGuest: (address) => members.some((m) => m.address === address),
    lookup(name: SocketName): SocketRef | undefined {
      const owners = name.kind === "inet" && name.address !== self.address ? members.filter((m) => m.address === name.address) : [self, ...members];
      for (const m of owners) {
        const ref = m.local.lookup(name);
        if (ref) return { guest: m === self ? "" : m.id, socket: ref.socket };
      }
      return undefined;
    },
  };
}

async function runPair(server: string[], client: string[]): Promise<{ server: string; client: string; codes: number[] }> {
  const members: Member[] = ["gserver", "gclient"].map((id) => ({ id, address: guestAddress(id), local: new LocalNames() }));
  const deliver = (m: GuestMessage) => setImmediate(() => members.find((x) => x.id === m.to)!.guest!.receiveMessage(m));
  const outputs = ["", ""];
  const argvs = [server, client];
  for (const [i, m] of members.entries()) {
    m.guest = ProcessGuest.start(
      { core: await Core.load(), root, hostName: "A", sendMessage: deliver, socketNames: () => namesOf(m, members.filter((x) => x !== m)), warn: (w) => { throw new Error(w); } },
      { elf: program, program: "msgpeer", argv: ["msgpeer", ...argvs[i]], ramBytes: 8 << 20, id: m.id },
    );
    m.guest.console.onOutput((_offset, bytes) => { outputs[i] += Buffer.from(bytes).toString(); });
  }
  const results = await Promise.all(members.map((m) => m.guest!.run()));
  return { server: outputs[0], client: outputs[1], codes: results.map((r) => r.exitCode) };
}

describe("msgpeer between two guests' kernels", () => {
  test.each([
    ["tcp", ["server", "tcp", "7000", "1"], ["client", "tcp", `${dottedQuad(guestAddress("gserver"))}:7000`, "2000", "0"]],
    ["unix", ["server", "unix", "remote", "1"], ["client", "unix", "remote", "2000", "0"]],
    ["seqpacket", ["server", "seqpacket", "remote", "1"], ["client", "seqpacket", "remote", "2000", "0"]],
    ["udp", ["server", "udp", "7001", "2000"], ["client", "udp", `${dottedQuad(guestAddress("gserver"))}:7001`, "2000", "0"]],
    ["unixdg", ["server", "unixdg", "remote", "2000"], ["client", "unixdg", "remote", "2000", "0"]],
  ])("%s: every message echoed once, in order", async (_kind, server, client) => {
    const r = await runPair(server, client);
    expect(r.client).toContain("sent 2000 echoed 2000 lost 0 dup 0 reordered 0");
    expect(r.server).toMatch(/server: 2000 (messages in order|datagrams)/);
    expect(r.codes).toEqual([0, 0]);
  }, 60_000);
});

// A guest frozen with a stream open both ways (bytes sent, acknowledged and in flight each way), its snapshot
// restored on a fresh core while the messages for it wait (as a host queues them), must go on exact. Streams through
// real migrations between host processes: test/e2e/messages.test.ts.
describe("a guest moved mid-stream", () => {
  test.each(["gserver", "gclient"])("%s: paused, snapshotted, restored on a fresh core while messages for it wait; the stream goes on exact", async (movedId) => {
    const members: Member[] = ["gserver", "gclient"].map((id) => ({ id, address: guestAddress(id), local: new LocalNames() }));
    const moved = members.find((m) => m.id === movedId)!;
    const held: GuestMessage[] = []; // what arrives for the moved guest while it is frozen: a host queues it
    // Frozen once the stream runs both ways: 100 data messages delivered to the moved guest after it sent 100 of its own
    // (on a loaded machine the one not moved may send many before the moved one first runs).
    let frozen = false, toMoved = 0, fromMoved = 0, freeze: () => void = () => {};
    const deliver = (m: GuestMessage) => setImmediate(() => {
      if (m.to === moved.id && frozen) { held.push(m); return; }
      if (m.from === moved.id && m.kind === "data") fromMoved++;
      if (m.to === moved.id && m.kind === "data" && fromMoved >= 100 && ++toMoved === 100) freeze();
      members.find((x) => x.id === m.to)!.guest!.receiveMessage(m);
    });
    const outputs: Record<string, string> = { gserver: "", gclient: "" };
    const argv: Record<string, string[]> = {
      gserver: ["server", "tcp", "7002", "1"],
      gclient: ["client", "tcp", `${dottedQuad(guestAddress("gserver"))}:7002`, "3000", "0"],
    };
    const options = (m: Member) => ({ root, hostName: "A", sendMessage: deliver, socketNames: () => namesOf(m, members.filter((x) => x !== m)), warn: (w: string) => { throw new Error(w); } });
    const listen = (m: Member) => m.guest!.console.onOutput((_offset, bytes) => { outputs[m.id] += Buffer.from(bytes).toString(); });
    for (const m of members) {
      m.guest = ProcessGuest.start({ core: await Core.load(), ...options(m) }, { elf: program, program: "msgpeer", argv: ["msgpeer", ...argv[m.id]], ramBytes: 8 << 20, id: m.id });
      listen(m);
    }
    const frozenNow = new Promise<void>((resolve) => { freeze = () => { frozen = true; moved.guest!.pause(); resolve(); }; });
    const other = members.find((m) => m !== moved)!;
    const otherDone = other.guest!.run();
    const first = await moved.guest!.run();
    await frozenNow;
    expect(first.paused).toBe(true);
    const snapshot = decodeSnapshot(encodeSnapshot(moved.guest!.snapshot()));
    expect(snapshot.process!.sockets!.sockets.some((s) => s.channel && s.channel.sent > 0 && s.channel.expected > 0), "a stream mid-way").toBe(true);
    moved.guest!.kill();
    moved.local = new LocalNames(); // the names come back with the restored sockets
    moved.guest = ProcessGuest.restore({ core: await Core.load(), ...options(moved), hostName: "B" }, snapshot);
    listen(moved);
    frozen = false;
    for (const m of held.splice(0)) moved.guest.receiveMessage(m);
    const [a, b] = await Promise.all([moved.guest.run(), otherDone]);
    expect(outputs.gclient).toContain("sent 3000 echoed 3000 lost 0 dup 0 reordered 0");
    expect(outputs.gserver).toContain("server: 3000 messages in order");
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
  }, 60_000);
});
