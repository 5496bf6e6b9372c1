import { defineConfig } from "vitest/config";

// Tests must pass on a loaded machine (CI runs the suite beside a CPU hog too):
// vitest's defaults (5 s a test, 10 s a hook) are guesses a slow start of a few
// host processes can exceed. Tests wait for events, each with its own limit
// naming what it waited for; these only catch a test that hangs.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two test files at once even on a 2-core machine (vitest's default there is one): most e2e files wait on host
    // processes and the network, so a CPU-bound file (the Lua suite, the ISA suites) fits beside them.
    maxWorkers: 2,
  },
});
