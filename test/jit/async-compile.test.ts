// Asynchronous, batched compiles (src/jit/translator.ts): a hot region is only
// queued, the guest goes on interpreting, the queued regions compile together in
// the background and land at a slice boundary. A compile that lands after its
// page was rewritten (or after every decoded page was dropped, as a restore does)
// must not be installed: the guest must end as the interpreter alone ends it.
// The tests drive the real Core in slices and wait for the compile's own
// promise (Translator.whenCompiled), never for a delay.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "../process-harness.js";
import * as L from "../../assembly/layout.js";
import { Core } from "../../src/machine/core.js";
import { compileMode, type CompileMode } from "../../src/jit/translator-options.js";
import { compileWorker } from "../../src/jit/compile-worker.js";
import { asm } from "../core/harness.js";

const BASE = L.RAM_GUEST_BASE;
const [T0, T1, T2, S0, S1, A0] = [5, 6, 7, 8, 9, 10];
const FENCE_I = 0x0000100f;
const HOT_AT = 2; // hot at the second arrival; above 1, so compiles wait for a slice boundary (see compileMode)

/**
 * Three rounds of a 40-step loop adding 1 to a0, summed into s1; after each round the guest rewrites the loop's
 * addi to add 2 instead (a store to its own code page, then fence.i). Interpreted: a0 = 40, 120, 200; s1 = 360.
 */
const PATCHED_AT = BASE + 8;
const SELF_MODIFYING = [
  ...asm.li(T0, 40), // 0: round: t0 = 40
  asm.addi(A0, A0, 1), // 8: loop (rewritten)
  asm.addi(T0, T0, -1), // 12
  asm.bne(T0, 0, -8), // 16
  asm.add(S1, S1, A0), // 20
  ...asm.li(T1, asm.addi(A0, A0, 2)), // 24
  ...asm.li(T2, PATCHED_AT), // 32
  asm.sw(T1, T2, 0), // 40
  FENCE_I, // 44
  asm.addi(S0, S0, -1), // 48
  asm.bne(S0, 0, -52), // 52: next round
  asm.ebreak(), // 56
];

/** Two functions on different pages, called in turn 50 times, the first with a loop in it. */
const TWO_LOOPS = [
  ...asm.li(S0, 50), // 0
  asm.jal(1, 0x1000 - 8), // 8: call loop one (page +1)
  asm.jal(1, 0x2000 - 12), // 12: call loop two (page +2)
  asm.addi(S0, S0, -1), // 16
  asm.bne(S0, 0, -12), // 20
  asm.ebreak(), // 24
];
const LOOP = (step: number) => [asm.addi(T0, 0, 5), asm.add(A0, A0, T0), asm.addi(T0, T0, -step), asm.bne(T0, 0, -8), asm.jalr(0, 1, 0)];

/** A loop of `turns` turns adding 1 to a0 whose head (offset 8) is `head`, then ebreak. */
const COUNTED_LOOP = (turns: number, head = asm.addi(A0, A0, 1)) => [
  ...asm.li(T0, turns), // 0
  head, // 8: loop
  asm.addi(T0, T0, -1), // 12
  asm.bne(T0, 0, -8), // 16
  asm.ebreak(), // 20
];
const CSRR_MSCRATCH_T1 = ((0x340 << 20) | (2 << 12) | (T1 << 7) | 0x73) >>> 0; // csrrs t1, mscratch, x0: never translated

/** The hashed hot counter (assembly/fast.ts becameHot) of the entry the core asked for last. */
function lastAskedCounter(core: Core): number {
  const head = core.view.getUint32(L.JIT_REQUEST_ENTRY, true);
  return core.view.getUint8(L.HOT_COUNTERS + ((head >>> 3) & L.HOT_COUNTER_MASK));
}

/**
 * A core running `program` in machine mode. Its batches compile on this thread (WebAssembly.compile), unless
 * `worker`: then on the compile worker once it is ready, whose answers a slice boundary may read at any time, so
 * that a test could not make a compile land after a given point.
 */
async function machineCore(
  translate: boolean, program: Array<[address: number, words: number[]]>, worker = false, mode: CompileMode = "async",
): Promise<Core> {
  const core = await Core.load();
  core.init(1 << 20);
  const saved = process.env.ROAM_JIT_WORKER, savedMode = process.env.ROAM_JIT_COMPILE;
  process.env.ROAM_JIT_WORKER = worker ? "1" : "0"; // both read when the translator is made
  process.env.ROAM_JIT_COMPILE = mode;
  try {
    if (translate) core.setTranslation(true, HOT_AT);
  } finally {
    if (saved === undefined) delete process.env.ROAM_JIT_WORKER; else process.env.ROAM_JIT_WORKER = saved;
    if (savedMode === undefined) delete process.env.ROAM_JIT_COMPILE; else process.env.ROAM_JIT_COMPILE = savedMode;
  }
  for (const [address, words] of program) {
    words.forEach((w, i) => core.view.setUint32(L.RAM_HOST_BASE + (address - BASE) + i * 4, w >>> 0, true));
    core.exports.hostWroteRam(address, words.length * 4);
  }
  core.setState32(L.STATE_FLAGS, core.state32(L.STATE_FLAGS) | L.FLAG_EBREAK_EXITS);
  core.pc = BASE;
  core.setX(S0, 3);
  return core;
}

/** Runs slices of `slice` instructions until `until()` or a stop other than the budget; that stop, or EXIT_BUDGET. */
function runUntil(core: Core, slice: number, until: () => boolean = () => false): number {
  for (let n = 0; n < 100_000; n++) {
    if (until()) return L.EXIT_BUDGET;
    const reason = core.run(slice);
    if (reason !== L.EXIT_BUDGET) return reason;
  }
  throw new Error("the guest ran 100000 slices without getting there");
}

/** The self-modifying program run to its end uninterpreted, and a translating core stopped with its first batch in flight. */
async function selfModifyingWithBatchInFlight(): Promise<{ plain: Core; core: Core; t: NonNullable<Core["translator"]> }> {
  const plain = await machineCore(false, [[BASE, SELF_MODIFYING]]);
  runUntil(plain, 1000);
  const core = await machineCore(true, [[BASE, SELF_MODIFYING]]);
  const t = core.translator!;
  runUntil(core, 5, () => t.busy);
  return { plain, core, t };
}

function expectSameEnd(core: Core, plain: Core): void {
  for (let r = 1; r < 32; r++) expect(core.x(r), `x${r}`).toBe(plain.x(r));
  expect(core.pc.toString(16), "pc").toBe(plain.pc.toString(16));
  expect(core.state64(L.STATE_INSTRET), "instret").toBe(plain.state64(L.STATE_INSTRET));
}

describe("asynchronous batched compiles", () => {
  test("a compile that lands after the guest rewrote its page is not installed", async () => {
    const plain = await machineCore(false, [[BASE, SELF_MODIFYING]]);
    expect(runUntil(plain, 1000)).toBe(L.EXIT_BREAKPOINT);
    expect(plain.x(S1)).toBe(360);

    const core = await machineCore(true, [[BASE, SELF_MODIFYING]]);
    const t = core.translator!;
    expect(t.mode).toBe("async");
    runUntil(core, 5, () => t.busy); // the loop got hot: it compiles in the background, the guest interprets on
    expect(t.stats.batches).toBe(1);
    const original = core.view.getUint32(L.RAM_HOST_BASE + 8, true);
    runUntil(core, 5, () => core.view.getUint32(L.RAM_HOST_BASE + 8, true) !== original); // the guest rewrote the loop
    await t.whenCompiled();
    expect(runUntil(core, 5)).toBe(L.EXIT_BREAKPOINT); // the first boundary finds the compiled batch
    expect(t.stats.stale, "regions dropped as stale").toBe(1);
    expect(t.stats.translated).toBe(0);
    expect(core.x(S1)).toBe(360);
    expectSameEnd(core, plain);
  });

  test("a compile that lands after every decoded page was dropped (a restore) is not installed", async () => {
    const { plain, core, t } = await selfModifyingWithBatchInFlight();
    core.exports.flushCaches(); // what a restore or an adoption does, without a word to the translator
    await t.whenCompiled();
    core.run(1);
    expect(t.stats.stale).toBe(1);
    expect(t.stats.translated).toBe(0);
    expect(runUntil(core, 1000)).toBe(L.EXIT_BREAKPOINT);
    expectSameEnd(core, plain);
  });

  test("regions that get hot while a compile runs are compiled together, as one module, and land at a slice boundary", async () => {
    const program: Array<[number, number[]]> = [[BASE, TWO_LOOPS], [BASE + 0x1000, LOOP(1)], [BASE + 0x2000, LOOP(5)]];
    const plain = await machineCore(false, program);
    expect(runUntil(plain, 1000)).toBe(L.EXIT_BREAKPOINT);
    const core = await machineCore(true, program);
    const t = core.translator!;
    // Loop one's back edge gets hot first and starts compiling at once; both functions (second call) and the outer
    // loop (second turn) get hot meanwhile.
    runUntil(core, 200, () => t.busy);
    expect([t.stats.batches, t.stats.largestBatch]).toEqual([1, 1]);
    await t.whenCompiled();
    core.run(1); // installs the first batch, starts the second with what queued
    expect(t.stats.translated).toBe(1);
    expect(t.stats.batches).toBe(2);
    expect(t.stats.largestBatch, "regions in the second module").toBe(3);
    await t.whenCompiled();
    const instretBefore = core.state64(L.STATE_INSTRET);
    expect(runUntil(core, 1000)).toBe(L.EXIT_BREAKPOINT);
    expect(t.stats.translated, "regions installed").toBe(4);
    expect(t.stats.stale).toBe(0);
    expect(core.state64(L.STATE_INSTRET)).toBeGreaterThan(instretBefore);
    expectSameEnd(core, plain);
  });

  test("compiles wait for a slice boundary unless translation is forced at the first arrival or ROAM_JIT_COMPILE says", () => {
    expect([compileMode(255, undefined), compileMode(2, ""), compileMode(1, undefined)]).toEqual(["slice", "slice", "sync"]);
    expect([compileMode(255, "sync"), compileMode(1, "async"), compileMode(1, "slice")]).toEqual(["sync", "async", "slice"]);
    expect(() => compileMode(255, "later")).toThrow('ROAM_JIT_COMPILE must be "sync", "slice" or "async", not "later"');
  });
});

describe("compiles at slice boundaries (the default)", () => {
  const TWO_LOOPS_PROGRAM: Array<[number, number[]]> = [[BASE, TWO_LOOPS], [BASE + 0x1000, LOOP(1)], [BASE + 0x2000, LOOP(5)]];

  test("what gets hot in a slice is compiled as one module at the next boundary, before the next slice runs", async () => {
    const program = TWO_LOOPS_PROGRAM;
    const plain = await machineCore(false, program);
    expect(runUntil(plain, 1000)).toBe(L.EXIT_BREAKPOINT);
    const core = await machineCore(true, program, false, "slice");
    const t = core.translator!;
    expect(t.mode).toBe("slice");
    t.gathering = { regions: 1, instructions: 0 }; // a batch of whatever queued, at every boundary
    // One slice long enough for both loops, both functions and the outer loop to get hot: all queue, none compiles.
    expect(core.run(400)).toBe(L.EXIT_BUDGET);
    expect(t.stats.requests, "requests in the slice").toBeGreaterThanOrEqual(4);
    expect([t.stats.batches, t.stats.translated], "nothing compiled inside the slice").toEqual([0, 0]);
    expect(t.busy).toBe(true);
    expect(t.compiling, "nothing in the background: the run loops need not yield").toBe(false);
    core.run(1); // the boundary compiles and installs them together
    expect(t.stats.batches).toBe(1);
    expect(t.stats.largestBatch, "regions in the module").toBe(t.stats.translated);
    expect(t.stats.translated).toBeGreaterThanOrEqual(3);
    expect(t.busy).toBe(false);
    expect(runUntil(core, 1000)).toBe(L.EXIT_BREAKPOINT);
    expect(t.stats.stale).toBe(0);
    expectSameEnd(core, plain);
  });

  test("by default a batch gathers: it waits at the boundaries until 8 regions queued or the guest ran its instructions since the first", async () => {
    const plain = await machineCore(false, TWO_LOOPS_PROGRAM);
    expect(runUntil(plain, 1000)).toBe(L.EXIT_BREAKPOINT);
    const core = await machineCore(true, TWO_LOOPS_PROGRAM, false, "slice");
    const t = core.translator!;
    expect(t.gathering).toEqual({ regions: 8, instructions: 1_000_000 });
    t.gathering = { regions: 8, instructions: 300 };
    expect(core.run(100)).toBe(L.EXIT_BUDGET);
    const queued = t.stats.requests;
    expect(queued, "requests in the slice, fewer than a batch gathers").toBeGreaterThanOrEqual(1);
    expect(queued).toBeLessThan(8);
    core.run(1);
    expect([t.stats.batches, t.busy], "the boundary leaves them queued").toEqual([0, true]);
    // Slice by slice, until the guest has run 300 instructions since the first request: then one module of them all.
    runUntil(core, 10, () => t.stats.batches > 0);
    expect(t.stats.batches).toBe(1);
    expect(t.stats.requests, "the instructions started it, not a full batch").toBeLessThan(8);
    expect(t.stats.largestBatch).toBe(t.stats.translated);
    expect(t.stats.translated).toBeGreaterThanOrEqual(queued);
    expect(runUntil(core, 1000)).toBe(L.EXIT_BREAKPOINT);
    expectSameEnd(core, plain);
    // Enough queued (here two) start a batch at the boundary, however few instructions ran since.
    const full = await machineCore(true, TWO_LOOPS_PROGRAM, false, "slice");
    full.translator!.gathering = { regions: 2, instructions: 1e9 };
    runUntil(full, 1, () => full.translator!.stats.requests >= 2);
    full.run(1);
    expect(full.translator!.stats.batches, "two queued of two").toBe(1);
  });

  test("a region whose page the guest rewrote before the boundary is discovered afresh, from the new code", async () => {
    const plain = await machineCore(false, [[BASE, SELF_MODIFYING]]);
    expect(runUntil(plain, 1000)).toBe(L.EXIT_BREAKPOINT);
    const core = await machineCore(true, [[BASE, SELF_MODIFYING]], false, "slice");
    const t = core.translator!;
    t.gathering = { regions: 1, instructions: 0 };
    // Slices of 5 instructions: each boundary installs what the slice before asked for, as the guest rewrites its loop.
    expect(runUntil(core, 5)).toBe(L.EXIT_BREAKPOINT);
    expect(t.stats.translated, "the loop, translated again after each rewrite").toBeGreaterThan(1);
    expect(core.x(S1)).toBe(360);
    expectSameEnd(core, plain);
  });
});

describe("an entry asks once while its request is pending", () => {
  // Before, the core asked again every 256 arrivals while a region waited for its compile (BusyBox sort: 4,679
  // requests for 128 regions), and for ever at a head that cannot be translated.
  test("a loop waiting for its compile asks once; once installed its counter counts from 0 again", async () => {
    const core = await machineCore(true, [[BASE, COUNTED_LOOP(3000)]]);
    const t = core.translator!;
    expect(runUntil(core, 100)).toBe(L.EXIT_BREAKPOINT); // never yields to the event loop: the compile cannot land
    expect(t.busy).toBe(true);
    expect(t.stats.requests, "requests in 3000 arrivals at a hot loop head").toBe(1);
    expect(lastAskedCounter(core), "pending").toBe(HOT_AT);
    await t.whenCompiled();
    core.run(1); // installs it
    expect(t.stats.translated).toBe(1);
    expect(lastAskedCounter(core), "settled").toBe(0);
  });

  test("a head that can never be translated (a CSR access) asks once", async () => {
    const core = await machineCore(true, [[BASE, COUNTED_LOOP(3000, CSRR_MSCRATCH_T1)]]);
    const t = core.translator!;
    expect(runUntil(core, 100)).toBe(L.EXIT_BREAKPOINT);
    expect([t.stats.requests, t.stats.declined]).toEqual([1, 1]);
    expect(t.busy).toBe(false);
    expect(core.x(T0)).toBe(0);
  });

  test("a region dropped as stale asks again at the threshold: the core forgot its counter with the page", async () => {
    const { plain, core, t } = await selfModifyingWithBatchInFlight();
    const loopHead = core.view.getUint32(L.JIT_REQUEST_ENTRY, true);
    const original = core.view.getUint32(L.RAM_HOST_BASE + 8, true);
    runUntil(core, 5, () => core.view.getUint32(L.RAM_HOST_BASE + 8, true) !== original);
    await t.whenCompiled();
    runUntil(core, 5, () => t.stats.stale > 0);
    // The second round's loop (40 arrivals, far fewer than 256) gets hot again and is compiled afresh.
    runUntil(core, 5, () => t.busy);
    expect(t.stats.requests).toBe(2);
    expect(core.view.getUint32(L.JIT_REQUEST_ENTRY, true), "asked for the loop's head again").toBe(loopHead);
    await t.whenCompiled();
    expect(runUntil(core, 5)).toBe(L.EXIT_BREAKPOINT);
    expect([t.stats.stale, t.stats.translated]).toEqual([1, 1]);
    expectSameEnd(core, plain);
  });
});

describe("the compile worker", () => {
  const built = existsSync(join(ROOT, "dist", "src", "jit", "emit-worker.js")); // it runs the built emitter
  test.skipIf(!built)("emits and compiles a batch off the main thread; it lands at a slice boundary with no event loop turn", async () => {
    for (let waited = 0; compileWorker() === null; waited += 10) { // started by the first call: wait until it has loaded
      if (waited > 60_000) throw new Error("the compile worker did not start");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const turns = 0x7fffffff;
    const core = await machineCore(true, [[BASE, COUNTED_LOOP(turns)]], true);
    const t = core.translator!;
    runUntil(core, 5, () => t.busy);
    expect([t.stats.batches, t.stats.workerBatches]).toEqual([1, 1]);
    expect(t.compiling, "the run loop need not yield for it").toBe(false);
    // Slices back to back, never yielding: the answer is read from the worker's port at a slice boundary.
    const deadline = Date.now() + 60_000;
    while (t.stats.translated === 0) {
      expect(core.run(5)).toBe(L.EXIT_BUDGET);
      if (Date.now() > deadline) throw new Error("the batch did not land in 60 s of slices");
    }
    expect([t.stats.stale, t.stats.emitMs]).toEqual([0, 0]);
    runUntil(core, 1000, () => core.state64(L.STATE_INSTRET) > 1_000_000n);
    expect(core.x(A0) + core.x(T0), "every turn counted once").toBe(turns);
  });
});
