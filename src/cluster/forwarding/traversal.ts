// Link traversal: type 1 messages are queued and sent on with the migration;
// the old host keeps a forwarding address (the guest's id, where it went) and
// passes types 2 and 3 on along it, telling the sender's host the newer place,
// so a chain of old hosts is followed once and then shortened.

import type { ForwardingApproach } from "./approach.js";

export const traversal: ForwardingApproach = {
  name: "traversal",
  route: (place) => place.at,
  whileFrozen: () => ({ do: "queue" }),
  afterLeaving: (to) => ({ do: "forward", to, tellSender: true }),
  tellsCorrespondents: false,
  tellsOrigin: false,
};
