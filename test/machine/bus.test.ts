import { describe, expect, it } from "vitest";
import { Bus } from "../../src/machine/bus.js";
import type { Device, DeviceState } from "../../src/machine/device.js";

class Recorder implements Device {
  readonly log: string[] = [];
  constructor(readonly name: string, readonly base: number, readonly size: number) {}
  read(offset: number, size: number): number {
    this.log.push(`read ${offset} ${size}`);
    return 0xffffffff;
  }
  write(offset: number, size: number, value: number): void {
    this.log.push(`write ${offset} ${size} ${value.toString(16)}`);
  }
  state(): DeviceState {
    return { schemaVersion: 1 };
  }
  restore(): void {}
}

describe("Bus", () => {
  it("routes accesses by address with offsets inside the device", () => {
    const bus = new Bus();
    const a = new Recorder("a", 0x1000, 0x100);
    const b = new Recorder("b", 0x2000, 0x10);
    bus.attach(a);
    bus.attach(b);
    expect(bus.read(0x1004, 4)).toBe(0xffffffff);
    expect(bus.write(0x200c, 4, 0x12345678)).toBe(true);
    expect(a.log).toEqual(["read 4 4"]);
    expect(b.log).toEqual(["write 12 4 12345678"]);
  });

  it("answers nothing outside every device, or across a device's end", () => {
    const bus = new Bus();
    bus.attach(new Recorder("a", 0x1000, 0x100));
    expect(bus.read(0xfff, 1)).toBeUndefined();
    expect(bus.read(0x10fe, 4)).toBeUndefined();
    expect(bus.write(0x1100, 1, 0)).toBe(false);
  });

  it("passes devices only the stored bytes", () => {
    const bus = new Bus();
    const a = new Recorder("a", 0, 0x10);
    bus.attach(a);
    bus.write(0, 1, 0x12345678);
    bus.write(0, 2, 0xfffff00d);
    expect(a.log).toEqual(["write 0 1 78", "write 0 2 f00d"]);
  });

  it("refuses overlapping devices", () => {
    const bus = new Bus();
    bus.attach(new Recorder("a", 0x1000, 0x100));
    expect(() => bus.attach(new Recorder("b", 0x10f0, 0x100))).toThrow(/b \[0x10f0, 0x11f0\) overlaps a/);
  });
});
