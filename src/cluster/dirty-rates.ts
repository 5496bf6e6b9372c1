// Each guest's dirty rate, measured all the time: the pages it first wrote
// since the last sample (its dirty bits), per second. The load vector carries
// the host's sum, and `which` prices a move by it. Before, the only figure was
// the last precopy round's, so a guest never migrated had none.

import { countDirtiedPages } from "../migration/pages.js";
import type { Core } from "../machine/core.js";
import { nowMs } from "../machine/host-clock.js";

/** What a sample needs of a guest. */
export interface SampledGuest {
  id: string;
  core: Core;
  ramBytes: number;
}

const PAGE = 4096;

export class DirtyRates {
  private readonly last = new Map<string, { at: number; bytesPerSecond: number | undefined }>();

  /** Samples every guest given (the live ones); forgets the others. A first sample only starts the count. */
  sample(guests: SampledGuest[], now = nowMs()): void {
    const seen = new Set<string>();
    for (const g of guests) {
      seen.add(g.id);
      const pages = countDirtiedPages(g.core, g.ramBytes / PAGE);
      const before = this.last.get(g.id);
      const seconds = before ? (now - before.at) / 1000 : 0;
      this.last.set(g.id, { at: now, bytesPerSecond: seconds > 0 ? (pages * PAGE) / seconds : undefined });
    }
    for (const id of this.last.keys()) if (!seen.has(id)) this.last.delete(id);
  }

  /** Bytes per second the guest dirtied between its last two samples (undefined before its second). */
  of(id: string): number | undefined {
    return this.last.get(id)?.bytesPerSecond;
  }
}
