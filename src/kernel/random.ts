// Random bytes for guests: AT_RANDOM at every exec (src/kernel/loader.ts), getrandom(2), /dev/random and
// /dev/urandom (devices.ts). Read from the host's /dev/urandom, which is what node:crypto's randomBytes
// reads from too (through getrandom): loading node:crypto costs ~10 ms of every run's start-up (issue 14),
// and every run needs its 16 AT_RANDOM bytes. A host with no /dev/urandom (Windows) uses node:crypto.

import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";

/** `count` bytes from the host's random source. */
export function randomBytes(count: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync("/dev/urandom", "r");
  } catch {
    const crypto = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
    return crypto.randomBytes(count);
  }
  try {
    const bytes = new Uint8Array(count);
    for (let filled = 0; filled < count; ) {
      const got = readSync(fd, bytes, filled, count - filled, null);
      if (got === 0) throw new Error("/dev/urandom: unexpected end of file");
      filled += got;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
