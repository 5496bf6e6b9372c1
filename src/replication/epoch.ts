// Replication (issue 13), what both ends share: the epoch's timing, the
// failover bound, and what `roam stats` and `roam ps` show of it.
//
// A replicated guest runs on its primary; every epoch the primary freezes it
// at a slice boundary, takes the pages dirtied since the last epoch and the
// state's changes, resumes it at once and streams them to the backup, which
// commits an epoch only when all of it has arrived, and acknowledges it. The
// guest's console output of epoch N is released only once epoch N is
// acknowledged (output-commit.ts). docs/ARCHITECTURE.md, "Replication".

export const DEFAULT_EPOCH_MS = 25;
export const MIN_EPOCH_MS = 1;
export const MAX_EPOCH_MS = 10_000;

/** Epochs sent but not yet acknowledged, at most: beyond, the primary waits (a slow backup slows the epochs, not memory). */
export const EPOCHS_IN_FLIGHT = 4;

/**
 * How long the backup waits without a word from its primary before it takes
 * over: a closed link is noticed at once; a silent one after this long. A
 * primary sends an epoch every epochMs, so 40 missed epochs (at least 2 s:
 * a loaded host's event loop may stall for a second) mean it is gone.
 */
export function silenceBoundMs(epochMs: number): number {
  return Math.max(2000, 40 * epochMs);
}

export type ReplicationRole = "primary" | "backup";

/**
 * syncing: the first epoch (everything) is on its way; protected: epochs flow;
 * reconnecting: the primary lost its backup (the guest is frozen meanwhile);
 * unprotected: the backup is certainly gone, the guest runs on without one;
 * took-over: the backup runs the guest (failover); fenced: the primary learnt
 * its backup took over and dropped its copy; ended: the guest ended, or the
 * replication was stopped; moved: the guest migrated (its new host replicates
 * it on, or its backup was promoted).
 */
export type ReplicationStatus = "syncing" | "protected" | "reconnecting" | "unprotected" | "took-over" | "fenced" | "ended" | "moved";

export interface ReplicationStats {
  guest: string;
  role: ReplicationRole;
  /** The other end: the backup's URL on the primary, the primary's name on the backup. */
  peer: string;
  status: ReplicationStatus;
  epochMs: number;
  startedAt: string;
  /** Epochs sent (primary) or committed (backup). */
  epochs: number;
  /** The last epoch the backup acknowledged (primary) or committed (backup). */
  ackedEpoch: number;
  /** The guest's pause per epoch (freeze to resume), ms: the last, the mean and the longest. */
  pauseMs: { last: number; mean: number; max: number };
  /** The first epoch's pause (it copies every page ever written), ms. */
  firstPauseMs: number;
  /** Bytes to the backup: all, the last epoch's, and the mean per epoch after the first (which sends every page ever written). */
  bytes: number;
  firstEpochBytes: number;
  lastEpochBytes: number;
  meanEpochBytes: number;
  /** From an epoch's freeze to its acknowledgement, ms (mean): output waits this long after its epoch ends. */
  ackMs: number;
  /** Console output written but not yet released (waiting for its epoch's acknowledgement). */
  outputHeldBytes: number;
  /** Primary: messages to other guests (and port relays) sent but not yet released, as of the last epoch or ack. */
  messagesHeld?: number;
  /** Backup: the console's output offset in the last complete epoch (no client can have seen beyond it). */
  committedOutput?: number;
  /** Backup: from the primary's last word to the guest's first instruction here, and how long noticing took. */
  failoverMs?: number;
  detectMs?: number;
  tookOverAt?: string;
  error?: string;
}

export function newReplicationStats(guest: string, role: ReplicationRole, peer: string, epochMs: number): ReplicationStats {
  return {
    guest, role, peer, status: "syncing", epochMs, startedAt: new Date().toISOString(), epochs: 0, ackedEpoch: 0,
    pauseMs: { last: 0, mean: 0, max: 0 }, firstPauseMs: 0, ackMs: 0, bytes: 0, firstEpochBytes: 0, lastEpochBytes: 0, meanEpochBytes: 0, outputHeldBytes: 0,
  };
}

/** One line for `roam stats` and `roam ps`. */
export function formatReplication(r: ReplicationStats): string {
  if (r.role === "backup") {
    const head = `backup of ${r.guest} for ${r.peer}: ${r.status}, epoch ${r.ackedEpoch} committed (every ${r.epochMs} ms), ${kib(r.bytes)} received`;
    if (r.status !== "took-over") return head + (r.error ? `; ${r.error}` : "");
    if (r.failoverMs === undefined) return `${head}; took over at ${r.tookOverAt}${r.error ? ` (${r.error})` : ""}`;
    return `${head}; took over at ${r.tookOverAt}: failover ${r.failoverMs!.toFixed(1)} ms (noticing ${r.detectMs!.toFixed(1)} ms)${r.error ? ` (${r.error})` : ""}`;
  }
  return `replicated to ${r.peer}: ${r.status}, epoch ${r.epochs} sent, ${r.ackedEpoch} acknowledged (every ${r.epochMs} ms); ` +
    `pause ${r.pauseMs.mean.toFixed(2)} ms mean, ${r.pauseMs.max.toFixed(2)} max (first ${r.firstPauseMs.toFixed(1)}); acknowledged ${r.ackMs.toFixed(1)} ms after; ${kib(r.meanEpochBytes)} per epoch (first ${kib(r.firstEpochBytes)}); ` +
    `output held ${r.outputHeldBytes} bytes${r.messagesHeld ? `, ${r.messagesHeld} messages` : ""}${r.error ? `; ${r.error}` : ""}`;
}

function kib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / 1048576).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
