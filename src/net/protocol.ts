// The wire protocol between clients and hosts, and between hosts during a
// migration: one msgpack map per WebSocket binary frame, with a protocol
// version, a type `t`, and for requests an id `rid` that the answer repeats.
// docs/PROTOCOL.md describes every message. Frames are checked on the way in:
// anything malformed gets a ProtocolError naming what is wrong, and the host
// answers with an `error` message and keeps serving.

import { pack, unpack } from "msgpackr";

export const PROTOCOL_VERSION = 2;
export const MAX_FRAME = 64 << 20; // a guest image or a page batch; snapshots travel as page batches plus state

export class ProtocolError extends Error {
  /** The request id of the frame at fault, when it could be read (so the answer reaches the request). */
  rid?: number;
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

export type Message = { v: number; t: string; rid?: number } & Record<string, unknown>;

export function encode(message: Omit<Message, "v">): Uint8Array {
  return pack({ v: PROTOCOL_VERSION, ...message });
}

/** Decodes one frame; throws ProtocolError on anything that is not a well-formed message. */
export function decode(frame: unknown): Message {
  if (!(frame instanceof Uint8Array) && !Buffer.isBuffer(frame)) throw new ProtocolError("frame is not binary");
  if (frame.length > MAX_FRAME) {
    const error = new ProtocolError(`frame of ${frame.length} bytes is over the ${MAX_FRAME}-byte limit`);
    error.rid = ridOf(frame as Uint8Array);
    throw error;
  }
  let value: unknown;
  try {
    value = unpack(frame as Uint8Array);
  } catch (error) {
    throw new ProtocolError(`frame is not msgpack (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ProtocolError("frame is not a msgpack map");
  const m = value as Message;
  if (m.v !== PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${String(m.v)}; this host speaks ${PROTOCOL_VERSION}`);
  if (typeof m.t !== "string" || m.t.length === 0) throw new ProtocolError("message has no type (t)");
  if (m.rid !== undefined && (typeof m.rid !== "number" || !Number.isInteger(m.rid))) throw new ProtocolError("rid must be an integer");
  return m;
}

/** The `rid` of a frame refused for its size, if it is a msgpack map that has one (answered, so the request does not hang). */
function ridOf(frame: Uint8Array): number | undefined {
  try {
    const value = unpack(frame) as Record<string, unknown>;
    return typeof value?.rid === "number" && Number.isInteger(value.rid) ? value.rid : undefined;
  } catch {
    return undefined;
  }
}

// ---- Field checks, for handlers ------------------------------------------------------

export function str(m: Message, key: string): string {
  const v = m[key];
  if (typeof v !== "string") throw new ProtocolError(`${m.t}: ${key} must be text`);
  return v;
}

export function optStr(m: Message, key: string): string | undefined {
  return m[key] === undefined ? undefined : str(m, key);
}

export function num(m: Message, key: string, min = -Infinity, max = Infinity): number {
  const v = m[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new ProtocolError(`${m.t}: ${key} must be a number in [${min}, ${max}]`);
  return v;
}

export function optNum(m: Message, key: string, min?: number, max?: number): number | undefined {
  return m[key] === undefined ? undefined : num(m, key, min, max);
}

export function bytes(m: Message, key: string): Uint8Array {
  const v = m[key];
  if (!(v instanceof Uint8Array)) throw new ProtocolError(`${m.t}: ${key} must be binary`);
  return v;
}

export function strList(m: Message, key: string): string[] {
  const v = m[key];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw new ProtocolError(`${m.t}: ${key} must be a list of text`);
  return v;
}

export function bool(m: Message, key: string): boolean {
  return m[key] === true;
}
