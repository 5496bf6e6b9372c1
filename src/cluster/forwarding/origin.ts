// Origin site: the host a guest started on always knows where it is, and every
// message for it goes through that host, which passes it on. The origin is
// told at each commit; while the guest is frozen, messages the origin passed
// to the source wait there and follow it. Expensive (every message takes two
// hops) and the origin is a residual dependency for the guest's whole life.

import type { ForwardingApproach } from "./approach.js";

export const origin: ForwardingApproach = {
  name: "origin",
  route: (place, self) => (self === place.origin ? place.at : place.origin),
  whileFrozen: () => ({ do: "queue" }),
  afterLeaving: (to) => ({ do: "forward", to, tellSender: false }),
  tellsCorrespondents: false,
  tellsOrigin: true,
};
