import { describe, expect, it } from "vitest";
import type { HaltRequest } from "../../src/machine/device.js";
import { Htif } from "../../src/machine/devices/htif.js";
import { GuestRam } from "../../src/machine/guest-ram.js";

const BASE = 0x80000000;
const TOHOST = BASE + 0x1000;
const FROMHOST = BASE + 0x1040;

function setup(fromhost: number | undefined = FROMHOST) {
  const bytes = new Uint8Array(0x10000);
  const writes: Array<[number, number]> = [];
  const ram = new GuestRam(() => bytes, BASE, (paddr, length) => writes.push([paddr, length]));
  const output: number[] = [];
  const halts: HaltRequest[] = [];
  const htif = new Htif(ram, TOHOST, fromhost, (byte) => output.push(byte), (request) => halts.push(request));
  // What the guest does on RV32: low word, then high word, each a watched store.
  const store64 = (value: bigint) => {
    ram.write64(TOHOST, value & 0xffffffffn); // the low word lands first...
    htif.storeHit(TOHOST, 4);
    ram.write64(TOHOST, value); // ...then the high word
    htif.storeHit(TOHOST + 4, 4);
  };
  return { ram, htif, output, halts, writes, store64 };
}

describe("Htif", () => {
  it("exits with 0 on payload 1", () => {
    const { store64, halts } = setup();
    store64(1n);
    expect(halts).toEqual([{ exitCode: 0, reason: "HTIF: pass", quiet: true }]);
  });

  it("exits with payload >> 1 otherwise (riscv-tests' failing test number)", () => {
    const { store64, halts } = setup();
    store64((5n << 1n) | 1n);
    expect(halts).toEqual([{ exitCode: 5, reason: "HTIF: exit code 5", quiet: false }]);
  });

  it("acts only once the high word is written", () => {
    const { ram, htif, output } = setup();
    ram.write64(TOHOST, 0x0101_0000_0000_0041n);
    htif.storeHit(TOHOST, 4);
    expect(output).toEqual([]);
    htif.storeHit(TOHOST + 4, 4);
    expect(output).toEqual([0x41]);
  });

  it("prints a console putchar and answers in fromhost as QEMU does", () => {
    const { store64, ram, output } = setup();
    store64(0x0101_0000_0000_0068n);
    expect(output).toEqual([0x68]);
    expect(ram.read64(FROMHOST)).toBe(0x0101_0000_0000_0168n);
    expect(ram.read64(TOHOST)).toBe(0n);
  });

  it("reports its RAM writes so the core can drop stale code", () => {
    const { store64, writes } = setup();
    writes.length = 0;
    store64(0x0101_0000_0000_0068n);
    expect(writes.some(([paddr]) => paddr === FROMHOST)).toBe(true);
    expect(writes.some(([paddr]) => paddr === TOHOST)).toBe(true);
  });

  it("works without a fromhost symbol", () => {
    const { store64, ram, output } = setup(undefined);
    store64(0x0101_0000_0000_0021n);
    expect(output).toEqual([0x21]);
    expect(ram.read64(TOHOST)).toBe(0n);
  });

  it("takes a console read request without answering it", () => {
    const { store64, ram } = setup();
    store64(0x0100_0000_0000_0000n);
    expect(ram.read64(TOHOST)).toBe(0n);
    expect(ram.read64(FROMHOST)).toBe(0n);
  });

  it("serves a proxied write(1, buf, len) syscall", () => {
    const { store64, ram, output } = setup();
    const block = BASE + 0x2000;
    const buffer = BASE + 0x3000;
    ram.writeBytes(buffer, Buffer.from("hello"));
    ram.write64(block, 64n); // SYS_write
    ram.write64(block + 8, 1n);
    ram.write64(block + 16, BigInt(buffer));
    ram.write64(block + 24, 5n);
    store64(BigInt(block));
    expect(Buffer.from(output).toString()).toBe("hello");
    expect(ram.read64(block)).toBe(5n); // the return value
    expect(ram.read64(FROMHOST)).not.toBe(0n); // the guest polls for it
    expect(ram.read64(TOHOST)).toBe(0n);
  });

  it("acknowledges unknown commands with response 0 and clears tohost", () => {
    const { store64, ram, output, halts } = setup();
    store64(0x0203_0000_0000_0001n);
    expect(output).toEqual([]);
    expect(halts).toEqual([]);
    expect(ram.read64(FROMHOST)).toBe(0x0203_0000_0000_0000n);
    expect(ram.read64(TOHOST)).toBe(0n);
  });

  it("ignores the guest clearing tohost", () => {
    const { store64, ram, halts } = setup();
    store64(0n);
    expect(halts).toEqual([]);
    expect(ram.read64(FROMHOST)).toBe(0n);
  });
});
