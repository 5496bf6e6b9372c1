// The /tmp of a `roam run` whose root has none: programs expect one (mkstemp,
// tmpfile, Lua's os.tmpname), and the current directory, the usual root, is
// the user's own and has no tmp. So the guest gets a private host directory,
// mounted at /tmp by the path resolver (src/kernel/resolve.ts), world-writable
// and sticky as Linux's, made when the guest first reaches /tmp, and removed
// with everything in it when the run ends.
// A root with its own tmp entry (a directory, a link, anything) keeps it.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface PrivateTmp {
  /** The host directory the guest sees as /tmp, made on the first call (most guests never look in /tmp). */
  dir(): string;
  /** Removes it and what the guest left there, if it was made. */
  remove(): void;
}

/** A private /tmp for a guest rooted at `root`, or undefined when the root has a tmp of its own. */
export function privateTmp(root: string): PrivateTmp | undefined {
  try {
    fs.lstatSync(path.join(root, "tmp"));
    return undefined;
  } catch {
    // none: the guest gets one
  }
  let made: string | undefined;
  return {
    dir: () => {
      if (made === undefined) {
        made = fs.mkdtempSync(path.join(os.tmpdir(), "roam-tmp-"));
        fs.chmodSync(made, 0o1777); // "drwxrwxrwt", as /tmp is on Linux
      }
      return made;
    },
    remove: () => { if (made !== undefined) removeTree(made); },
  };
}

/**
 * Removes `dir` and what is in it. Most guests leave their /tmp empty, and removing an empty directory is one
 * rmdir; fs.rmSync's recursive walk loads Node's rimraf module first (~1-2 ms of a run), so it is for the rest.
 */
function removeTree(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
