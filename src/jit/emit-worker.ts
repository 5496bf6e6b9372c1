// The compile worker's side (see compile-worker.ts): emits a batch of discovered regions into one module and
// compiles it, off the main thread, and posts the WebAssembly.Module back on the answers port (V8 shares its
// compiled code between threads). Loaded as an ES module from dist/src/jit/ by `new Worker`; it never touches a
// core's memory.

import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { emitBatch } from "./emit.js";
import type { BatchJob, BatchResult } from "./compile-worker.js";
import { nowMs } from "../machine/host-clock.js";

const jobs = parentPort;
if (jobs === null) throw new Error("emit-worker.js runs as a worker thread (src/jit/compile-worker.ts starts it)");
const answers = (workerData as { answers: MessagePort }).answers;

jobs.on("message", (job: BatchJob) => {
  // The emitter reads ROAM_JIT_COUNT_EXITS when it starts a region: the main thread's setting when it planned them.
  process.env.ROAM_JIT_COUNT_EXITS = job.countingExits ? "1" : "";
  const started = nowMs();
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = emitBatch(job.regions, job.ramBytes, job.checks, job.names);
  } catch (error) {
    answers.postMessage({ id: job.id, error: String(error instanceof Error ? error.stack : error) } satisfies BatchResult);
    return;
  }
  const emitMs = nowMs() - started;
  WebAssembly.compile(bytes).then(
    (module) => answers.postMessage({ id: job.id, module, emitMs } satisfies BatchResult),
    (error: unknown) => answers.postMessage({ id: job.id, error: String(error) } satisfies BatchResult),
  );
});
answers.postMessage({ id: 0, ready: true } satisfies BatchResult);
