// A machine-mode guest's console input read straight from descriptor 0 when it is a file or /dev/null (what a script
// or a benchmark gives `roam boot`: `< input`, `</dev/null`). Node's stream for such a stdin is an fs.ReadStream,
// which loads Node's stream modules (~3 ms of boot's start) and reads in libuv's thread pool, whose first use starts
// its threads (2-10 ms more on a busy machine: bench/startup.ts's boot row). Neither can block, so read(2) is done
// here, one chunk per event-loop turn as the stream delivers them. A terminal (raw mode, keys) and a pipe or socket
// (whose read would wait for the writer) keep Node's stream: terminal.ts.

import * as fs from "node:fs";

const CHUNK_BYTES = 64 * 1024; // as fs.ReadStream's

/** Whether `fd` is a regular file or /dev/null: read(2) on it returns at once, so it can be read without a stream. */
export function readsWithoutWaiting(fd: number): boolean {
  let stat: fs.Stats;
  try { stat = fs.fstatSync(fd); } catch { return false; } // closed: Node's stream reports it as an error, the input's end
  if (stat.isFile()) return true;
  if (!stat.isCharacterDevice()) return false;
  // /dev/null, not any character device: a terminal is one too, and asking node:tty whether it is costs ~3 ms.
  try { return stat.rdev === fs.statSync("/dev/null").rdev; } catch { return false; }
}

export interface InputListener {
  data(chunk: Buffer): void;
  /** The input ended (read(2) said 0), or cannot be read (an error counts as its end, as on Node's stream). */
  end(): void;
}

/** Reads `fd` (one readsWithoutWaiting said yes to) from its current offset until its end or stop(). */
export class DescriptorInput {
  private next: NodeJS.Immediate | undefined;

  constructor(private readonly fd: number, private readonly listener: InputListener) {
    this.next = setImmediate(() => this.readChunk());
  }

  stop(): void {
    if (this.next) clearImmediate(this.next);
    this.next = undefined;
  }

  private readChunk(): void {
    this.next = undefined;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let length: number;
    try { length = fs.readSync(this.fd, chunk, 0, CHUNK_BYTES, null); } catch { length = 0; }
    if (length === 0) { this.listener.end(); return; }
    this.next = setImmediate(() => this.readChunk()); // before data(): a listener that stops the input stops this too
    this.listener.data(chunk.subarray(0, length));
  }
}
