// stop-copy (the seed's "total freezing"): freeze, then send every non-zero page.

import { PAGE } from "../pages.js";
import type { AddressSpaceTransfer } from "./transfer.js";

export const stopCopy: AddressSpaceTransfer = async (t) => {
  await t.freeze();
  const finalPages = t.allPages();
  t.meter.tick(finalPages.length * PAGE, true);
  return { finalPages, postcopy: null };
};
