// Re-sending: messages of types 1 and 2 are refused where the guest is not
// running, the sender's host is told (a nack), locates the guest by asking the
// hosts it knows, and sends again. No host keeps anything for a guest that left.
// The seed calls this non-transparent; here the sending host hides it: the
// program only sees a delay (docs/MESSAGES.md).

import type { ForwardingApproach } from "./approach.js";

export const resend: ForwardingApproach = {
  name: "resend",
  route: (place) => place.at,
  whileFrozen: () => ({ do: "refuse", reason: "frozen for a migration" }),
  afterLeaving: () => ({ do: "refuse", reason: "not here" }),
  tellsCorrespondents: false,
  tellsOrigin: false,
};
