// Where a guest's files live on a host: a directory within the host's --root,
// named relative to it so that it travels with the guest (GuestInfo.root) and
// means the same place on every host. A guest run without one gets its own,
// guests/<id>; guests that name the same root share it ("." is the host's
// root itself). No name, and no symlink on the way, may lead outside the host's root.

import * as fs from "node:fs";
import * as path from "node:path";
import { ProtocolError } from "../net/protocol.js";
import { packageRoot } from "../package-root.js";

/** Where a guest's own root is made when the run request names none. */
export function ownRoot(id: string): string {
  return `guests/${id}`;
}

/**
 * A root a client names to share: any directory within the host's root but
 * another guest's own (under guests/), which that guest did not offer. ("."
 * shares the host's root whole, guests/ included: naming it asks for that.)
 */
export function sharedRoot(root: string): string {
  let normal: string;
  try {
    normal = normalGuestRoot(root);
  } catch (error) {
    throw new ProtocolError(`run: ${(error as Error).message}`);
  }
  if (normal === "guests" || normal.startsWith("guests/")) {
    throw new ProtocolError(`run: root ${root} is within guests/, where each guest has its own; name another directory to share`);
  }
  return normal;
}

/**
 * A guest root as a relative path, normalised ("a//b/." -> "a/b"), or why it
 * is refused: absolute, or climbing out with "..".
 */
export function normalGuestRoot(root: string): string {
  if (root.length === 0) throw new Error("root is empty (\".\" names the host's root)");
  if (root.length > 1024) throw new Error(`root is ${root.length} characters long (at most 1024)`);
  if (root.includes("\0")) throw new Error("root contains a NUL character");
  if (root.startsWith("/")) throw new Error(`root ${root} is absolute; name a directory within the host's root`);
  const normal = path.posix.normalize(root).replace(/\/+$/, "");
  if (normal === ".." || normal.startsWith("../")) throw new Error(`root ${root} leads outside the host's root`);
  return normal === "" ? "." : normal;
}

/**
 * The host directory of guest root `root` under `hostRoot`, made if missing
 * (mkdir -p). A symlink on the way may lead elsewhere within the host's root,
 * never outside it.
 */
export function guestRootOn(hostRoot: string, root: string): string {
  const normal = normalGuestRoot(root);
  const top = fs.realpathSync(hostRoot);
  let at = top;
  for (const name of normal === "." ? [] : normal.split("/")) {
    const next = path.join(at, name);
    let stat: fs.Stats | undefined;
    try { stat = fs.lstatSync(next); } catch { /* missing: made below */ }
    if (!stat) fs.mkdirSync(next);
    else if (stat.isSymbolicLink()) {
      const target = fs.realpathSync(next);
      if (!within(top, target)) throw new Error(`root ${root}: ${name} is a symlink to outside the host's root`);
    }
    at = fs.realpathSync(next);
    if (!fs.statSync(at).isDirectory()) throw new Error(`root ${root}: ${name} is not a directory`);
  }
  return at;
}

function within(top: string, p: string): boolean {
  return p === top || p.startsWith(top.endsWith("/") ? top : `${top}/`);
}

/**
 * A guest's own root gets what a Linux container's image has at least: /tmp
 * (for everyone, sticky), /etc/passwd and /etc/group naming root, the user
 * the guest is, and /etc/hosts naming localhost (as a container runtime writes
 * it: without it the C library asks DNS for "localhost", and no server answers):
 * copies of the base layer's (src/kernel/base-layer.ts), which every root shows
 * where it has none, but read-only; these are the guest's own, to change, and
 * travel with its root. (/dev is virtual: the kernel's resolver shows its
 * devices whatever the root holds, src/kernel/devices.ts.) Shared roots and
 * `roam run`'s directory are the user's, and left as they are.
 */
export function furnishOwnRoot(dir: string): void {
  const tmp = path.join(dir, "tmp");
  if (!fs.existsSync(tmp)) { fs.mkdirSync(tmp); fs.chmodSync(tmp, 0o1777); }
  fs.mkdirSync(path.join(dir, "etc"), { recursive: true });
  for (const name of ["passwd", "group", "hosts"]) {
    const file = path.join(dir, "etc", name);
    if (!fs.existsSync(file)) fs.writeFileSync(file, fs.readFileSync(path.join(packageRoot(), "guests", "base", "etc", name)), { mode: 0o644 });
  }
}
