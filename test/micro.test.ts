import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseElf } from "../src/elf/index.js";
import { Kernel } from "../src/kernel/kernel.js";
import { Core } from "../src/machine/core.js";
import { CaptureConsole } from "../bench/capture-console.js";
import { QEMU, qemuPath } from "./process-harness.js";
import { REPO, tempDir } from "./e2e/cluster.js";

// The micro-benchmark guests (guests/micro/, bench/micro.ts) compute what they measure: each exits with a byte folded
// from its sum, so a benchmark of a wrong translation cannot look fast. Each runs in translated code here (hundreds of
// millions of instructions: the translator's loops, calls across pages, table dispatch) and must exit as on
// qemu-riscv32, and retire the instructions its loop counts say.

const MICRO = join(REPO, "guests", "bin", "micro");
const requireQemu = !!process.env.ROAM_REQUIRE_QEMU;

/**
 * Instructions each guest retires: its loop's passes times the instructions a pass, plus set-up (transfers.S: 3;
 * memory.S and dispatch.S: 5, with the 4 a pass of the outer loop for memory.S) and the exit (7).
 */
const INSTRUCTIONS: Record<string, number> = {
  "loop-inline": 50_000_000 * 4 + 10, "call-near": 50_000_000 * 6 + 10, "call-far": 50_000_000 * 6 + 10,
  loads: 20_000 * (16_384 * 5 + 4) + 12, stores: 20_000 * (16_384 * 5 + 4) + 12, bytes: 20_000 * (16_384 * 7 + 4) + 12,
  stack: 20_000 * (16_384 * 10 + 4) + 12, "call-frame": 20_000_000 * 15 + 12, switch: 20_000_000 * 9 + 12,
};

describe(`micro-benchmark guests: translated, exit as on ${qemuPath ? QEMU : `(${QEMU} not on PATH: its status not compared)`}`, () => {
  const scratch = tempDir("micro");
  afterAll(() => scratch.remove());
  test("every guest built is checked here", () => {
    expect(readdirSync(MICRO).filter((f) => f.endsWith(".elf")).map((f) => f.replace(/\.elf$/, "")).sort()).toEqual(Object.keys(INSTRUCTIONS).sort());
  });
  if (requireQemu && !qemuPath) test(`${QEMU} is required (ROAM_REQUIRE_QEMU)`, () => expect(qemuPath).toBeDefined());
  for (const name of Object.keys(INSTRUCTIONS)) {
    test(name, async () => {
      const path = join(MICRO, `${name}.elf`);
      const core = await Core.load();
      const kernel = new Kernel({
        core, image: parseElf(readFileSync(path)), ramBytes: 16 << 20, root: scratch.path, argv: [path], envp: [],
        console: new CaptureConsole(), inputReady: () => Promise.resolve(), translate: true,
      });
      const result = await kernel.run();
      expect(Number(result.instret)).toBe(INSTRUCTIONS[name]);
      expect(core.translator!.stats.translated).toBeGreaterThan(0);
      if (qemuPath) {
        const qemu = spawnSync(qemuPath, [path], { stdio: "ignore" });
        expect(result.exitCode).toBe(qemu.status);
      }
      expect(result.exitCode).not.toBe(0); // a fold of zero would hide a wrong sum
    }, 60_000);
  }
});
