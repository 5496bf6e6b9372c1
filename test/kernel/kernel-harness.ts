// Runs process-mode guests inside the test process: a Core (build/core.wasm),
// a Process from src/kernel/process.ts, and a console kept in memory, the way
// src/cli/run-command.ts wires them for `roam run`. Lets a test see what the
// CLI cannot: each warning, each console read, the result object.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseElf } from "../../src/elf/index.js";
import { Kernel, type ProcessResult } from "../../src/kernel/kernel.js";
import type { ProcessConsole } from "../../src/kernel/syscalls.js";
import { Core } from "../../src/machine/core.js";
import { ROOT } from "../process-harness.js";

export const guestElf = (name: string) => join(ROOT, "guests", "bin", "process", `${name}.elf`);

/** A console in memory: output collected per stream, input pushed by the test. */
export class MemoryConsole implements ProcessConsole {
  readonly out: Buffer[] = [];
  readonly err: Buffer[] = [];
  /** how often the kernel asked for input (a guest blocked on input must not poll) */
  reads = 0;
  private readonly queue: Buffer[] = [];
  private ended = false;
  private waiters: Array<() => void> = [];

  get stdout(): string { return Buffer.concat(this.out).toString("utf8"); }
  get stderr(): string { return Buffer.concat(this.err).toString("utf8"); }

  write(stream: 1 | 2, bytes: Uint8Array): void {
    (stream === 1 ? this.out : this.err).push(Buffer.from(bytes));
  }

  read(max: number): Uint8Array | null {
    this.reads++;
    if (this.queue.length === 0) return this.ended ? new Uint8Array(0) : null;
    const first = this.queue[0];
    if (first.length <= max) return this.queue.shift()!;
    this.queue[0] = first.subarray(max);
    return first.subarray(0, max);
  }

  isTerminal(): boolean { return false; }
  hasInput(): boolean { return this.queue.length > 0 || this.ended; }
  windowSize(): null { return null; }

  /** queues input (a later write into the guest's stdin pipe) */
  push(data: string | Buffer): void {
    this.queue.push(Buffer.from(data));
    this.wake();
  }

  /** end of input */
  end(): void {
    this.ended = true;
    this.wake();
  }

  inputReady(): Promise<void> {
    if (this.queue.length > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export interface InProcessOptions {
  root: string;
  args?: string[];
  env?: Record<string, string>;
  /** all of stdin, then EOF; leave out to push input from the test (console.push / end) */
  stdin?: string;
  maxInstructions?: number;
  translate?: boolean;
  ramBytes?: number;
}

export interface InProcessRun {
  process: Kernel;
  console: MemoryConsole;
  warnings: string[];
  /** resolves with the result; rejects only if the host itself failed */
  done: Promise<ProcessResult>;
}

/** starts `guest` in process mode in this process; argv[0] is the ELF's path */
export async function startInProcess(guest: string, options: InProcessOptions): Promise<InProcessRun> {
  const elf = guestElf(guest);
  const console = new MemoryConsole();
  if (options.stdin !== undefined) {
    if (options.stdin) console.push(options.stdin);
    console.end();
  }
  const warnings: string[] = [];
  const core = await Core.load();
  const process = new Kernel({
    core,
    image: parseElf(readFileSync(elf)),
    program: readFileSync(elf),
    ramBytes: options.ramBytes ?? 64 << 20,
    root: options.root,
    argv: [elf, ...(options.args ?? [])],
    envp: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    console,
    inputReady: () => console.inputReady(),
    maxInstructions: options.maxInstructions,
    translate: options.translate ?? true,
    warn: (message) => warnings.push(message),
  });
  return { process, console, warnings, done: process.run() };
}

/** runs `guest` to the end in this process */
export async function runInProcess(guest: string, options: InProcessOptions & { stdin: string }) {
  const run = await startInProcess(guest, options);
  const result = await run.done;
  return { ...run, result };
}
