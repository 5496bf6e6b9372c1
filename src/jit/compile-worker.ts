// Emitting and compiling batches of regions on a worker thread (emit-worker.ts), so that the main thread, which runs
// the guest, only discovers regions and instantiates their modules. Its answers come through a MessageChannel that
// the run loop reads synchronously at each slice boundary (receiveMessageOnPort), so a batch lands at the first
// boundary after it compiled without the run loop yielding to the event loop for it, as a WebAssembly.compile
// promise needs (the kernel runs short slices and yields after each while one is in flight).
//
// One worker a process, shared by its cores, started when the first batch is planned (so `roam run hello`, which
// gets nothing hot, never starts it), and used once it has said it is ready (35-50 ms: a thread, a Node
// environment, the emitter's modules); until then, batches are emitted and compiled on the main thread as without it.
// It keeps the process alive only while a batch is in it.
//
// Off unless ROAM_JIT_WORKER=1. Measured on this 2-CPU machine at loads of 5-10 (alternating rounds, medians): it
// takes 4-9 % off the main thread's CPU (SQLite 0.81 -> 0.78 s, Lua objects 2.37 -> 2.27, sort 0.74 -> 0.72) but
// adds to the process's (1.47 -> 1.60, 2.90 -> 2.87, 1.19 -> 1.26: the worker warms up its own copy of the emitter,
// after the main thread has warmed up its own on the first batches), and with every CPU busy that cost more wall
// time than it saved (roam/qemu 2.83x -> 4.06x, 1.92x -> 2.37x, 2.78x -> 3.11x). With a CPU to spare it may pay.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from "node:worker_threads";
import { packageRoot } from "../package-root.js";
import type { OwnMarks } from "./gen.js";
import type { Region } from "./region.js";
import type { Checks } from "./gen-memory.js";

/** A batch for the worker: the regions of one module, each with the table indices its entries will get. */
export interface BatchJob {
  id: number;
  regions: Array<{ region: Region; marks: OwnMarks }>;
  countingExits: boolean; // ROAM_JIT_COUNT_EXITS=1 on the main thread: emit the measurement build
  ramBytes: number; // the core's RAM: its linear window (gen-memory.ts)
  checks: Checks; // how its loads and stores check the TLB (gen-memory.ts)
  names?: string[]; // the regions' names in profiles (ROAM_JIT_NAMES=1: emitBatch)
}

/** The worker's answer: ready (id 0, once), a batch's module with the time its emit took there, or why it failed. */
export type BatchResult =
  | { id: number; ready: true }
  | { id: number; module: WebAssembly.Module; emitMs: number }
  | { id: number; error: string };

/** What the worker made of a batch: its module, or the error (a translator bug) to throw at a slice boundary. */
export type BatchOutcome = { module: WebAssembly.Module; emitMs: number } | { error: Error };

export class CompileWorker {
  private readonly worker: Worker;
  private readonly answers: MessagePort;
  private ready = false;
  private broken: Error | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (outcome: BatchOutcome) => void>();

  constructor(path: string) {
    const { port1, port2 } = new MessageChannel();
    this.answers = port1;
    this.worker = new Worker(pathToFileURL(path), { workerData: { answers: port2 }, transferList: [port2] });
    this.worker.unref();
    // Answers also arrive by event when the run loop is idle (waiting for input, or a test awaiting a compile).
    this.answers.on("message", (m: BatchResult) => this.answered(m));
    this.answers.unref();
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`the compile worker exited (${code})`)));
  }

  /** Whether it takes batches: it has loaded the emitter and has not failed. */
  get usable(): boolean { this.poll(); return this.ready && this.broken === null; }

  /** Emits and compiles `regions` into one module there; `done` is called at a later poll (or event) with the outcome. */
  compile(
    regions: BatchJob["regions"], ramBytes: number, checks: Checks, countingExits: boolean, names: string[] | undefined,
    done: (outcome: BatchOutcome) => void,
  ): void {
    if (this.broken) { done({ error: this.broken }); return; }
    const id = this.nextId++;
    if (this.pending.size === 0) { this.worker.ref(); this.answers.ref(); } // its answer must come before the process ends
    this.pending.set(id, done);
    this.worker.postMessage({ id, regions, ramBytes, checks, countingExits, names } satisfies BatchJob);
  }

  /** Takes every answer that has arrived, without waiting (a slice boundary calls it). */
  poll(): void {
    for (let m = receiveMessageOnPort(this.answers); m !== undefined; m = receiveMessageOnPort(this.answers)) {
      this.answered(m.message as BatchResult);
    }
  }

  private answered(m: BatchResult): void {
    if ("ready" in m) { this.ready = true; return; }
    const done = this.pending.get(m.id);
    if (!done) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) { this.worker.unref(); this.answers.unref(); }
    done("error" in m ? { error: new Error(`compile worker: ${m.error}`) } : { module: m.module, emitMs: m.emitMs });
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const done of waiting) done({ error });
  }
}

/**
 * Whether batches may go to the compile worker: ROAM_JIT_WORKER=1; unset or 0, every emit and compile stays on the
 * main thread (see above why). Only background compiles use it (ROAM_JIT_COMPILE=async: src/jit/translator.ts), and
 * not where the worker's module is not built (vitest on a fresh checkout).
 */
export function workerWanted(env = process.env.ROAM_JIT_WORKER): boolean {
  if (env === "1") return true;
  if (env === undefined || env === "" || env === "0") return false;
  throw new Error(`ROAM_JIT_WORKER must be 0 or 1, not "${env}"`);
}

let shared: CompileWorker | null | undefined;

/** The process's compile worker if it is ready for a batch, else null. The first call starts it. */
export function compileWorker(): CompileWorker | null {
  if (shared === undefined) {
    const path = join(packageRoot(), "dist", "src", "jit", "emit-worker.js");
    shared = existsSync(path) ? new CompileWorker(path) : null;
  }
  return shared?.usable ? shared : null;
}

/** Takes the worker's answers that have arrived, if there is a worker (a slice boundary calls it). */
export function pollCompileWorker(): void {
  shared?.poll();
}
