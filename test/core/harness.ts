// A minimal driver for the WASM core alone (no devices, no ELF): tests place
// machine code in guest RAM, run slices and look at the state block directly.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import * as L from "../../assembly/layout.js";

export const coreWasm = readFileSync(new URL("../../build/core.wasm", import.meta.url));

export interface CoreApi {
  memory: WebAssembly.Memory;
  init(ramBytes: number): void;
  run(budget: number): number;
  flushCaches(): void;
  hostWroteRam(paddr: number, len: number): void;
  clearDirty(): void;
  setPagePresent(page: number, present: number): void;
  mmioFault(cause: number): void;
  markMissing(bytes: number): number;
  isZeroPage(page: number): number;
  table: WebAssembly.Table;
}

export class TestCore {
  readonly api: CoreApi;
  constructor(readonly ramBytes = 1 << 20) {
    const module = new WebAssembly.Module(coreWasm);
    const instance = new WebAssembly.Instance(module, { env: { abort: () => { throw new Error("core abort"); } } });
    this.api = instance.exports as unknown as CoreApi;
    this.api.init(ramBytes);
  }
  get view(): DataView { return new DataView(this.api.memory.buffer); }
  get bytes(): Uint8Array { return new Uint8Array(this.api.memory.buffer); }
  st(offset: number): number { return this.view.getUint32(L.STATE_BASE + offset, true); }
  setSt(offset: number, v: number): void { this.view.setUint32(L.STATE_BASE + offset, v >>> 0, true); }
  x(r: number): number { return this.st(L.STATE_X + r * 4); }
  setX(r: number, v: number): void { this.setSt(L.STATE_X + r * 4, v); }
  get pc(): number { return this.st(L.STATE_PC); }
  set pc(v: number) { this.setSt(L.STATE_PC, v); }
  get instret(): bigint { return this.view.getBigUint64(L.STATE_BASE + L.STATE_INSTRET, true); }
  /** Writes words of code/data at guest physical address `pa` and tells the core. */
  poke(pa: number, words: number[]): void {
    words.forEach((w, i) => this.view.setUint32(L.RAM_HOST_BASE + (pa - L.RAM_GUEST_BASE) + i * 4, w >>> 0, true));
    this.api.hostWroteRam(pa, words.length * 4);
  }
  pokeHalf(pa: number, h: number): void {
    this.view.setUint16(L.RAM_HOST_BASE + (pa - L.RAM_GUEST_BASE), h, true);
    this.api.hostWroteRam(pa, 2);
  }
  peek(pa: number): number { return this.view.getUint32(L.RAM_HOST_BASE + (pa - L.RAM_GUEST_BASE), true); }
  bit(map: number, page: number): boolean { return ((this.bytes[map + (page >>> 3)] >> (page & 7)) & 1) === 1; }
  dirty(page: number): boolean { return this.bit(L.DIRTY_BITMAP, page); }
  run(budget = 1_000_000): number { return this.api.run(budget); }
}

// ---- A tiny RV32 encoder: just what the tests need ----
const R = (f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number) =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const I = (imm: number, rs1: number, f3: number, rd: number, op: number) =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const S = (imm: number, rs2: number, rs1: number, f3: number, op: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op) >>> 0;
const B = (imm: number, rs2: number, rs1: number, f3: number) =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;

export const asm = {
  addi: (rd: number, rs1: number, imm: number) => I(imm, rs1, 0, rd, 0x13),
  add: (rd: number, rs1: number, rs2: number) => R(0, rs2, rs1, 0, rd, 0x33),
  lui: (rd: number, imm20: number) => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0,
  lw: (rd: number, rs1: number, imm: number) => I(imm, rs1, 2, rd, 0x03),
  lb: (rd: number, rs1: number, imm: number) => I(imm, rs1, 0, rd, 0x03),
  sw: (rs2: number, rs1: number, imm: number) => S(imm, rs2, rs1, 2, 0x23),
  bne: (rs1: number, rs2: number, off: number) => B(off, rs2, rs1, 1),
  jal: (rd: number, off: number) =>
    ((((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) | (off & 0xff000) | (rd << 7) | 0x6f) >>> 0,
  jalr: (rd: number, rs1: number, imm: number) => I(imm, rs1, 0, rd, 0x67),
  ecall: () => 0x00000073,
  ebreak: () => 0x00100073,
  wfi: () => 0x10500073,
  /** li rd, value as lui + addi */
  li: (rd: number, value: number): number[] => {
    const lo = ((value << 20) >> 20);
    const hi = ((value - lo) >>> 12) & 0xfffff;
    return [asm.lui(rd, hi), asm.addi(rd, rd, lo)];
  },
};

/** An infinite loop `j .` to park the hart. */
export const PARK = asm.jal(0, 0);

/** Runs `c` in slices of `slice` instructions until it stops for anything but its budget; that exit reason. */
export function runPastBudget(c: TestCore, slice: number): number {
  let reason: number;
  while ((reason = c.run(slice)) === L.EXIT_BUDGET);
  return reason;
}

/** Expects `c` to stand where `plain` (the same program, run another way) stands: registers, pc, instret. */
export function expectSameState(c: TestCore, plain: TestCore, what: string): void {
  for (let r = 1; r < 32; r++) expect(c.x(r), `${what}: x${r}`).toBe(plain.x(r));
  expect(c.pc.toString(16), `${what}: pc`).toBe(plain.pc.toString(16));
  expect(c.instret, `${what}: instret`).toBe(plain.instret);
}

import { Translator } from "../../src/jit/translator.js";
import { Exit } from "../../src/jit/gen.js";

/** A TestCore whose hot code is translated to WebAssembly, as the machine does; `threshold` 1 translates at the first arrival. */
export class TranslatingCore extends TestCore {
  readonly translator: Translator;
  /** `otherPages`: whether regions take code from other pages (Translator.takesOtherPages; default: the environment's). */
  constructor(ramBytes = 1 << 20, threshold?: number, otherPages?: boolean) {
    super(ramBytes);
    this.translator = new Translator(this.api as unknown as ConstructorParameters<typeof Translator>[0], threshold, undefined, otherPages);
    this.setSt(L.STATE_FLAGS, this.st(L.STATE_FLAGS) | L.FLAG_JIT);
  }
  /**
   * Transfers between translations that stayed in translated code, in a build that counts exits: tail calls
   * (CHAINED), and calls that came back as the machine's own return (RETURNED, Gen.nestedCall), each a call and a return.
   */
  transfersInTranslatedCode(): number {
    const counts = this.translator.exitCounts();
    return counts[Exit.CHAINED] + 2 * counts[Exit.RETURNED];
  }
  override run(budget = 1_000_000): number {
    this.translator.atSliceBoundary(); // as Core.run: a call is a slice boundary
    for (;;) {
      const reason = this.api.run(budget);
      if (reason !== L.EXIT_JIT_REQUEST) return reason;
      this.translator.translate(this.view.getUint32(L.JIT_REQUEST_ENTRY, true));
      budget -= this.view.getInt32(L.RUN_RETIRED, true);
      if (budget <= 0) return L.EXIT_BUDGET;
    }
  }
}

/**
 * Runs the program `start` sets up (ending at an ebreak) on the interpreter alone, then translated in slices of 1 M,
 * 333 and 7 instructions, each of which must end where the interpreter did. `wholeSlices` checks further the run in
 * slices of 1 M, where translation has room to work (how much it ran, how it left), beside the interpreter's core,
 * which it returns.
 */
export function expectTranslatedAsInterpreted(start: (c: TestCore) => void, wholeSlices: (c: TranslatingCore, plain: TestCore) => void): TestCore {
  const plain = new TestCore();
  start(plain);
  plain.setSt(L.STATE_FLAGS, plain.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  expect(runPastBudget(plain, 1_000_000)).toBe(L.EXIT_BREAKPOINT);
  for (const slice of [1_000_000, 333, 7]) {
    const c = new TranslatingCore();
    start(c);
    c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
    expect(runPastBudget(c, slice)).toBe(L.EXIT_BREAKPOINT);
    expectSameState(c, plain, `slices of ${slice}`);
    if (slice === 1_000_000) wholeSlices(c, plain);
  }
  return plain;
}

/** Instructions `c` ran in the interpreter: all it retired less what translated code retired. */
export function interpretedIn(c: TranslatingCore): number {
  return Number(c.instret) - c.translator.translatedRetired();
}
