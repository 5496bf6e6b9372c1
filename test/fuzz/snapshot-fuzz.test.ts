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
import type { KernelState } from "../../src/kernel/kernel-state.js";
import { u32Bytes, u32s } from "../../src/kernel/frames.js";
import { familySnapshot, fixtureRoot, frame, machineSnapshot, payloadOf, processSnapshot } from "../snapshot/fixtures.js";
import { asVersion1 } from "../snapshot/version1.js";
import { below, mutate, pick, seeded, type Random } from "./mutate.js";

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
let familyBase: GuestSnapshot;
let machineBase: GuestSnapshot;
beforeAll(async () => {
  core = await Core.load();
  processBase = await processSnapshot();
  const family = await familySnapshot();
  family.guest.kill();
  familyBase = family.snapshot;
  machineBase = await machineSnapshot();
});

// process: one process with a file and a sleep; tree: the family guest (two processes, pipes with bytes in flight, a handler,
// shared frames); v1: the one process as the previous version wrote it (still read).
type Kind = "process" | "tree" | "v1" | "machine";
const baseOf = (kind: Kind) => ({ process: processBase, tree: familyBase, v1: asVersion1(processBase), machine: machineBase })[kind];
const SEEDS: Record<Kind, [number, number]> = { process: [0x5eed1, 0xc4a1], machine: [0x5eed2, 0xc4a2], tree: [0x5eed3, 0xc4a3], v1: [0x5eed4, 0] };

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

/**
 * One to three mutations. Half of them aim at one section of the kernel's
 * state, chosen evenly (a uniform pick over every place would mostly hit the
 * biggest sections): every section, new ones included, is damaged often.
 */
function damage(payload: unknown, random: Random): string[] {
  const done: string[] = [];
  const kernel = (payload as { process?: Record<string, unknown> }).process;
  for (let n = 1 + below(random, 3); n > 0; n--) {
    if (kernel && typeof kernel === "object" && random() < 0.5) done.push(damageSection(kernel, random));
    else done.push(mutate(payload, random, HART_WORDS));
  }
  return done;
}

function damageSection(kernel: Record<string, unknown>, random: Random): string {
  const keys = Object.keys(kernel);
  if (keys.length === 0) return "process: nothing to mutate";
  const section = pick(random, keys);
  const holder: Record<string, unknown> = { [section]: kernel[section] };
  const how = mutate(holder, random);
  if (section in holder) kernel[section] = holder[section];
  else delete kernel[section];
  return `process.${section}: ${how}`;
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

const CHANGING_SECTIONS = ["frames", "guestClockNs", "nextPid", "nextPipe", "openFiles", "pageFaults", "pipes", "syscalls", "tasks", "warnedSyscalls"];

/** `k` changed in every section: each process's registers, space, files and signals, the descriptions, pipes, frames, clocks and counts. */
function laterKernel(k: KernelState): KernelState {
  const tasks = k.tasks.map((t) => ({
    ...t,
    registers: Uint8Array.from(t.registers, (b, i) => (i === 4 * 10 ? b ^ 1 : b)), // a0
    addressSpace: t.addressSpace && { ...t.addressSpace, brk: t.addressSpace.brk + 4096 },
    files: t.files && { ...t.files, cwd: "/tmp" },
    signals: { ...t.signals, mask: "4" },
    cpuInstructions: (BigInt(t.cpuInstructions) + 100n).toString(),
  }));
  const openFiles = { ...k.openFiles, files: k.openFiles.files.map((f) => (f.kind === "terminal" ? { ...f, position: f.position + 1 } : f)) };
  const pipes = k.pipes.map((p) => ({ ...p, data: Uint8Array.from([...p.data, 0x21]) }));
  // The free list in another order (the first free frame taken and freed again), or, with none free, one frame more
  // handed out and freed: the counts must still agree with the page tables. (Pages take their linear frames, so the
  // fixtures' allocators have handed out every frame up to the stack's, near the top of RAM, and have free frames.)
  const free = u32s(k.frames.freeFrames);
  const frames = free.length > 0
    ? { ...k.frames, freeFrames: u32Bytes(Uint32Array.from([...free.subarray(1), free[0]])) }
    : { ...k.frames, nextFrame: k.frames.nextFrame + 1, freeFrames: u32Bytes(Uint32Array.of(k.frames.nextFrame)) };
  return {
    ...k, tasks, openFiles, pipes, frames, nextPid: k.nextPid + 1, nextPipe: k.nextPipe + 1, firstPid: k.firstPid, guestClockNs: (BigInt(k.guestClockNs) + 1000n).toString(),
    pageFaults: 5, syscalls: [["read", 3]], warnedSyscalls: [999],
  };
}

describe("fuzzing snapshots", () => {
  test.each(["process", "tree", "v1", "machine"] as const)("damaged %s snapshots restore or are refused with a SnapshotError", async (kind) => {
    const random = seeded(SEED + SEEDS[kind][0]);
    const base = payloadOf(baseOf(kind));
    const findings = new Findings();
    for (let i = 0; i < CASES; i++) {
      const payload = unpack(pack(base));
      const how = damage(payload, random);
      try {
        const snapshot = decodeSnapshot(frame(payload));
        const guest = kind === "machine" ? MachineGuest.restore(options(), snapshot) : ProcessGuest.restore(options(), snapshot);
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

  test.each(["process", "tree", "machine"] as const)("damaged %s state changes apply or are refused with a SnapshotError", async (kind) => {
    const random = seeded(SEED + SEEDS[kind][1]);
    const good = baseOf(kind);
    const base = decodeSnapshot(encodeSnapshot(good));
    const later = decodeSnapshot(encodeSnapshot(good));
    // A later state that differs in every section a migration might send.
    if (kind === "machine") later.machine = { ...later.machine!, uart: { ...later.machine!.uart, scr: 9 } };
    else later.process = laterKernel(later.process!);
    // Five more bytes of output, carried with the rest (the carried output must end where the output does).
    const offset = later.console.outputOffset;
    later.console = { ...later.console, outputOffset: offset + 5, recentOutput: [...(later.console.recentOutput ?? []), { offset, stream: 1, data: Buffer.from("later") }] };
    const wire = unpack(pack(changesSince(base, later))); // as the changes cross the network
    if (kind === "tree") expect(Object.keys(wire.process).sort(), "a section the changes do not carry is not fuzzed").toEqual(CHANGING_SECTIONS);
    const findings = new Findings();
    for (let i = 0; i < CASES / 2; i++) {
      const changes = unpack(pack(wire));
      const how = damage(changes, random);
      try {
        core.init(base.guest.ramBytes); // a migration's core: RAM received, guest built from the prestate
        const guest = kind === "machine" ? MachineGuest.restore(options(), base, true, noPages) : ProcessGuest.restore(options(), base, true, noPages);
        const applied = applyChanges(base, changes);
        // What the changes' checks (which count only what changed) accepted, a whole snapshot's checks accept too.
        decodeSnapshot(encodeSnapshot(applied));
        guest.update(applied, changedSections(changes));
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
