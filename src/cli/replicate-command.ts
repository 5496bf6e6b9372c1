// `roam replicate GID --to URL [--epoch 25ms]`: keeps a backup of a running
// guest on another host (src/replication/): every epoch the guest pauses
// briefly while what changed is taken, and its output is released once the
// backup has the epoch that produced it. If the guest's host dies, the backup
// runs it on from its last complete epoch.

import { formatReplication, MAX_EPOCH_MS, MIN_EPOCH_MS, type ReplicationStats } from "../replication/epoch.js";
import type { CommandSpec, Parsed } from "./args.js";
import { CLIENT_OPTIONS } from "./client-options.js";
import { ask, tokenOf } from "./cluster-commands.js";
import { parseDuration } from "./migrate-command.js";
import { UsageError } from "./usage-error.js";

export const EPOCH_HELP = "how often the guest's changes go to the backup, e.g. 25ms\n(default 25ms; its console output waits up to about this long)";

export const REPLICATE_SPEC: CommandSpec = {
  name: "replicate", usage: "GID --to URL [options]", positionals: ["GID"], summary: "keep a backup of a running guest on another host",
  about: `Keeps a copy of a running guest (on --on) up to date on another host (--to):
every epoch the guest pauses briefly, the memory it wrote and its state go to
the backup, and the guest's output is let out only once the backup has the
epoch that produced it. If the guest's host dies, the backup starts the guest
from its last complete epoch, and attached clients follow it there. Ends when
the guest ends or is killed.`,
  options: [
    { name: "to", value: "URL", help: "the backup host (required)" },
    { name: "epoch", value: "TIME", help: EPOCH_HELP },
    { name: "json", help: "print the replication's statistics as JSON" },
    ...CLIENT_OPTIONS,
  ],
};

/** --epoch TIME in milliseconds (undefined: the host's default). */
export function epochOption(args: Parsed): number | undefined {
  const text = args.string("epoch");
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new UsageError(`--epoch ${text}: expected e.g. 25ms`);
  }
  if (ms < MIN_EPOCH_MS || ms > MAX_EPOCH_MS) throw new UsageError(`--epoch ${text}: between ${MIN_EPOCH_MS}ms and ${MAX_EPOCH_MS / 1000}s`);
  return ms;
}

/** A backup host's URL from --NAME. */
export function backupUrl(option: string, url: string): string {
  if (!/^wss?:\/\/[^/]/.test(url)) throw new UsageError(`--${option} ${url}: expected a host's address, e.g. ws://127.0.0.1:7002`);
  return url;
}

export async function replicateCommand(args: Parsed): Promise<number> {
  const id = args.positionals[0];
  const to = args.string("to");
  if (to === undefined) throw new UsageError("where to? --to URL (the backup host) is required");
  const reply = await ask(args, { t: "replicate", guest: id, to: backupUrl("to", to), epochMs: epochOption(args), token: tokenOf(args) });
  const stats = reply.replication as ReplicationStats;
  process.stdout.write(args.flag("json") ? JSON.stringify(stats, null, 2) + "\n" : `guest ${id} ${formatReplication(stats)}\n`);
  return 0;
}
