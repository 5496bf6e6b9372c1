// Registers across chained transfers (src/jit/emit.ts, PASSED): a region that
// chains to another translation hands it the guest registers as parameters of
// the tail call instead of storing them to the state block for the next region
// to load; whenever it returns to the fast loop instead, the state block gets
// every passed register, including those an earlier region of the chain wrote.
// The region here is built from decoded entries directly and run against a
// memory of its own, with a probe in the chain table that records what it is given.
import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { PASSED, emitRegion } from "../../src/jit/emit.js";
import { discoverRegion, type Entry } from "../../src/jit/region.js";
import { CodeWriter, Op, regionModule } from "../../src/jit/wasm-writer.js";

const [A0, A1] = [10, 11];
const PAGE_VA = 0x80000000;
const DECODED = 0x10000; // the page's decoded entries (8 bytes per halfword)
const PROBE_AT = 0x9000; // the probe stores its parameters here: entry, budget, pc, then x1..x31 at 12 + 4 (r - 1)
const CHAIN_TO = DECODED + 2 * 8; // entry 2: where the region leaves (after addi a0, a0, 1)

type Call = (...args: number[]) => number;

/** The region "addi a0, a0, 1" then an entry it cannot translate (entry 2): an exit to this page that may chain. */
function addiRegion(): Uint8Array<ArrayBuffer> {
  const entries = new Map<number, Entry>([[0, { index: 0, op: O.OP_ADDI, rd: A0, rs1: A0, rs2: 0, imm: 1, length: 4 }]]);
  const region = discoverRegion(0, (index) => entries.get(index) ?? { index, op: O.OP_DECODE, rd: 0, rs1: 0, rs2: 0, imm: 0, length: 4 });
  return emitRegion(region);
}

/** A translation whose "g" stores every parameter at PROBE_AT and returns the entry it was given. */
function probeModule(): Uint8Array<ArrayBuffer> {
  const params = 3 + PASSED.length;
  const g = new CodeWriter();
  for (let p = 0; p < params; p++) g.i32Const(0).localGet(p).mem(Op.i32Store, PROBE_AT + 4 * p);
  g.localGet(0);
  return regionModule(new CodeWriter().i32Const(0), g, params, []);
}

function setUp() {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const chain = new WebAssembly.Table({ element: "anyfunc", initial: 1 });
  const env = { env: { memory, chain } };
  const { f0: f, g0: g } = new WebAssembly.Instance(new WebAssembly.Module(addiRegion()), env).exports as { f0: Call; g0: Call };
  const region = { f, g };
  const probe = new WebAssembly.Instance(new WebAssembly.Module(probeModule()), env).exports as { g0: Call };
  chain.set(0, probe.g0);
  const view = new DataView(memory.buffer);
  view.setUint32(L.JIT_PAGE_VA, PAGE_VA, true);
  view.setUint32(L.JIT_DECODED, DECODED, true);
  for (let r = 1; r < 32; r++) view.setUint32(L.STATE_BASE + r * 4, 1000 + r, true);
  const x = (r: number) => view.getUint32(L.STATE_BASE + r * 4, true);
  const given = (r: number) => view.getUint32(PROBE_AT + 12 + 4 * PASSED.indexOf(r), true);
  /** Marks entry 2 as translation 0 (the probe): the region's exit chains there. */
  const markTarget = () => { view.setUint8(CHAIN_TO, O.OP_JIT); view.setInt32(CHAIN_TO + 4, 0, true); };
  return { view, region, x, given, markTarget };
}

describe("registers across chained transfers", () => {
  test("a chained transfer passes the registers to the next translation, not through the state block", () => {
    const { view, region, x, given, markTarget } = setUp();
    markTarget();
    expect(region.f(DECODED, 100, PAGE_VA)).toBe(CHAIN_TO); // the probe's answer: the region chained to it
    expect(PASSED).toContain(A0);
    expect(given(A0), "a0 as the next translation gets it").toBe(1000 + A0 + 1);
    expect(given(A1), "a1, untouched").toBe(1000 + A1);
    expect(view.getInt32(PROBE_AT + 4, true), "budget").toBe(99);
    expect(view.getUint32(PROBE_AT + 8, true), "pc").toBe(PAGE_VA + 4);
    expect(x(A0), "the state block's a0: not written on the way").toBe(1000 + A0);
  });

  test("a return to the fast loop stores every passed register, the ones earlier regions wrote too, and the budget", () => {
    const { view, region, x } = setUp();
    // Entered from another region ("g") with a1 = 42 in its parameters; the state block's a1 is stale.
    const passed = PASSED.map((r) => (r === A1 ? 42 : x(r)));
    expect(region.g(DECODED, 100, PAGE_VA, ...passed)).toBe(CHAIN_TO); // entry 2 is not a translation: back to the fast loop
    expect(x(A0)).toBe(1000 + A0 + 1);
    expect(x(A1), "a1 as the chain left it").toBe(42);
    expect(view.getInt32(L.JIT_BUDGET, true)).toBe(99);
  });
});
