// A guest frozen into bytes: the hart's state block, its non-zero RAM pages,
// and the state of whatever surrounds the hart (the process-mode kernel, or the
// machine's devices), plus its console streams. Used by checkpoint/restore and
// by migration, which sends it before the freeze and then only its changes (changes.ts).
//
// File layout:  "ROAMSNAP" | u32 version | u32 payload length | u32 CRC-32 of the payload | msgpack payload
// Everything is validated on the way in (validate.ts); a bad snapshot gets a
// SnapshotError naming the field and what is wrong with it, never a crash.

import { pack, unpack } from "msgpackr";
import { crc32 } from "node:zlib";
import type { ForwardingName } from "../cluster/forwarding/approach.js";
import type { KernelState } from "../kernel/kernel.js";
import type { MachineState } from "../machine/machine.js";
import { SnapshotError } from "./snapshot-error.js";
import { validateSnapshot } from "./validate.js";

export const SNAPSHOT_MAGIC = "ROAMSNAP";
export const SNAPSHOT_VERSION = 1;
const HEADER = 20;
const PAGE = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE);

export { SnapshotError };


export type GuestKind = "process" | "machine";

export interface GuestInfo {
  id: string; // unique across hosts, kept across moves
  kind: GuestKind;
  program: string; // what it runs (for ps / inspect)
  argv: string[];
  ramBytes: number;
  createdAt: string; // when the guest first started
  host: string; // where the snapshot was taken
  /** Its files' directory within each host's --root ("." is that root itself, shared); src/guest/guest-root.ts. */
  root: string;
  /** The host it first started on (URL): the `origin` forwarding approach routes its messages through it (docs/MESSAGES.md). */
  origin?: string;
  /** How messages reach it after it moves: resend, origin, traversal or update (src/cluster/forwarding/). */
  forwarding?: ForwardingName;
  /** Labels a host must carry to run it (`roam run --require secure`): checked wherever it is placed (src/cluster/placement.ts). */
  requires?: string[];
  /** Labels it prefers (`roam run --prefer secure`): it is moved to a host with them when one has room (balance/preference.ts). */
  prefers?: string[];
  /** It has a terminal (started from one: `roam run --on` on a TTY): its console is one, wherever it moves (src/kernel/terminal.ts). */
  terminal?: boolean;
}

/** A console's streams: output is numbered by byte offset, so a client can resume without loss or repeats. */
export interface ConsoleState {
  outputOffset: number; // bytes of output produced so far
  pendingInput: Uint8Array; // typed but not yet read by the guest
  inputEnded: boolean;
  inputOffset: number; // bytes of input accepted so far (clients resend from here)
  /** The last output (at most CARRIED_OUTPUT bytes, ending at outputOffset), so a client attaching after a move still sees it. */
  recentOutput?: Array<{ offset: number; stream: 1 | 2; data: Uint8Array }>;
}

/** Output a console carries with its guest: a screenful or two (it is in every freeze's state, so kept small). */
export const CARRIED_OUTPUT = 8 << 10;

export interface RamPages {
  indices: Uint32Array; // RAM page numbers, ascending
  data: Uint8Array; // indices.length * 4096 bytes
}

export interface GuestSnapshot {
  version: number;
  guest: GuestInfo;
  hart: Uint8Array; // the first STATE_USED bytes of the state block
  ram: RamPages;
  console: ConsoleState;
  process?: KernelState;
  machine?: MachineState; // machine-mode device state (src/machine)
}

/** The non-zero pages of `ram` (zero pages are implied), optionally only those in `only`. */
export function capturePages(ram: Uint8Array, only?: Iterable<number>): RamPages {
  const indices: number[] = [];
  const candidates = only ?? Array.from({ length: ram.byteLength / PAGE }, (_, i) => i);
  for (const page of candidates) {
    if (!ZERO_PAGE.equals(ram.subarray(page * PAGE, page * PAGE + PAGE))) indices.push(page);
  }
  const data = new Uint8Array(indices.length * PAGE);
  indices.forEach((page, k) => data.set(ram.subarray(page * PAGE, page * PAGE + PAGE), k * PAGE));
  return { indices: Uint32Array.from(indices), data };
}

/** The largest snapshot file: 1 GiB of non-zero pages plus the rest of the state. */
export const MAX_SNAPSHOT_BYTES = (1 << 30) + (64 << 20);

export function encodeSnapshot(snapshot: GuestSnapshot): Uint8Array {
  const { header, payload } = encodeSnapshotParts(snapshot);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

/** The file as header and payload, uncopied: a checkpoint of a large guest streams them in chunks. */
export function encodeSnapshotParts(snapshot: GuestSnapshot): { header: Uint8Array; payload: Uint8Array } {
  const payload = pack({
    ...snapshot,
    ram: { indices: new Uint8Array(snapshot.ram.indices.buffer, snapshot.ram.indices.byteOffset, snapshot.ram.indices.byteLength), data: snapshot.ram.data },
  });
  const header = new Uint8Array(HEADER);
  header.set(Buffer.from(SNAPSHOT_MAGIC, "latin1"), 0);
  const view = new DataView(header.buffer);
  view.setUint32(8, SNAPSHOT_VERSION, true);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32(payload), true);
  return { header, payload };
}

export function decodeSnapshot(bytes: Uint8Array): GuestSnapshot {
  if (bytes.length < HEADER) throw new SnapshotError(`${bytes.length} bytes is shorter than the ${HEADER}-byte header`);
  if (Buffer.from(bytes.subarray(0, 8)).toString("latin1") !== SNAPSHOT_MAGIC) throw new SnapshotError("not a Roam snapshot (no ROAMSNAP magic)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotError(`format version ${version}; this Roam reads version ${SNAPSHOT_VERSION}`);
  const length = view.getUint32(12, true);
  if (HEADER + length !== bytes.length) throw new SnapshotError(`payload is ${bytes.length - HEADER} bytes, the header says ${length} (truncated or padded)`);
  const payload = bytes.subarray(HEADER);
  const sum = crc32(payload);
  if (sum !== view.getUint32(16, true)) throw new SnapshotError(`checksum mismatch (CRC-32 ${hex(sum)}, header says ${hex(view.getUint32(16, true))})`);
  let raw: unknown;
  try {
    raw = unpack(payload);
  } catch (error) {
    throw new SnapshotError(`payload is not valid msgpack (${String((error as Error).message).split("\n")[0]})`);
  }
  return validateSnapshot(raw, version); // every section, every field (validate.ts)
}

/** Writes snapshot RAM pages into a RAM view (the rest must already be zero). */
export function applyPages(ram: Uint8Array, pages: RamPages): void {
  pages.indices.forEach((page, k) => ram.set(pages.data.subarray(k * PAGE, k * PAGE + PAGE), page * PAGE));
}

function hex(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}
