// How fast a host runs its guests, measured: instructions retired per second
// of the time spent running them flat out (src/machine/busy-time.ts), never
// per second of wall time — a host whose guests wait on I/O is not slow, it
// is idle. Each load vector (load-vector.ts) brings a new measurement over its
// interval; the estimate moves towards it by how much running it rests on, so
// a few milliseconds of work barely move it and a busy second weighs as much
// as all before. An idle host has nothing to measure: its estimate drifts back
// towards the best it has shown, as a slowdown it saw came from work (its own
// or another host's on the same cores) that may be gone; a guest sent there
// measures it again.

/** Busy time, in ms, whose measurement weighs as much as the estimate before it. */
export const SMOOTH_MS = 1000;
/** Less busy time than this in an interval says nothing (a timer's resolution, one short slice). */
export const MIN_BUSY_MS = 5;
/** An idle host's estimate closes this fraction of its gap to its best per idle second. */
export const IDLE_RECOVERY_PER_SECOND = 0.1;

export class SpeedEstimate {
  private value: number | null = null;
  private best = 0;

  /** Instructions per second; null until the host has run a guest flat out. */
  get current(): number | null {
    return this.value;
  }

  /** One interval: `instructions` retired in `busyMs` of flat-out running, over `seconds` of wall time. */
  update(instructions: number, busyMs: number, seconds: number): number | null {
    if (busyMs >= MIN_BUSY_MS && instructions > 0) {
      const sample = (instructions / busyMs) * 1000;
      this.value = this.value === null ? sample : this.value + (busyMs / (busyMs + SMOOTH_MS)) * (sample - this.value);
      this.best = Math.max(this.best, this.value);
    } else if (this.value !== null && busyMs === 0) {
      this.value += Math.min(1, IDLE_RECOVERY_PER_SECOND * seconds) * (this.best - this.value);
    }
    return this.value === null ? null : Math.round(this.value);
  }
}
