// Views of a WebAssembly memory that stay valid across its growth. Only the core's init() grows a core's memory; a
// grow gives the memory a new buffer, and the old one is detached (its views' length 0) when the memory is not
// shared, or keeps its old length when it is (shared-memory.ts). So init() counts each grow (memoryGrown), and views
// made before the last one (or detached) are made again at their next use. Checking on each use is cheaper than asking
// the memory for its buffer (a call into V8 the profiles showed on every state32). `length`, not `byteLength`: Node
// 20's V8 inlines the one and calls a builtin for the other (1 ns against 9 in a loop).

/** Grows of any core's memory in this process so far: views older than the last are made again. */
let grows = 0;

/** Called after a core's memory may have grown (Core.init). */
export function memoryGrown(): void {
  grows++;
}

export class MemoryViews {
  private current: ArrayBuffer | undefined;
  private bytesView: Uint8Array | undefined;
  private dataView: DataView | undefined;
  private madeAt = -1; // `grows` when the views were made

  constructor(private readonly memory: WebAssembly.Memory) {}

  /** The whole memory as bytes. */
  get bytes(): Uint8Array {
    this.refresh();
    return this.bytesView!;
  }

  get view(): DataView {
    this.refresh();
    return this.dataView!;
  }

  /** The memory's buffer now (the identity of what the views cover). */
  get buffer(): ArrayBuffer {
    this.refresh();
    return this.current!;
  }

  private refresh(): void {
    if (this.bytesView !== undefined && this.bytesView.length !== 0 && this.madeAt === grows) return;
    this.madeAt = grows;
    const buffer = this.memory.buffer;
    if (buffer === this.current) return; // a memory of 0 bytes
    this.current = buffer;
    this.dataView = new DataView(buffer);
    this.bytesView = new Uint8Array(buffer);
  }
}
