// Output commit for messages (issue 13): what a replicated guest sends to
// other guests and to published ports' relays — stream data, acks, fins,
// datagrams, connects — waits at its primary until the backup acknowledged
// the epoch that sent it, as its console output does (output-commit.ts).
// An ack counts as output too: it lets the other end forget bytes the backup's
// guest may not have. After a failover the held messages die with the primary;
// the backup's guest, going on from its last epoch, sends them again (its
// streams send again what they kept: Sockets.resumeAfterTakeover).
// Requests that change files on other hosts wait here too, in the same order
// (as actions: src/cluster/remote-files.ts sends them when they are let go).

import type { HostedGuest, MessageHold } from "../cluster/hosted-guest.js";
import type { GuestMessage } from "../net/host-links.js";

export class HeldMessages implements MessageHold {
  private readonly held: Array<GuestMessage | (() => void)> = [];
  /** How many messages went before held[0] (released, in order). */
  private released = 0;

  /** `send`: the host's way out for a message released (GuestMessaging.sendHeld). */
  constructor(private readonly hosted: HostedGuest, private readonly send: (message: GuestMessage) => void) {}

  /** From now on the guest's messages wait here. */
  start(): void {
    this.hosted.heldMessages = this;
  }

  hold(message: GuestMessage): void {
    this.held.push(message);
  }

  holdAction(go: () => void): void {
    this.held.push(go);
  }

  /** The offset after the last message sent so far (an epoch's end, as the console's output offset). */
  get offset(): number {
    return this.released + this.held.length;
  }

  get count(): number {
    return this.held.length;
  }

  /** Sends, in order, every message before `offset`. */
  releaseUpTo(offset: number): void {
    const n = Math.min(offset - this.released, this.held.length);
    if (n <= 0) return;
    const going = this.held.splice(0, n);
    this.released += n;
    for (const item of going) {
      if (typeof item === "function") item();
      else this.send(item);
    }
  }

  releaseAll(): void {
    if (this.hosted.heldMessages === this) this.hosted.heldMessages = undefined;
    this.releaseUpTo(this.offset);
  }
}
