import {
  PRIV_M,
  RAM_HOST_BASE,
  STATE_BASE,
  STATE_INSTRET,
  STATE_MMIO_PENDING,
  STATE_PRIV,
  STATE_RAM_BYTES,
  STATE_SIZE,
} from "../../assembly/layout.js";
import { Core, type CoreExports } from "../../src/machine/core.js";

// A stand-in for build/core.wasm: a real WebAssembly.Memory with the same
// layout, and a run() that follows a script. Lets the machine's host loop be
// tested without the core (and with exits the core rarely produces).

export type Step = (core: Core, budget: number) => number; // returns an EXIT_* reason

export interface FakeCore {
  core: Core;
  calls: string[]; // hostWroteRam / mmioFault / flushCaches calls, in order
  budgets: number[];
  steps: Step[]; // consumed one per run(); the last one repeats
}

export function fakeCore(steps: Step[] = []): FakeCore {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const calls: string[] = [];
  const budgets: number[] = [];
  const fake: FakeCore = { core: undefined as unknown as Core, calls, budgets, steps };
  const exports: CoreExports = {
    memory,
    init(ramBytes: number) {
      const needed = Math.ceil((RAM_HOST_BASE + ramBytes) / 65536);
      const have = memory.buffer.byteLength / 65536;
      if (needed > have) memory.grow(needed - have); // detaches old views, as the real core does
      const bytes = new Uint8Array(memory.buffer);
      bytes.fill(0, STATE_BASE, STATE_BASE + STATE_SIZE);
      bytes.fill(0, RAM_HOST_BASE, RAM_HOST_BASE + ramBytes);
      const view = new DataView(memory.buffer);
      view.setUint32(STATE_BASE + STATE_RAM_BYTES, ramBytes, true);
      view.setUint32(STATE_BASE + STATE_PRIV, PRIV_M, true);
    },
    run(budget: number) {
      budgets.push(budget);
      const step = steps.length > 1 ? (steps.shift() as Step) : steps[0];
      if (!step) throw new Error("fake core: no step to run");
      fake.core.setState32(STATE_MMIO_PENDING, 0);
      return step(fake.core, budget);
    },
    flushCaches: () => void calls.push("flushCaches"),
    hostWroteRam: (paddr, length) => void calls.push(`hostWroteRam ${paddr.toString(16)} ${length}`),
    clearDirty: () => void calls.push("clearDirty"),
    setPagePresent: (ppn, present) => void calls.push(`setPagePresent ${ppn} ${present}`),
    mmioFault: (cause) => void calls.push(`mmioFault ${cause}`),
    table: new WebAssembly.Table({ initial: 1, element: "anyfunc" }),
    flushTranslations: () => void calls.push("flushTranslations"),
    flushTranslationsOf: (va, pages) => void calls.push(`flushTranslationsOf ${va.toString(16)} ${pages}`),
    isZeroPage: (page) => (new Uint8Array(memory.buffer, RAM_HOST_BASE + page * 4096, 4096).every((byte) => byte === 0) ? 1 : 0),
    // The fake keeps no present bitmap: a test that reaches this needs the real core.
    markMissing: () => { throw new Error("fake core: markMissing is not modelled (no present bitmap)"); },
    // The fake translates nothing, so no straddling instruction is ever built.
    decodeStraddling: () => { throw new Error("fake core: decodeStraddling is not modelled (it decodes nothing)"); },
  };
  fake.core = new Core(exports);
  return fake;
}

// Retires `count` instructions (as run() would) and returns `reason`.
export function retire(core: Core, count: number, reason: number): number {
  core.setState64(STATE_INSTRET, core.state64(STATE_INSTRET) + BigInt(count));
  return reason;
}
