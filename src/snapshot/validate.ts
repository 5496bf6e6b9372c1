// The whole snapshot, checked section by section before any of it reaches the
// core, the kernel or a device: who the guest is, the hart's state block, the
// RAM pages, the console, and the kernel's (validate-process.ts) or the
// devices' (validate-machine.ts) state. What comes out is rebuilt from the
// checked fields only, so nothing unchecked rides along into a restore.

import {
  CSR_MSTATUS, CSR_SATP, MAX_RAM_BYTES, MMIO_LOAD_SIGNED, MMIO_LOAD_UNSIGNED, PRIV_M, PRIV_S, PRIV_U, RAM_GUEST_BASE,
  STATE_EXIT_KIND, STATE_EXIT_SIZE, STATE_FLAGS, STATE_HOST_TRAPS, STATE_MMIO_PENDING, STATE_PRIV, STATE_RAM_BYTES,
  STATE_RESERVATION_VALID, STATE_USED, STATE_WFI, FLAG_EBREAK_EXITS, FLAG_JIT,
} from "../../assembly/layout.js";
import type { KernelState } from "../kernel/kernel.js";
import { bad, bool, bytes, int, list, MAX_LIST, nonEmptyText, nonNegative, oneOf, own, packedU32s, record, text } from "./schema.js";
import { CARRIED_OUTPUT, type ConsoleState, type GuestInfo, type GuestSnapshot, type RamPages } from "./snapshot.js";
import { FORWARDING_APPROACHES } from "../cluster/forwarding/approach.js";
import { normalGuestRoot } from "../guest/guest-root.js";
import { SnapshotError } from "./snapshot-error.js";
import { checkMachineState } from "./validate-machine.js";
import { checkProcessState } from "./validate-process.js";

const PAGE = 4096;

/** A decoded payload, checked all the way down; RAM page indices come as u32 LE bytes. */
export function validateSnapshot(raw: unknown, version: number): GuestSnapshot {
  const s = record(raw, "payload");
  const guest = checkGuestInfo(own(s, "guest"));
  const hart = checkHart(own(s, "hart"), guest.ramBytes);
  const ram = checkRamPages(own(s, "ram"), guest.ramBytes);
  const console = checkConsole(own(s, "console"));
  const snapshot: GuestSnapshot = { version, guest, hart, ram, console };
  if (guest.kind === "process") {
    if (own(s, "machine") != null) bad("machine", "a process-mode guest has no device state");
    snapshot.process = checkProcessState(own(s, "process"), "process", guest.ramBytes / PAGE);
    checkProcessHart(hart, snapshot.process);
  } else {
    if (own(s, "process") != null) bad("process", "a machine-mode guest has no kernel state");
    snapshot.machine = checkMachineState(own(s, "machine"), "machine", guest.ramBytes);
  }
  return snapshot;
}

export function checkGuestInfo(value: unknown): GuestInfo {
  const g = record(value, "guest");
  const argv = list(own(g, "argv"), "guest.argv", MAX_LIST).map((arg, i) => text(arg, `guest.argv[${i}]`));
  const ramBytes = int(own(g, "ramBytes"), "guest.ramBytes", PAGE, MAX_RAM_BYTES);
  if (ramBytes % PAGE) bad("guest.ramBytes", `${ramBytes} is not a multiple of 4096`);
  return {
    id: nonEmptyText(own(g, "id"), "guest.id", 128),
    kind: oneOf(own(g, "kind"), "guest.kind", ["process", "machine"] as const),
    program: text(own(g, "program"), "guest.program"),
    argv,
    ramBytes,
    createdAt: text(own(g, "createdAt"), "guest.createdAt", 64),
    host: text(own(g, "host"), "guest.host"),
    root: checkRoot(own(g, "root")),
    // Both absent in snapshots from before messages between guests.
    ...(own(g, "origin") === undefined ? {} : { origin: text(own(g, "origin"), "guest.origin", 1024) }),
    ...(own(g, "forwarding") === undefined ? {} : { forwarding: oneOf(own(g, "forwarding"), "guest.forwarding", FORWARDING_APPROACHES) }),
    ...(own(g, "requires") === undefined ? {} : { requires: labels(own(g, "requires"), "guest.requires") }),
    ...(own(g, "prefers") === undefined ? {} : { prefers: labels(own(g, "prefers"), "guest.prefers") }),
    ...(own(g, "terminal") === undefined ? {} : { terminal: bool(own(g, "terminal"), "guest.terminal") }),
  };
}

/** Host labels a guest requires or prefers. */
function labels(value: unknown, where: string): string[] {
  return list(value, where, 64).map((l, i) => labelName(text(l, `${where}[${i}]`, 64), `${where}[${i}]`));
}

/** A host label a guest requires: letters, digits, '-', '_', '.'. */
function labelName(value: string, where: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(value)) bad(where, `'${value}' is not a label (letters, digits, '-', '_', '.')`);
  return value;
}

/** A snapshot from before guests had roots of their own ran in the host's root: ".". */
function checkRoot(value: unknown): string {
  if (value === undefined) return ".";
  try {
    return normalGuestRoot(text(value, "guest.root"));
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    return bad("guest.root", (error as Error).message);
  }
}

/**
 * The hart's state block: the fields the core trusts without checking them
 * again (its RAM size, the privilege level, a half-done device load) must hold
 * values it can only have produced itself.
 */
export function checkHart(value: unknown, ramBytes: number): Uint8Array {
  const hart = bytes(value, "hart");
  if (hart.length !== STATE_USED) bad("hart", `${hart.length} bytes; the hart state must be ${STATE_USED} bytes`);
  const word = hartWord(hart);
  if (word(STATE_RAM_BYTES) !== ramBytes) bad("hart.ramBytes", `${word(STATE_RAM_BYTES)}, but guest.ramBytes is ${ramBytes}`);
  if (![PRIV_U, PRIV_S, PRIV_M].includes(word(STATE_PRIV))) bad("hart.privilege", `${word(STATE_PRIV)} is not U (0), S (1) or M (3)`);
  if (((word(CSR_MSTATUS) >>> 11) & 3) === 2) bad("hart.mstatus", "MPP is 2, which is reserved");
  for (const [name, offset] of [["wfi", STATE_WFI], ["reservationValid", STATE_RESERVATION_VALID], ["mmioPending", STATE_MMIO_PENDING]] as const) {
    if (word(offset) > 1) bad(`hart.${name}`, `${word(offset)} is neither 0 nor 1`);
  }
  if (word(STATE_FLAGS) & ~(FLAG_EBREAK_EXITS | FLAG_JIT)) bad("hart.flags", `0x${word(STATE_FLAGS).toString(16)} has unknown bits`);
  if (word(STATE_MMIO_PENDING)) {
    // The core finishes a device load at its next run: destination register and width come from here.
    const kind = word(STATE_EXIT_KIND);
    if (![MMIO_LOAD_SIGNED, MMIO_LOAD_UNSIGNED].includes(kind & 0xff) || kind >>> 8 >= 32) bad("hart.exitKind", `0x${kind.toString(16)} is not a pending load's kind and register`);
    if (![1, 2, 4].includes(word(STATE_EXIT_SIZE))) bad("hart.exitSize", `${word(STATE_EXIT_SIZE)} is not 1, 2 or 4`);
  }
  return hart;
}

/** A process-mode hart runs in U-mode, hands every exception to the kernel, on the page tables the kernel built. */
export function checkProcessHart(hart: Uint8Array, process: KernelState): void {
  const word = hartWord(hart);
  if (word(STATE_PRIV) !== PRIV_U) bad("hart.privilege", `${word(STATE_PRIV)}; a process-mode guest runs in U-mode (0)`);
  if (word(STATE_HOST_TRAPS) !== 0xffff) bad("hart.hostTraps", `0x${word(STATE_HOST_TRAPS).toString(16)}; a process-mode hart hands every exception to the kernel (0xffff)`);
  const current = process.tasks.find((t) => t.pid === process.current)!;
  if (current.status === "zombie") return; // it never runs again: the next process's switch sets satp
  const lender = current.sharesSpaceOf ? process.tasks.find((t) => t.pid === current.sharesSpaceOf) : current;
  // A thread's space is its process's, which one of its threads carries.
  const holder = lender && (lender.addressSpace ? lender : process.tasks.find((t) => (t.tgid ?? t.pid) === (lender.tgid ?? lender.pid) && t.addressSpace));
  const space = holder?.addressSpace;
  if (!space) bad("process.current", `process ${process.current} on the hart has no address space`);
  const satp = (0x80000000 | ((RAM_GUEST_BASE >>> 12) + space.rootFrame)) >>> 0;
  if (word(CSR_SATP) !== satp) bad("hart.satp", `0x${word(CSR_SATP).toString(16)} is not the address space's root table (0x${satp.toString(16)})`);
}

function hartWord(hart: Uint8Array): (offset: number) => number {
  const view = new DataView(hart.buffer, hart.byteOffset, hart.byteLength);
  return (offset) => view.getUint32(offset, true);
}

export function checkRamPages(value: unknown, ramBytes: number): RamPages {
  const ram = record(value, "ram");
  const indices = packedU32s(own(ram, "indices"), "ram.indices");
  const data = bytes(own(ram, "data"), "ram.data");
  if (data.length !== indices.length * PAGE) bad("ram.data", `${data.length} bytes for ${indices.length} pages`);
  const pages = ramBytes / PAGE;
  for (let i = 0; i < indices.length; i++) {
    if (indices[i] >= pages) bad(`ram.indices[${i}]`, `page ${indices[i]} is beyond ${pages} pages of RAM`);
    if (i > 0 && indices[i] <= indices[i - 1]) bad(`ram.indices[${i}]`, "the page list is not ascending");
  }
  return { indices, data };
}

export function checkConsole(value: unknown): ConsoleState {
  const c = record(value, "console");
  const inputOffset = nonNegative(own(c, "inputOffset"), "console.inputOffset");
  const pendingInput = bytes(own(c, "pendingInput"), "console.pendingInput");
  if (pendingInput.length > inputOffset) bad("console.pendingInput", `${pendingInput.length} bytes waiting, more than the ${inputOffset} ever accepted`);
  const outputOffset = nonNegative(own(c, "outputOffset"), "console.outputOffset");
  const console: ConsoleState = { outputOffset, pendingInput, inputEnded: bool(own(c, "inputEnded"), "console.inputEnded"), inputOffset };
  const recent = own(c, "recentOutput");
  if (recent !== undefined) console.recentOutput = checkRecentOutput(recent, outputOffset);
  return console;
}

/** The output a console carried: chunks back to back, ending at outputOffset, at most CARRIED_OUTPUT bytes in all. */
function checkRecentOutput(value: unknown, outputOffset: number): NonNullable<ConsoleState["recentOutput"]> {
  const chunks = list(value, "console.recentOutput", 1024).map((entry, i) => {
    const at = `console.recentOutput[${i}]`;
    const chunk = record(entry, at);
    return {
      offset: nonNegative(own(chunk, "offset"), `${at}.offset`),
      stream: oneOf(own(chunk, "stream"), `${at}.stream`, [1, 2] as const),
      data: bytes(own(chunk, "data"), `${at}.data`),
    };
  });
  let end = chunks.length ? chunks[0].offset : outputOffset;
  let total = 0;
  chunks.forEach((chunk, i) => {
    if (chunk.offset !== end) bad(`console.recentOutput[${i}].offset`, `${chunk.offset}, where the output before it ends at ${end}`);
    end += chunk.data.length;
    total += chunk.data.length;
  });
  if (end !== outputOffset) bad("console.recentOutput", `ends at byte ${end}, not at the output offset ${outputOffset}`);
  if (total > CARRIED_OUTPUT) bad("console.recentOutput", `${total} bytes, at most ${CARRIED_OUTPUT} are carried`);
  return chunks;
}
