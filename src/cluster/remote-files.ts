// How a guest reaches files that stayed on the host it came from. The kernel's
// system calls are synchronous, so a remote operation works in two passes: the
// first call sends the request and throws WouldBlock; the process waits, runs
// the same system call again, and this time the answer is here and is taken.
// Answers are kept by the exact request, so a write is done once however the
// system call is repeated.
//
// A file's home comes from a snapshot, which anyone who may restore one can
// write: only a home this host knows as a cluster member (src/cluster/members.ts)
// is contacted, as a host peer with this host's token, and each request carries
// the capability that home issued when the guest left it with the file open.
// Any other home fails with EIO (the file is there, this host cannot reach it)
// and one warning; no connection is attempted.
//
// Output commit (issue 13): a replicated guest's requests that change its
// home (writes, releases) wait at its primary until the epoch holding the
// guest that waits for them is acknowledged (`holdFor`), so the home never
// sees a write the backup's guest would not do again; that guest sends it
// again with the same id (`op`, the open file's count of answered writes),
// and the home answers it from its last answers (home-files.ts).

import { Errno } from "../kernel/errno.js";
import { SandboxError, WouldBlock, type RemoteFiles } from "../kernel/files.js";
import { connect, type Peer } from "../net/peer.js";
import type { Members } from "./members.js";
import type { TlsIdentity } from "../net/tls.js";

type Answer = { ok: Record<string, unknown> } | { errno: number };

export class RemoteFileClient implements RemoteFiles {
  private readonly peers = new Map<string, Promise<Peer>>();
  private readonly answers = new Map<string, Answer>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly refused = new Set<string>(); // unknown homes already warned about
  private readonly unreachable = new Set<string>(); // homes whose loss was logged
  /**
   * Set by a host: where guest `guest`'s requests that change its home wait for their epoch's acknowledgement (the
   * replication's held messages: `go` runs once it is acked), or undefined when the guest is not replicated.
   */
  holdFor: ((guest: string) => ((go: () => void) => void) | undefined) | undefined;
  /** Told the data bytes each answered call moved between a guest here and its file's home (the locality policy's input). */
  onTraffic: ((guest: string, home: string, bytes: number) => void) | undefined;

  /** `tls`: the host's own identity: presented as a client certificate, and its CA verifies the home (src/net/tls.ts). */
  constructor(private readonly token: string | undefined, private readonly members: Members, private readonly warn: (line: string) => void, private readonly tls?: TlsIdentity) {}

  call(home: string, request: Record<string, unknown>): Record<string, unknown> {
    if (!this.members.knows(home)) {
      if (!this.refused.has(home)) {
        this.refused.add(home);
        this.warn(`guest ${String(request.guest)}: file ${String(request.path)} is on ${home}, not a known host (roam host --peer): not contacted, EIO`);
      }
      throw new SandboxError(Errno.EIO);
    }
    const key = home + "\0" + keyOf(request);
    const answer = this.answers.get(key);
    if (answer) {
      this.answers.delete(key);
      if ("errno" in answer) throw new SandboxError(answer.errno);
      if (typeof request.guest === "string") this.onTraffic?.(request.guest, home, dataBytes(request) + dataBytes(answer.ok));
      return answer.ok;
    }
    let waiting = this.pending.get(key);
    if (!waiting) {
      waiting = this.afterCommit(request, () => this.ask(home, request))
        .then((ok) => { this.unreachable.delete(home); this.answers.set(key, { ok }); })
        .catch((error: Error) => {
          if (LINK_LOST.test(error.message)) this.lost(home, request, error.message);
          this.answers.set(key, { errno: errnoFromMessage(error.message) });
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, waiting);
    }
    throw new WouldBlock(waiting);
  }

  release(home: string, guest: string, cap: string): void {
    this.tell(home, { t: "file-release", guest, cap });
  }

  tell(home: string, request: Record<string, unknown>): void {
    if (!this.members.knows(home)) return;
    this.afterCommit(request, () => this.ask(home, request)).catch(() => {}); // a home that is gone has no use for it
  }

  /** `send`s a request that changes the home once a replicated guest's epoch holding it is acknowledged; reads at once. */
  private afterCommit<T>(request: Record<string, unknown>, send: () => Promise<T>): Promise<T> {
    const hold = request.t === "file-read" || request.t === "file-stat" || request.t === "file-list" ? undefined : this.holdFor?.(String(request.guest));
    if (!hold) return send();
    return new Promise<void>((resolve) => hold(resolve)).then(send);
  }

  /** A home that cannot be reached (its host died, the link broke): said once per home; its calls fail with EIO. */
  private lost(home: string, request: Record<string, unknown>, why: string): void {
    if (this.unreachable.has(home)) return;
    this.unreachable.add(home);
    this.warn(`guest ${String(request.guest)}: lost its home ${home} (${why}): calls forwarded there fail with EIO`);
  }

  private async ask(home: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
    let peer = this.peers.get(home);
    if (!peer) {
      peer = connect(home, { role: "host", token: this.token, tls: this.tls }); // file requests are served to host peers only
      this.peers.set(home, peer);
      peer.catch(() => this.peers.delete(home));
    }
    const p = await peer;
    if (!p.open) { this.peers.delete(home); throw new Error("errno 5"); }
    return p.request(request as { t: string }, 30_000);
  }

  close(): void {
    for (const peer of this.peers.values()) void peer.then((p) => p.close(), () => {});
    this.peers.clear();
  }
}

/** How a request fails when the link itself is gone, not the request: the peer closed, cannot be reached, or went silent. */
const LINK_LOST = /^(connection closed|cannot reach |cannot verify )|: no answer in \d+ ms$/;

function keyOf(request: Record<string, unknown>): string {
  return JSON.stringify(request, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v));
}

/** The host reports file errors as "errno N"; anything else (unreachable, timeout) is EIO. */
function errnoFromMessage(message: string): number {
  const m = /errno (\d+)/.exec(message);
  return m ? Number(m[1]) : Errno.EIO;
}

/** The bytes of data (Uint8Array fields) a request or an answer carries. */
function dataBytes(fields: Record<string, unknown>): number {
  let sum = 0;
  for (const value of Object.values(fields)) if (value instanceof Uint8Array) sum += value.length;
  return sum;
}
