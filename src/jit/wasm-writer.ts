// A minimal WebAssembly binary writer: just enough to emit a region's module
// (functions that import the core's memory and the chaining table). Opcodes are from the WebAssembly core spec, 5.4.

// Const enums: tsc writes their values where they are used, where an object's field was a load on every use (the
// emitter names an opcode for most bytes it writes, mostly as cold code, where a load costs).
export const enum Op {
  unreachable = 0x00, block = 0x02, loop = 0x03, if = 0x04, else = 0x05, end = 0x0b, br = 0x0c, brIf = 0x0d, brTable = 0x0e,
  return = 0x0f, callIndirect = 0x11, returnCall = 0x12, returnCallIndirect = 0x13, select = 0x1b,
  localGet = 0x20, localSet = 0x21, localTee = 0x22,
  i32Load = 0x28, i32Load8S = 0x2c, i32Load8U = 0x2d, i32Load16S = 0x2e, i32Load16U = 0x2f,
  i32Store = 0x36, i32Store8 = 0x3a, i32Store16 = 0x3b,
  i32Const = 0x41, i64Const = 0x42,
  i32Eqz = 0x45, i32Eq = 0x46, i32Ne = 0x47, i32LtS = 0x48, i32LtU = 0x49, i32GtS = 0x4a, i32GtU = 0x4b,
  i32LeS = 0x4c, i32LeU = 0x4d, i32GeS = 0x4e, i32GeU = 0x4f,
  i32Add = 0x6a, i32Sub = 0x6b, i32Mul = 0x6c, i32DivS = 0x6d, i32DivU = 0x6e, i32RemS = 0x6f, i32RemU = 0x70,
  i32And = 0x71, i32Or = 0x72, i32Xor = 0x73, i32Shl = 0x74, i32ShrS = 0x75, i32ShrU = 0x76,
  i64Mul = 0x7e, i64ShrU = 0x88,
  i32WrapI64 = 0xa7, i64ExtendI32S = 0xac, i64ExtendI32U = 0xad,
}

export const enum Type { i32 = 0x7f, i64 = 0x7e, void = 0x40 }

/**
 * Bytes of a module or function body, with helpers that encode immediates. A growing byte array; each helper makes
 * room for its longest encoding once and then stores bytes directly (no call per byte), and the common one-byte
 * LEB128 (a local index, a small constant or offset) takes no loop. One writer can hold a whole module: a part whose
 * size comes first (a section, a function body) reserves room for the size and sizedEnd fills it in afterwards,
 * so nothing is copied from writer to writer.
 */
export class CodeWriter {
  private bytes: Uint8Array;
  private length = 0;
  /**
   * Where the bytes must grow before a primitive writes (their length less PRIMITIVE_MOST): one field to compare with,
   * where comparing with the bytes' length loaded two (the primitives run mostly as cold code, where a load costs).
   */
  private limit: number;

  /** `capacity`: bytes to start with (it doubles as needed). */
  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
    this.limit = capacity - PRIMITIVE_MOST;
  }

  /** Empties the writer, keeping its buffer for the next module. */
  reset(): this { this.length = 0; return this; }

  op(code: number): this {
    const n = this.length;
    if (n > this.limit) this.grow(1);
    this.bytes[n] = code;
    this.length = n + 1;
    return this;
  }
  /** Two opcodes (or an opcode and a one-byte immediate). */
  op2(a: number, b: number): this {
    const n = this.length;
    if (n > this.limit) this.grow(2);
    const bytes = this.bytes;
    bytes[n] = a;
    bytes[n + 1] = b;
    this.length = n + 2;
    return this;
  }
  u32(v: number): this {
    const n = this.length;
    if (n > this.limit) this.grow(5);
    if (v >>> 7 !== 0) return this.withU32(-1, v);
    this.bytes[n] = v; // most (a br_table's depths): one byte, no loop
    this.length = n + 1;
    return this;
  }
  i32Const(v: number): this {
    let n = this.length;
    if (n > this.limit) this.grow(6);
    const bytes = this.bytes;
    bytes[n++] = Op.i32Const;
    v |= 0;
    if (v >= -64 && v < 64) bytes[n++] = v & 0x7f; // signed LEB128 in one byte: bit 6 is the sign
    else {
      for (;;) {
        const b = v & 0x7f;
        v >>= 7;
        if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { bytes[n++] = b; break; }
        bytes[n++] = b | 0x80;
      }
    }
    this.length = n;
    return this;
  }
  // local.get, local.set, local.tee and br write their index in one byte without a further call when it is below 128 (a
  // function has ~50 locals; nesting that deep is rare): the emitter writes one every few bytes, mostly as code that
  // V8 has not optimised, where a call costs more than the bytes.
  localGet(i: number): this {
    const n = this.length;
    if (i >= 0x80 || n > this.limit) return this.withU32(Op.localGet, i);
    const bytes = this.bytes;
    bytes[n] = Op.localGet;
    bytes[n + 1] = i;
    this.length = n + 2;
    return this;
  }
  localSet(i: number): this {
    const n = this.length;
    if (i >= 0x80 || n > this.limit) return this.withU32(Op.localSet, i);
    const bytes = this.bytes;
    bytes[n] = Op.localSet;
    bytes[n + 1] = i;
    this.length = n + 2;
    return this;
  }
  localTee(i: number): this {
    const n = this.length;
    if (i >= 0x80 || n > this.limit) return this.withU32(Op.localTee, i);
    const bytes = this.bytes;
    bytes[n] = Op.localTee;
    bytes[n + 1] = i;
    this.length = n + 2;
    return this;
  }
  /** A load or store with its memarg: alignment hint 0 (any), constant offset (unsigned LEB128, here: no call). */
  mem(code: number, offset: number): this {
    let n = this.length;
    if (n > this.limit) this.grow(7);
    const bytes = this.bytes;
    bytes[n++] = code;
    bytes[n++] = 0;
    for (offset >>>= 0; offset >= 0x80; offset >>>= 7) bytes[n++] = (offset & 0x7f) | 0x80;
    bytes[n++] = offset;
    this.length = n;
    return this;
  }
  /** A block, loop or if with its block type: op2's bytes, without a further call (every if). */
  blockType(code: number, type: number): this {
    const n = this.length;
    if (n > this.limit) this.grow(2);
    const bytes = this.bytes;
    bytes[n] = code;
    bytes[n + 1] = type;
    this.length = n + 2;
    return this;
  }
  br(code: number, depth: number): this {
    const n = this.length;
    if (depth >= 0x80 || n > this.limit) return this.withU32(code, depth);
    const bytes = this.bytes;
    bytes[n] = code;
    bytes[n + 1] = depth;
    this.length = n + 2;
    return this;
  }
  /** Appends another writer's bytes. */
  append(other: CodeWriter): this { return this.bytesIn(other.toBytes()); }
  bytesIn(more: Uint8Array): this {
    const n = this.length;
    if (n + more.length > this.limit) this.grow(more.length);
    this.bytes.set(more, n);
    this.length = n + more.length;
    return this;
  }
  get size(): number { return this.length; }
  toBytes(): Uint8Array { return this.bytes.subarray(0, this.length); }
  /** A copy of the bytes written, in a buffer of their own (the writer's is reused). */
  copy(): Uint8Array<ArrayBuffer> { return this.bytes.slice(0, this.length); }

  /**
   * Starts a part whose size (LEB128) comes before it, reserving `guess` bytes for the size: returns where the
   * part starts, for sizedEnd. A wrong guess costs one move of the part, never different bytes.
   */
  sizedStart(guess: number): number {
    if (this.length + guess > this.limit) this.grow(guess);
    this.length += guess;
    return this.length;
  }
  /** Writes the size of the part begun at `start` (sizedStart with `guess`) before it. */
  sizedEnd(start: number, guess: number): void {
    const size = this.length - start;
    const needed = u32Length(size);
    if (needed !== guess) {
      if (this.length + needed - guess > this.limit) this.grow(needed - guess);
      this.bytes.copyWithin(start + needed - guess, start, this.length);
      this.length += needed - guess;
    }
    const end = this.length;
    this.length = start - guess;
    this.putU32(size);
    this.length = end;
  }

  /** `code` (none if -1) and v in unsigned LEB128: the primitives' longer cases. */
  private withU32(code: number, v: number): this {
    if (this.length > this.limit) this.grow(6);
    if (code >= 0) this.bytes[this.length++] = code;
    this.putU32(v);
    return this;
  }
  /** Unsigned LEB128 (room for 5 bytes made by the caller). */
  private putU32(v: number): void {
    const bytes = this.bytes;
    v >>>= 0;
    if (v < 0x80) { bytes[this.length++] = v; return; }
    let n = this.length;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      bytes[n++] = b;
    } while (v !== 0);
    this.length = n;
  }
  /** Makes room for `atLeast` bytes more, and for any primitive after them. */
  private grow(atLeast: number): void {
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + atLeast + PRIMITIVE_MOST, 64));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.limit = bigger.length - PRIMITIVE_MOST;
  }
}

/** The most bytes one primitive writes (mem: an opcode, an alignment, a 5-byte offset). */
const PRIMITIVE_MOST = 8;

/** Bytes of v in unsigned LEB128. */
function u32Length(v: number): number {
  return v < 1 << 7 ? 1 : v < 1 << 14 ? 2 : v < 1 << 21 ? 3 : v < 1 << 28 ? 4 : 5;
}

/** A section: its id, its size (`guess` bytes of LEB128 reserved for it: see sizedStart), its content. */
function section(out: CodeWriter, id: number, guess: number, content: () => void): void {
  out.op(id);
  const start = out.sizedStart(guess);
  content();
  out.sizedEnd(start, guess);
}

function name(out: CodeWriter, s: string): void {
  out.u32(s.length);
  for (let i = 0; i < s.length; i++) out.op(s.charCodeAt(i));
}

/**
 * Writes one function body, its size first: its locals' declarations (localDeclarations), the code `code` writes, the
 * closing `end`. Bodies of a region are a few KiB: two bytes of size are the usual case.
 */
export function functionBody(out: CodeWriter, declarations: Uint8Array, code: () => void): void {
  const start = out.sizedStart(2);
  out.bytesIn(declarations);
  code();
  out.op(Op.end);
  out.sizedEnd(start, 2);
}

/**
 * The declarations of a function's locals of types `locals` (after its parameters), run-length coded: made once for
 * each kind of function, where every body counted and coded its ~50 locals again.
 */
export function localDeclarations(locals: readonly number[]): Uint8Array {
  const out = new CodeWriter(16);
  let groups = 0;
  for (let i = 0; i < locals.length; i++) if (i === 0 || locals[i] !== locals[i - 1]) groups++;
  out.u32(groups);
  for (let i = 0; i < locals.length;) {
    let j = i + 1;
    while (j < locals.length && locals[j] === locals[i]) j++;
    out.u32(j - i).op(locals[i]);
    i = j;
  }
  return out.copy();
}
/** A function without locals beyond its parameters. */
export const NO_LOCALS = localDeclarations([]);

/** A function type of `params` i32 parameters returning one i32. */
function i32Type(out: CodeWriter, params: number): void {
  out.op(0x60).u32(params);
  for (let i = 0; i < params; i++) out.op(Type.i32);
  out.op(1).op(Type.i32);
}

/** The type index of every region's function (the only type a batch module declares): chained calls name it. */
export const REGION_TYPE = 0;

const MAGIC_AND_VERSION = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

/**
 * A module of one region or of a batch of them (compiling one module is cheaper than many, and each instance that
 * imports the core's table costs V8 work on every later table change): it imports "env.memory" and "env.table" (the
 * core's function table, where the fast loop calls a translation and a region tail-calls the next one) and exports,
 * for region k, "g<k>" of type REGION_TYPE: `params` i32 parameters -> i32 (every translation in the table has this
 * type). `bodies` writes the `regions` function bodies (functionBody), in order, into `out`, the writer the whole
 * module is built in (emptied first); `names`, when given, name region k's function (functionNames).
 */
export function batchModule(
  out: CodeWriter, regions: number, params: number, bodies: () => void, names?: readonly string[],
): Uint8Array<ArrayBuffer> {
  out.reset().bytesIn(moduleHeads[params] ??= moduleHead(params));
  section(out, 3, 1, () => {
    out.u32(regions);
    for (let k = 0; k < regions; k++) out.op(REGION_TYPE);
  });
  section(out, 7, 2, () => {
    out.u32(regions);
    for (let k = 0; k < regions; k++) out.bytesIn(regionExport(k));
  });
  section(out, 10, 3, () => {
    out.u32(regions);
    bodies();
  });
  if (names) functionNames(out, names);
  return out.copy();
}

/**
 * The "name" section naming region k's function `names[k]`, so that profiles (`node --perf-prof`, `--cpu-prof`) say
 * which guest code a region is, where V8 otherwise calls every region of every batch "wasm-function[k]". Only when
 * asked for (ROAM_JIT_NAMES=1: translator.ts).
 */
function functionNames(out: CodeWriter, names: readonly string[]): void {
  section(out, 0, 3, () => {
    name(out, "name");
    out.op(1); // the function names subsection
    const start = out.sizedStart(3);
    out.u32(names.length);
    for (let k = 0; k < names.length; k++) {
      out.u32(k);
      name(out, names[k]);
    }
    out.sizedEnd(start, 3);
  });
}

/** What every batch module starts with (see batchModule): the header, its type, its imports. Written once. */
function moduleHead(params: number): Uint8Array {
  const out = new CodeWriter(64).bytesIn(MAGIC_AND_VERSION);
  section(out, 1, 1, () => {
    out.op(1);
    i32Type(out, params); // REGION_TYPE
  });
  section(out, 2, 1, () => {
    out.op(2);
    name(out, "env");
    name(out, "memory");
    out.op(0x02).op(0x00).op(0x00); // memory, limits: min 0, no max
    name(out, "env");
    name(out, "table");
    out.op(0x01).op(0x70).op(0x00).op(0x00); // table of funcref, limits: min 0, no max
  });
  return out.copy();
}
const moduleHeads: Array<Uint8Array | undefined> = [];

/** Region k's export, "g<k>", written once for each k (not a string and a call per letter each batch). */
function regionExport(k: number): Uint8Array {
  if (regionExportBytes[k] === undefined) {
    const out = new CodeWriter(16);
    name(out, `g${k}`);
    out.op(0x00).u32(k);
    regionExportBytes[k] = out.copy();
  }
  return regionExportBytes[k];
}
const regionExportBytes: Array<Uint8Array | undefined> = [];

/** A module of one region from its function's code: exports "g0". */
export function regionModule(g: CodeWriter, params: number, locals: number[]): Uint8Array<ArrayBuffer> {
  const out = new CodeWriter();
  return batchModule(out, 1, params, () => {
    functionBody(out, localDeclarations(locals), () => out.append(g));
  });
}
