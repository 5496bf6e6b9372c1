// V8's code cache for the bundle's chunks: the compiled code of a chunk, kept on disk so that the next `roam` skips
// parsing and compiling it. The cache is never required: missing, unreadable, corrupt or stale, the chunk compiles from
// source as it would without one, and a fresh cache is written at exit (to a temporary file, renamed into place, so a
// reader never sees half a file); a directory that cannot be written is passed over silently.
//
// Where: $XDG_CACHE_HOME/roam-vm, else ~/.cache/roam-vm; ROAM_CODE_CACHE=0 turns it off. A file's name carries the
// chunk's SHA-256 (from its header line), V8's version and the architecture: a rebuilt chunk or another Node never
// reads an older cache. V8 itself checks only the source's length, its version and flags, so the checksum of the
// contents is turned on below: without it a corrupt cache is accepted and crashes Node or runs code the source lacks.

import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writevSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Script } from "node:vm";
// V8 checks a cache's checksum only with --verify-snapshot-checksum, one of the flags bundle-loader.ts sets before
// any cache is made or read (v8-flags.ts), so that both carry the same flags (V8 rejects a cache made under others).

/** What became of a chunk's cache, for the start-up log (bundle-loader.ts). */
export type CacheOutcome = "off" | "missing" | "accepted" | "rejected";

/** The directory for code caches: undefined when off, or when there is no home to put it in. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ROAM_CODE_CACHE === "0") return undefined;
  // A relative path is invalid and ignored (the XDG base directory spec): it would put a cache in each run's cwd.
  const base = isAbsolute(env.XDG_CACHE_HOME ?? "") ? env.XDG_CACHE_HOME! : isAbsolute(env.HOME ?? "") ? join(env.HOME!, ".cache") : undefined;
  return base === undefined ? undefined : join(base, "roam-vm");
}

/** The cache file of chunk `name` whose source has SHA-256 `hash`. */
export function cacheFile(directory: string, name: string, hash: string): string {
  return join(directory, `${name}-${hash.slice(0, 32)}-v8-${process.versions.v8}-${process.arch}.cache`);
}

// A cache file: MAGIC, then how many of the chunk's modules had run in the process that wrote it (u32, little-endian),
// then V8's data. V8 caches only the functions compiled by then, which depend on the command: the first `roam --help`
// after a build would otherwise decide the run chunk's cache for every `roam run` after it.
const MAGIC = Buffer.from("RVC1");
const HEADER_BYTES = 8;

/** A cache file's parts; undefined for one that is not ours (V8 checks the rest). */
function parseCache(file: Buffer): { modulesRun: number; data: Buffer } | undefined {
  if (file.length < HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  return { modulesRun: file.readUInt32LE(MAGIC.length), data: file.subarray(HEADER_BYTES) };
}

/**
 * Compiles the chunk's source `text` (read from `path`) with its cached code when there is a good cache, runs it and
 * returns its value. At exit, the cache is written if it was missing or rejected, or if this process ran more of the
 * chunk's modules (`modulesRun()`) than the one that wrote it: the fullest run's code is kept.
 */
export function runChunk(path: string, name: string, hash: string, text: string, modulesRun: () => number): { value: unknown; cache: CacheOutcome } {
  const directory = cacheDirectory();
  const file = directory === undefined ? undefined : cacheFile(directory, name, hash);
  let cached: ReturnType<typeof parseCache>;
  let found = false;
  if (file !== undefined) {
    try { cached = parseCache(readFileSync(file)); found = true; } catch { /* none yet, or unreadable: compile from source */ }
  }
  const script = new Script(text, { filename: path, cachedData: cached?.data });
  const accepted = cached !== undefined && !script.cachedDataRejected;
  const cache: CacheOutcome = file === undefined ? "off" : !found ? "missing" : accepted ? "accepted" : "rejected";
  // At exit, not now: the cache then holds the functions this run compiled (lazily, as they were first called) too.
  if (directory !== undefined && file !== undefined) {
    process.once("exit", () => {
      const ran = modulesRun();
      if (!accepted || ran > cached!.modulesRun) writeCache(directory, file, name, script, ran);
    });
  }
  return { value: script.runInThisContext(), cache };
}

const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;

/** Writes the script's code cache to `file` atomically; every failure (read-only, full disk) leaves things as they were. */
function writeCache(directory: string, file: string, name: string, script: Script, modulesRun: number): void {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32LE(modulesRun, MAGIC.length);
  if (writeFileAtomically(directory, file, [header, script.createCachedData()])) removeStale(directory, name, file);
}

/**
 * Writes `parts` to `file` in `directory` (made if missing) through a temporary file renamed into place, so that a
 * reader never sees half a file. False, and nothing left behind, when it cannot (read-only, full disk).
 */
export function writeFileAtomically(directory: string, file: string, parts: readonly Uint8Array[]): boolean {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(directory, { recursive: true });
    const fd = openSync(temporary, "w");
    try { writeParts(fd, parts); } finally { closeSync(fd); }
    renameSync(temporary, file);
    return true;
  } catch {
    try { unlinkSync(temporary); } catch { /* never made */ }
    return false;
  }
}

/**
 * Writes `parts` in order with writev, no concatenation first (a translated batch's file is its key, its module's
 * bytes and V8's code: a copy of ~1 MB, ~3.6 ms of a first SQLite run's exit, which writes 55 of them).
 */
function writeParts(fd: number, parts: readonly Uint8Array[]): void {
  let left = parts.filter((part) => part.length > 0);
  while (left.length > 0) {
    let wrote = writevSync(fd, left);
    const rest: Uint8Array[] = [];
    for (const part of left) {
      if (wrote >= part.length) { wrote -= part.length; continue; }
      rest.push(part.subarray(wrote)); // the first part not written whole, and those after it
      wrote = 0;
    }
    left = rest;
  }
}

/** Caches of this chunk from other builds, untouched for a week: no build here uses them now. */
function removeStale(directory: string, name: string, current: string): void {
  const now = Date.now();
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (!entry.startsWith(`${name}-`) || path === current) continue;
    try { if (now - statSync(path).mtimeMs > STALE_AFTER_MS) unlinkSync(path); } catch { /* another process removed it */ }
  }
}
