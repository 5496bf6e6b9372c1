// The process-mode kernel's state in a snapshot (src/kernel: ProcessState,
// AddressSpaceState, FileTableState), checked section by section. Every frame
// number must name a page of this guest's RAM, every page-table index must
// exist, every number the kernel computes with must be a finite integer in range.

import * as path from "node:path";
import type { AddressSpaceState, Region } from "../kernel/address-space.js";
import type { FileTableState, OpenFile } from "../kernel/files.js";
import type { ProcessState } from "../kernel/process.js";
import {
  bad, bytes, decimalU64, describe, int, list, MAX_LIST, nonEmptyText, nonNegative, oneOf, own, packedU32s, record, schemaVersion, text, u32, U32_MAX,
} from "./schema.js";

const PAGE = 4096;
const UNMAPPED = 0xffffffff; // a removal in the page journal
const MAX_FILES = 1024; // as the file table allows
const MAX_PATH = 4096; // the longest guest path the file table makes (ENAMETOOLONG beyond)

/** Checks one section; `previous` is the same section of the state a migration's changes apply to. */
type SectionCheck = (value: unknown, path: string, frames: number, previous?: unknown) => unknown;

/** One check per section of ProcessState; a migration's changes name sections by these keys. */
export const PROCESS_SECTIONS: Record<keyof ProcessState, SectionCheck> = {
  schemaVersion: (v, p) => int(v, p, 1, 1),
  addressSpace: (v, p, frames, previous) => checkAddressSpace(v, p, frames, previous as AddressSpaceState | undefined),
  files: (v, p) => checkFileTable(v, p),
  pid: (v, p) => int(v, p, 0, 0x7fffffff),
  guestClockNs: (v, p) => decimalU64(v, p),
  sleepDeadlineNs: (v, p) => (v === null ? null : decimalU64(v, p)),
  warnedSyscalls: (v, p) => list(v, p, MAX_LIST).map((n, i) => u32(n, `${p}[${i}]`)),
  syscalls: (v, p) => list(v, p, MAX_LIST).map((entry, i) => checkSyscallCount(entry, `${p}[${i}]`)),
  pageFaults: (v, p) => nonNegative(v, p),
};

export function checkProcessState(value: unknown, at: string, frames: number): ProcessState {
  const m = record(value, at);
  const state: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(PROCESS_SECTIONS)) state[key] = check(own(m, key), `${at}.${key}`, frames);
  return state as unknown as ProcessState;
}

/** The sections a migration's final state replaces, each checked; `base` (already checked) supplies the rest. */
export function checkProcessChanges(value: unknown, base: ProcessState, frames: number): ProcessState {
  const m = record(value, "process");
  const state: Record<string, unknown> = { ...base };
  for (const key of Object.keys(m)) {
    if (!Object.prototype.hasOwnProperty.call(PROCESS_SECTIONS, key)) bad(`process[${describe(key)}]`, "not a section of the kernel's state");
    state[key] = PROCESS_SECTIONS[key as keyof ProcessState](m[key], `process.${key}`, frames, state[key]);
  }
  return state as unknown as ProcessState;
}

function checkSyscallCount(value: unknown, at: string): [string, number] {
  const pair = list(value, at, 2);
  if (pair.length !== 2) bad(at, "not a [name, count] pair");
  return [text(pair[0], `${at}[0]`, 64), nonNegative(pair[1], `${at}[1]`)];
}

// ---- Address space ------------------------------------------------------------------------

/**
 * The address space. With `previous` (the checked state a migration's prestate
 * brought), a page journal that only grew since is checked from where the old
 * one ended: the journal is appended to, and the tables list only ever grows,
 * so this keeps a big guest's check out of the downtime.
 */
export function checkAddressSpace(value: unknown, at: string, frames: number, previous?: AddressSpaceState): AddressSpaceState {
  const m = record(value, at);
  schemaVersion(m, at, 1);
  const frame = (v: unknown, p: string) => int(v, p, 0, frames - 1);
  const tableFrames = checkTables(own(m, "tableFrames"), `${at}.tableFrames`, frames);
  const pages = bytes(own(m, "pages"), `${at}.pages`);
  const grown = previous && startsWith(pages, previous.pages) && startsWith(own(m, "tableFrames") as Uint8Array, previous.tableFrames);
  checkJournal(pages, `${at}.pages`, frames, tableFrames, grown ? previous.pages.length : 0);
  const freeFrames = packedU32s(own(m, "freeFrames"), `${at}.freeFrames`);
  freeFrames.forEach((f, i) => { if (f >= frames) bad(`${at}.freeFrames[${i}]`, `frame ${f} is beyond ${frames} frames of RAM`); });
  return {
    schemaVersion: 1,
    regions: checkRegions(own(m, "regions"), `${at}.regions`),
    pages,
    tableFrames: own(m, "tableFrames") as Uint8Array,
    rootFrame: frame(own(m, "rootFrame"), `${at}.rootFrame`),
    freeFrames: own(m, "freeFrames") as Uint8Array,
    nextFrame: int(own(m, "nextFrame"), `${at}.nextFrame`, 0, frames),
    brkStart: u32(own(m, "brkStart"), `${at}.brkStart`),
    brk: u32(own(m, "brk"), `${at}.brk`),
    mmapTop: u32(own(m, "mmapTop"), `${at}.mmapTop`),
  };
}

/**
 * Regions: page-aligned, inside 4 GiB, sorted and not overlapping (the kernel looks them up in order).
 * Protection is any u32: mprotect(2) here stores whatever bits the guest passed.
 */
function checkRegions(value: unknown, at: string): Region[] {
  const regions = list(value, at, MAX_LIST).map((entry, i): Region => {
    const p = `${at}[${i}]`;
    const r = record(entry, p);
    const start = u32(own(r, "start"), `${p}.start`);
    const end = int(own(r, "end"), `${p}.end`, start + 1, U32_MAX + 1);
    if (start % PAGE) bad(`${p}.start`, `0x${start.toString(16)} is not page-aligned`);
    if (end % PAGE) bad(`${p}.end`, `0x${end.toString(16)} is not page-aligned`);
    return { start, end, prot: u32(own(r, "prot"), `${p}.prot`), kind: oneOf(own(r, "kind"), `${p}.kind`, ["image", "heap", "stack", "mmap"] as const) };
  });
  for (let i = 1; i < regions.length; i++) {
    if (regions[i].start < regions[i - 1].end) bad(`${at}[${i}].start`, `0x${regions[i].start.toString(16)} is not after the end of ${at}[${i - 1}]`);
  }
  return regions;
}

/** Level-0 tables: (level-1 index, frame) pairs, one per index. Returns which indices have one. */
function checkTables(value: unknown, at: string, frames: number): Uint8Array {
  const pairs = u32Pairs(value, at);
  const present = new Uint8Array(1024);
  for (let i = 0; i < pairs.byteLength; i += 8) {
    const l1 = pairs.getUint32(i, true), frame = pairs.getUint32(i + 4, true);
    if (l1 >= 1024) bad(`${at}[${i / 8}]`, `level-1 index ${l1} is beyond 1023`);
    if (present[l1]) bad(`${at}[${i / 8}]`, `a second table for level-1 index ${l1}`);
    if (frame >= frames) bad(`${at}[${i / 8}]`, `frame ${frame} is beyond ${frames} frames of RAM`);
    present[l1] = 1;
  }
  return present;
}

/** The page journal from byte `from`: (virtual page, frame or UNMAPPED) pairs; a mapped page's level-0 table must exist. */
function checkJournal(value: unknown, at: string, frames: number, tables: Uint8Array, from: number): void {
  const pairs = u32Pairs(value, at);
  for (let i = from; i < pairs.byteLength; i += 8) {
    const vpn = pairs.getUint32(i, true), frame = pairs.getUint32(i + 4, true);
    if (vpn >= 1 << 20) bad(`${at}[${i / 8}]`, `virtual page ${vpn} is beyond 4 GiB`);
    if (frame === UNMAPPED) continue;
    if (frame >= frames) bad(`${at}[${i / 8}]`, `frame ${frame} is beyond ${frames} frames of RAM`);
    if (!tables[vpn >>> 10]) bad(`${at}[${i / 8}]`, `virtual page ${vpn} has no page table`);
  }
}

/** Packed u32 pairs, read in place (a 256 MiB guest's journal is half a megabyte: no copy). */
function u32Pairs(value: unknown, at: string): DataView {
  const b = bytes(value, at);
  if (b.length % 8) bad(at, `${b.length} bytes is not whole u32 pairs`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && Buffer.from(bytes.buffer, bytes.byteOffset, prefix.length).equals(prefix);
}

// ---- Open files ---------------------------------------------------------------------------

export function checkFileTable(value: unknown, at: string): FileTableState {
  const m = record(value, at);
  // Version 2 added each file's capability on its home host (`cap`); version 1 is still read.
  const version = own(m, "schemaVersion") === 1 ? 1 : 2;
  schemaVersion(m, at, version);
  const cwd = guestPath(own(m, "cwd"), `${at}.cwd`);
  const seen = new Set<number>();
  const files = list(own(m, "files"), `${at}.files`, MAX_FILES).map((entry, i): [number, OpenFile] => {
    const pair = list(entry, `${at}.files[${i}]`, 2);
    if (pair.length !== 2) bad(`${at}.files[${i}]`, "not an [fd, file] pair");
    const fd = int(pair[0], `${at}.files[${i}][0]`, 0, MAX_FILES - 1);
    if (seen.has(fd)) bad(`${at}.files[${i}][0]`, `fd ${fd} is open twice`);
    seen.add(fd);
    return [fd, checkOpenFile(pair[1], `${at}[${fd}]`)];
  });
  return { schemaVersion: version, cwd, files };
}

export function checkOpenFile(value: unknown, at: string): OpenFile {
  const f = record(value, at);
  const kind = oneOf(own(f, "kind"), `${at}.kind`, ["file", "directory", "terminal"] as const);
  const file: OpenFile = {
    path: kind === "terminal" ? text(own(f, "path"), `${at}.path`, 64) : guestPath(own(f, "path"), `${at}.path`),
    flags: u32(own(f, "flags"), `${at}.flags`),
    mode: u32(own(f, "mode"), `${at}.mode`),
    position: nonNegative(own(f, "position"), `${at}.position`, 2 ** 63), // llseek(2) takes 64-bit offsets
    kind,
  };
  const home = own(f, "home");
  if (home !== undefined) file.home = nonEmptyText(home, `${at}.home`);
  const cap = own(f, "cap");
  if (cap !== undefined) file.cap = text(cap, `${at}.cap`, 64);
  const terminal = own(f, "terminal");
  if (kind === "terminal") file.terminal = oneOf(terminal, `${at}.terminal`, [0, 1, 2] as const);
  else if (terminal !== undefined) bad(`${at}.terminal`, `a ${kind} is not a standard stream`);
  return file;
}

/** A guest path as the file table keeps it: absolute and normalised (no "..", so nothing climbs out of the sandbox). */
function guestPath(value: unknown, at: string): string {
  const p = text(value, at, MAX_PATH);
  if (!p.startsWith("/") || path.posix.normalize(p) !== p || p.includes("\0")) bad(at, "not an absolute, normalised guest path");
  return p;
}
