// Reused frames for page batches (see FramePool).

/**
 * Page batches are encoded into a small pool of reused frames, each released
 * when the socket has taken it. Reuse matters on this kind of VM: a fresh
 * buffer costs a page fault per 4 KiB (~1.7 us), which was most of the time.
 * A free frame is also the backpressure: no free frame, no more sending.
 * Frames are made on first need, and a finished migration leaves its free
 * ones to the next (frames still in a socket are simply not reused).
 */
export class FramePool {
  private readonly free: Uint8Array[] = [];
  private readonly waiting: Array<() => void> = [];
  private made = 0;
  constructor(private readonly size: number, private readonly count: number) {}
  async take(): Promise<Uint8Array> {
    for (;;) {
      const frame = this.free.pop() ?? (this.made < this.count ? this.make() : undefined);
      if (frame) return frame;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
  give(frame: Uint8Array): void {
    this.free.push(frame);
    this.waiting.shift()?.();
  }
  /** Resolves when every frame is back (everything sent has left). */
  async settle(): Promise<void> {
    while (this.free.length < this.made) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  /** Hands the free frames on to later migrations. */
  release(): void {
    const spares = spareFrames.get(this.size) ?? [];
    spareFrames.set(this.size, spares);
    while (this.free.length > 0 && spares.length < this.count) spares.push(this.free.pop()!);
  }
  private make(): Uint8Array {
    this.made++;
    return spareFrames.get(this.size)?.pop() ?? new Uint8Array(this.size);
  }
}
const spareFrames = new Map<number, Uint8Array[]>(); // by frame size

