// Fuzzing snapshots: real snapshots of a process guest and a machine guest are
// decoded, damaged (fields deleted, wrong types, NaN, huge or negative numbers,
// lists of the wrong length, extra nesting, hart words set to odd values),
// framed again with a valid checksum, then decoded and restored. Each case must
// either restore (and then run for a moment) or be refused with a SnapshotError;
// any other exception is a field that reached the core, kernel or devices unchecked.
// A migration's state changes are damaged and applied the same way.
import { rmSync } from "node:fs";
import { pack, unpack } from "msgpackr";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CSR_MSTATUS, CSR_SATP, STATE_EXIT_KIND, STATE_EXIT_SIZE, STATE_FLAGS, STATE_HOST_TRAPS, STATE_MMIO_PENDING, STATE_PC, STATE_PRIV,
  STATE_RAM_BYTES, STATE_RESERVATION_VALID, STATE_WATCH_LEN, STATE_WATCH_PADDR, STATE_WFI,
} from "../../assembly/layout.js";
import { Core } from "../../src/machine/core.js";
import { MachineGuest } from "../../src/guest/machine-guest.js";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import type { RunnableGuest } from "../../src/guest/runnable.js";
import { applyChanges, changedSections, changesSince } from "../../src/snapshot/changes.js";
import { decodeSnapshot, encodeSnapshot, SnapshotError, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { fixtureRoot, frame, machineSnapshot, payloadOf, processSnapshot } from "../snapshot/fixtures.js";
import { below, mutate, seeded, type Random } from "./mutate.js";

// Deterministic by default; ROAM_FUZZ_SEED and ROAM_FUZZ_CASES explore further (a failure prints how each case was made).
const CASES = Number(process.env.ROAM_FUZZ_CASES ?? 1500); // per kind, for whole snapshots; half as many for changes
const SEED = Number(process.env.ROAM_FUZZ_SEED ?? 0);
const RUN_EVERY = 6; // of the restored guests, every 6th also runs a slice
const HART_WORDS = [
  STATE_PRIV, STATE_RAM_BYTES, STATE_MMIO_PENDING, STATE_EXIT_KIND, STATE_EXIT_SIZE, STATE_WFI, STATE_FLAGS, STATE_RESERVATION_VALID,
  CSR_SATP, CSR_MSTATUS, STATE_HOST_TRAPS, STATE_WATCH_PADDR, STATE_WATCH_LEN, STATE_PC,
];

afterAll(() => rmSync(fixtureRoot, { recursive: true, force: true }));

let core: Core;
let processBase: GuestSnapshot;
let machineBase: GuestSnapshot;
beforeAll(async () => {
  core = await Core.load();
  processBase = await processSnapshot();
  machineBase = await machineSnapshot();
});

const options = () => ({ core, root: fixtureRoot, hostName: "F" });
const noPages = { isMissing: () => false, fetch: async () => {}, arriving: false };

/** Runs a restored guest for one slice (with a line to read), then stops it; a guest whose run throws is a failure too. */
async function runBriefly(guest: RunnableGuest): Promise<void> {
  guest.console.pushInput(guest.console.acceptedInput, Buffer.from("two\n"));
  const timer = setImmediate(() => guest.pause());
  try {
    const result = await guest.run();
    if (result.paused) guest.kill();
  } finally {
    clearImmediate(timer);
  }
}

function damage(payload: unknown, random: Random): string[] {
  const done: string[] = [];
  for (let n = 1 + below(random, 3); n > 0; n--) done.push(mutate(payload, random, HART_WORDS));
  return done;
}

/** Collects cases that ended in anything but success or a one-line SnapshotError (the first few, with how they were made). */
class Findings {
  readonly list: string[] = [];
  refused = 0;
  accepted = 0;
  note(error: unknown, how: string[]): void {
    const oneLine = error instanceof SnapshotError && !error.message.includes("\n");
    if (oneLine) { this.refused++; return; }
    if (this.list.length < 12) this.list.push(`${(error as Error)?.name}: ${JSON.stringify((error as Error)?.message)} <- ${how.join("; ")}`);
    else this.list.push("...");
  }
}

describe("fuzzing snapshots", () => {
  test.each(["process", "machine"] as const)("damaged %s snapshots restore or are refused with a SnapshotError", async (kind) => {
    const random = seeded(SEED + (kind === "process" ? 0x5eed1 : 0x5eed2));
    const base = payloadOf(kind === "process" ? processBase : machineBase);
    const findings = new Findings();
    for (let i = 0; i < CASES; i++) {
      const payload = unpack(pack(base));
      const how = damage(payload, random);
      try {
        const snapshot = decodeSnapshot(frame(payload));
        const guest = kind === "process" ? ProcessGuest.restore(options(), snapshot) : MachineGuest.restore(options(), snapshot);
        findings.accepted++;
        if (i % RUN_EVERY === 0) await runBriefly(guest);
      } catch (error) {
        findings.note(error, how);
      }
    }
    expect(findings.list, "exceptions other than SnapshotError").toEqual([]);
    // The fuzz must exercise both outcomes, or it tests nothing.
    expect(findings.refused).toBeGreaterThan(CASES / 4);
    expect(findings.accepted).toBeGreaterThan(CASES / 20);
  }, 120_000);

  test.each(["process", "machine"] as const)("damaged %s state changes apply or are refused with a SnapshotError", async (kind) => {
    const random = seeded(SEED + (kind === "process" ? 0xc4a1 : 0xc4a2));
    const good = kind === "process" ? processBase : machineBase;
    const base = decodeSnapshot(encodeSnapshot(good));
    const later = decodeSnapshot(encodeSnapshot(good));
    // A later state that differs in every section a migration might send.
    if (kind === "process") {
      later.process = { ...later.process!, pid: 77, pageFaults: 5, syscalls: [["read", 3]], warnedSyscalls: [999] };
      later.process.files = { ...later.process.files, cwd: "/tmp" };
      later.process.addressSpace = { ...later.process.addressSpace, brk: later.process.addressSpace.brk + 4096 };
    } else {
      later.machine = { ...later.machine!, uart: { ...later.machine!.uart, scr: 9 } };
    }
    // Five more bytes of output, carried with the rest (the carried output must end where the output does).
    const offset = later.console.outputOffset;
    later.console = { ...later.console, outputOffset: offset + 5, recentOutput: [...(later.console.recentOutput ?? []), { offset, stream: 1, data: Buffer.from("later") }] };
    const wire = unpack(pack(changesSince(base, later))); // as the changes cross the network
    const findings = new Findings();
    for (let i = 0; i < CASES / 2; i++) {
      const changes = unpack(pack(wire));
      const how = damage(changes, random);
      try {
        core.init(base.guest.ramBytes); // a migration's core: RAM received, guest built from the prestate
        const guest = kind === "process" ? ProcessGuest.restore(options(), base, true, noPages) : MachineGuest.restore(options(), base, true, noPages);
        guest.update(applyChanges(base, changes), changedSections(changes));
        findings.accepted++;
        if (i % RUN_EVERY === 0) await runBriefly(guest);
      } catch (error) {
        findings.note(error, how);
      }
    }
    expect(findings.list, "exceptions other than SnapshotError").toEqual([]);
    expect(findings.refused).toBeGreaterThan(CASES / 20);
    expect(findings.accepted).toBeGreaterThan(CASES / 40);
  }, 120_000);
});
