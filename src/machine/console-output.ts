// Where the guest's console bytes (UART transmit, HTIF putchar) go: `roam boot`'s
// stdout is src/cli/direct-console-output.ts, which collects bytes and writes
// them in one chunk per batch of run slices (one write() per byte would cost
// more than emulating the code that produced it).

export interface ConsoleOutput {
  putByte(byte: number): void;
  // Hands buffered bytes on; resolves once the destination can take more, so a
  // guest printing into a slow pipe is held back instead of filling host memory.
  flush(): Promise<void> | void;
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
