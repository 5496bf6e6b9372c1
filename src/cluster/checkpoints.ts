// Checkpoints in chunks, both ways. A 1 GiB guest's snapshot is far over the
// 64 MiB frame limit, so it leaves the host as `checkpoint-data` events (and a
// file comes back for `restore` as `restore-data` requests). A guest stopped
// by a checkpoint is let go only when the client says the file is safely on
// disk (`checkpoint-saved`, sent after fsync and rename): until then, any
// failure — the client gone, a write error, a kill, a timeout — thaws it here.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import type { Peer } from "../net/peer.js";
import { bytes, encode, num, ProtocolError, type Message } from "../net/protocol.js";
import { encodeSnapshotParts, MAX_SNAPSHOT_BYTES } from "../snapshot/snapshot.js";
import type { HostedGuest } from "./hosted-guest.js";

export const CHUNK_BYTES = 4 << 20;
const CHUNKS_IN_FLIGHT = 2; // a chunk leaves while the next is queued: the socket is the backpressure
const SAVE_TIMEOUT_MS = 5 * 60_000; // a client that never confirms does not hold a guest frozen for ever

interface Waiting {
  peer: Peer;
  resolve: (confirmation: Message) => void;
  reject: (error: Error) => void;
}

/** Clients' confirmations that a checkpoint file is safe, by guest. */
export class CheckpointSaves {
  private readonly waiting = new Map<string, Waiting>();

  /** Resolves with the client's `checkpoint-saved` request (to be answered once the guest is let go). */
  wait(id: string, peer: Peer, signal: AbortSignal): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`the client did not confirm the file within ${SAVE_TIMEOUT_MS / 1000} s`)), SAVE_TIMEOUT_MS);
      const fail = (error: Error) => { this.waiting.delete(id); clearTimeout(timer); reject(error); };
      signal.addEventListener("abort", () => fail(signal.reason as Error), { once: true });
      void peer.closed.then(() => fail(new Error("the client went away before the file was saved")));
      this.waiting.set(id, { peer, reject: fail, resolve: (m) => { this.waiting.delete(id); clearTimeout(timer); resolve(m); } });
    });
  }

  /** A client's `checkpoint-saved`: false if no checkpoint of that guest waits for this client. */
  confirm(id: string, peer: Peer, m: Message): boolean {
    const waiting = this.waiting.get(id);
    if (!waiting || waiting.peer !== peer) return false;
    waiting.resolve(m);
    return true;
  }
}

/**
 * Freezes `hosted`, streams its snapshot to `peer` and answers the checkpoint
 * request; then waits for the client's confirmation and lets the guest go
 * (unless it is to keep running). Throws, with the guest running again, on any
 * failure before the confirmation.
 */
export async function sendCheckpoint(
  hosted: HostedGuest, peer: Peer, request: Message, leaveRunning: boolean, saves: CheckpointSaves, signal: AbortSignal,
  letGo: () => void,
): Promise<void> {
  await hosted.freeze();
  try {
    const id = hosted.info.id;
    const { header, payload } = encodeSnapshotParts(hosted.guest.snapshot());
    const total = header.length + payload.length;
    await streamChunks(peer, id, total, [header, payload], signal);
    const confirmed = saves.wait(id, peer, signal);
    peer.reply(request, { bytes: total, crc32: crc32(payload) });
    const confirmation = await confirmed;
    if (leaveRunning) hosted.thaw();
    else letGo();
    peer.reply(confirmation);
  } catch (error) {
    hosted.thaw();
    throw new ProtocolError(`checkpoint of ${hosted.info.id} failed, the guest runs on: ${(error as Error).message}`);
  }
}

/** Sends the parts as `checkpoint-data` chunks of at most CHUNK_BYTES, a few in flight. */
async function streamChunks(peer: Peer, guest: string, total: number, parts: Uint8Array[], signal: AbortSignal): Promise<void> {
  let offset = 0;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  for (const part of parts) {
    for (let at = 0; at < part.length; at += CHUNK_BYTES) {
      while (inFlight >= CHUNKS_IN_FLIGHT && peer.open) await new Promise<void>((resolve) => (drained = resolve));
      if (signal.aborted) throw signal.reason as Error;
      if (!peer.open) throw new Error("the client went away during the transfer");
      const data = part.subarray(at, Math.min(at + CHUNK_BYTES, part.length));
      inFlight++;
      peer.sendEncoded(encode({ t: "checkpoint-data", guest, offset, total, data }), () => { inFlight--; drained?.(); });
      offset += data.length;
    }
  }
  while (inFlight > 0 && peer.open) await new Promise<void>((resolve) => (drained = resolve));
}

/** A snapshot file arriving for `restore`, chunk by chunk, on one connection. */
export class Upload {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;

  constructor(readonly total: number) {
    if (!Number.isInteger(total) || total <= 0 || total > MAX_SNAPSHOT_BYTES) {
      throw new ProtocolError(`restore-data: total ${total} is not a snapshot size (1..${MAX_SNAPSHOT_BYTES} bytes)`);
    }
  }

  /** Takes one `restore-data {offset, total, data}`; chunks must come in order. */
  add(m: Message): void {
    const offset = num(m, "offset", 0);
    const data = bytes(m, "data");
    if (offset !== this.received) throw new ProtocolError(`restore-data: chunk at ${offset}, expected ${this.received}`);
    if (this.received + data.length > this.total) throw new ProtocolError(`restore-data: more than the announced ${this.total} bytes`);
    this.chunks.push(data); // a view of its own frame, which nothing reuses
    this.received += data.length;
  }

  get complete(): boolean {
    return this.received === this.total;
  }

  /** The whole file (after the last chunk). */
  bytes(): Uint8Array {
    if (!this.complete) throw new ProtocolError(`restore: ${this.received} of ${this.total} bytes arrived`);
    return Buffer.concat(this.chunks, this.total);
  }
}

/**
 * Saves a guest into a file on this host (a drain to a directory): written
 * under a temporary name, synced, renamed; only then is the guest let go.
 * Any failure first leaves it running here. Returns the file's size.
 */
export async function saveCheckpointHere(hosted: HostedGuest, file: string, letGo: () => void): Promise<number> {
  await hosted.freeze();
  const partial = `${file}.partial-${process.pid}`;
  try {
    const { header, payload } = encodeSnapshotParts(hosted.guest.snapshot());
    const fd = openSync(partial, "w", 0o644);
    try {
      for (const part of [header, payload]) for (let at = 0; at < part.length;) at += writeSync(fd, part, at, part.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, file);
    letGo();
    return header.length + payload.length;
  } catch (error) {
    rmSync(partial, { force: true });
    hosted.thaw();
    throw error;
  }
}
