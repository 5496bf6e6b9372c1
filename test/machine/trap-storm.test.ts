import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeRun, runRoam } from "../process-harness.js";
import { parseElf } from "../../src/elf/index.js";
import { MemoryConsoleOutput } from "../../src/machine/console-output.js";
import { Core, defaultCorePath } from "../../src/machine/core.js";
import { Machine, type MachineOptions } from "../../src/machine/machine.js";
import { deviceStorm, fetchStorm, stormImage } from "./storm-images.js";

// Trap storms: guests whose every trap traps again, so no instruction ever
// retires. `--max-instructions` must still stop them (exit 124 and the report),
// and without a limit the machine must not spin on them forever.

const haveCore = existsSync(defaultCorePath());

async function boot(program: Uint8Array, options: Partial<MachineOptions> = {}) {
  const machine = new Machine({ core: await Core.load(), ramBytes: 1 << 20, console: new MemoryConsoleOutput(), ...options });
  machine.load(parseElf(stormImage(program)));
  machine.uart.endInput();
  return { result: await machine.run(), machine };
}

describe.skipIf(!haveCore)("trap storms", () => {
  for (const [name, program] of [["mtvec = 0", fetchStorm], ["mtvec at a load nobody answers", deviceStorm]] as const) {
    for (const translate of [true, false]) {
      it(`${name}${translate ? "" : " (no JIT)"}: stops at the instruction limit with exit 124`, async () => {
        const { result } = await boot(program(), { maxInstructions: 50_000, translate });
        expect(result).toMatchObject({ exitCode: 124, kind: "limit" });
        expect(result.reason).toMatch(/^instruction limit reached/);
        expect(result.reason).toMatch(/^instruction limit reached in a trap storm \(\d+ traps, [0-9] instructions retired; mcause \d+, mepc 0x[0-9a-f]+, mtvec 0x[0-9a-f]+\)$/);
        expect(result.instret).toBeLessThan(10n);
      }, 20_000);
    }

    it(`${name}: without a limit, the machine stops the storm instead of spinning forever`, async () => {
      const { result } = await boot(program());
      expect(result).toMatchObject({ exitCode: 1, kind: "fault" });
      expect(result.reason).toMatch(/^the hart is stuck in a trap storm \(\d+ traps, [0-9] instructions retired; mcause \d+, mepc 0x[0-9a-f]+, mtvec 0x[0-9a-f]+\)$/);
    }, 30_000);
  }
});

describe.skipIf(!haveCore)("roam boot --max-instructions on a trap storm", () => {
  const work = mkdtempSync(join(tmpdir(), "roam-storm-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("exits 124 with the usual one-line report", async () => {
    const file = join(work, "storm.elf");
    writeFileSync(file, stormImage(fetchStorm()));
    const run = await runRoam(["boot", "--max-instructions", "100000", file], { cwd: work, timeoutMs: 25_000 });
    expect(run.status, describeRun(run)).toBe(124);
    expect(run.stderr, describeRun(run)).toMatch(
      /^roam: instruction limit reached in a trap storm \(\d+ traps, 1 instructions retired; mcause 1, mepc 0x0+, mtvec 0x0+\) \(pc 0x0+, 1 instructions retired\)\n$/,
    );
  }, 30_000);
});
