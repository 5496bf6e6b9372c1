// Moving a replicated guest (issue 13): `roam migrate`, a drain or the
// balancer move it as any guest, but the move runs inside its replication's
// loop, between two epochs, so the backup always holds a whole epoch and the
// guest is never without one for longer than the move.
//
// First a last epoch, with the guest left frozen, acknowledged: the backup now
// holds exactly the guest's state and all its output may go. Then:
// - the destination IS the backup: it is promoted (rep-promote), a failover
//   without loss; this host drops its copy, attached clients follow.
// - otherwise the backup is told where the guest goes (rep-handoff) and the
//   ordinary migration runs (departures.ts), the output still held. Should this
//   host die during the move, the backup does not simply take over: it asks
//   the destination first (rep-fence), which either runs the guest already (the
//   backup stands down) or refuses from then on to start it (the backup takes
//   over). After the commit the destination is asked to replicate the guest on
//   to the same backup, whose new link replaces this one. A migration that
//   fails leaves the guest here: the backup is told (rep-handoff without a
//   destination) and the next epoch sends every written page, since the
//   migration's rounds used the dirty bitmap.

import type { HostedGuest } from "../cluster/hosted-guest.js";
import { isLive } from "../cluster/hosted-guest.js";
import { hostUrlKey } from "../cluster/members.js";
import { MigrationFailed } from "../migration/source.js";
import { newStats, type MigrationStats } from "../migration/stats.js";
import { connect, type Peer } from "../net/peer.js";
import { ProtocolError } from "../net/protocol.js";
import type { ReplicationStats } from "./epoch.js";
import type { PrimaryHost } from "./primary.js";
import { nowMs } from "../machine/host-clock.js";

const ANSWER_MS = 10_000;
/** The backup hears from the primary this often during a move (no epochs then), well inside its silence bound. */
const ALIVE_EVERY_MS = 250;

export interface MoveRequest {
  to: string;
  move: (signal: AbortSignal) => Promise<MigrationStats>;
  resolve: (stats: MigrationStats) => void;
  reject: (error: Error) => void;
}

/** What a move needs of the replication it runs in (primary.ts). */
export interface Moving {
  readonly hosted: HostedGuest;
  readonly host: PrimaryHost;
  readonly backup: string;
  readonly token: string | undefined;
  readonly epochMs: number;
  readonly stats: ReplicationStats;
  readonly peer: Peer | undefined;
  /** A last epoch, the guest left frozen; true once the backup has acknowledged every epoch. */
  finalEpoch(): Promise<boolean>;
  /** The next epoch sends every page written (the dirty bitmap was used by a migration). */
  sendAllNext(): void;
  /** The guest runs elsewhere now: the replication ends here. */
  ended(note: string): void;
}

export async function moveReplicated(r: Moving, request: MoveRequest, signal: AbortSignal): Promise<MigrationStats> {
  const id = r.hosted.info.id;
  if (r.stats.status !== "protected" || !r.peer?.open) {
    throw new ProtocolError(`guest ${id}'s replication to ${r.backup} is ${r.stats.status}; migrate it once it is protected again`);
  }
  const frozenAt = nowMs();
  if (!(await r.finalEpoch())) throw new MigrationFailed(`guest ${id} lost its backup ${r.backup} as its move began; it stays here`);
  if (sameHost(request.to, r.backup)) return promote(r, request.to, frozenAt);
  return handOff(r, request, signal);
}

/** The destination is the backup: it takes the guest over from the epoch just acknowledged, which is all of it. */
async function promote(r: Moving, to: string, frozenAt: number): Promise<MigrationStats> {
  const hosted = r.hosted;
  const stats = newStats(hosted.info.id, "stop-copy", r.host.url, to);
  const epoch = r.stats.ackedEpoch;
  try {
    await r.peer!.request({ t: "rep-promote", guest: hosted.info.id }, ANSWER_MS);
  } catch (error) {
    // Whether it took over is settled as for a lost link: the loop asks it again (owned: this copy is fenced).
    r.peer?.terminate();
    throw new MigrationFailed(`promoting backup ${to}: ${(error as Error).message}`);
  }
  const note = `promoted: its backup ${to} took it over at epoch ${epoch}, the guest frozen since (nothing lost or repeated)`;
  r.ended(note);
  r.host.fenced(hosted, to); // moved there: clients follow, kills and attaches are passed on
  r.host.log(`guest ${hosted.info.id} moved to its backup ${to} (${note})`, "info");
  const ms = nowMs() - frozenAt;
  return { ...stats, status: "completed", totalMs: ms, downtimeMs: ms, replication: note };
}

async function handOff(r: Moving, request: MoveRequest, signal: AbortSignal): Promise<MigrationStats> {
  const hosted = r.hosted;
  const id = hosted.info.id;
  try {
    await r.peer!.request({ t: "rep-handoff", guest: id, to: request.to }, ANSWER_MS);
  } catch (error) {
    r.peer?.terminate(); // the loop settles with the backup as for any lost link (the guest stays frozen meanwhile)
    throw new MigrationFailed(`telling backup ${r.backup} of the move: ${(error as Error).message}`);
  }
  const alive = setInterval(() => r.peer?.send({ t: "rep-alive", guest: id }), ALIVE_EVERY_MS);
  try {
    hosted.thaw();
    let stats: MigrationStats;
    try {
      stats = await request.move(signal);
    } catch (error) {
      if (isLive(hosted.status) && r.peer?.open) {
        r.sendAllNext();
        await r.peer.request({ t: "rep-handoff", guest: id, to: null }, ANSWER_MS).catch(() => r.peer?.terminate());
      }
      throw error;
    } finally {
      hosted.migrationProgress = undefined; // (exclusively() clears it for a migration that is the guest's own operation)
    }
    if (hosted.status !== "moved") return stats;
    stats.replication = await replicateOn(r, request.to);
    r.ended(stats.replication);
    return stats;
  } finally {
    clearInterval(alive);
  }
}

/** Asks the destination to replicate the guest to the same backup; says what came of it. */
async function replicateOn(r: Moving, to: string): Promise<string> {
  const id = r.hosted.info.id;
  let peer: Peer | undefined;
  try {
    peer = await connect(to, { role: "client", token: r.token });
    await peer.request({ t: "replicate", guest: id, to: r.backup, epochMs: r.epochMs, token: r.token }, 60_000);
    return `replicated on from ${to} to ${r.backup}`;
  } catch (error) {
    const note = `${to} could not replicate it on to ${r.backup}: ${(error as Error).message}`;
    r.host.log(`guest ${id} moved to ${to}, but ${note}`, "warn");
    return note;
  } finally {
    peer?.close();
  }
}

function sameHost(a: string, b: string): boolean {
  try {
    return hostUrlKey(a) === hostUrlKey(b);
  } catch {
    return false;
  }
}
