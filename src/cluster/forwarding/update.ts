// Link update: during the transfer the source tells every host its guest
// communicates with where the guest is going; messages of types 1 and 2 are
// forwarded by the source, type 3 goes straight to the destination.

import type { ForwardingApproach } from "./approach.js";

export const update: ForwardingApproach = {
  name: "update",
  route: (place) => place.at,
  whileFrozen: () => ({ do: "queue" }),
  afterLeaving: (to) => ({ do: "forward", to, tellSender: false }),
  tellsCorrespondents: true,
  tellsOrigin: false,
};
