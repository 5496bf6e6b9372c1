// Output commit (Remus): what the guest writes to its console during epoch N
// reaches attached clients (and everything that reads the console's log) only
// once the backup has acknowledged epoch N. After a failover the backup's guest
// goes on from the last epoch it committed, whose console state carries the
// output up to that epoch's end: nothing a client saw is missing there, so
// nothing is repeated, and what no client saw is produced (or served from the
// carried log) again by the new primary. Input likewise: a client is told its
// input was taken only once an acknowledged epoch holds it, so it keeps the
// rest and sends it again to the backup after a failover.

import type { GuestConsole } from "../guest/guest-console.js";

export class OutputCommit {
  /** Console output and input offsets at the end of each epoch sent and not yet acknowledged. */
  private readonly ends = new Map<number, { output: number; input: number }>();

  constructor(private readonly console: GuestConsole) {}

  /** From now on output waits for its epoch's acknowledgement. */
  start(): void {
    this.console.holdOutput();
    this.console.commitInput(this.console.acknowledgedInput);
  }

  /** Epoch `epoch` ended (the guest frozen) with the console at this offset. */
  epochEnded(epoch: number): void {
    this.ends.set(epoch, { output: this.console.outputOffset, input: this.console.acceptedInput });
  }

  /** The backup committed `epoch` (and so every earlier one): its output may go. */
  acknowledged(epoch: number): void {
    const end = this.ends.get(epoch);
    if (end === undefined) return;
    for (const e of this.ends.keys()) if (e <= epoch) this.ends.delete(e);
    this.console.releaseOutput(end.output);
    this.console.commitInput(end.input);
  }

  /** Epochs not acknowledged will never be (a new backup starts from scratch). */
  forgetEpochs(): void {
    this.ends.clear();
  }

  /** Replication is over (the guest ended with the backup told, or runs on unprotected): all output goes, and flows freely. */
  releaseAll(): void {
    this.ends.clear();
    this.console.releaseOutput(Infinity, true);
    this.console.commitInput(undefined);
  }

  get heldBytes(): number {
    return this.console.heldBytes;
  }
}
