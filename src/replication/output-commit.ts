// Output commit (Remus): what the guest writes to its console during epoch N
// reaches attached clients (and everything that reads the console's log) only
// once the backup has acknowledged epoch N. After a failover the backup's guest
// goes on from the last epoch it committed, whose console state carries the
// output up to that epoch's end: nothing a client saw is missing there, so
// nothing is repeated, and what no client saw is produced (or served from the
// carried log) again by the new primary. Input likewise: a client is told its
// input was taken only once an acknowledged epoch holds it, so it keeps the
// rest and sends it again to the backup after a failover. Messages to other
// guests likewise (held-messages.ts).

import type { HostedGuest } from "../cluster/hosted-guest.js";
import type { GuestConsole } from "../guest/guest-console.js";
import type { GuestMessage } from "../net/host-links.js";
import { HeldMessages } from "./held-messages.js";

export class OutputCommit {
  /** Console output and input offsets, and the messages sent, at the end of each epoch sent and not yet acknowledged. */
  private readonly ends = new Map<number, { output: number; input: number; messages: number }>();
  private readonly console: GuestConsole;
  private readonly messages: HeldMessages;

  /** `send`: where a released message goes (the host's switch). */
  constructor(hosted: HostedGuest, send: (message: GuestMessage) => void) {
    this.console = hosted.console;
    this.messages = new HeldMessages(hosted, send);
  }

  /** From now on output waits for its epoch's acknowledgement. */
  start(): void {
    this.console.holdOutput();
    this.console.commitInput(this.console.acknowledgedInput);
    this.messages.start();
  }

  /** Epoch `epoch` ended (the guest frozen) with the console at this offset. */
  epochEnded(epoch: number): void {
    this.ends.set(epoch, { output: this.console.outputOffset, input: this.console.acceptedInput, messages: this.messages.offset });
  }

  /** The backup committed `epoch` (and so every earlier one): its output may go. */
  acknowledged(epoch: number): void {
    const end = this.ends.get(epoch);
    if (end === undefined) return;
    for (const e of this.ends.keys()) if (e <= epoch) this.ends.delete(e);
    this.console.releaseOutput(end.output);
    this.console.commitInput(end.input);
    this.messages.releaseUpTo(end.messages);
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
    this.messages.releaseAll();
  }

  get heldBytes(): number {
    return this.console.heldBytes;
  }

  /** Messages to other guests waiting for their epoch's acknowledgement. */
  get heldMessages(): number {
    return this.messages.count;
  }
}
