// Pipes between a guest's processes: a byte queue with a capacity, and a count
// of the open descriptions of each end. pipe(7): "If a process attempts to
// read from an empty pipe, then read(2) will block until data is available";
// "If all file descriptors referring to the write end of a pipe have been
// closed, then an attempt to read(2) from the pipe will see end-of-file";
// "If all file descriptors referring to the read end of a pipe have been
// closed, then a write(2) will cause a SIGPIPE signal to be generated".
//
// Pipes are plain data: the bytes in flight travel with the guest.

export const PIPE_CAPACITY = 65536; // "Since Linux 2.6.11, the pipe capacity is 16 pages"
export const PIPE_BUF = 4096; // writes up to this size are atomic

export interface PipeState {
  id: number;
  data: Uint8Array; // bytes written and not yet read (the ends are counted again from the open files on restore)
}

/**
 * Copies bytes into or out of a part of the pipe's buffer (`from`: how far into the transfer that part starts);
 * false when it could not (a bad guest pointer): the transfer then leaves the pipe as it was.
 */
export type PipeCopy = (part: Uint8Array, from: number) => boolean;

// The bytes in flight live in one buffer of the pipe's capacity, used as a
// ring, as Linux keeps a pipe's 16 pages: a write copies the guest's bytes in,
// a read copies them out to the guest, and nothing is allocated per call (a
// 64 KiB buffer made for each write, and the copy made for each read, cost
// more than the copies themselves: fresh memory is slow to touch).
export class Pipe {
  private ring: Uint8Array | undefined; // made at the first write: most pipes of a shell carry little or nothing
  private head = 0; // where the oldest queued byte is
  private queued = 0;

  constructor(readonly id: number, public readers = 1, public writers = 1) {}

  get size(): number {
    return this.queued;
  }

  get room(): number {
    return PIPE_CAPACITY - this.queued;
  }

  /** How many of `length` bytes a write queues now: all or nothing up to PIPE_BUF (atomic), else what fits. */
  accepts(length: number): number {
    if (length <= PIPE_BUF && length > this.room) return 0;
    return Math.min(length, this.room);
  }

  /** Queues `n` bytes (n <= accepts(n)) that `copyIn` puts into the ring, in one or two parts; false if it could not. */
  writeWith(n: number, copyIn: PipeCopy): boolean {
    const ring = (this.ring ??= new Uint8Array(PIPE_CAPACITY));
    const tail = (this.head + this.queued) % PIPE_CAPACITY;
    const first = Math.min(n, PIPE_CAPACITY - tail);
    // What a failed copy left in the ring lies beyond the queued bytes: it is not queued, so not there.
    if (first > 0 && !copyIn(ring.subarray(tail, tail + first), 0)) return false;
    if (n > first && !copyIn(ring.subarray(0, n - first), first)) return false;
    this.queued += n;
    return true;
  }

  /** Takes up to `max` queued bytes, which `copyOut` copies from the ring in one or two parts; the count, or -1 (nothing taken). */
  readWith(max: number, copyOut: PipeCopy): number {
    const n = Math.min(max, this.queued);
    if (n === 0) return 0;
    const ring = this.ring!;
    const first = Math.min(n, PIPE_CAPACITY - this.head);
    if (!copyOut(ring.subarray(this.head, this.head + first), 0)) return -1;
    if (n > first && !copyOut(ring.subarray(0, n - first), first)) return -1;
    this.head = (this.head + n) % PIPE_CAPACITY;
    this.queued -= n;
    if (this.queued === 0) this.head = 0;
    return n;
  }

  /** Up to `max` bytes as a new array; an empty array means end of file (no writers) — call only when size > 0 or writers == 0. */
  read(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.queued));
    this.readWith(out.length, (part, from) => (out.set(part, from), true));
    return out;
  }

  /** Queues what fits of `bytes` (all or nothing for PIPE_BUF bytes or fewer); returns the count queued. */
  write(bytes: Uint8Array): number {
    const n = this.accepts(bytes.length);
    if (n > 0) this.writeWith(n, (part, from) => (part.set(bytes.subarray(from, from + part.length)), true));
    return n;
  }

  state(): PipeState {
    const data = new Uint8Array(this.queued);
    if (this.queued > 0) {
      const ring = this.ring!;
      const first = Math.min(this.queued, PIPE_CAPACITY - this.head);
      data.set(ring.subarray(this.head, this.head + first));
      data.set(ring.subarray(0, this.queued - first), first);
    }
    return { id: this.id, data };
  }

  static restore(s: PipeState): Pipe {
    const pipe = new Pipe(s.id, 0, 0);
    if (s.data.length > PIPE_CAPACITY) throw new Error(`pipe ${s.id}: ${s.data.length} bytes in flight, more than its capacity`);
    if (s.data.length) pipe.write(s.data);
    return pipe;
  }
}
