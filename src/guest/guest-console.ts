// A guest's console when it runs on a host rather than in the CLI: output goes
// into a numbered log (by byte offset) that attached clients read from any
// offset they have not seen; input arrives numbered too, so a line resent after
// a move is taken once. Its state travels with the guest.

import { CARRIED_OUTPUT, type ConsoleState } from "../snapshot/snapshot.js";
import type { ProcessConsole, StreamDescription } from "../kernel/syscalls.js";

const KEEP_OUTPUT = 1 << 20; // bytes of recent output kept for late or returning clients

export type OutputListener = (offset: number, bytes: Uint8Array, stream: 1 | 2) => void;

/** A run of output from one stream, starting at byte `offset` of the guest's output. */
export interface OutputChunk {
  offset: number;
  stream: 1 | 2;
  data: Uint8Array;
}

export class GuestConsole implements ProcessConsole {
  private log: OutputChunk[] = []; // the last KEEP_OUTPUT bytes of output, by stream
  private logBytes = 0;
  private logStart = 0; // offset of the first kept byte
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;
  private inputOffset = 0;
  private readonly listeners = new Set<OutputListener>();
  private readonly inputWaiters: Array<() => void> = [];
  private readonly acceptedListeners = new Set<() => void>();
  private readonly endedListeners = new Set<() => void>();
  /** Output commit (src/replication/output-commit.ts): output from here on is held from clients until released. */
  private releasedUpTo: number | undefined;
  /** Replication: the input the backup has; clients are told only this much was taken, so they keep (and resend) the rest. */
  private inputCommitted: number | undefined;

  /**
   * `terminal`: the guest has a terminal (started from one: `roam run --on` on a TTY, GuestInfo.terminal), its first
   * size; the keys clients send go to the kernel's line discipline (src/kernel/terminal.ts), which the guest's state
   * carries, so they are not kept here.
   */
  constructor(state?: ConsoleState, private readonly terminal?: { rows: number; columns: number }) {
    if (state) this.restoreState(state);
  }

  private readonly stopListeners = new Set<(sig: number) => void>();

  /**
   * The guest's first process stopped (Ctrl-Z on its terminal, a SIGSTOP): the user's job, which an attached client
   * stops with, as `roam run` does here (the host tells it: Host.attach).
   */
  jobStopped(sig: number): void {
    for (const listener of this.stopListeners) listener(sig);
  }

  onJobStopped(listener: (sig: number) => void): () => void {
    this.stopListeners.add(listener);
    return () => this.stopListeners.delete(listener);
  }

  /** The kernel's line discipline, once it has taken this terminal: every key accepted goes to it. */
  private keys: ((bytes: Uint8Array) => void) | undefined;
  private hangUp: (() => void) | undefined;

  takeTerminal(keys: (bytes: Uint8Array) => void, hangUp: () => void): boolean {
    if (!this.terminal) return false;
    this.keys = keys;
    this.hangUp = hangUp;
    // Input a console of an older snapshot kept for a read: the terminal takes it now, in order.
    if (this.pending.length > 0) { keys(this.pending); this.pending = new Uint8Array(0); }
    if (this.ended) hangUp();
    return true;
  }

  /** Takes a console's state (output so far, input not yet read); what this one had is dropped. */
  restoreState(state: ConsoleState): void {
    // The output it carried (the validator checked it ends at outputOffset) is kept here for late clients.
    this.log = (state.recentOutput ?? []).map((c) => ({ offset: c.offset, stream: c.stream, data: Uint8Array.from(c.data) }));
    this.logBytes = this.log.reduce((n, c) => n + c.data.length, 0);
    this.logStart = state.outputOffset - this.logBytes;
    this.pending = Uint8Array.from(state.pendingInput);
    this.ended = state.inputEnded;
    this.inputOffset = state.inputOffset;
  }

  get outputOffset(): number {
    return this.logStart + this.logBytes;
  }

  write(stream: 1 | 2, written: Uint8Array): void {
    const offset = this.outputOffset;
    const last = this.log[this.log.length - 1];
    // `written` is the guest's memory or the kernel's scratch (ProcessConsole.write): the log's copy is what is kept,
    // and what the listeners get (a client's socket sends it later).
    let bytes: Uint8Array;
    if (last && last.stream === stream && last.data.length < 65536) {
      // Small writes to the same stream join the previous chunk.
      const joined = new Uint8Array(last.data.length + written.length);
      joined.set(last.data);
      joined.set(written, last.data.length);
      bytes = joined.subarray(last.data.length); // a joined array is never written again: a later join makes another
      last.data = joined;
    } else {
      bytes = Uint8Array.from(written);
      this.log.push({ offset, stream, data: bytes });
    }
    this.logBytes += bytes.length;
    // Forget the oldest output beyond what we keep.
    while (this.logBytes - this.log[0].data.length >= KEEP_OUTPUT) {
      const gone = this.log.shift()!;
      this.logBytes -= gone.data.length;
      this.logStart += gone.data.length;
    }
    if (this.releasedUpTo !== undefined) return; // held: releaseOutput() passes it on
    for (const listener of this.listeners) listener(offset, bytes, stream);
  }

  /** From now on output is kept from listeners and from outputSince() until releaseOutput() lets it go. */
  holdOutput(): void {
    this.releasedUpTo ??= this.outputOffset;
  }

  /** Passes the held output up to `upTo` on to listeners; with `stop`, everything, and output flows freely again. */
  releaseOutput(upTo: number, stop = false): void {
    const from = this.releasedUpTo;
    if (from === undefined) return;
    const to = Math.min(stop ? Infinity : upTo, this.outputOffset);
    if (to > from) {
      this.releasedUpTo = to;
      for (const chunk of this.allOutputSince(Math.max(from, this.logStart))) {
        const data = chunk.data.subarray(0, Math.max(0, to - chunk.offset));
        if (data.length) for (const listener of this.listeners) listener(chunk.offset, data, chunk.stream);
      }
    }
    if (stop) this.releasedUpTo = undefined;
  }

  /** Under replication, input counts as taken (for clients) only up to `upTo`, what the backup has; undefined: all of it. */
  commitInput(upTo: number | undefined): void {
    this.inputCommitted = upTo;
  }

  /** The input offset a client may forget up to: what was accepted, or under replication what the backup has of it. */
  get acknowledgedInput(): number {
    return this.inputCommitted === undefined ? this.inputOffset : Math.min(this.inputOffset, this.inputCommitted);
  }

  /** Output written but not yet released (0 when output is not held). */
  get heldBytes(): number {
    return this.releasedUpTo === undefined ? 0 : this.outputOffset - this.releasedUpTo;
  }

  get keptFrom(): number {
    return this.logStart;
  }

  /** Output from `offset` on (or from the oldest byte still kept, if later), chunk by chunk with its stream; held output not. */
  outputSince(offset: number): OutputChunk[] {
    const upTo = this.releasedUpTo ?? Infinity;
    return this.allOutputSince(offset).filter((c) => c.offset < upTo).map((c) => ({ ...c, data: c.data.subarray(0, upTo - c.offset) }));
  }

  /** Output from `offset` on, held or not (the state a snapshot carries has all of it). */
  private allOutputSince(offset: number): OutputChunk[] {
    const chunks: OutputChunk[] = [];
    for (const chunk of this.log) {
      const end = chunk.offset + chunk.data.length;
      if (end <= offset) continue;
      const skip = Math.max(0, offset - chunk.offset);
      chunks.push({ offset: chunk.offset + skip, stream: chunk.stream, data: chunk.data.subarray(skip) });
    }
    return chunks;
  }

  onOutput(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Input numbered from `offset`: bytes already accepted are skipped, so a
   * client may resend everything it has not seen acknowledged. Returns the new
   * input offset (what the client can forget).
   */
  pushInput(offset: number, bytes: Uint8Array): number {
    const skip = this.inputOffset - offset;
    if (skip < 0) return this.inputOffset; // a gap: the client must resend from inputOffset
    if (skip < bytes.length) {
      const fresh = bytes.subarray(skip);
      if (this.keys) {
        this.inputOffset += fresh.length;
        this.keys(fresh);
        for (const listener of this.acceptedListeners) listener();
        return this.inputOffset;
      }
      const joined = new Uint8Array(this.pending.length + fresh.length);
      joined.set(this.pending);
      joined.set(fresh, this.pending.length);
      this.pending = joined;
      this.inputOffset += fresh.length;
      this.wakeReaders();
      for (const listener of this.acceptedListeners) listener();
    }
    return this.inputOffset;
  }

  endInput(): void {
    this.ended = true;
    this.hangUp?.();
    this.wakeReaders();
    for (const listener of this.endedListeners) listener();
  }

  /** A machine-mode guest forwards accepted input to its UART at once. */
  onInputAccepted(listener: () => void): void {
    this.acceptedListeners.add(listener);
  }

  onInputEnded(listener: () => void): void {
    this.endedListeners.add(listener);
  }

  get acceptedInput(): number {
    return this.inputOffset;
  }

  read(max: number): Uint8Array | null {
    if (this.pending.length === 0) return this.ended ? new Uint8Array(0) : null;
    const out = this.pending.slice(0, max);
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  hasInput(): boolean {
    return this.pending.length > 0 || this.ended;
  }

  inputReady(): Promise<void> {
    if (this.pending.length > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.inputWaiters.push(resolve));
  }

  isTerminal(): boolean {
    return this.terminal !== undefined;
  }

  windowSize(): { rows: number; columns: number } | null {
    return this.terminal ?? null;
  }

  /**
   * A guest on a host writes to the host's buffers and reads what clients
   * send: without a terminal, neither a file nor a terminal, so its 0, 1 and
   * 2 are what Linux shows for a pipe (S_IFIFO; lseek gives ESPIPE; not a
   * tty), as in a container started without one (an attached terminal then
   * edits lines on the client's side); with one, a terminal, as `docker run -t`.
   */
  describe(): StreamDescription {
    return this.terminal ? { kind: "terminal" } : { kind: "pipe" };
  }

  state(): ConsoleState {
    return {
      outputOffset: this.outputOffset, pendingInput: this.pending.slice(), inputEnded: this.ended, inputOffset: this.inputOffset,
      recentOutput: this.allOutputSince(Math.max(this.logStart, this.outputOffset - CARRIED_OUTPUT)).map((c) => ({ ...c, data: c.data.slice() })),
    };
  }

  private wakeReaders(): void {
    for (const wake of this.inputWaiters.splice(0)) wake();
  }
}
