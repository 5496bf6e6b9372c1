// The guest's terminal in a benchmark, kept in memory.
import type { ProcessConsole } from "../src/kernel/syscalls.js";

/** The guest's terminal: output kept in memory (with when each write came), no input (end of file), not a tty. */
export class CaptureConsole implements ProcessConsole {
  private readonly chunks: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  readonly stdoutWrites: Array<{ at: number; text: string }> = []; // at: performance.now()
  write(stream: 1 | 2, bytes: Uint8Array): void {
    const copy = Buffer.from(bytes); // copied: the bytes may be a view of guest RAM
    this.chunks[stream].push(copy);
    if (stream === 1) this.stdoutWrites.push({ at: performance.now(), text: copy.toString("latin1") });
  }
  read(): Uint8Array {
    return new Uint8Array(0);
  }
  hasInput(): boolean {
    return true; // no input: reads see its end at once
  }
  isTerminal(): boolean {
    return false;
  }
  windowSize(): null {
    return null;
  }
  text(stream: 1 | 2): string {
    return Buffer.concat(this.chunks[stream]).toString("latin1");
  }
}
