// The guest's notion of time: the CLINT's mtime, counting at 10 MHz like QEMU's
// virt machine. It follows the host's monotonic clock plus an offset, so that
//  - it never runs backwards (a host clock step cannot make mtime decrease), and
//  - it serialises as one number: a restored clock continues from the saved
//    ticks on another host, whatever that host's own clock reads.

export const TICKS_PER_SECOND = 10_000_000;
export const NS_PER_TICK = 100n;
const U64_MASK = (1n << 64n) - 1n;

export type HostNanoseconds = () => bigint;

export interface ClockState {
  schemaVersion: 1;
  ticks: string; // u64 as a decimal string
}

export class GuestClock {
  private offset: bigint; // guest ticks = host ticks + offset
  private last: bigint; // the latest value handed out, so time never goes backwards

  constructor(
    private readonly hostNow: HostNanoseconds = process.hrtime.bigint,
    startTicks = 0n,
  ) {
    this.offset = startTicks - this.hostTicks();
    this.last = startTicks;
  }

  now(): bigint {
    const ticks = (this.hostTicks() + this.offset) & U64_MASK;
    // Only a 64-bit wrap (after ~58,000 years) or a host clock going backwards
    // gives a smaller value; the second must not be visible to the guest.
    if (ticks < this.last && this.last - ticks < 1n << 63n) return this.last;
    this.last = ticks;
    return ticks;
  }

  // An explicit jump: the guest wrote mtime, or a snapshot is being restored.
  set(ticks: bigint): void {
    const value = ticks & U64_MASK;
    this.offset = value - this.hostTicks();
    this.last = value;
  }

  state(): ClockState {
    return { schemaVersion: 1, ticks: this.now().toString() };
  }

  restore(state: ClockState): void {
    if (state.schemaVersion !== 1) throw new Error(`clock: cannot restore state schema ${state.schemaVersion}`);
    this.set(BigInt(state.ticks));
  }

  private hostTicks(): bigint {
    return this.hostNow() / NS_PER_TICK;
  }
}
