// Address-space transfer, the part of a migration where the strategies
// differ (the seed's "total freezing, pretransferring, transfer on
// reference"): each strategy moves what it moves while the guest runs, freezes
// it, and hands over what is left — pages to send inside the downtime, and
// for postcopy the pages the destination will fetch after the restart.
// source.ts does the rest, the same for all: setup, commit, postcopy serving.

import type { Peer } from "../../net/peer.js";
import type { PageSender } from "../page-sender.js";
import type { ProgressMeter } from "../progress.js";
import type { MigratableGuest, MigrateOptions } from "../source.js";
import type { MigrationStats } from "../stats.js";

/** What a strategy works with. */
export interface Transfer {
  readonly guest: MigratableGuest;
  readonly peer: Peer;
  readonly stats: MigrationStats;
  readonly options: MigrateOptions;
  readonly pageCount: number;
  readonly sender: PageSender;
  readonly meter: ProgressMeter;
  /** Sends the state ahead (mig-prestate) and waits until the destination has built the guest from it; the guest runs on. */
  sendPrestate(): Promise<void>;
  /** Sends what changed since the prestate (mig-prestate-changes) and waits until the destination applied it; the guest runs on. */
  refreshPrestate(): Promise<void>;
  /** Freezes the guest, after sending the prestate if the strategy has not; from here on the downtime runs. */
  freeze(): Promise<void>;
  /** Pages ever written: a full pass looks only at these (the rest are zero). */
  allPages(): number[];
  /** Throws MigrationFailed if the migration was cancelled. */
  stopIfCancelled(): void;
}

/** What is left once the guest is frozen. */
export interface Handover {
  /** Pages to send inside the downtime, before the state. */
  finalPages: number[];
  /** Postcopy: bit per page the destination will fetch after the restart (null: none). */
  postcopy: Uint8Array | null;
}

export type AddressSpaceTransfer = (transfer: Transfer) => Promise<Handover>;
