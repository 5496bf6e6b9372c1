// A guest leaving this host by migration, as the host sees it: one migration
// of a guest at a time (HostedGuest.exclusively), cancellable until the commit
// leaves, and every ending told truthfully — the guest moved, it runs here
// still, or it is lost with the host it depended on. Never two running copies.

import { forwardingName } from "./forwarding/index.js";
import { MigrationFailed, migrateOut } from "../migration/source.js";
import { epochMs, trace, tracing } from "../migration/trace.js";
import { STRATEGIES, type MigrationStats, type Strategy } from "../migration/stats.js";
import { connect, type Peer } from "../net/peer.js";
import { optNum, optStr, ProtocolError, str, type Message } from "../net/protocol.js";
import type { HostedGuest } from "./hosted-guest.js";
import type { LogLevel } from "./host.js";
import { hostUrlKey } from "./members.js";
import { nowMs } from "../machine/host-clock.js";

/** What a departure needs from the host it leaves. */
export interface DepartureHost {
  readonly name: string;
  readonly url: string;
  readonly token?: string;
  /** Hosts this one may contact on its own: a destination becomes one. */
  readonly members: { learn(url: string): void };
  readonly guests: Map<string, HostedGuest>;
  readonly migrations: Map<string, MigrationStats[]>; // by guest id, kept after the guest leaves
  log(line: string, level?: LogLevel): void;
  /** The guest runs elsewhere now: no longer listed, but remembered (a kill or an attach follows it). */
  departed(hosted: HostedGuest): void;
  onMigrationPoint?: (guest: string, point: string, cut: () => void) => void;
  /**
   * A replicated guest's move is run by its replication (src/replication/),
   * which hands the backup over; undefined if `hosted` is not replicated here.
   */
  moveReplicated?(hosted: HostedGuest, to: string, move: (signal: AbortSignal) => Promise<MigrationStats>): Promise<MigrationStats> | undefined;
}

/**
 * The seed's options for a process that has children: "together" moves the
 * whole tree as one logical host (a guest's processes share its core, so that
 * is what every migration does); "disallow" refuses while there are children.
 */
function refuseChildren(hosted: HostedGuest, children: string): void {
  if (children === "together") return;
  if (children !== "disallow") throw new ProtocolError(`unknown children option '${children}' (together, disallow, home)`);
  const processes = (hosted.processes() ?? []).filter((p) => p.state !== "zombie");
  if (processes.length > 1) {
    const first = processes[0];
    throw new ProtocolError(`guest ${hosted.info.id}: process ${first.pid} (${first.name}) has ${processes.length - 1} live child process${processes.length > 2 ? "es" : ""}; --children disallow refuses to move a process with children`);
  }
}

/** The `migrate` request: moves `hosted` to `m.to`; resolves with the statistics, or throws saying what became of it. */
export async function migrateGuest(host: DepartureHost, hosted: HostedGuest, client: Peer | undefined, m: Message): Promise<MigrationStats> {
  const request = migrateRequest(hosted, m, host.token);
  const move = async (operationSignal: AbortSignal): Promise<MigrationStats> => {
    if (hosted.status !== "running") throw new ProtocolError(`guest ${hosted.info.id} is ${hosted.status}, not running`);
    const { signal, done } = underWay(hosted, request.to, operationSignal);
    try {
      return await moveTo(host, hosted, client, request, signal);
    } finally {
      done();
    }
  };
  return host.moveReplicated?.(hosted, request.to, move) ?? hosted.exclusively("migration", `a migration to ${request.to}`, move);
}

/** A `migrate` request, checked: where to, how, with which token, and how the guest's messages find it after. */
interface MigrateRequest {
  to: string;
  token?: string;
  settings: { strategy: Strategy; maxDowntimeMs: number; bandwidthBytesPerSecond?: number; maxRounds?: number };
  forwarding?: ReturnType<typeof forwardingName>;
}

/** Reads and checks a `migrate` request (a guest still receiving its memory by postcopy cannot move yet). */
function migrateRequest(hosted: HostedGuest, m: Message, hostToken: string | undefined): MigrateRequest {
  const to = str(m, "to");
  const strategy = (optStr(m, "strategy") ?? "precopy") as Strategy;
  if (!STRATEGIES.includes(strategy)) throw new ProtocolError(`unknown strategy '${strategy}' (${STRATEGIES.join(", ")})`);
  const token = optStr(m, "token") ?? hostToken;
  const settings = {
    strategy,
    maxDowntimeMs: optNum(m, "maxDowntimeMs", 0) ?? 5,
    bandwidthBytesPerSecond: optNum(m, "bandwidth", 1),
    maxRounds: optNum(m, "maxRounds", 1, 1000),
  };
  refuseChildren(hosted, optStr(m, "children") ?? "together");
  const forwarding = m.forwarding === undefined ? undefined : forwardingName(m.forwarding, "migrate: forwarding");
  if (hosted.status === "running" && hosted.guest.receivingPages) {
    throw new ProtocolError(`guest ${hosted.info.id} is still receiving its memory by postcopy; migrate it once that completes`);
  }
  return { to, token, settings, forwarding };
}

/** One attempt at the move, once it is this guest's operation: connect, migrate, and say truthfully how it ended. */
async function moveTo(host: DepartureHost, hosted: HostedGuest, client: Peer | undefined, request: MigrateRequest, signal: AbortSignal): Promise<MigrationStats> {
  const { to, token } = request;
  const traceStart = nowMs();
  const target = await unlessCancelled(linkTo(host, request), signal).catch((error) => {
    throw new MigrationFailed(`destination ${to}: ${(error as Error).message}`);
  });
  const history = host.migrations.get(hosted.info.id) ?? [];
  host.migrations.set(hosted.info.id, history);
  hosted.movedToken = token;
  if (request.forwarding) hosted.info.forwarding = request.forwarding; // travels in the snapshot's guest section
  try {
    const stats = await migrateOut(hosted, target, host.name, to, {
      ...request.settings,
      signal,
      ...departureHooks(host, hosted, client, request, () => target.terminate(), traceStart),
    });
    history.push(stats);
    host.log(`guest ${hosted.info.id} migrated to ${to} by ${request.settings.strategy} (downtime ${stats.downtimeMs.toFixed(2)} ms, ${(stats.bytes / 1048576).toFixed(1)} MiB)`);
    host.members.learn(to); // a host this one migrated a guest to
    if ((hosted.status as string) === "moved") hosted.release();
    return stats;
  } catch (error) {
    return await afterFailedMove(host, hosted, request, signal, history, error);
  } finally {
    target.close();
  }
}

/** A host link from `host` to the request's destination (the migration's own, and its urgent channel's). */
function linkTo(host: DepartureHost, request: MigrateRequest): Promise<Peer> {
  return connect(request.to, { role: "host", token: request.token, name: host.name, url: host.url });
}

/** What a departure does at the migration's points: the urgent channel, traces and test cuts, progress, the commit. */
function departureHooks(host: DepartureHost, hosted: HostedGuest, client: Peer | undefined, request: MigrateRequest, cut: () => void, traceStart: number) {
  const { to, settings: { strategy } } = request;
  return {
    openUrgentChannel: () => linkTo(host, request),
    checkpoint: (point: string) => {
      if (tracing) trace(`[${host.name}] migration ${hosted.info.id} ${point} +${(nowMs() - traceStart).toFixed(2)} ms (at ${epochMs().toFixed(3)})`);
      host.onMigrationPoint?.(hosted.info.id, point, cut);
    },
    onProgress: (s: MigrationStats) => {
      hosted.migrationProgress = s; // for stats and ps while it runs
      client?.send({ t: "migrate-progress", guest: hosted.info.id, stats: s });
    },
    onCommitted: () => {
      // A replicated guest's output of the move was held (its backup has none of it); the destination runs it now, so
      // the backup can no longer take over from before: it goes to clients here, before they are told where it went.
      hosted.console.releaseOutput(Infinity, true);
      hosted.heldMessages?.releaseAll(); // its messages of the move likewise, before the switch forwards to its new place
      hosted.moved(to);
      host.departed(hosted);
      // The source keeps the frozen core only while postcopy may still need its pages.
      if (strategy !== "postcopy" && strategy !== "hybrid") hosted.release();
    },
  };
}

/**
 * A move that failed: before the commit the guest runs here still (rethrown); after it, it was lost with the link,
 * or the destination runs it after all (its statistics), or what became of it is settled by asking there.
 */
async function afterFailedMove(
  host: DepartureHost, hosted: HostedGuest, request: MigrateRequest, signal: AbortSignal, history: MigrationStats[], error: unknown,
): Promise<MigrationStats> {
  const { to, token } = request;
  const failure = error as MigrationFailed & { stats?: MigrationStats; committed?: boolean };
  if (failure.stats) history.push(failure.stats);
  host.log(`migration of guest ${hosted.info.id} to ${to} failed: ${(error as Error).message}`, signal.aborted ? "warn" : "error");
  if (!failure.committed) throw error;
  if ((hosted.status as string) === "moved") throw lostAfterCommit(host, hosted, to, failure);
  await settleUncertain(host, hosted, to, token);
  if ((hosted.status as string) === "lost") throw new MigrationFailed(`${failure.message}; ${hosted.report}`);
  if ((hosted.status as string) === "moved") return committedAfterAll(failure, history);
  throw error;
}

/** Moves under way from this process's hosts, by guest: where to, and how to cancel it (cancelMovesTo). */
const departing = new Map<HostedGuest, { to: string; cancel: AbortController }>();

/**
 * Registers `hosted`'s move to `to` for cancelMovesTo; its signal aborts on
 * the operation's (a kill, `migrate --cancel`) or on that cancel. `done`
 * unregisters it.
 */
function underWay(hosted: HostedGuest, to: string, operation: AbortSignal): { signal: AbortSignal; done: () => void } {
  const cancel = new AbortController();
  const follow = () => cancel.abort(operation.reason);
  if (operation.aborted) follow();
  else operation.addEventListener("abort", follow, { once: true });
  departing.set(hosted, { to: urlKey(to), cancel });
  return { signal: cancel.signal, done: () => { operation.removeEventListener("abort", follow); departing.delete(hosted); } };
}

/** The connection `opening`, or a failure as soon as `signal` aborts (a host that does not answer holds a connect for 10 s); one that opens later is closed. */
function unlessCancelled(opening: Promise<Peer>, signal: AbortSignal): Promise<Peer> {
  const cancelled = () => new MigrationFailed(`cancelled (${(signal.reason as Error)?.message ?? "by request"})`);
  if (signal.aborted) { void opening.then((peer) => peer.close(), () => {}); return Promise.reject(cancelled()); }
  return new Promise((resolve, reject) => {
    const abort = () => { void opening.then((peer) => peer.close(), () => {}); reject(cancelled()); };
    signal.addEventListener("abort", abort, { once: true });
    opening.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

const urlKey = (url: string): string => { try { return hostUrlKey(url); } catch { return url; } };

/**
 * The member at `url` was marked down (it sent no load vector for DOWN_MS:
 * dead, or alive but answering nothing): each move of `guests` to it that
 * can still be undone is cancelled now, rather than when a request to it
 * times out, and the guest runs on here (`why` says so in the failure).
 * A move whose commit has left is the destination's and goes on.
 */
export function cancelMovesTo(guests: Iterable<HostedGuest>, url: string, why: string, log: (line: string, level?: LogLevel) => void): void {
  const key = urlKey(url);
  for (const hosted of guests) {
    const move = departing.get(hosted);
    if (!move || move.to !== key || move.cancel.signal.aborted) continue;
    log(`cancelling the migration of guest ${hosted.info.id} to ${url.replace(/\/$/, "")}: ${why}`, "warn");
    move.cancel.abort(new Error(why));
  }
}

/**
 * Postcopy: the commit was answered, then the destination went away while it
 * still needed pages from here. Its copy cannot go on without them, and this
 * one is older than what the destination ran: the guest is lost, and says so.
 */
function lostAfterCommit(host: DepartureHost, hosted: HostedGuest, to: string, failure: MigrationFailed & { stats?: MigrationStats }): MigrationFailed {
  const left = failure.stats?.residualDependency ?? "pages";
  const reason = `lost: destination ${to} went away during postcopy, before ${left.replace(/ on .*/, "")} had arrived`;
  if (failure.stats) failure.stats.error = reason;
  host.guests.set(hosted.info.id, hosted); // listed again (as lost) by ps here, where it was last whole
  hosted.lose(reason);
  return Object.assign(new MigrationFailed(`guest ${hosted.info.id} ${reason}`), { stats: failure.stats });
}

/** The commit's answer was lost but the destination runs the guest: the migration did happen. */
function committedAfterAll(failure: MigrationFailed & { stats?: MigrationStats }, history: MigrationStats[]): MigrationStats {
  const stats = failure.stats!;
  stats.status = "completed";
  stats.error = `the commit's answer was lost (${stats.error}); the destination confirmed it runs the guest`;
  if (!history.includes(stats)) history.push(stats);
  return stats;
}

/** How long the source keeps asking a destination that took the commit whether it runs the guest. */
const SETTLE_MS = 10_000;
const SETTLE_RETRY_MS = 250;

/**
 * The commit went out but its answer did not come back: ask the destination
 * whether the guest runs there. Only a destination that is certainly gone (its
 * port refuses connections) lets the guest run here again; one that cannot be
 * asked may be running it, so the guest is reported lost rather than risk two.
 * A destination whose process is dying still holds its port for a moment, and
 * resets the connection instead of refusing it: that is asked again, every
 * SETTLE_RETRY_MS for SETTLE_MS, until it answers or its port refuses.
 */
async function settleUncertain(host: DepartureHost, hosted: HostedGuest, to: string, token: string | undefined): Promise<void> {
  const deadline = nowMs() + SETTLE_MS;
  for (;;) {
    const answer = await askWhetherItRuns(to, token, hosted.info.id);
    if (answer === "runs there") {
      hosted.moved(to);
      host.departed(hosted);
      return;
    }
    if (answer === "not there" || answer === "gone") { hosted.thaw(); return; } // it runs nowhere: on here
    if (nowMs() >= deadline) {
      hosted.lose(`lost: destination ${to} took the commit but cannot be asked whether it runs the guest (${answer.unreachable}); not restarted here, to avoid two copies`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_RETRY_MS));
  }
}

/** Asks `to` whether guest `id` runs there; "gone" when nothing listens at its port (ECONNREFUSED). */
async function askWhetherItRuns(to: string, token: string | undefined, id: string): Promise<"runs there" | "not there" | "gone" | { unreachable: string }> {
  let peer: Peer | undefined;
  try {
    peer = await connect(to, { role: "client", token });
    const reply = await peer.request({ t: "has-guest", guest: id }, 5000);
    return reply.running === true ? "runs there" : "not there";
  } catch (error) {
    const message = (error as Error).message;
    return /ECONNREFUSED/.test(message) ? "gone" : { unreachable: message };
  } finally {
    peer?.close();
  }
}

/**
 * A kill (or an interrupt) for a guest that has moved on from here (its
 * migration committed while the request waited): passed to where it runs now.
 */
export async function forwardKill(hosted: HostedGuest, how: "kill" | "interrupt" = "kill"): Promise<string> {
  const to = hosted.movedTo!;
  let peer: Peer | undefined;
  try {
    peer = await connect(to, { role: "client", token: hosted.movedToken });
    const reply = await peer.request({ t: how, guest: hosted.info.id }, 10_000);
    return typeof reply.host === "string" ? reply.host : to;
  } catch (error) {
    throw new ProtocolError(`guest ${hosted.info.id} moved to ${to}, where it could not be killed: ${(error as Error).message}`);
  } finally {
    peer?.close();
  }
}

