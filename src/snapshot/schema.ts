// Small schema helpers for checking snapshot data as it arrives. Each takes a
// value and the path that names it in the snapshot ("process.files[3].position")
// and either returns the value with its type known, or throws a SnapshotError
// `bad snapshot: <path>: <why>` — one line, whatever the input held.

import { SnapshotError } from "./snapshot-error.js";

export const U32_MAX = 0xffffffff;
// Limits only a broken or hostile snapshot reaches; a real guest's own data
// (its argv, its counters, its typed input) must never hit them.
export const MAX_TEXT = 1 << 20;
export const MAX_LIST = 1 << 24;

export function bad(path: string, why: string): never {
  throw new SnapshotError(`${path}: ${why}`);
}

/** A short, one-line description of a value that was refused (input text may hold anything). */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value == null) return String(value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value;
}

/** A msgpack map (a plain object: not a list, bytes or null). */
export function record(value: unknown, path: string): Record<string, unknown> {
  if (value === undefined) bad(path, "missing");
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) bad(path, "not a map");
  return value as Record<string, unknown>;
}

/** A map's own field (never one inherited from Object.prototype). */
export function own(map: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

export function list(value: unknown, path: string, maxLength: number): unknown[] {
  if (value === undefined) bad(path, "missing");
  if (!Array.isArray(value)) bad(path, "not a list");
  if (value.length > maxLength) bad(path, `${value.length} entries, at most ${maxLength} allowed`);
  return value;
}

export function text(value: unknown, path: string, maxLength = MAX_TEXT): string {
  if (value === undefined) bad(path, "missing");
  if (typeof value !== "string") bad(path, `not text (${describe(value)})`);
  if (value.length > maxLength) bad(path, `${value.length} characters, at most ${maxLength} allowed`);
  return value;
}

export function nonEmptyText(value: unknown, path: string, maxLength = MAX_TEXT): string {
  const s = text(value, path, maxLength);
  if (s.length === 0) bad(path, "empty");
  return s;
}

export function bool(value: unknown, path: string): boolean {
  if (value === undefined) bad(path, "missing");
  if (typeof value !== "boolean") bad(path, `not true or false (${describe(value)})`);
  return value;
}

export function bytes(value: unknown, path: string): Uint8Array {
  if (value === undefined) bad(path, "missing");
  if (!(value instanceof Uint8Array)) bad(path, `not bytes (${describe(value)})`);
  return value;
}

/** A finite integer in [min, max]: what reaches the core and the kernel is always one. */
export function int(value: unknown, path: string, min: number, max: number): number {
  if (value === undefined) bad(path, "missing");
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    bad(path, `${describe(value)} is not an integer in [${min}, ${max}]`);
  }
  return value;
}

export function nonNegative(value: unknown, path: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) bad(path, "missing");
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) bad(path, "not a non-negative integer");
  if (value > max) bad(path, `${value} is over ${max}`);
  return value;
}


export function u32(value: unknown, path: string): number {
  return int(value, path, 0, U32_MAX);
}

/** A u64 carried as decimal text (bigints do not travel as numbers). */
export function decimalU64(value: unknown, path: string): string {
  const s = text(value, path, 20);
  if (!/^(0|[1-9][0-9]*)$/.test(s) || BigInt(s) >= 1n << 64n) bad(path, `${describe(s)} is not a decimal integer in [0, 2^64)`);
  return s;
}

export function oneOf<T extends string | number>(value: unknown, path: string, allowed: readonly T[]): T {
  if (value === undefined) bad(path, "missing");
  if (!allowed.includes(value as T)) bad(path, `${describe(value)} is not one of ${allowed.join(", ")}`);
  return value as T;
}

export function schemaVersion(map: Record<string, unknown>, path: string, version: number): void {
  const v = own(map, "schemaVersion");
  if (v !== version) bad(`${path}.schemaVersion`, `${describe(v)}; this host reads version ${version}`);
}

/** Packed little-endian u32s (RAM page lists, the kernel's page map), read wherever the bytes sit. */
export function packedU32s(value: unknown, path: string, per = 1): Uint32Array {
  const b = bytes(value, path);
  if (b.length % (4 * per)) bad(path, `${b.length} bytes is not whole ${per === 2 ? "u32 pairs" : "u32s"}`);
  const out = new Uint32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
