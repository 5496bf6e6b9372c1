// stop-copy (the seed's "total freezing"): freeze, then send every non-zero page.

import { PAGE } from "../pages.js";
import type { AddressSpaceTransfer } from "./transfer.js";

export const stopCopy: AddressSpaceTransfer = async (t) => {
  await t.freeze();
  const finalPages = t.allPages();
  t.meter.tick(finalPages.length * PAGE); // not forced: the client hears at the next batch past 200 ms
  return { finalPages, postcopy: null };
};
