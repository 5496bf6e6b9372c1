// A minimal WebAssembly binary writer: just enough to emit a region's module
// (two functions that import the core's memory and the chaining table). Opcodes are from the WebAssembly core spec, 5.4.

export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e,
  return: 0x0f, returnCall: 0x12, returnCallIndirect: 0x13, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i32Load8S: 0x2c, i32Load8U: 0x2d, i32Load16S: 0x2e, i32Load16U: 0x2f,
  i32Store: 0x36, i32Store8: 0x3a, i32Store16: 0x3b,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32DivS: 0x6d, i32DivU: 0x6e, i32RemS: 0x6f, i32RemU: 0x70,
  i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  i64Mul: 0x7e, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
} as const;

export const Type = { i32: 0x7f, i64: 0x7e, void: 0x40 } as const;

/** Bytes of one function body, with helpers that encode immediates. A growing byte array: regions are a few KiB. */
export class CodeWriter {
  private bytes: Uint8Array;
  private length = 0;

  /** `capacity`: bytes to start with (it doubles as needed); a module has a few small sections besides the code. */
  constructor(capacity = 256) { this.bytes = new Uint8Array(capacity); }

  op(code: number): this {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length++] = code;
    return this;
  }
  u32(v: number): this {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.op(b);
    } while (v !== 0);
    return this;
  }
  i32Const(v: number): this {
    this.op(Op.i32Const);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.op(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  localGet(i: number): this { return this.op(Op.localGet).u32(i); }
  localSet(i: number): this { return this.op(Op.localSet).u32(i); }
  localTee(i: number): this { return this.op(Op.localTee).u32(i); }
  /** A load or store with its memarg: alignment hint 0 (any), constant offset. */
  mem(code: number, offset: number): this { return this.op(code).u32(0).u32(offset); }
  blockType(code: number, type: number): this { return this.op(code).op(type); }
  br(code: number, depth: number): this { return this.op(code).u32(depth); }
  /** Appends another writer's bytes. */
  append(other: CodeWriter): this { return this.bytesIn(other.toBytes()); }
  bytesIn(more: Uint8Array): this {
    if (this.length + more.length > this.bytes.length) this.grow(more.length);
    this.bytes.set(more, this.length);
    this.length += more.length;
    return this;
  }
  get size(): number { return this.length; }
  toBytes(): Uint8Array { return this.bytes.subarray(0, this.length); }

  private grow(atLeast: number): void {
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + atLeast, 64));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }
}

/** A section: its id, its size, its content. */
function section(out: CodeWriter, id: number, content: CodeWriter): void {
  out.op(id).u32(content.size).append(content);
}

function name(out: CodeWriter, s: string): void {
  out.u32(s.length);
  for (const ch of s) out.op(ch.charCodeAt(0));
}

/** A function body: its locals' types after the parameters (run-length coded), its code, the closing `end`. */
function functionBody(body: CodeWriter, locals: number[]): CodeWriter {
  const groups: Array<[number, number]> = [];
  for (const t of locals) {
    const last = groups[groups.length - 1];
    if (last && last[1] === t) last[0]++;
    else groups.push([1, t]);
  }
  const fn = new CodeWriter().u32(groups.length);
  for (const [count, t] of groups) fn.u32(count).op(t);
  return fn.append(body).op(Op.end);
}

/** A function type of `params` i32 parameters returning one i32. */
function i32Type(out: CodeWriter, params: number): void {
  out.op(0x60).u32(params);
  for (let i = 0; i < params; i++) out.op(Type.i32);
  out.op(1).op(Type.i32);
}

/** One region's two functions: "f", the fast loop's entry, and "g", the chaining entry, with g's extra locals. */
export interface RegionFunctions { f: CodeWriter; g: CodeWriter; gLocals: number[] }

/** Where region k's "g" sits among a batch module's functions ("f" is the one before it): f calls it directly. */
export function gFunctionIndex(k: number): number { return 2 * k + 1; }

/**
 * A module of one region or of a batch of them (compiling one module is cheaper than many, and each instance that
 * imports the chain table costs V8 work on every later table change): it imports "env.memory" and "env.chain"
 * (the table of translations' register-passing functions, where a region tail-calls the next one) and exports,
 * for region k, "f<k>" of type (i32, i32, i32) -> i32 (the fast loop's contract) and "g<k>" of type 1: `gParams`
 * i32 parameters -> i32 (every entry of "chain" has this type).
 */
export function batchModule(regions: RegionFunctions[], gParams: number): Uint8Array<ArrayBuffer> {
  const out = new CodeWriter().bytesIn(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
  const types = new CodeWriter().op(2);
  i32Type(types, 3);
  i32Type(types, gParams);
  section(out, 1, types);
  const imports = new CodeWriter().op(2);
  name(imports, "env");
  name(imports, "memory");
  imports.op(0x02).op(0x00).op(0x00); // memory, limits: min 0, no max
  name(imports, "env");
  name(imports, "chain");
  imports.op(0x01).op(0x70).op(0x00).op(0x00); // table of funcref, limits: min 0, no max
  section(out, 2, imports);
  const functions = new CodeWriter().u32(2 * regions.length);
  for (let k = 0; k < regions.length; k++) functions.op(0).op(1); // f<k> has type 0, g<k> type 1
  section(out, 3, functions);
  const exports = new CodeWriter().u32(2 * regions.length);
  regions.forEach((_, k) => {
    name(exports, `f${k}`);
    exports.op(0x00).u32(gFunctionIndex(k) - 1);
    name(exports, `g${k}`);
    exports.op(0x00).u32(gFunctionIndex(k));
  });
  section(out, 7, exports);
  const code = new CodeWriter().u32(2 * regions.length);
  for (const r of regions) {
    const fBody = functionBody(r.f, []), gBody = functionBody(r.g, r.gLocals);
    code.u32(fBody.size).append(fBody).u32(gBody.size).append(gBody);
  }
  section(out, 10, code);
  return Uint8Array.from(out.toBytes());
}

/** A module of one region (`f` must tail-call function 1, its "g"): exports "f0" and "g0" (see batchModule). */
export function regionModule(f: CodeWriter, g: CodeWriter, gParams: number, gLocals: number[]): Uint8Array<ArrayBuffer> {
  return batchModule([{ f, g, gLocals }], gParams);
}
