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

export class Pipe {
  private chunks: Uint8Array[] = [];
  private queued = 0;

  constructor(readonly id: number, public readers = 1, public writers = 1) {}

  get size(): number {
    return this.queued;
  }

  get room(): number {
    return PIPE_CAPACITY - this.queued;
  }

  /** Up to `max` bytes; an empty array means end of file (no writers) — call only when size > 0 or writers == 0. */
  read(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.queued));
    let at = 0;
    while (at < out.length) {
      const first = this.chunks[0];
      const take = Math.min(first.length, out.length - at);
      out.set(first.subarray(0, take), at);
      at += take;
      if (take === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(take);
    }
    this.queued -= out.length;
    return out;
  }

  /**
   * Queues what fits (all or nothing for writes of PIPE_BUF bytes or fewer);
   * returns the count queued. The pipe keeps `bytes` (no copy): pass a buffer no one else changes.
   */
  write(bytes: Uint8Array): number {
    if (bytes.length <= PIPE_BUF && bytes.length > this.room) return 0;
    const n = Math.min(bytes.length, this.room);
    if (n > 0) {
      this.chunks.push(bytes.subarray(0, n));
      this.queued += n;
    }
    return n;
  }

  state(): PipeState {
    const data = new Uint8Array(this.queued);
    let at = 0;
    for (const c of this.chunks) { data.set(c, at); at += c.length; }
    return { id: this.id, data };
  }

  static restore(s: PipeState): Pipe {
    const pipe = new Pipe(s.id, 0, 0);
    if (s.data.length) { pipe.chunks = [Uint8Array.from(s.data)]; pipe.queued = s.data.length; }
    return pipe;
  }
}
