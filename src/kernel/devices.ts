// The character devices of the guest's /dev, as a Linux container has them:
// null, zero, full, random, urandom and tty. They are never host device files:
// the resolver (resolve.ts) shows /dev as a virtual directory whatever the
// sandbox holds (as a container mounts its own /dev over the image's), and an
// open of /dev/NAME makes an open file description of kind "device" that
// read, write and fstat serve here. /dev/stdin, /dev/stdout and /dev/stderr
// open what descriptors 0, 1 and 2 refer to (Linux's links to /proc/self/fd/N).

import { randomBytes } from "./random.js";
import { Errno } from "./errno.js";
import { statFromData, type StatLike } from "./files.js";

/** Linux's major and minor numbers (Documentation/admin-guide/devices.txt). */
export const DEVICES: Record<string, { major: number; minor: number }> = {
  null: { major: 1, minor: 3 }, zero: { major: 1, minor: 5 }, full: { major: 1, minor: 7 },
  random: { major: 1, minor: 8 }, urandom: { major: 1, minor: 9 }, tty: { major: 5, minor: 0 },
};

/** /dev/stdin, /dev/stdout, /dev/stderr: the descriptor each stands for. */
export const STDIO_ALIASES: Record<string, number> = { stdin: 0, stdout: 1, stderr: 2 };

/** What `ls /dev` lists (besides "." and ".."). */
export function deviceEntries(): Array<{ name: string; type: number; ino: number }> {
  const DT_CHR = 2, DT_LNK = 10;
  const names = [...Object.keys(DEVICES), ...Object.keys(STDIO_ALIASES)].sort();
  return names.map((name, i) => ({ name, type: name in DEVICES ? DT_CHR : DT_LNK, ino: 100 + i }));
}

const DEV_ID = 5; // st_dev of the virtual /dev (a devtmpfs of its own)

/** stat of a device: "crw-rw-rw-", root's, st_rdev = makedev(major, minor) as Linux encodes it for 32-bit stat. */
export function deviceStat(name: string): StatLike {
  const d = DEVICES[name];
  const rdev = (d.major << 8) | d.minor;
  return { ...statFromData({ mode: 0o020666, ino: 100 + Object.keys(DEVICES).indexOf(name), nlink: 1, dev: DEV_ID }), rdev };
}

/** stat of the virtual /dev directory. */
export function devDirectoryStat(): StatLike {
  return statFromData({ mode: 0o040755, ino: 99, nlink: 2, dev: DEV_ID, size: 0 });
}

// Zeros for reads of /dev/zero and /dev/full, made once and grown to the largest read: the caller copies them into
// guest memory and never changes them, and a fresh zeroed array per read cost more than the copy.
let zeros = new Uint8Array(0);

/** read(2) of a device other than tty: bytes (the caller copies them, and must not change them), or -errno. */
export function deviceRead(name: string, count: number): Uint8Array | number {
  switch (name) {
    case "null": return new Uint8Array(0); // end of file at once
    case "zero": case "full": // "reads from /dev/full will return \0 characters"
      if (zeros.length < count) zeros = new Uint8Array(count);
      return zeros.subarray(0, count);
    case "random": case "urandom": return randomBytes(count);
    default: return -Errno.ENXIO;
  }
}

/** write(2) to a device other than tty: the count written, or -errno. */
export function deviceWrite(name: string, count: number): number {
  // "Writes to /dev/full will fail with an ENOSPC error"; the rest discard what is written (random mixes it into the pool).
  return name === "full" ? -Errno.ENOSPC : count;
}
