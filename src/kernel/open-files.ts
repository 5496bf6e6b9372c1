// Open file descriptions, as Linux keeps them: what open(2) or pipe(2) made,
// with its offset and status flags, shared by every descriptor that refers to
// it — dup'ed descriptors, and a parent's and child's after fork ("the two file
// descriptors share open file status flags, file offset"). Each is plain data
// with a stable id; descriptor tables (files.ts) refer to them by id in a
// snapshot. A description closes when its last descriptor does: its host fd
// closes, its pipe end goes, its home host drops the capability.

import type { ProcMount } from "./procfs.js";
import * as fs from "node:fs";
import type { OpenFile, RemoteFiles } from "./files.js";
import { ReadAhead } from "./read-ahead.js";

export interface OpenFilesState {
  schemaVersion: 1;
  nextId: number;
  files: OpenFile[]; // every description some descriptor refers to
}

export class OpenFiles {
  private nextId = 1;
  private readonly counts = new Map<OpenFile, number>();
  private readonly hostFds = new Map<OpenFile, number>(); // a cache: reopened by path after a migration
  /** Set by a host: how files that stayed on another host are reached. */
  remote: RemoteFiles | undefined;
  /** The kernel's /proc (procfs.ts): absent where files are only served (a home host's table for a path). */
  proc: ProcMount | undefined;
  /** Set by a host: the guest's id, presented with each capability to a file's home. */
  owner = "";
  /** Sequential reads of regular files, served from one host read (read-ahead.ts); the kernel drops it at each system call but the next read. */
  readonly readAhead = new ReadAhead();
  /** Called when a description's last descriptor closes (pipes count their ends here). */
  onLastClose: ((file: OpenFile) => void) | undefined;

  /** A new description (no descriptor holds it yet). */
  create(file: Omit<OpenFile, "id">): OpenFile {
    const created = { ...file, id: this.nextId++ } as OpenFile;
    this.counts.set(created, 0);
    return created;
  }

  retain(file: OpenFile): void {
    this.counts.set(file, (this.counts.get(file) ?? 0) + 1);
  }

  /** One descriptor fewer; the last one closes the description. */
  release(file: OpenFile): void {
    const left = (this.counts.get(file) ?? 1) - 1;
    if (left > 0) { this.counts.set(file, left); return; }
    this.counts.delete(file);
    const hostFd = this.hostFds.get(file);
    if (hostFd !== undefined) { this.hostFds.delete(file); fs.closeSync(hostFd); }
    if (file.home && file.cap) this.remote?.release(file.home, this.owner, file.cap);
    this.onLastClose?.(file);
  }

  /** Every open description. */
  all(): OpenFile[] {
    return [...this.counts.keys()];
  }

  cachedHostFd(file: OpenFile): number | undefined {
    return this.hostFds.get(file);
  }

  cacheHostFd(file: OpenFile, hostFd: number): void {
    this.hostFds.set(file, hostFd);
  }

  /** Files still served by another host: the guest's residual dependencies. */
  dependencies(): string[] {
    return this.all().filter((f) => f.home).map((f) => `file ${f.path} on ${f.home}`);
  }

  /** The guest ended: host fds close, and its files on other hosts are let go. */
  closeAll(): void {
    this.dropHostFds();
    for (const file of this.counts.keys()) if (file.home && file.cap) this.remote?.release(file.home, this.owner, file.cap);
  }

  private dropHostFds(): void {
    for (const hostFd of this.hostFds.values()) fs.closeSync(hostFd);
    this.hostFds.clear();
  }

  state(): OpenFilesState {
    return { schemaVersion: 1, nextId: this.nextId, files: this.all().map((f) => ({ ...f })) };
  }

  /** Puts back the descriptions of a snapshot; descriptor tables then find them with `byId`. */
  restore(s: OpenFilesState): Map<number, OpenFile> {
    if (s.schemaVersion !== 1) throw new Error(`open files: unknown schema version ${s.schemaVersion}`);
    this.dropHostFds(); // not closeAll: the same files (and capabilities) carry on in the state restored
    this.counts.clear();
    this.nextId = s.nextId;
    const byId = new Map<number, OpenFile>();
    for (const f of s.files) {
      const file = { ...f };
      byId.set(file.id, file);
      this.counts.set(file, 0); // the tables restored next count their descriptors
    }
    return byId;
  }
}
