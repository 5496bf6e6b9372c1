// The guest's stdout or stderr, written straight to the CLI's file descriptor with write(2). Node's process.stdout
// and process.stderr are streams whose first use loads Node's stream modules (and node:net for a pipe, node:tty for
// a terminal): ~3 ms of `roam run hello`'s start (bench/startup.ts), where the guest needs only its bytes written in
// order, at once, as Node writes them to files, pipes and terminals on Linux anyway. Once Node's stream is made (a
// terminal's size was asked; a descriptor someone left non-blocking said EAGAIN, and the stream waits for it), every
// later write goes through it, so the order stays.

import * as fs from "node:fs";
import { isatty } from "node:tty";

/**
 * Whether descriptor `fd` is a terminal, asking node:tty (which loads node:net and the streams: 2.5-6 ms) only for a
 * character device that may be one: a file, a pipe or a socket is none, nor are Linux's memory devices (major 1:
 * /dev/null, /dev/zero, /dev/full, /dev/random...), where output goes when it is not wanted.
 */
export function isTerminalDescriptor(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    if (!st.isCharacterDevice() || ((st.rdev >>> 8) & 0xfff) === MEMORY_DEVICES) return false;
  } catch { return false; }
  return isatty(fd);
}
const MEMORY_DEVICES = 1; // their major number

/** Why a write cannot go on: the reader went away (EPIPE), or the descriptor is unusable (EBADF, EIO...). */
export class OutputClosed extends Error {
  constructor(readonly code: string | undefined) {
    super(`output closed (${code ?? "failed"})`);
  }
}

export class DirectOutput {
  private stream: NodeJS.WriteStream | null = null;
  /** Set once a write failed: the error's code (EPIPE...), or "" when it had none. */
  private failed: string | undefined;

  /** `fd` 1 or 2; `openStream` gives Node's stream for it (process.stdout, process.stderr), made only if needed. */
  constructor(readonly fd: 1 | 2, private readonly openStream: () => NodeJS.WriteStream) {}

  /**
   * Writes all of `bytes`; throws OutputClosed if they cannot all be written, now or since an earlier failure. False
   * when Node's stream took (some of) them and asks the writer to wait until it has written them (drained()).
   */
  write(bytes: Uint8Array): boolean {
    if (this.failed !== undefined) throw new OutputClosed(this.failed || undefined);
    let done = 0;
    while (done < bytes.length && this.stream === null) {
      try {
        done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") { this.openedStream(); break; }
        this.failed = code ?? "";
        throw new OutputClosed(code);
      }
    }
    // Node's stream writes later: a copy (the caller's bytes are the guest's memory: ProcessConsole.write).
    return done < bytes.length ? this.stream!.write(Buffer.from(bytes.subarray(done))) : true;
  }

  /** Resolves once Node's stream, if one is made, holds nothing more to write, or has failed. */
  drained(): Promise<void> {
    const stream = this.stream;
    if (!stream?.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      // An error instead of 'drain' must not leave the writer waiting forever.
      const done = () => {
        stream.off("drain", done);
        stream.off("error", done);
        resolve();
      };
      stream.once("drain", done);
      stream.once("error", done);
    });
  }

  /** Whether it is a terminal (see isTerminalDescriptor). */
  isTerminal(): boolean {
    return this.stream ? this.stream.isTTY === true : isTerminalDescriptor(this.fd);
  }

  /** The terminal's size, or null when it is not one. */
  windowSize(): { rows: number; columns: number } | null {
    if (!this.isTerminal()) return null;
    const stream = this.openedStream();
    return { rows: stream.rows, columns: stream.columns };
  }

  private openedStream(): NodeJS.WriteStream {
    if (!this.stream) {
      this.stream = this.openStream();
      // A later write ends the guest as SIGPIPE would.
      this.stream.on("error", (error: NodeJS.ErrnoException) => { this.failed ??= error.code ?? ""; });
    }
    return this.stream;
  }
}
