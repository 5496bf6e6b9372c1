// After a failover the guest runs on its old backup, with no backup of its own:
// a second death would lose it. So the new primary picks a new backup among
// the cluster's members — up, carrying the guest's labels (the backup may run
// it next), with room for its RAM, the fastest for it first, never the dead
// primary — and replicates to it with the same epoch. A member that cannot be
// reached (a dead host the cluster has not yet marked down) is passed over;
// with none left the guest runs on unprotected and the search is tried again
// every second, until a backup is found, the guest ends, or someone replicates
// it by hand (its replication is then its one operation).

import type { HostedGuest } from "../cluster/hosted-guest.js";
import { isLive } from "../cluster/hosted-guest.js";
import type { GuestInfo } from "../snapshot/snapshot.js";

const RETRY_MS = 1000;

export interface NewBackupHost {
  readonly url: string;
  readonly token?: string;
  readonly guests: Map<string, HostedGuest>;
  log(line: string, level?: "info" | "warn" | "error"): void;
  /** Members that may keep a backup of `info`, best first, none of `exclude`. */
  backupCandidates(info: GuestInfo, exclude: string[]): string[];
}

/**
 * Replicates guest `id` (just taken over here from `deadPrimary`) to a new
 * backup from the cluster; resolves once one has its first epoch, or when
 * there is nothing left to protect. `replicate` is Replications.replicate.
 */
export async function findNewBackup(
  host: NewBackupHost, id: string, deadPrimary: string, epochMs: number, stopped: () => boolean,
  replicate: (hosted: HostedGuest, to: string, epochMs: number, token: string | undefined) => Promise<unknown>,
): Promise<void> {
  let toldNone = false;
  for (;;) {
    const hosted = host.guests.get(id);
    if (stopped() || !hosted || !isLive(hosted.status) || hosted.operation) return;
    const candidates = host.backupCandidates(hosted.info, [host.url, deadPrimary]);
    for (const url of candidates) {
      try {
        await replicate(hosted, url, epochMs, host.token);
        host.log(`guest ${id}: taken over here, it has a new backup: ${url}`, "info");
        return;
      } catch (error) {
        host.log(`guest ${id}: ${url} cannot keep its backup: ${(error as Error).message}`, "warn");
        if (hosted.operation || !isLive(hosted.status)) return; // replicated meanwhile by another request, or ended
      }
    }
    if (!toldNone) host.log(`guest ${id}: no member of the cluster can keep its backup now (${candidates.length} tried); it runs unprotected, looking again every ${RETRY_MS / 1000} s`, "warn");
    toldNone = true;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
  }
}
