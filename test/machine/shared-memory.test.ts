// The core's memory declared shared (src/machine/shared-memory.ts): the patch of the module's memory section, a
// malformed module named as such, and both kinds of core (`roam run`'s shared one, the counted one of every other)
// running the same guest through translated code and following their memory's growth.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_RAM_BYTES, RAM_HOST_BASE } from "../../assembly/layout.js";
import { parseElf } from "../../src/elf/index.js";
import { MemoryConsoleOutput } from "../../src/machine/console-output.js";
import { Core, defaultCorePath } from "../../src/machine/core.js";
import { Machine } from "../../src/machine/machine.js";
import { MAX_CORE_PAGES, withSharedMemory } from "../../src/machine/shared-memory.js";
import { asm } from "../core/harness.js";
import { buildElf } from "./elf-builder.js";
import { addi, li, lw, or, slli, sw, T0, T1, T2, T3, words } from "./rv32-encode.js";

const haveCore = existsSync(defaultCorePath());
const BASE = 0x80000000;
const FINISHER = 0x100000;

/** The memory section's payload (count, limits, minimum, maximum) of a module, by walking its sections. */
function memorySection(bytes: Uint8Array): number[] {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    let size = 0;
    let shift = 0;
    let p = at + 1;
    for (;;) { const b = bytes[p++]; size |= (b & 0x7f) << shift; shift += 7; if ((b & 0x80) === 0) break; }
    if (id === 5) return [...bytes.subarray(p, p + size)];
    at = p + size;
  }
  throw new Error("no memory section");
}

/** A module of `sections` (id, payload) after the header. */
const moduleOf = (...sections: Array<[number, number[]]>) =>
  Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flatMap(([id, payload]) => [id, payload.length, ...payload])]);

describe.skipIf(!haveCore)("the core's memory, shared", () => {
  it("declares the core's one memory shared, its minimum kept and its maximum the largest RAM's", () => {
    const original = new Uint8Array(readFileSync(defaultCorePath()));
    const [count, flags, ...minimum] = memorySection(original);
    expect([count, flags]).toEqual([1, 0]);
    const patched = withSharedMemory(original);
    const maximum = [0xc0, 0x82, 0x01]; // 16704 pages: 20 MiB of the core's own and 1 GiB of RAM
    expect(MAX_CORE_PAGES).toBe((RAM_HOST_BASE + MAX_RAM_BYTES) / 65536);
    expect(MAX_CORE_PAGES).toBe(0x40 | (0x02 << 7) | (0x01 << 14));
    expect(memorySection(patched)).toEqual([1, 3, ...minimum, ...maximum]);
    expect(patched.length).toBe(original.length + maximum.length);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(patched), { env: { abort: () => {} } });
    expect((instance.exports.memory as WebAssembly.Memory).buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("names what is wrong with a module it cannot patch", () => {
    expect(() => withSharedMemory(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow("core module: not a WebAssembly module");
    expect(() => withSharedMemory(moduleOf([1, [0]]))).toThrow("core module: no memory section");
    expect(() => withSharedMemory(moduleOf([5, [1, 1, 2, 4]]))).toThrow("core module: expected one memory with a minimum only");
    expect(() => withSharedMemory(moduleOf([5, [2, 0, 1, 0, 1]]))).toThrow("core module: expected one memory with a minimum only");
    expect(() => withSharedMemory(moduleOf([5, [1, 0, 1, 7]]))).toThrow("core module: memory section longer than its one memory");
    const truncated = moduleOf([5, [1, 0, 1]]).subarray(0, 11);
    expect(() => withSharedMemory(truncated)).toThrow("core module: section 5 runs past the end");
    expect(() => withSharedMemory(moduleOf([5, [1, 0, 0x80]]))).toThrow("core module: a malformed number");
  });

  // A loop of 30,000 turns storing its counter, then the finisher with the stored value, translated at its first
  // arrival: translated code runs against each kind of memory (its module's import must match it).
  const hotLoop = () => {
    const data = BASE + 0x1000; // a page of its own: stores to the code's page would undo its translation
    const program = words(
      li(T0, 0), li(T1, 30_000), li(T2, data),
      addi(T0, T0, 1), sw(T0, T2, 0), asm.bne(T0, T1, -8),
      lw(T1, T2, 0), slli(T1, T1, 16), li(T3, 0x3333), or(T1, T1, T3), // fail with code = the stored counter
      li(T0, FINISHER), sw(T1, T0, 0),
    );
    return parseElf(buildElf({ entry: BASE, segments: [{ paddr: BASE, data: program, flags: 7, memsz: 0x2000 }] }).bytes);
  };

  for (const [kind, load] of [["shared", () => Core.load(undefined, { sharedMemory: true })], ["counted", () => Core.load()]] as const) {
    it(`runs translated code in a ${kind} memory`, async () => {
      const core = await load();
      expect(core.exports.memory.buffer instanceof SharedArrayBuffer).toBe(kind === "shared");
      const machine = new Machine({ core, ramBytes: 1 << 20, console: new MemoryConsoleOutput(), jitThreshold: 1 });
      machine.load(hotLoop());
      machine.uart.endInput();
      const result = await machine.run();
      expect(result.exitCode).toBe(30_000);
      expect(core.translator!.stats.translated).toBeGreaterThan(0);
    });

    it(`follows its ${kind} memory's growth: views made before a larger init see the whole RAM after it`, async () => {
      const core = await load();
      core.init(1 << 20);
      expect(core.ram.length).toBe(1 << 20);
      const before = core.memoryBytes;
      core.init(8 << 20);
      expect(core.ram.length).toBe(8 << 20);
      expect(core.memoryBytes.length).toBeGreaterThan(before.length);
      core.ram[(8 << 20) - 1] = 0x5a;
      expect(core.memoryBytes[RAM_HOST_BASE + (8 << 20) - 1]).toBe(0x5a);
    });
  }
});
