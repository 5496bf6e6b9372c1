// The host's monotonic clock in milliseconds, for measuring and pacing (slices, batches, stats, timeouts): what
// performance.now() gives, without its cost. The first use of Node 20's `performance` global loads perf_hooks and
// a dozen of its modules, ~1-4 ms of `roam run hello`'s start (bench/startup.ts). process.uptime() reads the same
// clock (libuv's hrtime, from the process's start, as performance.now() counts from its time origin) in one call
// that allocates nothing. The guest's own clocks are elsewhere (guest-clock.ts, the kernel's MonotonicClock).

/** Milliseconds since this process started, monotonic, sub-microsecond resolution. */
export function nowMs(): number {
  return process.uptime() * 1000;
}
