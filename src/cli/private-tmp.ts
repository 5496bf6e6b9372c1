// The /tmp of a `roam run` whose root has none: programs expect one (mkstemp,
// tmpfile, Lua's os.tmpname), and the current directory, the usual root, is
// the user's own and has no tmp. So the guest gets a private host directory,
// mounted at /tmp by the path resolver (src/kernel/resolve.ts), world-writable
// and sticky as Linux's, and removed with everything in it when the run ends.
// A root with its own tmp entry (a directory, a link, anything) keeps it.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface PrivateTmp {
  /** The host directory the guest sees as /tmp. */
  dir: string;
  /** Removes it and what the guest left there. */
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roam-tmp-"));
  fs.chmodSync(dir, 0o1777); // "drwxrwxrwt", as /tmp is on Linux
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
