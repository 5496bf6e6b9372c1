// Fencing that outlives the backup host (issue 13). A backup that took a guest
// over answers its old primary `owned` for good (replications.ts); kept only in
// memory, that answer was lost when the backup's host restarted, and a primary
// that came back then would run its older copy again after clients had seen
// the backup's output. With `roam host --state-dir DIR` the takeover is written
// to DIR/taken-over.json, synced, before the taken-over guest's first
// instruction, and read again when the host starts: the primary is still told
// `owned` (the guest itself died with the backup's host: it is lost, never run
// twice). The most recent 1000 takeovers are kept.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

const FILE = "taken-over.json";
const KEEP = 1000;

export interface Takeover { guest: string; from: string; at: string }

export class TakeoverRecord {
  private entries: Map<string, Takeover> | undefined;

  constructor(private readonly dir: () => string | undefined) {}

  /** Reads the file (if the host has a state directory); throws one line naming the file if it is not one of ours. */
  load(): void {
    this.entries = new Map();
    const dir = this.dir();
    if (dir === undefined) return;
    const path = join(dir, FILE);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new Error(`${path}: ${(error as Error).message}`);
    }
    let list: unknown;
    try {
      list = (JSON.parse(text) as { takenOver?: unknown }).takenOver;
    } catch {
      throw new Error(`${path}: not JSON (a file of taken-over guests was expected)`);
    }
    if (!Array.isArray(list) || !list.every((t) => typeof t?.guest === "string" && typeof t.from === "string" && typeof t.at === "string")) {
      throw new Error(`${path}: expected {"takenOver": [{guest, from, at}, ...]}`);
    }
    for (const t of list as Takeover[]) this.entries.set(t.guest, t);
  }

  get(guest: string): Takeover | undefined {
    if (!this.entries) this.load();
    return this.entries!.get(guest);
  }

  /** Records a takeover: on disk and synced before this returns (when the host has a state directory). */
  record(guest: string, from: string): void {
    if (!this.entries) this.load();
    const entries = this.entries!;
    entries.delete(guest);
    entries.set(guest, { guest, from, at: new Date().toISOString() });
    for (const old of [...entries.keys()].slice(0, Math.max(0, entries.size - KEEP))) entries.delete(old);
    const dir = this.dir();
    if (dir === undefined) return;
    const path = join(dir, FILE);
    const partial = `${path}.partial`;
    const fd = openSync(partial, "w");
    try {
      writeSync(fd, JSON.stringify({ takenOver: [...entries.values()] }) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, path);
    const dirFd = openSync(dir, "r");
    try { fsyncSync(dirFd); } finally { closeSync(dirFd); }
  }
}
