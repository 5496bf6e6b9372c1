// A machine-mode guest's console (UART transmit, HTIF putchar) on the CLI's stdout, written straight to descriptor 1
// (direct-output.ts): Node's process.stdout is a stream whose making loads Node's stream modules, and node:net for a
// pipe (2-4 ms of `roam boot`'s start), where the console needs only its bytes written in order. Bytes are collected
// and written in one chunk per batch of run slices: one write() per byte would cost more than emulating the code that
// produced it.

import type { ConsoleOutput } from "../machine/console-output.js";
import { DirectOutput, OutputClosed } from "./direct-output.js";

const CHUNK_BYTES = 64 * 1024;

export class DirectConsoleOutput implements ConsoleOutput {
  private readonly output: DirectOutput;
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private length = 0;
  private readonly full: Buffer[] = [];
  /** The last byte written, so the CLI can end an unfinished line before its report. */
  lastByte = 0x0a;
  /** Set once stdout failed (a closed pipe: `roam boot x.elf | head`): output is dropped from then on. */
  failure: OutputClosed | undefined;

  /**
   * `openStdout` gives Node's stream (process.stdout), made only for a terminal's size or after EAGAIN; `onError` is
   * told once when stdout fails, so the owner can stop the machine.
   */
  constructor(openStdout: () => NodeJS.WriteStream, private readonly onError: (error: OutputClosed) => void) {
    this.output = new DirectOutput(1, openStdout);
  }

  putByte(byte: number): void {
    if (this.failure) return;
    if (this.length === CHUNK_BYTES) {
      this.full.push(this.chunk);
      this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      this.length = 0;
    }
    this.chunk[this.length++] = byte;
    this.lastByte = byte;
  }

  /** Writes what was collected; resolves once stdout can take more, so a guest printing into a slow reader is held back. */
  flush(): Promise<void> | void {
    if (this.failure || (this.length === 0 && this.full.length === 0)) return;
    this.full.push(Buffer.from(this.chunk.subarray(0, this.length))); // a copy: Node's stream (after EAGAIN) may keep it
    this.length = 0;
    const data = this.full.length === 1 ? this.full[0] : Buffer.concat(this.full);
    this.full.length = 0;
    try {
      if (!this.output.write(data)) return this.output.drained();
    } catch (error) {
      if (!(error instanceof OutputClosed)) throw error;
      this.failure = error;
      this.onError(error);
    }
  }

  /** Whether stdout is a terminal. */
  isTerminal(): boolean {
    return this.output.isTerminal();
  }
}
