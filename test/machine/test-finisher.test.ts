import { describe, expect, it } from "vitest";
import type { HaltRequest } from "../../src/machine/device.js";
import { TestFinisher } from "../../src/machine/devices/test-finisher.js";

function finisher() {
  const halts: HaltRequest[] = [];
  return { finisher: new TestFinisher((request) => halts.push(request)), halts };
}

describe("TestFinisher", () => {
  it("sits at QEMU virt's address and reads as zero", () => {
    const { finisher: f } = finisher();
    expect(f.base).toBe(0x100000);
    expect(f.size).toBe(0x1000);
    expect(f.read(0, 4)).toBe(0);
  });

  it("passes with 0x5555", () => {
    const { finisher: f, halts } = finisher();
    f.write(0, 4, 0x5555);
    expect(halts).toEqual([{ exitCode: 0, reason: "test finisher: pass", quiet: true }]);
  });

  it("fails with 0x3333 and the code in the upper half", () => {
    const { finisher: f, halts } = finisher();
    f.write(0, 4, (42 << 16) | 0x3333);
    expect(halts).toEqual([{ exitCode: 42, reason: "test finisher: exit code 42" }]);
  });

  it("never turns a failure into success", () => {
    const { finisher: f, halts } = finisher();
    f.write(0, 4, 0x3333);
    expect(halts[0].exitCode).toBe(1);
  });

  it("reports a reset request", () => {
    const { finisher: f, halts } = finisher();
    f.write(0, 4, 0x7777);
    expect(halts[0].exitCode).toBe(0);
    expect(halts[0].reason).toMatch(/reset requested/);
    expect(halts[0].quiet).toBeUndefined();
  });

  it("ignores other values and offsets", () => {
    const { finisher: f, halts } = finisher();
    f.write(0, 4, 0x1234);
    f.write(4, 4, 0x5555);
    expect(halts).toEqual([]);
  });

  it("accepts a halfword pass", () => {
    const { finisher: f, halts } = finisher();
    f.write(0, 2, 0x5555);
    expect(halts[0].exitCode).toBe(0);
  });
});
