import { expectSchema, type Device, type DeviceState } from "../device.js";
import type { GuestClock } from "../guest-clock.js";

// The core-local interruptor of QEMU's virt machine (one hart): msip at +0,
// mtimecmp at +0x4000, mtime at +0xbff8, the 64-bit ones as two 32-bit halves.
// The CLINT raises nothing itself: between run slices the machine copies
// timerPending()/softwarePending() into mip, and sleeps in wfi until
// nextDeadline().

export const CLINT_BASE = 0x02000000;
export const CLINT_SIZE = 0x10000;
const MSIP = 0x0;
const MTIMECMP = 0x4000;
const MTIME = 0xbff8;

const LOW32 = 0xffffffffn;
const NEVER = (1n << 64n) - 1n;

export class Clint implements Device {
  readonly name = "clint";
  readonly base = CLINT_BASE;
  readonly size = CLINT_SIZE;

  private msip = 0;
  // QEMU starts at 0 but arms the timer only on the first write; starting at the
  // maximum gives the same "no timer interrupt until programmed" without a flag.
  private mtimecmp = NEVER;

  constructor(private readonly clock: GuestClock) {}

  now(): bigint {
    return this.clock.now();
  }

  timerPending(now: bigint): boolean {
    return now >= this.mtimecmp;
  }

  softwarePending(): boolean {
    return (this.msip & 1) !== 0;
  }

  // Guest time at which the timer interrupt becomes pending; undefined when the
  // guest has not programmed one.
  nextDeadline(): bigint | undefined {
    return this.mtimecmp === NEVER ? undefined : this.mtimecmp;
  }

  read(offset: number, size: number): number {
    const word = this.readWord(offset & ~3);
    const shift = (offset & 3) * 8;
    return size === 4 ? word : (word >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: number, value: number): void {
    const aligned = offset & ~3;
    let word = value >>> 0;
    if (size !== 4) {
      // Narrow stores merge into the 32-bit register they land in.
      const shift = (offset & 3) * 8;
      const mask = (size === 1 ? 0xff : 0xffff) << shift;
      word = ((this.readWord(aligned) & ~mask) | ((value << shift) & mask)) >>> 0;
    }
    this.writeWord(aligned, word);
  }

  state(): DeviceState {
    return { schemaVersion: 1, msip: this.msip, mtimecmp: this.mtimecmp.toString() };
  }

  restore(state: DeviceState): void {
    expectSchema(this.name, state, 1);
    this.msip = Number(state.msip) & 1;
    this.mtimecmp = BigInt(state.mtimecmp as string);
  }

  private readWord(offset: number): number {
    switch (offset) {
      case MSIP:
        return this.msip;
      case MTIMECMP:
        return Number(this.mtimecmp & LOW32);
      case MTIMECMP + 4:
        return Number(this.mtimecmp >> 32n);
      case MTIME:
        return Number(this.clock.now() & LOW32);
      case MTIME + 4:
        return Number(this.clock.now() >> 32n);
      default:
        return 0; // reserved space reads as zero, as in QEMU
    }
  }

  private writeWord(offset: number, word: number): void {
    const value = BigInt(word >>> 0);
    switch (offset) {
      case MSIP:
        this.msip = word & 1; // only bit 0 exists
        break;
      case MTIMECMP:
        this.mtimecmp = (this.mtimecmp & ~LOW32) | value;
        break;
      case MTIMECMP + 4:
        this.mtimecmp = (this.mtimecmp & LOW32) | (value << 32n);
        break;
      case MTIME:
        this.clock.set((this.clock.now() & ~LOW32) | value);
        break;
      case MTIME + 4:
        this.clock.set((this.clock.now() & LOW32) | (value << 32n));
        break;
      default:
        break; // writes to reserved space are ignored
    }
  }
}
