// A guest's console when it runs on a host rather than in the CLI: output goes
// into a numbered log (by byte offset) that attached clients read from any
// offset they have not seen; input arrives numbered too, so a line resent after
// a move is taken once. Its state travels with the guest.

import type { ConsoleState } from "../snapshot/snapshot.js";
import type { ProcessConsole } from "../kernel/syscalls.js";

const KEEP_OUTPUT = 1 << 20; // bytes of recent output kept for late or returning clients

export type OutputListener = (offset: number, bytes: Uint8Array, stream: 1 | 2) => void;

export class GuestConsole implements ProcessConsole {
  private log = new Uint8Array(0); // the last KEEP_OUTPUT bytes of output
  private logStart = 0; // offset of log[0]
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;
  private inputOffset = 0;
  private readonly listeners = new Set<OutputListener>();
  private readonly inputWaiters: Array<() => void> = [];
  private readonly acceptedListeners = new Set<() => void>();
  private readonly endedListeners = new Set<() => void>();

  constructor(state?: ConsoleState) {
    if (state) {
      this.logStart = state.outputOffset;
      this.pending = Uint8Array.from(state.pendingInput);
      this.ended = state.inputEnded;
      this.inputOffset = state.inputOffset;
    }
  }

  get outputOffset(): number {
    return this.logStart + this.log.length;
  }

  write(stream: 1 | 2, bytes: Uint8Array): void {
    const offset = this.outputOffset;
    const joined = new Uint8Array(this.log.length + bytes.length);
    joined.set(this.log);
    joined.set(bytes, this.log.length);
    const drop = Math.max(0, joined.length - KEEP_OUTPUT);
    this.log = joined.subarray(drop);
    this.logStart += drop;
    for (const listener of this.listeners) listener(offset, bytes, stream);
  }

  /** Output from `offset` on, as far as it is still kept; null if it is gone. */
  outputSince(offset: number): Uint8Array | null {
    if (offset < this.logStart) return null;
    return this.log.slice(Math.min(offset - this.logStart, this.log.length));
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

  inputReady(): Promise<void> {
    if (this.pending.length > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.inputWaiters.push(resolve));
  }

  isTerminal(): boolean {
    return false;
  }

  windowSize(): null {
    return null;
  }

  state(): ConsoleState {
    return { outputOffset: this.outputOffset, pendingInput: this.pending.slice(), inputEnded: this.ended, inputOffset: this.inputOffset };
  }

  private wakeReaders(): void {
    for (const wake of this.inputWaiters.splice(0)) wake();
  }
}
