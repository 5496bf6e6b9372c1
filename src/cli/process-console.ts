// The process-mode guest's terminal: its stdin, stdout and stderr are the CLI's.
// Input is read only once the guest asks for it, and a guest blocked in read(0)
// waits on an event, never spinning.

import * as fs from "node:fs";
import { BrokenPipe, type ProcessConsole, type StreamDescription } from "../kernel/syscalls.js";

export class StdioProcessConsole implements ProcessConsole {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private listening = false;
  private readonly waiters: Array<() => void> = [];
  private readonly broken = new Set<NodeJS.WriteStream>();

  constructor(
    private readonly stdin: NodeJS.ReadStream,
    private readonly stdout: NodeJS.WriteStream,
    private readonly stderr: NodeJS.WriteStream,
  ) {
    // A reader that went away (`| head`): the next write ends the guest as SIGPIPE would.
    for (const stream of [stdout, stderr]) stream.on("error", () => this.broken.add(stream));
  }

  write(stream: 1 | 2, bytes: Uint8Array): void {
    const target = stream === 1 ? this.stdout : this.stderr;
    if (this.broken.has(target)) throw new BrokenPipe();
    target.write(bytes);
  }

  read(max: number): Uint8Array | null {
    this.listen();
    if (this.queue.length === 0) return this.ended ? new Uint8Array(0) : null;
    const first = this.queue[0];
    if (first.length <= max) {
      this.queue.shift();
      return first;
    }
    this.queue[0] = first.subarray(max);
    return first.subarray(0, max);
  }

  /** Resolves when input is queued or has ended. */
  hasInput(): boolean {
    this.listen();
    return this.queue.length > 0 || this.ended;
  }

  inputReady(): Promise<void> {
    this.listen();
    if (this.queue.length > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  isTerminal(stream: 0 | 1 | 2): boolean {
    return [this.stdin, this.stdout, this.stderr][stream].isTTY === true;
  }

  /** What the user gave as 0, 1 and 2: a terminal, a pipe, or a file or device (its host stat, and where its offset is). */
  describe(stream: 0 | 1 | 2): StreamDescription {
    if (this.isTerminal(stream)) return { kind: "terminal" };
    let stat: fs.Stats;
    try { stat = fs.fstatSync(stream); } catch { return { kind: "pipe" }; }
    if (stat.isFIFO()) return { kind: "pipe" };
    return { kind: "host", stat, position: stat.isFile() ? hostOffset(stream) : undefined };
  }

  windowSize(): { rows: number; columns: number } | null {
    return this.stdout.isTTY ? { rows: this.stdout.rows, columns: this.stdout.columns } : null;
  }

  /** Stops reading (the guest is done), so Node can exit. */
  close(): void {
    if (this.listening) this.stdin.pause();
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.stdin.on("data", (chunk: Buffer) => { this.queue.push(chunk); this.flushWaiters(); });
    this.stdin.on("end", () => { this.ended = true; this.flushWaiters(); });
    this.stdin.on("error", () => { this.ended = true; this.flushWaiters(); });
  }

  private flushWaiters(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Where the host's offset of `fd` is (Linux's /proc/self/fdinfo); 0 where that cannot be asked. */
function hostOffset(fd: number): number {
  try {
    const pos = /^pos:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    return pos ? Number(pos[1]) : 0;
  } catch {
    return 0;
  }
}
