// The client's half of checkpoint and restore (src/cluster/checkpoints.ts is
// the host's): a snapshot of any size travels in chunks. A checkpoint is
// written to a temporary name beside the file, checked against its CRC,
// fsynced and renamed, and only then does the client tell the host, which lets
// the guest go; until then the guest still runs there if anything fails.

import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync, fstatSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { crc32 } from "node:zlib";
import type { Peer } from "../net/peer.js";
import type { Message } from "../net/protocol.js";

const SNAPSHOT_HEADER = 20; // "ROAMSNAP", version, payload length, CRC-32 (src/snapshot/snapshot.ts)
const UPLOAD_CHUNK = 4 << 20;

export type Progress = (done: number, total: number) => void;

/** Asks `peer` to checkpoint guest `id` into `file`; resolves with the file's size once the host has let go. */
export async function saveCheckpoint(peer: Peer, id: string, file: string, leaveRunning: boolean, progress?: Progress): Promise<number> {
  const partial = join(dirname(file), `.${basename(file)}.partial-${process.pid}`);
  const fd = openSync(partial, "w", 0o644);
  let written = 0;
  let crc = 0;
  let writeError: Error | undefined;
  const off = peer.onMessage((m: Message) => {
    if (m.t !== "checkpoint-data" || m.guest !== id || writeError) return;
    try {
      const data = m.data as Uint8Array;
      if (m.offset !== written) throw new Error(`chunk at ${String(m.offset)}, expected ${written}`);
      writeSync(fd, data, 0, data.length, written);
      crc = crc32(written >= SNAPSHOT_HEADER ? data : data.subarray(SNAPSHOT_HEADER - written), crc);
      written += data.length;
      progress?.(written, Number(m.total));
    } catch (error) {
      writeError = error as Error;
      peer.close(); // the host sees the client gone and thaws the guest
    }
  });
  let closed = false;
  try {
    const reply = await peer.request({ t: "checkpoint", guest: id, leaveRunning }).catch((error: Error) => {
      throw writeError ? new Error(`${file}: ${writeError.message}`) : error;
    });
    if (writeError) throw new Error(`${file}: ${writeError.message}`);
    if (written !== reply.bytes) throw new Error(`${file}: ${written} bytes arrived, the host sent ${String(reply.bytes)}`);
    if (crc !== reply.crc32) throw new Error(`${file}: the data arrived damaged (CRC-32 mismatch)`);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(partial, file);
    syncDirectory(dirname(file));
    await peer.request({ t: "checkpoint-saved", guest: id });
    return written;
  } catch (error) {
    if (!closed) closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  } finally {
    off();
  }
}

/** Sends a snapshot file to `peer` in chunks and restores it; resolves with the `restore` reply. */
export async function uploadAndRestore(peer: Peer, file: string, attach: boolean, progress?: Progress): Promise<Message> {
  const fd = openSync(file, "r");
  try {
    const total = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(UPLOAD_CHUNK, total));
    for (let offset = 0; offset < total;) {
      const n = readSync(fd, buffer, 0, Math.min(UPLOAD_CHUNK, total - offset), offset);
      if (n === 0) throw new Error(`${file}: shorter than it was (${offset} of ${total} bytes)`);
      await peer.request({ t: "restore-data", offset, total, data: buffer.subarray(0, n) });
      offset += n;
      progress?.(offset, total);
    }
  } finally {
    closeSync(fd);
  }
  return peer.request({ t: "restore", attach });
}

/** The rename is durable only once the directory entry is on disk too. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, "r");
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the file itself is synced
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
