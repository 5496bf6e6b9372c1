// hybrid: precopy rounds, switching to postcopy when they stop converging
// (after 5 rounds, or 3 that did not shrink): the guest restarts at the
// destination with what is still dirty left to fetch.

import { precopyRounds } from "./precopy.js";
import type { AddressSpaceTransfer } from "./transfer.js";

export const hybrid: AddressSpaceTransfer = (t) => precopyRounds(t, { switchToPostcopy: true });
