// A home host's side of files that guests keep open after moving away. When a
// guest leaves with files open here, each open file gets a capability: 128
// random bits bound to the guest's id, the file's guest path and the flags it
// was opened with. A `file-*` request is served only for the file its
// capability names, with the rights it was opened with; anything else is
// answered EBADF, as a bad file descriptor would be. Paths are resolved at each
// request, with the same rules as the guest's own calls, in the root of the
// guest the capability was issued to (never in the root of the host or of
// another guest): each grant keeps that root.
//
// A write may come twice: a replicated guest's backup, taking over from an
// epoch in which the guest waited for the write, sends it again (issue 13).
// A write names itself with `op`, its open file's count of answered writes;
// each grant keeps its last answers by op and content, and a repeated write
// is answered from them, not done again.

import { OpenFiles } from "../kernel/open-files.js";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { Errno, errnoOf } from "../kernel/errno.js";
import {
  FileTable, listDirectory, O_ACCMODE, O_APPEND, O_RDONLY, O_WRONLY, SandboxError, statToData,
  type FileCapabilities, type FileKind, type OpenFile,
} from "../kernel/files.js";
import { bool, bytes, num, ProtocolError, type Message } from "../net/protocol.js";

interface Grant {
  guest: string;
  path: string; // guest path, normalised
  flags: number; // open flags
  kind: FileKind;
  key: string; // in `byOpenFile`
  root: string; // the guest's sandbox root on this host, where `path` is resolved
  answered: Map<string, Record<string, unknown>>; // the last writes' answers, by op and content (oldest first)
}

/** How many answered writes a grant keeps (a backup sends again only the writes its guest waited for: one per process). */
const ANSWERS_KEPT = 32;

export const FILE_REQUESTS: ReadonlySet<string> = new Set(["file-read", "file-write", "file-stat", "file-list", "file-release"]);

export class HomeFiles {
  private readonly grants = new Map<string, Grant>(); // by capability
  private readonly byOpenFile = new Map<string, string>(); // guest, fd, path, flags -> capability

  /** The capabilities of a guest whose files are in `root` (its sandbox root on this host). */
  within(root: string): FileCapabilities {
    return { issue: (guest, fd, file) => this.issue(guest, fd, file, root), release: (guest, cap) => this.release(guest, cap) };
  }

  /** Capabilities in force (for tests and `ps`-like reports). */
  get count(): number {
    return this.grants.size;
  }

  issue(guest: string, fd: number, file: OpenFile, root: string): string {
    // A migration snapshots twice (prestate, final state) and a checkpoint may
    // be taken again: the same open file keeps its capability.
    const key = JSON.stringify([guest, fd, file.path, file.flags, root]);
    let cap = this.byOpenFile.get(key);
    if (cap === undefined) {
      cap = randomBytes(16).toString("hex");
      this.byOpenFile.set(key, cap);
      this.grants.set(cap, { guest, path: file.path, flags: file.flags, kind: file.kind, key, root, answered: new Map() });
    }
    return cap;
  }

  release(guest: string, cap: string): void {
    const grant = this.grants.get(cap);
    if (!grant || grant.guest !== guest) return;
    this.grants.delete(cap);
    this.byOpenFile.delete(grant.key);
  }

  /** Answers one `file-*` request from a host peer; errors go back as "errno N". */
  serve(m: Message): Record<string, unknown> {
    try {
      if (m.t === "file-release") {
        this.release(text(m, "guest") ?? "", text(m, "cap") ?? "");
        return {};
      }
      const grant = this.granted(m);
      const host = new FileTable(grant.root, new OpenFiles()).hostPath(grant.path); // a table only for its path resolution
      const access = grant.flags & O_ACCMODE;
      switch (m.t) {
        case "file-read": {
          if (access === O_WRONLY) throw new SandboxError(Errno.EBADF);
          const length = num(m, "length", 0, 1 << 20);
          return withFd(host, "r", (fd) => {
            const buffer = Buffer.alloc(length);
            const n = fs.readSync(fd, buffer, 0, length, num(m, "position", 0));
            return { data: buffer.subarray(0, n) };
          });
        }
        case "file-write": {
          if (access === O_RDONLY) throw new SandboxError(Errno.EBADF);
          const data = bytes(m, "data");
          const id = m.op === undefined ? undefined : writeId(m, data);
          const again = id === undefined ? undefined : grant.answered.get(id);
          if (again) return again; // done already: a backup's guest sent it again
          const answer = withFd(host, "r+", (fd) => {
            const append = (grant.flags & O_APPEND) !== 0 || bool(m, "append");
            const position = append ? fs.fstatSync(fd).size : num(m, "position", 0);
            const written = fs.writeSync(fd, data, 0, data.length, position);
            return { written, position: position + written };
          });
          if (id !== undefined) remember(grant.answered, id, answer);
          return answer;
        }
        case "file-stat":
          return { stat: statToData(fs.statSync(host)) };
        case "file-list":
          if (grant.kind !== "directory") throw new SandboxError(Errno.ENOTDIR);
          return { entries: listDirectory(host) };
        default:
          throw new ProtocolError(`unknown message type '${m.t}'`);
      }
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(`errno ${error instanceof SandboxError ? error.errno : errnoOf(error)}`);
    }
  }

  /** The grant a request presents: its capability, for its guest, and (if it names one) for that path. */
  private granted(m: Message): Grant {
    const grant = this.grants.get(text(m, "cap") ?? "");
    const path = m.path === undefined ? undefined : text(m, "path");
    if (!grant || grant.guest !== text(m, "guest") || (path !== undefined && path !== grant.path)) throw new SandboxError(Errno.EBADF);
    return grant;
  }
}

/** A text field, or undefined when it is missing or not text (a bad capability is EBADF, not a protocol error). */
function text(m: Message, key: string): string | undefined {
  return typeof m[key] === "string" ? (m[key] as string) : undefined;
}

/** A write's identity: its op (the open file's count of answered writes) and a digest of what it writes where. */
function writeId(m: Message, data: Uint8Array): string {
  const digest = createHash("sha256").update(data).update(`${String(m.position)}:${String(m.append)}`).digest("hex");
  return `${num(m, "op", 0)}:${digest}`;
}

function remember(answered: Map<string, Record<string, unknown>>, id: string, answer: Record<string, unknown>): void {
  answered.set(id, answer);
  if (answered.size > ANSWERS_KEPT) answered.delete(answered.keys().next().value!);
}

function withFd<T>(host: string, mode: string, use: (fd: number) => T): T {
  const fd = fs.openSync(host, mode);
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}
