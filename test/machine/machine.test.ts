import { describe, expect, it } from "vitest";
import {
  CSR_MIE,
  CSR_MIP,
  EXIT_BUDGET,
  EXIT_HOST_TRAP,
  EXIT_MMIO,
  EXIT_PAGE_MISSING,
  EXIT_WATCH,
  EXIT_WFI,
  MMIO_LOAD_UNSIGNED,
  MMIO_STORE,
  STATE_EXIT_CAUSE,
  STATE_EXIT_KIND,
  STATE_EXIT_SIZE,
  STATE_EXIT_TVAL,
  STATE_MMIO_VALUE,
  STATE_MTIME,
  STATE_WATCH_LEN,
  STATE_WATCH_PADDR,
  STATE_WFI,
} from "../../assembly/layout.js";
import { ElfError, parseElf } from "../../src/elf/index.js";
import { MemoryConsoleOutput } from "../../src/machine/console-output.js";
import { Machine, type MachineOptions } from "../../src/machine/machine.js";
import { buildElf } from "./elf-builder.js";
import { fakeCore, retire, type Step } from "./fake-core.js";

const RAM = 4 * 1024 * 1024;
const TOHOST = 0x80001000;

function machineWith(steps: Step[], options: Partial<MachineOptions> = {}) {
  const fake = fakeCore(steps);
  const output = new MemoryConsoleOutput();
  const machine = new Machine({ core: fake.core, ramBytes: RAM, console: output, ...options });
  return { machine, fake, output, core: fake.core };
}

function image(extra: { tohost?: boolean; paddr?: number } = {}) {
  return parseElf(
    buildElf({
      entry: 0x80000010,
      segments: [
        { paddr: extra.paddr ?? 0x80000000, data: Uint8Array.from([1, 2, 3, 4]), memsz: 0x20 },
        { paddr: TOHOST, data: new Uint8Array(0), memsz: 0x80, flags: 6 },
      ],
      symbols: extra.tohost === false ? [] : [{ name: "tohost", value: TOHOST }, { name: "fromhost", value: TOHOST + 0x40 }],
    }).bytes,
  );
}

// A step performing an MMIO access as the core reports it.
function mmio(paddr: number, size: number, kind: number, value = 0): Step {
  return (core, budget) => {
    core.setState32(STATE_EXIT_CAUSE, paddr);
    core.setState32(STATE_EXIT_SIZE, size);
    core.setState32(STATE_EXIT_KIND, kind);
    core.setState32(STATE_EXIT_TVAL, value);
    return retire(core, Math.min(budget, 3), EXIT_MMIO);
  };
}

const pass: Step = mmio(0x100000, 4, MMIO_STORE, 0x5555);

describe("Machine.load", () => {
  it("places segments, zeroes bss and tells the core", () => {
    const { machine, fake, core } = machineWith([pass]);
    machine.ram.fill(0x80000000, 0x40, 0xee); // stale bytes where the image goes
    fake.calls.length = 0;
    machine.load(image());
    expect([...machine.ram.readBytes(0x80000000, 6)]).toEqual([1, 2, 3, 4, 0, 0]);
    expect(machine.ram.readBytes(0x80000020, 1)[0]).toBe(0xee); // past memsz: untouched
    expect(fake.calls).toContain("hostWroteRam 80000000 4");
    expect(fake.calls).toContain("hostWroteRam 80000004 28");
  });

  it("starts at the entry with a0 = hart id and a1 = the device tree address", () => {
    const { machine, core } = machineWith([pass]);
    machine.load(image());
    expect(core.pc).toBe(0x80000010);
    expect(core.x(10)).toBe(0);
    expect(core.x(11)).toBe(0x80200000); // last 2 MiB block of 4 MiB
    expect(core.state32(STATE_WATCH_PADDR)).toBe(TOHOST);
    expect(core.state32(STATE_WATCH_LEN)).toBe(8);
  });

  it("puts a1 at 0x87e00000 with 128 MiB, like QEMU", () => {
    const fake = fakeCore([pass]);
    const machine = new Machine({ core: fake.core, ramBytes: 128 * 1024 * 1024, console: new MemoryConsoleOutput() });
    machine.load(image());
    expect(fake.core.x(11)).toBe(0x87e00000);
  });

  it("watches nothing without a tohost symbol", () => {
    const { machine, core } = machineWith([pass]);
    machine.load(image({ tohost: false }));
    expect(machine.htif).toBeUndefined();
    expect(core.state32(STATE_WATCH_PADDR)).toBe(0);
  });

  it("refuses segments outside RAM with an ElfError", () => {
    const { machine } = machineWith([pass]);
    expect(() => machine.load(image({ paddr: 0x70000000 }))).toThrow(ElfError);
    expect(() => machine.load(image({ paddr: 0x70000000 }))).toThrow(
      "segment 0 [0x70000000, 0x70000020) outside RAM [0x80000000, 0x80400000)",
    );
  });

  it("names the RAM an image needs when a larger RAM would hold it", () => {
    const { machine } = machineWith([pass]);
    expect(() => machine.load(image({ paddr: 0x80400000 - 8 }))).toThrow(new ElfError("needs 5 MiB of RAM, --ram is 4 MiB"));
  });

  it("rejects RAM sizes the core cannot take", () => {
    expect(() => machineWith([pass], { ramBytes: 1000 })).toThrow(/multiple of 4096/);
  });
});

describe("Machine.run", () => {
  it("performs MMIO stores and reports the test finisher's verdict", async () => {
    const { machine, output } = machineWith([mmio(0x10000000, 1, MMIO_STORE, 0x41), mmio(0x10000000, 1, MMIO_STORE, 0x0a), pass]);
    machine.load(image());
    const result = await machine.run();
    expect(output.text()).toBe("A\n");
    expect(result).toMatchObject({ exitCode: 0, kind: "guest", quiet: true, reason: "test finisher: pass" });
    expect(result.instret).toBe(9n);
    expect(result.stats.exits.get("mmio")).toBe(3);
  });

  it("answers MMIO loads through STATE_MMIO_VALUE", async () => {
    let seen = -1;
    const { machine } = machineWith([
      mmio(0x10000005, 1, MMIO_LOAD_UNSIGNED | (10 << 8)), // LSR
      (core, budget) => {
        seen = core.state32(STATE_MMIO_VALUE);
        return pass(core, budget);
      },
    ]);
    machine.load(image());
    await machine.run();
    expect(seen).toBe(0x60);
  });

  it("turns unmapped MMIO into access faults", async () => {
    const { machine, fake } = machineWith([
      mmio(0x40000000, 4, MMIO_LOAD_UNSIGNED),
      mmio(0x40000000, 4, MMIO_STORE, 1),
      mmio(0x10000000 + 0xfe, 4, MMIO_STORE, 1), // runs past the UART's window
      pass,
    ]);
    machine.load(image());
    await machine.run();
    expect(fake.calls.filter((call) => call.startsWith("mmioFault"))).toEqual(["mmioFault 5", "mmioFault 7", "mmioFault 7"]);
  });

  it("runs HTIF commands on watched stores and exits with their code", async () => {
    // The guest's two word stores to tohost; the core exits after the high one.
    const store = (value: bigint): Step => (core, budget) => {
      const ram = new DataView(core.ram.buffer, core.ram.byteOffset);
      ram.setBigUint64(TOHOST - 0x80000000, value, true);
      core.setState32(STATE_EXIT_CAUSE, TOHOST + 4);
      return retire(core, Math.min(budget, 2), EXIT_WATCH);
    };
    const { machine, output } = machineWith([store(0x0101_0000_0000_0068n), store(0x0101_0000_0000_0069n), store((3n << 1n) | 1n)]);
    machine.load(image());
    const result = await machine.run();
    expect(output.text()).toBe("hi");
    expect(result).toMatchObject({ exitCode: 3, kind: "guest", quiet: false, reason: "HTIF: exit code 3" });
  });

  it("stops at --max-instructions exactly", async () => {
    const { machine, fake } = machineWith([(core, budget) => retire(core, budget, EXIT_BUDGET)], { maxInstructions: 25_000 });
    machine.load(image());
    const result = await machine.run();
    expect(result).toMatchObject({ exitCode: 124, kind: "limit", quiet: false, reason: "instruction limit reached" });
    expect(result.instret).toBe(25_000n);
    expect(fake.budgets.every((budget) => budget > 0 && budget <= 1_000_000)).toBe(true);
    expect(result.pc).toBe(0x80000010);
  });

  it("stops when asked (Ctrl-C) without blocking the event loop", async () => {
    const { machine } = machineWith([(core, budget) => retire(core, budget, EXIT_BUDGET)]);
    machine.load(image());
    setTimeout(() => machine.stop("interrupted (SIGINT)"), 30);
    const result = await machine.run();
    expect(result).toMatchObject({ exitCode: 130, kind: "interrupted", reason: "interrupted (SIGINT)" });
    expect(result.instret > 0n).toBe(true);
  });

  it("refreshes mtime before every slice, never backwards", async () => {
    const times: bigint[] = [];
    let left = 50;
    const { machine } = machineWith([
      (core, budget) => {
        times.push(core.state64(STATE_MTIME));
        return --left > 0 ? retire(core, Math.min(budget, 100), EXIT_BUDGET) : pass(core, budget);
      },
    ]);
    machine.load(image());
    await machine.run();
    expect(times).toHaveLength(50);
    for (let i = 1; i < times.length; i++) expect(times[i] >= times[i - 1]).toBe(true);
  });

  it("sleeps in wfi until the timer is due, then raises MTIP", async () => {
    let deadline = 0n;
    const seenMip: number[] = [];
    const { machine } = machineWith([
      (core) => {
        deadline = core.state64(STATE_MTIME) + 200_000n; // 20 ms at 10 MHz
        machine.clint.write(0x4004, 4, Number(deadline >> 32n));
        machine.clint.write(0x4000, 4, Number(deadline & 0xffffffffn));
        core.setState32(CSR_MIE, 1 << 7);
        core.setState32(STATE_WFI, 1);
        return retire(core, 5, EXIT_WFI);
      },
      (core, budget) => {
        seenMip.push(core.state32(CSR_MIP));
        expect(core.state64(STATE_MTIME) >= deadline).toBe(true);
        return pass(core, budget);
      },
    ]);
    machine.load(image());
    const started = performance.now();
    const result = await machine.run();
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(seenMip[0] & (1 << 7)).toBe(1 << 7);
    expect(result.exitCode).toBe(0);
    expect(result.stats.sleeps).toBeGreaterThanOrEqual(1);
  });

  it("wakes a waiting hart on console input", async () => {
    const { machine } = machineWith([
      (core) => {
        core.setState32(STATE_WFI, 1);
        return retire(core, 1, EXIT_WFI);
      },
      pass,
    ]);
    machine.load(image());
    setTimeout(() => machine.uart.receive([0x61]), 20);
    const result = await machine.run();
    expect(result.exitCode).toBe(0);
    expect(machine.core.state32(STATE_WFI)).toBe(0);
  });

  it("reports a wfi that nothing can end once input is over", async () => {
    const { machine } = machineWith([
      (core) => {
        core.setState32(STATE_WFI, 1);
        return retire(core, 1, EXIT_WFI);
      },
    ]);
    machine.load(image());
    machine.uart.endInput();
    const result = await machine.run();
    expect(result).toMatchObject({ exitCode: 1, kind: "fault" });
    expect(result.reason).toMatch(/waits in wfi for an interrupt that can never arrive/);
  });

  it("stops with a report on exits machine mode does not use", async () => {
    const trap = machineWith([
      (core) => {
        core.setState32(STATE_EXIT_CAUSE, 8);
        return EXIT_HOST_TRAP;
      },
    ]);
    trap.machine.load(image());
    const trapped = await trap.machine.run();
    expect(trapped).toMatchObject({ exitCode: 1, kind: "fault" });
    expect(trapped.reason).toMatch(/^unexpected host-trap exit \(cause 8/);

    const missing = machineWith([() => EXIT_PAGE_MISSING]);
    missing.machine.load(image());
    expect((await missing.machine.run()).reason).toMatch(/page-missing/);

    const unknown = machineWith([() => 99]);
    unknown.machine.load(image());
    expect((await unknown.machine.run()).reason).toBe("core returned unknown exit reason 99");
  });
});
