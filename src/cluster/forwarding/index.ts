// The four approaches by name.

import { FORWARDING_APPROACHES, type ForwardingApproach, type ForwardingName } from "./approach.js";
import { ProtocolError } from "../../net/protocol.js";
import { origin } from "./origin.js";
import { resend } from "./resend.js";
import { traversal } from "./traversal.js";
import { update } from "./update.js";

const BY_NAME: Record<ForwardingName, ForwardingApproach> = { resend, origin, traversal, update };

export function forwardingApproach(name: ForwardingName): ForwardingApproach {
  return BY_NAME[name];
}

/** The name, checked: a ProtocolError naming what is wrong for anything else. */
export function forwardingName(value: unknown, what = "forwarding"): ForwardingName {
  if (typeof value === "string" && (FORWARDING_APPROACHES as readonly string[]).includes(value)) return value as ForwardingName;
  throw new ProtocolError(`${what}: ${JSON.stringify(value)} is not one of ${FORWARDING_APPROACHES.join(", ")}`);
}

export * from "./approach.js";
