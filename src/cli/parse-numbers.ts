import { UsageError } from "./usage-error.js";

// Command-line number formats.

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

// "128M", "1G", "65536K", "134217728" (bytes); units are binary (M = MiB), as in QEMU's -m.
export function parseSize(option: string, text: string): number {
  const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`${option} ${text}: expected a size such as 128M or 1G`);
  return Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()];
}

// A count such as 1000000 or 1_000_000.
export function parseCount(option: string, text: string): number {
  const digits = text.replaceAll("_", "");
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) {
    throw new UsageError(`${option} ${text}: expected a whole number`);
  }
  return Number(digits);
}
