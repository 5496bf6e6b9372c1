// The host's monotonic clock in milliseconds, for measuring and pacing (slices, batches, stats, timeouts): what
// performance.now() gives, without its cost. The first use of Node 20's `performance` global loads perf_hooks and
// a dozen of its modules, ~1-4 ms of `roam run hello`'s start (bench/startup.ts). process.hrtime() reads the same
// clock (libuv's, CLOCK_MONOTONIC) in one call, and a test's fake timers can stand in for it (vi.useFakeTimers
// fakes "hrtime"). The origin is arbitrary: only differences mean anything. The guest's own clocks are elsewhere
// (guest-clock.ts, the kernel's MonotonicClock).

/** Milliseconds on the host's monotonic clock (arbitrary origin), sub-microsecond resolution. */
export function nowMs(): number {
  // Indexed, not destructured: destructuring goes through the array's iterator, objects per call while this is cold.
  const time = process.hrtime();
  return time[0] * 1e3 + time[1] / 1e6;
}
