import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseElf } from "../../src/elf/index.js";
import { MemoryConsoleOutput } from "../../src/machine/console-output.js";
import { Core, defaultCorePath } from "../../src/machine/core.js";
import { Machine, type MachineOptions } from "../../src/machine/machine.js";
import { buildElf } from "./elf-builder.js";
import {
  A0, add, csrr, csrsi, csrw, CSR, jal, li, lbu, lw, or, sb, slli, sw, T0, T1, T2, T3, wfi, words, type Code,
} from "./rv32-encode.js";

// End to end with the real core: tiny guests encoded inline drive each host path
// (UART MMIO, access faults, HTIF through the watch exit, CLINT timer + wfi, the
// instruction limit). Skipped until build/core.wasm exists (npm run build:core).

const haveCore = existsSync(defaultCorePath());
const BASE = 0x80000000;
const TOHOST = BASE + 0x1000;
const FINISHER = 0x100000;

async function boot(program: Uint8Array, options: Partial<MachineOptions> = {}, withHtif = false) {
  const image = parseElf(
    buildElf({
      entry: BASE,
      segments: [
        { paddr: BASE, data: program, flags: 5 },
        { paddr: TOHOST, data: new Uint8Array(0), memsz: 0x80, flags: 6 },
      ],
      symbols: withHtif ? [{ name: "tohost", value: TOHOST }, { name: "fromhost", value: TOHOST + 0x40 }] : [],
    }).bytes,
  );
  const output = new MemoryConsoleOutput();
  const machine = new Machine({ core: await Core.load(), ramBytes: 1 << 20, console: output, ...options });
  machine.load(image);
  machine.uart.endInput();
  const result = await machine.run();
  return { result, output: output.text(), machine };
}

// finisher(code in t1): sw t1 -> 0x100000
const finish = (valueRegister: number): Code[] => [li(T0, FINISHER), sw(valueRegister, T0, 0), jal(0, 0)];

describe.skipIf(!haveCore)("machine mode on the real core", () => {
  it("prints through the UART and reads LSR back", async () => {
    const { result, output } = await boot(
      words(
        li(T0, 0x10000000),
        li(T1, 0x6f), sb(T1, T0, 0), // 'o'
        li(T1, 0x6b), sb(T1, T0, 0), // 'k'
        lbu(T2, T0, 5), // LSR = 0x60
        slli(T2, T2, 16), li(T1, 0x3333), or(T1, T1, T2), // fail with code LSR
        finish(T1),
      ),
    );
    expect(output).toBe("ok");
    expect(result).toMatchObject({ exitCode: 0x60, kind: "guest", reason: "test finisher: exit code 96" });
  });

  it("turns an unmapped load into an access fault the guest handles", async () => {
    const handler = BASE + 0x40;
    const program = words(li(T0, handler), csrw(CSR.mtvec, T0), li(T0, 0x40000000), lw(T1, T0, 0), jal(0, 0));
    const handlerCode = words(csrr(T1, CSR.mcause), slli(T1, T1, 16), li(T2, 0x3333), or(T1, T1, T2), finish(T1));
    const bytes = new Uint8Array(0x80);
    bytes.set(program, 0);
    bytes.set(handlerCode, 0x40);
    const { result } = await boot(bytes);
    expect(result.exitCode).toBe(5); // load access fault
  });

  it("speaks HTIF through the watched tohost", async () => {
    const putc = (char: string) => [
      li(T1, char.charCodeAt(0)), sw(T1, T0, 0), li(T1, 0x01010000), sw(T1, T0, 4),
    ];
    const { result, output } = await boot(
      words(li(T0, TOHOST), putc("h"), putc("i"), li(T1, (7 << 1) | 1), sw(T1, T0, 0), sw(0, T0, 4), jal(0, 0)),
      {},
      true,
    );
    expect(output).toBe("hi");
    expect(result).toMatchObject({ exitCode: 7, reason: "HTIF: exit code 7" });
  });

  it("sleeps in wfi until the CLINT timer interrupt", async () => {
    const handler = BASE + 0x80;
    const program = words(
      li(T0, handler), csrw(CSR.mtvec, T0),
      li(T0, 0x0200bff8), lw(T1, T0, 0), lw(T2, T0, 4), // mtime (starts near 0: no carry)
      // + 50 ms: the guest must reach its wfi before the timer is due, or it has nothing to sleep for. A loaded
      // machine (CI's CPU hog) was seen to hold the host process for more than 10 ms between these instructions.
      li(T3, 500_000), add(T1, T1, T3),
      li(T0, 0x02004000), sw(T2, T0, 4), sw(T1, T0, 0),
      li(T0, 0x80), csrw(CSR.mie, T0), csrsi(CSR.mstatus, 8),
      wfi(), jal(0, -4),
    );
    const bytes = new Uint8Array(0x100);
    bytes.set(program, 0);
    bytes.set(words(li(T1, 0x5555), finish(T1)), 0x80);
    const started = performance.now();
    const { result } = await boot(bytes);
    expect(result).toMatchObject({ exitCode: 0, reason: "test finisher: pass" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    expect(result.stats.sleeps).toBeGreaterThanOrEqual(1);
    expect(result.stats.exits.get("wfi")).toBeGreaterThanOrEqual(1);
  });

  it("stops a spinning guest at the instruction limit", async () => {
    const { result } = await boot(words(li(A0, 0), jal(0, 0)), { maxInstructions: 123_457 });
    expect(result).toMatchObject({ exitCode: 124, kind: "limit" });
    expect(result.instret).toBe(123_457n);
    expect(result.pc).toBe(BASE + 8);
  });
});
