import { packageRoot } from "../package-root.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  EXIT_BUDGET, EXIT_JIT_REQUEST, FLAG_JIT, JIT_REQUEST_ENTRY, RUN_RETIRED, RAM_HOST_BASE, STATE_BASE, STATE_FLAGS, STATE_INSTRET, STATE_PC,
  STATE_RAM_BYTES, STATE_X,
} from "../../assembly/layout.js";
import { Translator } from "../jit/translator.js";
import { MemoryViews } from "./memory-views.js";
import { wasmCodeCache } from "./wasm-code-cache.js";

// The WASM core (build/core.wasm) and typed access to its memory. The state block
// and RAM sit at fixed offsets (assembly/layout.ts); views over them are rebuilt
// whenever the memory buffer changes, because init() grows memory and a grown
// WebAssembly.Memory detaches the old ArrayBuffer.

export interface CoreExports {
  memory: WebAssembly.Memory;
  init(ramBytes: number): void;
  run(budget: number): number;
  flushCaches(): void;
  hostWroteRam(paddr: number, length: number): void;
  clearDirty(): void;
  setPagePresent(ppn: number, present: number): void;
  mmioFault(cause: number): void;
  flushTranslations(): void;
  flushTranslationsOf(va: number, pages: number): void;
  isZeroPage(page: number): number;
  markMissing(bytes: number): number;
  decodeStraddling(raw: number): void;
  table: WebAssembly.Table;
}

const REQUIRED_EXPORTS = [
  "memory",
  "init",
  "run",
  "flushCaches",
  "hostWroteRam",
  "clearDirty",
  "setPagePresent",
  "mmioFault",
  "table",
  "flushTranslations",
  "flushTranslationsOf",
  "decodeStraddling",
  "isZeroPage",
  "markMissing",
] as const;

const compiled = new Map<string, WebAssembly.Module>();

export class CoreAbort extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CoreAbort";
  }
}

export class Core {
  private readonly views: MemoryViews;

  /** Translates hot regions of guest code to WebAssembly (src/jit); null runs the interpreter only. */
  translator: Translator | null = null;

  constructor(readonly exports: CoreExports) {
    this.views = new MemoryViews(exports.memory);
  }

  /** Turns run-time translation of hot code on or off (on by default in a Machine). */
  /** Translation on or off; `threshold`: arrivals before a jump target is translated (tests force 1; see hotThreshold). */
  setTranslation(on: boolean, threshold?: number): void {
    const keep = this.translator && (threshold === undefined || this.translator.threshold === threshold);
    this.translator = on ? (keep ? this.translator : new Translator(this.exports, threshold)) : null;
    this.translator?.applyThreshold(); // init() resets it
    const flags = this.state32(STATE_FLAGS);
    this.setState32(STATE_FLAGS, on ? flags | FLAG_JIT : flags & ~FLAG_JIT);
  }

  // Loads and instantiates the core; `path` defaults to build/core.wasm in the package.
  static async load(path = defaultCorePath()): Promise<Core> {
    if (!existsSync(path)) {
      throw new Error(`core not built: ${path} is missing (run \`npm run build:core\`)`);
    }
    let memory: WebAssembly.Memory | undefined;
    const imports = {
      env: {
        // AssemblyScript's abort(message, fileName, line, column); strings are UTF-16
        // with their byte length in the u32 just before them.
        abort(message: number, fileName: number, line: number, column: number): never {
          const text = memory ? readAsString(memory, message) : "?";
          const file = memory ? readAsString(memory, fileName) : "?";
          throw new CoreAbort(`core aborted: ${text} at ${file}:${line}:${column}`);
        },
      },
    };
    // Compile once per process: hosts make a core per guest, and migration makes one per arrival. With its optimised
    // code from the cache when an earlier process made it (wasm-code-cache.ts).
    const codeCache = wasmCodeCache();
    let module = compiled.get(path);
    if (!module) {
      const bytes = readFileSync(path);
      module = codeCache ? codeCache.compile(bytes) : await WebAssembly.compile(bytes);
      compiled.set(path, module);
    }
    // Synchronously: the promise of WebAssembly.instantiate settles a turn of the event loop later, and with the
    // compile above synchronous too, that turn cost `roam run hello` 5-7 ms before its first output (15 runs each,
    // twice, alternating).
    const instance = new WebAssembly.Instance(module, imports);
    codeCache?.instantiated(module, instance, ["fastLoop"]);
    const exports = instance.exports as Record<string, unknown>;
    for (const name of REQUIRED_EXPORTS) {
      if (!(name in exports)) throw new Error(`${path} does not export ${name}`);
    }
    memory = exports.memory as WebAssembly.Memory;
    return new Core(exports as unknown as CoreExports);
  }

  init(ramBytes: number): void {
    const translating = this.translator !== null;
    this.exports.init(ramBytes);
    if (translating) {
      this.translator!.reset(); // init dropped every decoded page, so every translation
      this.setTranslation(true); // and cleared the flags
    }
  }

  /**
   * Runs up to `budget` instructions (a slice); translation requests are served here and never reach the caller.
   * A call is a slice boundary: translations compiled in the background since the last one are installed first.
   */
  run(budget: number): number {
    this.translator?.atSliceBoundary();
    this.retired = 0;
    for (;;) {
      const reason = this.exports.run(budget);
      const retired = this.view.getInt32(RUN_RETIRED, true); // not the instret delta: a CSR write may have moved instret
      this.retired += retired;
      if (reason !== EXIT_JIT_REQUEST) return reason;
      this.translator?.request(this.view.getUint32(JIT_REQUEST_ENTRY, true));
      budget -= retired;
      if (budget <= 0) return EXIT_BUDGET;
    }
  }

  /** Instructions the last run() retired (all of its slices between translation requests). */
  retired = 0;

  get view(): DataView {
    return this.views.view;
  }

  // The whole WASM memory as bytes.
  get memoryBytes(): Uint8Array {
    return this.views.bytes;
  }

  // Guest RAM as bytes (length = the size passed to init).
  // The same view while the memory and RAM's size stay (the kernel asks on every copy into the guest).
  get ram(): Uint8Array {
    const bytes = this.memoryBytes;
    const size = this.state32(STATE_RAM_BYTES);
    const view = this.ramView;
    // A view of this memory's current buffer is never detached: its length is its size (`.buffer` is a call in V8).
    const buffer = this.views.buffer;
    if (view !== undefined && this.ramViewOf === buffer && view.length === size) return view;
    this.ramViewOf = buffer;
    return (this.ramView = bytes.subarray(RAM_HOST_BASE, RAM_HOST_BASE + size));
  }
  private ramView: Uint8Array | undefined;
  private ramViewOf: ArrayBuffer | undefined;

  // State block fields by STATE_* / CSR_* offset.
  state32(offset: number): number {
    return this.view.getUint32(STATE_BASE + offset, true);
  }

  setState32(offset: number, value: number): void {
    this.view.setUint32(STATE_BASE + offset, value >>> 0, true);
  }

  state64(offset: number): bigint {
    return this.view.getBigUint64(STATE_BASE + offset, true);
  }

  setState64(offset: number, value: bigint): void {
    this.view.setBigUint64(STATE_BASE + offset, value, true);
  }

  /**
   * A 64-bit field as a number, and set from one (exact below 2^53: instret at 1 G instructions a second for over
   * 100 days). The kernel's loop reads and sets instret and mtime on every slice, so once per system call: a BigInt
   * each time was an allocation each.
   */
  state64Number(offset: number): number {
    const view = this.view;
    return view.getUint32(STATE_BASE + offset, true) + view.getUint32(STATE_BASE + offset + 4, true) * 0x1_0000_0000;
  }

  setState64Number(offset: number, value: number): void {
    const view = this.view;
    view.setUint32(STATE_BASE + offset, value % 0x1_0000_0000, true);
    view.setUint32(STATE_BASE + offset + 4, Math.floor(value / 0x1_0000_0000), true);
  }

  x(register: number): number {
    return this.state32(STATE_X + register * 4);
  }

  setX(register: number, value: number): void {
    if (register !== 0) this.setState32(STATE_X + register * 4, value);
  }

  get pc(): number {
    return this.state32(STATE_PC);
  }

  set pc(value: number) {
    this.setState32(STATE_PC, value);
  }
}

/** build/core.wasm of the package this file belongs to. */
export function defaultCorePath(): string {
  return join(packageRoot(), "build", "core.wasm");
}

function readAsString(memory: WebAssembly.Memory, pointer: number): string {
  if (pointer === 0) return "";
  const view = new DataView(memory.buffer);
  const byteLength = view.getUint32(pointer - 4, true);
  return Buffer.from(memory.buffer, pointer, byteLength).toString("utf16le");
}
