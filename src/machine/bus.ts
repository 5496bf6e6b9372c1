import { hex, hexRange } from "../elf/hex.js";
import type { Device } from "./device.js";

// Routes the core's MMIO exits to devices by physical address. There are a
// handful of devices, so a linear scan beats anything cleverer; the last hit is
// tried first because guests hammer one device at a time (a UART poll loop).

export class Bus {
  private readonly devices: Device[] = [];
  private lastHit: Device | undefined;

  attach(device: Device): void {
    const end = device.base + device.size;
    for (const other of this.devices) {
      if (device.base < other.base + other.size && other.base < end) {
        throw new Error(
          `${device.name} ${hexRange(device.base, end)} overlaps ${other.name} ${hexRange(other.base, other.base + other.size)}`,
        );
      }
    }
    this.devices.push(device);
  }

  list(): readonly Device[] {
    return this.devices;
  }

  // The device whose window holds all of [paddr, paddr + size), if any.
  find(paddr: number, size: number): Device | undefined {
    const last = this.lastHit;
    if (last && paddr >= last.base && paddr + size <= last.base + last.size) return last;
    for (const device of this.devices) {
      if (paddr >= device.base && paddr + size <= device.base + device.size) {
        this.lastHit = device;
        return device;
      }
    }
    return undefined;
  }

  // undefined when nothing answers at that address (the core then raises an access fault).
  read(paddr: number, size: number): number | undefined {
    const device = this.find(paddr, size);
    return device ? device.read(paddr - device.base, size) >>> 0 : undefined;
  }

  // false when nothing answers at that address.
  write(paddr: number, size: number, value: number): boolean {
    const device = this.find(paddr, size);
    if (!device) return false;
    // Devices see only the bytes stored (the core may pass the whole register).
    const stored = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    device.write(paddr - device.base, size, stored);
    return true;
  }

  tick(now: bigint): void {
    for (const device of this.devices) device.tick?.(now);
  }

  describe(): string {
    return this.devices.map((d) => `${d.name} at ${hex(d.base)}`).join(", ");
  }
}
