// Region names for profiles (ROAM_JIT_NAMES=1, translator.ts regionName): each batch module then carries a "name"
// section naming a region's function by its head's guest pc, so `node --perf-prof` and `--cpu-prof` show which guest
// code a region is; without it the module has no name section, as before.
import { afterEach, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { TranslatingCore, asm } from "../core/harness.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, A0] = [5, 10];
const EBREAK = 0x00100073;
const OriginalModule = WebAssembly.Module;
const saved = process.env.ROAM_JIT_NAMES;
afterEach(() => {
  WebAssembly.Module = OriginalModule;
  if (saved === undefined) delete process.env.ROAM_JIT_NAMES; else process.env.ROAM_JIT_NAMES = saved;
});

/** Translates a counting loop at `at` (from its first arrival) and returns the bytes of every batch module it compiled. */
function translatedModules(at: number): Array<Uint8Array<ArrayBuffer>> {
  const modules: Array<Uint8Array<ArrayBuffer>> = [];
  WebAssembly.Module = function (bytes: BufferSource) {
    const module = new OriginalModule(bytes);
    // The translator's batches (their regions' exports), not the core the test core loads first.
    if (OriginalModule.exports(module).some((e) => e.name === "g0")) modules.push(new Uint8Array(bytes as ArrayBuffer));
    return module;
  } as unknown as typeof WebAssembly.Module;
  const c = new TranslatingCore(1 << 20, 1);
  c.poke(at, [...asm.li(T0, 1000), /* loop: */ asm.addi(A0, A0, 3), asm.addi(T0, T0, -1), asm.bne(T0, 0, -8), EBREAK]);
  c.setSt(L.STATE_FLAGS, c.st(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  c.pc = at;
  c.run();
  expect(c.x(A0)).toBe(3000);
  return modules;
}

/** The function names of a module's "name" section (its subsection 1), by function index. */
function functionNames(bytes: Uint8Array<ArrayBuffer>): Map<number, string> {
  const sections = OriginalModule.customSections(new OriginalModule(bytes), "name");
  const names = new Map<number, string>();
  for (const section of sections) {
    const b = new Uint8Array(section);
    let at = 0;
    const u32 = () => { let v = 0, shift = 0, byte; do { byte = b[at++]; v |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80); return v >>> 0; };
    while (at < b.length) {
      const id = b[at++], size = u32(), end = at + size;
      if (id === 1) for (let n = u32(); n > 0; n--) { const index = u32(), length = u32(); names.set(index, Buffer.from(b.subarray(at, at + length)).toString()); at += length; }
      at = end;
    }
  }
  return names;
}

test("with ROAM_JIT_NAMES=1 a region's function is named by its head's pc; without it there is no name section", () => {
  process.env.ROAM_JIT_NAMES = "1";
  const named = translatedModules(BASE + 0x2000);
  expect(named.length).toBeGreaterThan(0);
  const names = functionNames(named[0]);
  const head = (BASE + 0x2000 + 8).toString(16); // the loop's head, after li's two instructions
  expect(names.get(0)).toBe(`guest_${head}`); // the region's function
  delete process.env.ROAM_JIT_NAMES;
  const plain = translatedModules(BASE + 0x2000);
  expect(plain.length).toBe(named.length);
  expect(OriginalModule.customSections(new OriginalModule(plain[0]), "name")).toHaveLength(0);
});
