// The strategies by name (`roam migrate --strategy`).

import type { Strategy } from "../stats.js";
import { hybrid } from "./hybrid.js";
import { postcopy } from "./postcopy.js";
import { precopy } from "./precopy.js";
import { stopCopy } from "./stop-copy.js";
import type { AddressSpaceTransfer } from "./transfer.js";

export const TRANSFERS: Record<Strategy, AddressSpaceTransfer> = { "stop-copy": stopCopy, precopy, postcopy, hybrid };
