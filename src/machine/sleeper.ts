// How a hart in wfi waits without spinning the host CPU: a timer for the next
// timer interrupt, cut short by wake() when something else happens (console
// input, a stop request).

import { nowMs } from "./host-clock.js";

const MAX_SLEEP_MS = 60_000; // re-check at least this often; setTimeout caps at ~24.8 days anyway

export class Sleeper {
  private wakeCurrent: (() => void) | undefined;
  private wokenEarly = false;

  // Resolves after `ms` milliseconds (at most MAX_SLEEP_MS; a pending timer also
  // keeps Node's event loop alive) or at the next wake().
  // Returns how long it actually slept, and whether wake() ended it.
  async sleep(ms: number | undefined): Promise<{ ms: number; woken: boolean }> {
    const started = nowMs();
    if (this.wokenEarly) {
      // wake() came while the machine was busy: what it signalled may already matter.
      this.wokenEarly = false;
      return { ms: 0, woken: true };
    }
    const woken = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), Math.min(Math.max(ms ?? MAX_SLEEP_MS, 0), MAX_SLEEP_MS));
      const finish = (byWake: boolean) => {
        clearTimeout(timer);
        this.wakeCurrent = undefined;
        resolve(byWake);
      };
      this.wakeCurrent = () => finish(true);
    });
    return { ms: nowMs() - started, woken };
  }

  wake(): void {
    if (this.wakeCurrent) this.wakeCurrent();
    else this.wokenEarly = true;
  }

  // Forget wake-ups that came while running: they were seen by the run slices.
  clear(): void {
    this.wokenEarly = false;
  }
}
