// Where the guest's console bytes (UART transmit, HTIF putchar) go. Bytes are
// collected and written in one chunk per batch of run slices: one write() per
// byte would cost more than emulating the code that produced it.

export interface ConsoleOutput {
  putByte(byte: number): void;
  // Hands buffered bytes on; resolves once the destination can take more, so a
  // guest printing into a slow pipe is held back instead of filling host memory.
  flush(): Promise<void> | void;
}

const CHUNK_BYTES = 64 * 1024;

export class StreamConsoleOutput implements ConsoleOutput {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private length = 0;
  private readonly full: Buffer[] = [];
  // The last byte written, so the CLI can end an unfinished line before its report.
  lastByte = 0x0a;
  // Set once the destination failed (a closed pipe: `roam boot x.elf | head`).
  // Output is dropped from then on; onError lets the owner stop the machine.
  failure: Error | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    stream.on("error", (error: Error) => {
      if (this.failure) return;
      this.failure = error;
      this.onError(error);
    });
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

  flush(): Promise<void> | void {
    if (this.failure || (this.length === 0 && this.full.length === 0)) return;
    this.full.push(Buffer.from(this.chunk.subarray(0, this.length)));
    this.length = 0;
    const data = this.full.length === 1 ? this.full[0] : Buffer.concat(this.full);
    this.full.length = 0;
    if (this.stream.write(data)) return;
    return new Promise((resolve) => {
      // An error instead of 'drain' must not leave the machine waiting forever.
      const done = () => {
        this.stream.off("drain", done);
        this.stream.off("error", done);
        resolve();
      };
      this.stream.once("drain", done);
      this.stream.once("error", done);
    });
  }
}

// Keeps everything in memory: for tests and for callers that want the output as text.
export class MemoryConsoleOutput implements ConsoleOutput {
  private readonly bytes: number[] = [];

  putByte(byte: number): void {
    this.bytes.push(byte);
  }

  flush(): void {}

  text(): string {
    return Buffer.from(this.bytes).toString("latin1");
  }
}
