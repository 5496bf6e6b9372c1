// The seed's four ways to reach a guest that moved ("Message forwarding"),
// each a small module behind this interface, chosen per guest by name
// (`roam run --forwarding`, `roam migrate --forwarding`). docs/MESSAGES.md
// has the table of what each does with the three types of message:
// (1) arrives while the guest is frozen at the source, (2) arrives at the
// source after it restarted elsewhere, (3) sent to it after it restarted.

import type { GuestMessage } from "../../net/host-links.js";

export const FORWARDING_APPROACHES = ["resend", "origin", "traversal", "update"] as const;
export type ForwardingName = (typeof FORWARDING_APPROACHES)[number];
export const DEFAULT_FORWARDING: ForwardingName = "update";

/** Where a guest is, as a host last heard, and how messages reach it. */
export interface GuestPlace {
  at: string; // the host running it (URL)
  origin: string; // the host it started on
  forwarding: ForwardingName;
}

/** What a host does with a message for a guest that is not running here. */
export type Disposal =
  | { do: "queue" } // held here, sent on when the guest runs again (here or where it went)
  | { do: "forward"; to: string; tellSender: boolean } // passed on; tellSender: the sender's host learns the newer place
  | { do: "refuse"; reason: string }; // a nack to the sender's host, which locates the guest and sends again

export interface ForwardingApproach {
  readonly name: ForwardingName;
  /** The host a sender's host sends a message for a guest at `place` to. */
  route(place: GuestPlace, self: string): string;
  /** Type 1: the guest is frozen here for a migration. */
  whileFrozen(): Disposal;
  /** Types 2 and 3 at an old host: the guest left for `to` (a forwarding address held here). */
  afterLeaving(to: string): Disposal;
  /** At the commit: tell every host the guest talked with where it went (link update). */
  readonly tellsCorrespondents: boolean;
  /** At the commit: tell the guest's origin where it went. */
  readonly tellsOrigin: boolean;
}

/** A message as it left its guest, with what the hosts on the way add. */
export type Routed = GuestMessage & { id: string; hops: string[]; sentAt: number; fromPlace: GuestPlace };
