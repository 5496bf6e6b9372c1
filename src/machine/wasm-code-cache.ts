// Turbofan's code for WebAssembly modules, kept on disk so that the next process starts with it: the core's
// interpreter loop and the translated regions' batches. V8 compiles a module's functions with Liftoff first (fast to
// make, about half as fast to run) and optimises each with Turbofan once it has run enough, on its one background
// thread: a run's warm-up (docs/SPEED.md). Node 20 keeps no compiled WebAssembly across processes, but V8 can write a
// module's Turbofan code out and read it back (the serializer behind Chrome's WebAssembly code cache), reached here
// through V8's intrinsics (`%SerializeWasmModule`, `%DeserializeWasmModule`), which `--allow-natives-syntax` opens
// (src/launch/v8-flags.ts). So a module whose bytes an earlier process compiled and optimised starts with that code:
// the core's loop is optimised from the first instruction (`roam run hello` no longer waits at its exit for that
// compile), and a program run again with the same input translates the same batches, byte for byte, and runs them
// optimised at once. A batch differs when what got hot differs (Lua seeds its hashes with the time): then it is
// compiled as before.
//
// The cache is never required: without the intrinsics (Node started without the flag: vitest, an embedding),
// ROAM_CODE_CACHE=0, no home for the directory, a missing, damaged or stale file, V8 refusing the data (another V8,
// other flags, another CPU), a module is compiled as before. A file holds the module's bytes and V8's data with its
// checksum: a file is used only for exactly its bytes, and damaged data is never handed to V8, which checks neither
// (its data is machine code). At exit each module that gained optimised functions since it was compiled or read is
// written (to a temporary file, renamed into place); the directory keeps the newest, at most MAX_FILES.
//
// A translated batch is also kept by what it was emitted from (its key: jit/batch-key.ts), with its bytes, so that
// a program run again skips the batch's emit as well: cachedBatch finds the file by the key, and its bytes come
// from the file (checked by their checksum, as they are not the caller's), with V8's data when Turbofan had
// optimised any of the module, else alone (written at exit all the same: the emit is the cost saved).

import { accessSync, closeSync, constants, fstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { cacheDirectory, writeFileAtomically } from "../launch/code-cache.js";

/** V8's intrinsics the cache uses; undefined when Node was started without --allow-natives-syntax. */
interface Intrinsics {
  /** V8's data for the module's optimised functions; V8 aborts the process if it has none (isOptimised first). */
  serialize(module: WebAssembly.Module): ArrayBuffer;
  /** The module from V8's data and its exact bytes; undefined when V8 refuses the data. */
  deserialize(data: ArrayBuffer, wire: Uint8Array<ArrayBuffer>): WebAssembly.Module | undefined;
  /** Whether an exported function runs Turbofan's code. */
  isOptimised(fn: (...args: never[]) => unknown): boolean;
  /** Has Turbofan optimise an exported function now, on this thread. */
  optimise(fn: (...args: never[]) => unknown): void;
}

function intrinsics(): Intrinsics | undefined {
  try {
    // Functions made from text: V8 parses `%Name(...)` as an intrinsic only in code compiled with the flag on, and tsc
    // would refuse it in a module anyway.
    const make = (params: string, body: string) => new Function(params, body) as never;
    return {
      serialize: make("module", "return %SerializeWasmModule(module)"),
      deserialize: make("data, wire", "return %DeserializeWasmModule(data, wire)"),
      isOptimised: make("fn", "return %IsTurboFanFunction(fn)"),
      optimise: make("fn", "%WasmTierUpFunction(fn)"),
    };
  } catch {
    return undefined; // a SyntaxError: `%` is no intrinsic without the flag
  }
}

const MAGIC = 0x314d5752; // "RWM1"
const HEADER_BYTES = 20; // magic, optimised exports, bytes' length, data's length, data's checksum (u32 LE each)
/** The directory keeps the newest this many modules (a file is 10-130 KB; the SQLite test writes 37, 0.8 MB). */
export const MAX_FILES = 1024;
/**
 * Past MAX_FILES the oldest go until this many are left. Finding the oldest stats every file, ~25 ms for 1,024 on
 * this VM: pruning just the excess had every exit that wrote a file pay that once the directory was full (a Lua
 * script's batches differ from run to run, as Lua seeds its hashes with the time, so each run writes some).
 */
export const PRUNED_TO = 768;
/** At most this many files written at one exit (~0.2 ms each): a host that ran for days exits promptly. */
const MAX_WRITES = 256;
const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;

const BATCH_MAGIC = 0x314b5752; // "RWK1": a batch's file, found by its key
/** magic, optimised exports, key's, bytes' and data's lengths, bytes' and data's checksums (u32 LE each) */
const BATCH_HEADER_BYTES = 28;

/** A batch's bytes from the cache (cachedBatch), and its module when V8 took the optimised code kept with them. */
export interface CachedBatch { wire: Uint8Array<ArrayBuffer>; module?: WebAssembly.Module }

/** A module compiled or read, with what its exit write is measured against. */
interface Kept {
  file: string;
  wire: Uint8Array<ArrayBuffer>;
  /** A batch's key (cachedBatch): its file is named by the key and holds it. */
  key?: Uint8Array<ArrayBuffer>;
  /** Whether a file holds the module already (read from one): a batch's is written at exit only when it is not. */
  onDisk: boolean;
  optimisedAtLoad: number;
  instance?: WeakRef<WebAssembly.Instance>;
  /** Exports optimised at exit, before the module is first written (see instantiated). */
  hot: readonly string[];
}

export class WasmCodeCache {
  /** Modules read from the cache and modules compiled (the tests read them; --stats counts batches in the translator). */
  hits = 0;
  misses = 0;
  /** Batches whose bytes were read by their key (cachedBatch), not emitted. */
  recalled = 0;
  private readonly kept = new WeakMap<WebAssembly.Module, Kept>();
  /** Every module compiled or read, weakly: a dropped translation's module must stay collectable. */
  private modules: Array<WeakRef<WebAssembly.Module>> = [];
  /** When `modules` next drops the ones collected: twice as many as were live last time, at least 2 * MAX_FILES. */
  private compactAt = 2 * MAX_FILES;
  /** The bytes cached() last found no file for, and that file's name: compiled() follows with the same bytes. */
  private lastMiss: { wire: Uint8Array<ArrayBuffer>; file: string } | undefined;

  constructor(readonly directory: string, private readonly v8: Intrinsics) {
    process.once("exit", () => {
      try { this.writeAll(); } catch { /* a cache never changes how a run ends */ }
    });
  }

  /** The module for `wire`: with its optimised code from the cache when a file holds it, else compiled here (lazily, as V8 does). */
  compile(wire: Uint8Array<ArrayBuffer>): WebAssembly.Module {
    const cached = this.cached(wire);
    if (cached) return cached;
    const module = new WebAssembly.Module(wire);
    this.compiled(module, wire);
    return module;
  }

  /** The module for `wire` from the cache, or undefined: then compile it and tell compiled(). */
  cached(wire: Uint8Array<ArrayBuffer>): WebAssembly.Module | undefined {
    const file = this.fileFor(wire);
    const found = this.read(file, wire);
    if (!found) { this.lastMiss = { wire, file }; return undefined; }
    this.hits++;
    this.keep(found.module, { file, wire, optimisedAtLoad: found.optimised, hot: [], onDisk: true });
    return found.module;
  }

  /**
   * A batch's bytes kept under `key` (jit/batch-key.ts), with its module when the file has V8's code for it and V8
   * takes it; undefined when no file holds this key. Without a module, compile the bytes and tell compiled() they
   * came from the file; with none at all, emit them, compile, and tell compiled() they did not.
   */
  cachedBatch(key: Uint8Array<ArrayBuffer>): CachedBatch | undefined {
    const file = this.fileForKey(key);
    const found = this.readBatch(file, key);
    if (!found) return undefined;
    this.recalled++;
    if (found.module) {
      this.hits++;
      this.keep(found.module, { file, wire: found.wire, key, optimisedAtLoad: found.optimised, hot: [], onDisk: true });
    }
    return found;
  }

  /**
   * A module compiled from `wire` elsewhere (after cached() or cachedBatch() found no code for it): written at exit
   * if Turbofan optimised any of it, or, for a batch kept by its key, if no file holds its bytes yet (`onDisk`: they
   * came from one).
   */
  compiled(module: WebAssembly.Module, wire: Uint8Array<ArrayBuffer>, batch?: { key: Uint8Array<ArrayBuffer>; onDisk: boolean }): void {
    this.misses++;
    if (batch) {
      this.keep(module, { file: this.fileForKey(batch.key), wire, key: batch.key, optimisedAtLoad: 0, hot: [], onDisk: batch.onDisk });
      return;
    }
    const file = this.lastMiss?.wire === wire ? this.lastMiss.file : this.fileFor(wire); // summed once, by cached()
    this.lastMiss = undefined;
    this.keep(module, { file, wire, optimisedAtLoad: 0, hot: [], onDisk: false });
  }

  /**
   * Notes an instance of a module from compile(): at exit its exports tell which of its functions Turbofan made.
   * `hot`: exports to optimise at exit when the module was compiled here, not read: the core's interpreter loop,
   * which a short run (hello) never runs long enough to optimise, so that every later run starts with it optimised
   * (the first run of a build pays the compile, ~10 ms, at its exit).
   */
  instantiated(module: WebAssembly.Module, instance: WebAssembly.Instance, hot: readonly string[] = []): void {
    const kept = this.kept.get(module);
    // One live instance is enough to read the module's code from; a host's first core may be long gone at its exit.
    if (kept && kept.instance?.deref() === undefined) { kept.instance = new WeakRef(instance); kept.hot = hot; }
  }

  private keep(module: WebAssembly.Module, kept: Kept): void {
    this.kept.set(module, kept);
    this.modules.push(new WeakRef(module));
    // A host runs for days: now and then forget the modules already collected.
    if (this.modules.length >= this.compactAt) {
      this.modules = this.modules.filter((ref) => ref.deref() !== undefined);
      this.compactAt = Math.max(2 * MAX_FILES, 2 * this.modules.length);
    }
  }

  private fileFor(wire: Uint8Array<ArrayBuffer>): string {
    return join(this.directory, `${checksum(wire).toString(16).padStart(8, "0")}-${wire.length}.wasm-code`);
  }

  private fileForKey(key: Uint8Array<ArrayBuffer>): string {
    return join(this.directory, `${checksum(key).toString(16).padStart(8, "0")}-${key.length}.wasm-batch`);
  }

  /** The batch file's bytes (and module, when V8 takes its data) if it is whole and kept under exactly `key`. */
  private readBatch(file: string, key: Uint8Array<ArrayBuffer>): (CachedBatch & { optimised: number }) | undefined {
    return withFile(file, (reader) => {
      const header = reader.header(BATCH_HEADER_BYTES);
      if (!header || header.readUInt32LE(0) !== BATCH_MAGIC) return undefined;
      const keyLength = header.readUInt32LE(8), wireLength = header.readUInt32LE(12), dataLength = header.readUInt32LE(16);
      if (keyLength !== key.length || reader.size !== BATCH_HEADER_BYTES + keyLength + wireLength + dataLength) return undefined;
      if (Buffer.compare(reader.next(keyLength), key) !== 0) return undefined;
      const wire = reader.next(wireLength); // its own memory, aligned: kept with the module
      if (checksum(wire) !== header.readUInt32LE(20)) return undefined;
      const module = dataLength === 0 ? undefined : this.takeData(reader.next(dataLength), header.readUInt32LE(24), wire);
      return module ? { wire, module, optimised: header.readUInt32LE(4) } : { wire, optimised: 0 }; // without V8's code, the bytes hold
    });
  }

  /** The file's module if it is whole and for exactly these bytes and V8 takes its data. */
  private read(file: string, wire: Uint8Array<ArrayBuffer>): { module: WebAssembly.Module; optimised: number } | undefined {
    return withFile(file, (reader) => {
      const header = reader.header(HEADER_BYTES);
      if (!header || header.readUInt32LE(0) !== MAGIC) return undefined;
      const wireLength = header.readUInt32LE(8), dataLength = header.readUInt32LE(12);
      if (wireLength !== wire.length || reader.size !== HEADER_BYTES + wireLength + dataLength) return undefined;
      if (Buffer.compare(reader.next(wireLength), wire) !== 0) return undefined;
      const module = this.takeData(reader.next(dataLength), header.readUInt32LE(16), wire);
      return module ? { module, optimised: header.readUInt32LE(4) } : undefined;
    });
  }

  /** The module from V8's `data` for `wire`, if the data's checksum is `sum` and V8 takes it; damaged data never reaches V8. */
  private takeData(data: Uint8Array<ArrayBuffer>, sum: number, wire: Uint8Array<ArrayBuffer>): WebAssembly.Module | undefined {
    return checksum(data) === sum ? this.v8.deserialize(data.buffer, wire) : undefined; // V8 wants an ArrayBuffer of its own
  }

  /** At exit: each module that gained optimised functions since it was compiled or read (at most MAX_WRITES). */
  private writeAll(): void {
    let wrote = 0;
    for (const ref of this.modules) {
      if (wrote === MAX_WRITES) break;
      const module = ref.deref();
      const kept = module === undefined ? undefined : this.kept.get(module);
      const instance = kept?.instance?.deref();
      if (module === undefined || kept === undefined || instance === undefined) continue;
      if (kept.optimisedAtLoad === 0 && kept.hot.length > 0 && this.writable()) this.optimiseHot(instance, kept.hot);
      const optimised = this.optimisedExports(instance);
      // Written again only when an eighth more of its functions are optimised than it was read with: a warm start's
      // batch (jit/warm-start.ts, ~240 regions) gained one to three each run, and each write cost its exit ~10 ms.
      const gained = optimised > 0 && optimised > kept.optimisedAtLoad + (kept.optimisedAtLoad >> 3);
      if (kept.key !== undefined) {
        if (!gained && kept.onDisk) continue;
        // V8 aborts the process on a module with no optimised function: an optimised export proves one.
        if (this.writeBatch(kept, kept.key, gained ? optimised : 0, gained ? this.v8.serialize(module) : undefined)) wrote++;
        continue;
      }
      if (!gained) continue;
      if (this.write(kept, optimised, this.v8.serialize(module))) wrote++;
    }
    if (wrote > 0) this.prune();
  }

  private optimiseHot(instance: WebAssembly.Instance, hot: readonly string[]): void {
    for (const name of hot) {
      const fn = instance.exports[name];
      if (typeof fn === "function" && !this.v8.isOptimised(fn as () => unknown)) this.v8.optimise(fn as () => unknown);
    }
  }

  /** Whether the directory can take a file: no compile at exit for a cache that cannot be written. */
  private writable(): boolean {
    try {
      mkdirSync(this.directory, { recursive: true });
      accessSync(this.directory, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  private optimisedExports(instance: WebAssembly.Instance): number {
    let optimised = 0;
    for (const value of Object.values(instance.exports)) {
      if (typeof value === "function" && this.v8.isOptimised(value as () => unknown)) optimised++;
    }
    return optimised;
  }

  /** Writes the file (atomically: code-cache.ts); false when it cannot. */
  private write(kept: Kept, optimised: number, serialized: ArrayBuffer): boolean {
    const data = new Uint8Array(serialized);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(optimised, 4);
    header.writeUInt32LE(kept.wire.length, 8);
    header.writeUInt32LE(data.length, 12);
    header.writeUInt32LE(checksum(data), 16);
    return writeFileAtomically(this.directory, kept.file, [header, kept.wire, data]);
  }

  /** Writes a batch's file: its key, its bytes and, when Turbofan optimised any of it, V8's data. */
  private writeBatch(kept: Kept, key: Uint8Array<ArrayBuffer>, optimised: number, serialized: ArrayBuffer | undefined): boolean {
    const data = serialized === undefined ? new Uint8Array(0) : new Uint8Array(serialized);
    const header = Buffer.alloc(BATCH_HEADER_BYTES);
    header.writeUInt32LE(BATCH_MAGIC, 0);
    header.writeUInt32LE(optimised, 4);
    header.writeUInt32LE(key.length, 8);
    header.writeUInt32LE(kept.wire.length, 12);
    header.writeUInt32LE(data.length, 16);
    header.writeUInt32LE(checksum(kept.wire), 20);
    header.writeUInt32LE(checksum(data), 24);
    return writeFileAtomically(this.directory, kept.file, [header, key, kept.wire, data]);
  }

  /** Keeps at most MAX_FILES modules, the newest (see PRUNED_TO), and drops the directories of other V8s untouched for a week. */
  private prune(): void {
    try {
      const files = readdirSync(this.directory).map((name) => join(this.directory, name));
      if (files.length > MAX_FILES) {
        const byAge = files.map((path) => ({ path, at: mtimeOf(path) })).sort((a, b) => a.at - b.at);
        for (const { path } of byAge.slice(0, files.length - PRUNED_TO)) { try { unlinkSync(path); } catch { /* gone */ } }
      }
      const parent = join(this.directory, "..");
      for (const name of readdirSync(parent)) {
        const path = join(parent, name);
        if (name.startsWith("wasm-code-") && path !== this.directory && Date.now() - mtimeOf(path) > STALE_AFTER_MS) {
          rmSync(path, { recursive: true, force: true });
        }
      }
    } catch { /* another process pruned it */ }
  }
}

/**
 * A 32-bit checksum of `bytes`, four at a time: a file's name (whose bytes are then compared whole) and the check of
 * its data. Not node:zlib's CRC-32: loading node:zlib costs ~6 ms of `roam run hello`, where this takes ~0.5 ms for
 * the core's 50 KB even before V8 optimises it. Each step mixes the high bits back down, so a change anywhere reaches
 * every bit of the result.
 */
export function checksum(bytes: Uint8Array): number {
  if ((bytes.byteOffset & 3) !== 0) bytes = bytes.slice(); // words need an aligned start: the same bytes, the same sum
  let h = 0x811c9dc5;
  const whole = bytes.length >>> 2;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, whole);
  for (let i = 0; i < whole; i++) h = Math.imul(h ^ words[i], 0x01000193) ^ (h >>> 15);
  for (let i = whole << 2; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) ^ (h >>> 15);
  return h >>> 0;
}

/**
 * Reads a cache file's parts in turn, each into memory of its own: a part V8 or a module keeps is read where it will
 * stay, not read whole and then copied (on this VM each fresh page costs ~11 us to touch, and a warm start's batch
 * file is 1-2 MB). `size` is the file's.
 */
interface PartReader { size: number; header(length: number): Buffer | undefined; next(length: number): Uint8Array<ArrayBuffer> }

/** `read` of the file's parts, or undefined if the file cannot be opened or ends before a part does. */
function withFile<T>(file: string, read: (reader: PartReader) => T | undefined): T | undefined {
  let fd: number;
  try { fd = openSync(file, "r"); } catch { return undefined; }
  try {
    const size = fstatSync(fd).size;
    let at = 0;
    const fill = (into: Uint8Array): boolean => {
      const n = into.length === 0 ? 0 : readSync(fd, into, 0, into.length, at);
      at += n;
      return n === into.length;
    };
    const reader: PartReader = {
      size,
      header(length) { const b = Buffer.alloc(length); return size >= length && fill(b) ? b : undefined; },
      next(length) {
        const part = new Uint8Array(new ArrayBuffer(length));
        if (!fill(part)) throw new RangeError("the file ended early");
        return part;
      },
    };
    return read(reader);
  } catch {
    return undefined; // a file cut short or unreadable: not used
  } finally {
    closeSync(fd);
  }
}

function mtimeOf(path: string): number {
  try { return statSync(path).mtimeMs; } catch { return 0; }
}

let theCache: WasmCodeCache | undefined | null = null;

/** The process's cache: undefined when off (no intrinsics, ROAM_CODE_CACHE=0, no directory). */
export function wasmCodeCache(): WasmCodeCache | undefined {
  if (theCache === null) {
    const base = cacheDirectory();
    const v8 = base === undefined ? undefined : intrinsics();
    theCache = base === undefined || v8 === undefined
      ? undefined
      : new WasmCodeCache(join(base, `wasm-code-v8-${process.versions.v8}-${process.arch}`), v8);
  }
  return theCache;
}
