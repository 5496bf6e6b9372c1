// What a host needs from a guest of either kind (process or machine mode).

import type { Core } from "../machine/core.js";
import type { GuestInfo, GuestSnapshot, RamPages } from "../snapshot/snapshot.js";
import type { GuestConsole } from "./guest-console.js";

export interface GuestRunResult {
  paused?: boolean; // frozen by pause(): run() continues it
  exitCode: number;
  report?: string;
  instret: bigint;
}

export interface RunnableGuest {
  readonly info: GuestInfo;
  readonly core: Core;
  readonly console: GuestConsole;
  readonly instret: bigint;
  run(): Promise<GuestRunResult>;
  pause(): void;
  setThrottle(fraction: number): void;
  kill(): void;
  snapshot(): GuestSnapshot;
  snapshotWithout(ram: RamPages): GuestSnapshot;
  /** What it still needs from other hosts (files left behind), for ps and stats. */
  dependencies(): string[];
}
