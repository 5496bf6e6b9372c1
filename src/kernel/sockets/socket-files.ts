// The file a path-name AF_UNIX socket binds: as on Linux, bind(2) makes it
// (stat says S_IFSOCK, mode 0777 & ~umask), it stays after the socket closes,
// and unlink(2) removes it. Node has no mknod, so the file is made by binding
// a host listener on a fresh name beside it, renaming that file to the path,
// and closing the listener at once (it never accepts: the guest's socket is
// the kernel's, and connect(2) finds it through the names, not the file).

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { Errno } from "../errno.js";
import { SandboxError } from "../files.js";

const SUN_PATH_MAX = 107; // a host sockaddr_un path, without its NUL
let made = 0;

/** Makes the socket file `host` (a link-free host path inside the sandbox); throws SandboxError. */
export function makeSocketFile(host: string, mode: number): void {
  const dir = path.dirname(host);
  if (!fs.existsSync(dir)) throw new SandboxError(Errno.ENOENT);
  const scratch = path.join(dir, `.roam-socket-${process.pid}-${++made}-${Math.random().toString(36).slice(2, 8)}`);
  if (Buffer.byteLength(scratch) > SUN_PATH_MAX) throw new SandboxError(Errno.ENAMETOOLONG);
  // Required here, not imported: node:net (with the streams and diagnostics it brings) costs every run's start-up
  // several milliseconds, and only a guest binding a path-name socket needs it.
  const net = createRequire(import.meta.url)("node:net") as typeof import("node:net");
  const server = net.createServer();
  server.on("error", () => {}); // a failed bind is seen below: no file
  server.listen(scratch); // libuv binds and listens at once (synchronously)
  try {
    if (!fs.lstatSync(scratch, { throwIfNoEntry: false })?.isSocket()) throw new SandboxError(Errno.EACCES);
    fs.chmodSync(scratch, mode & 0o777);
    fs.renameSync(scratch, host); // the listener's close then unlinks a name that is gone
  } finally {
    server.close();
  }
}
