// Real snapshots of a process-mode and a machine-mode guest, as plain decoded
// payloads that a test may damage, and the framing that turns such a payload
// back into snapshot bytes with a valid checksum (so only the payload's
// content is wrong, never the envelope).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { crc32 } from "node:zlib";
import { Core } from "../../src/machine/core.js";
import { MachineGuest } from "../../src/guest/machine-guest.js";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { encodeSnapshot, SNAPSHOT_MAGIC, SNAPSHOT_VERSION, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { addOpenFile } from "./open-files.js";

// A decoded payload a test damages: any field, of any type.
export type Payload = Record<string, any>;

export const fixtureRoot = mkdtempSync(join(tmpdir(), "roam-validate-"));
const processElf = (name: string) => readFileSync(new URL(`../../guests/bin/process/${name}.elf`, import.meta.url));
const riscvTest = (name: string) => readFileSync(new URL(`../riscv-tests/bin/${name}`, import.meta.url));

/** The payload of a snapshot, decoded as msgpack only (no checks): a copy the caller may change. */
export function payloadOf(snapshot: GuestSnapshot): Payload {
  return unpack(encodeSnapshot(snapshot).subarray(20)) as Payload;
}

/** Snapshot bytes around any payload: right magic, version, length and CRC-32. */
export function frame(payload: unknown): Uint8Array {
  const body = pack(payload);
  const out = new Uint8Array(20 + body.length);
  out.set(Buffer.from(SNAPSHOT_MAGIC, "latin1"), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, SNAPSHOT_VERSION, true);
  view.setUint32(12, body.length, true);
  view.setUint32(16, crc32(body), true);
  out.set(body, 20);
  return out;
}

/**
 * A process guest (echo-lines, blocked reading its terminal) frozen, with a
 * file open at fd 3 and a sleep pending, so every section has content.
 */
export async function processSnapshot(core?: Core): Promise<GuestSnapshot> {
  const guest = ProcessGuest.start({ core: core ?? await Core.load(), root: fixtureRoot, hostName: "A" }, {
    elf: processElf("echo-lines"), program: "echo-lines", argv: ["echo-lines"], ramBytes: 4 << 20,
  });
  const echoed = new Promise<void>((resolve) => guest.console.onOutput((_offset, bytes) => { if (Buffer.from(bytes).includes("one")) resolve(); }));
  guest.console.pushInput(0, Buffer.from("one\n"));
  const running = guest.run();
  await echoed; // it has read the line: it reads again next, and blocks there
  guest.pause();
  await running;
  const snapshot = guest.snapshot();
  const kernel = snapshot.process!;
  addOpenFile(kernel, 3, { path: "/data.txt", flags: 0o2, mode: 0o644, position: 17, kind: "file" });
  kernel.tasks[0].sleepDeadlineNs = (BigInt(kernel.guestClockNs) + 1_000_000n).toString();
  return snapshot;
}

/** What the family guest prints once its child has written into the pipe and signalled it. */
export const FAMILY_READY = "ready: signals 1\n";

/**
 * A process tree (the family guest) frozen once the parent has had its child's
 * signal: two processes, two pipes with their ends shared across the fork,
 * "child: hello\n" in flight in one of them, a SIGUSR1 handler, copy-on-write
 * frames; the parent reads a line from its terminal next (the child waits for it).
 */
export async function familySnapshot(core?: Core): Promise<{ guest: ProcessGuest; snapshot: GuestSnapshot; output: () => string }> {
  return frozenOnceItPrints("family", FAMILY_READY, core);
}

/** Process guest `name` started, frozen once its output holds `ready`; its snapshot, and its output so far (growing if it runs on). */
export async function frozenOnceItPrints(name: string, ready: string, core?: Core): Promise<{ guest: ProcessGuest; snapshot: GuestSnapshot; output: () => string }> {
  const guest = ProcessGuest.start({ core: core ?? await Core.load(), root: fixtureRoot, hostName: "A" }, {
    elf: processElf(name), program: name, argv: [name], ramBytes: 4 << 20,
  });
  let output = "";
  const printed = new Promise<void>((resolve) => guest.console.onOutput((_offset, bytes) => {
    output += Buffer.from(bytes).toString();
    if (output.includes(ready)) resolve();
  }));
  const running = guest.run();
  await Promise.race([printed, running.then((r) => { throw new Error(`${name} ended before it printed ${JSON.stringify(ready)}: ${JSON.stringify(r)} ${output}`); })]);
  guest.pause();
  const paused = await running;
  if (!paused.paused) throw new Error(`${name} did not pause: ${JSON.stringify(paused)}`);
  return { guest, snapshot: guest.snapshot(), output: () => output };
}

/** A machine guest (a riscv-test, so HTIF is there too), loaded and not yet run, with input waiting in the UART. */
export async function machineSnapshot(core?: Core): Promise<GuestSnapshot> {
  const guest = MachineGuest.start({ core: core ?? await Core.load(), root: fixtureRoot, hostName: "A" }, {
    elf: riscvTest("rv32ui-p-add"), program: "rv32ui-p-add", argv: ["rv32ui-p-add"], ramBytes: 4 << 20,
  });
  guest.console.pushInput(0, Buffer.from("hi"));
  return guest.snapshot();
}
