// A terminal attached to a guest on some host. Output is numbered by byte
// offset, so after the guest moves (the host says "moved, to ws://…") we attach
// at the new host from the last offset we printed: nothing lost, nothing twice.
// Input is numbered too: we keep what the host has not acknowledged and send
// it again after a move, and the guest's console takes each byte once.
// A connection that closes without "exit" or "moved" means the host is gone:
// the attachment ends then ("connection-lost"), it does not wait for ever;
// unless the guest is replicated (the host said "replica"): then we attach at
// its backup, which takes it over, from the last offset we printed.

import { connect, type Peer } from "../net/peer.js";
import type { Message } from "../net/protocol.js";

export interface AttachResult {
  code: number;
  report?: string;
  /** exited, killed, lost (the guest's end), checkpointed, or connection-lost (the host went away first) */
  status?: string;
}

export interface AttachEvents {
  moved?(to: string): void;
  /** The guest's host went away; we follow it to its backup. */
  failover?(to: string): void;
  /** The output from `from` to `keptFrom` is no longer kept anywhere we can reach. */
  gap?(from: number, keptFrom: number): void;
  /** The guest's job (its first process, on its terminal) stopped with signal `sig`. */
  stopped?(sig: number): void;
}

const FOLLOW_MS = 30_000; // how long a backup may take to take a guest over (its silence bound is a few seconds)

export class Attachment {
  private peer: Peer | undefined;
  private outputOffset: number;
  private unacked = Buffer.alloc(0); // input not yet acknowledged
  private unackedFrom = 0; // its input offset
  private inputEnded = false;
  private replica: string | undefined; // the guest's backup host, while it is replicated
  private finish!: (r: AttachResult) => void;
  readonly done = new Promise<AttachResult>((resolve) => (this.finish = resolve));
  host: string;
  private readonly events: AttachEvents;
  /** "process" or "machine", as the host says once attached. */
  kind: "process" | "machine" = "process";
  /** Whether the guest has a terminal of its own (GuestInfo.terminal): keys then go to it as typed. */
  terminal = false;

  constructor(
    url: string,
    readonly guest: string,
    private readonly output: (data: Uint8Array, stream: number) => void,
    private readonly token?: string,
    from = 0,
    events: AttachEvents | ((to: string) => void) = {},
  ) {
    this.events = typeof events === "function" ? { moved: events } : events;
    this.host = url;
    this.outputOffset = from;
  }

  private attached!: () => void;
  private readonly firstReply = new Promise<void>((resolve) => (this.attached = resolve));

  /** Resolves once a host has taken the attach (so `kind` is known), or the attachment has ended. */
  async start(): Promise<void> {
    await this.attachTo(this.host);
    await Promise.race([this.firstReply, this.done]);
  }

  private async attachTo(url: string): Promise<void> {
    this.host = url;
    const peer = await connect(url, { role: "client", token: this.token });
    this.peer = peer;
    peer.onMessage((m) => {
      if (this.peer === peer) this.event(m); // not a straggler from a host we have left
    });
    // A host that goes away without saying the guest ended or moved (killed, crashed, cut off).
    void peer.closed.then(() => {
      if (this.peer !== peer) return;
      if (this.replica) void this.followToBackup(this.replica);
      else this.finish({ code: 1, status: "connection-lost", report: `lost the connection to ${url}: the host is gone?` });
    });
    let reply: Message;
    try {
      reply = await peer.request({ t: "attach", guest: this.guest, from: this.outputOffset });
    } catch (error) {
      if (this.peer !== peer) return; // we left it: the guest moved on before the reply came
      throw error;
    }
    const kind = (reply.guest as { kind?: unknown } | undefined)?.kind;
    if (kind === "machine" || kind === "process") this.kind = kind;
    this.terminal = (reply.guest as { terminal?: unknown } | undefined)?.terminal === true;
    this.attached();
    if (typeof reply.inputOffset === "number") this.acknowledge(reply.inputOffset);
    await this.flushInput();
    await this.flushContinue();
  }

  private event(m: Message): void {
    if (m.guest !== this.guest) return;
    if (m.t === "out") {
      const data = m.data as Uint8Array;
      const start = m.offset as number;
      const end = start + data.length;
      if (start > this.outputOffset) {
        this.events.gap?.(this.outputOffset, start);
        this.outputOffset = start;
      }
      if (end > this.outputOffset) {
        this.output(data.subarray(Math.max(0, this.outputOffset - start)), typeof m.stream === "number" ? m.stream : 1);
        this.outputOffset = end;
      }
    } else if (m.t === "moved") {
      const to = String(m.to);
      this.letGo();
      this.events.moved?.(to);
      if (to === "checkpoint") { this.finish({ code: 0, status: "checkpointed" }); return; }
      void this.attachTo(to).catch((error) => this.finish({ code: 1, report: `lost the guest after it moved to ${to}: ${(error as Error).message}` }));
    } else if (m.t === "stopped") {
      // Not while this client's continue is on its way (a host it reattaches to after a move says the job is stopped).
      if (!this.continuePending) this.events.stopped?.(typeof m.sig === "number" ? m.sig : 20);
    } else if (m.t === "replica") {
      this.replica = typeof m.url === "string" ? m.url : undefined;
    } else if (m.t === "exit") {
      this.letGo();
      this.finish({ code: typeof m.code === "number" ? m.code : 1, report: m.report as string | undefined, status: m.status as string | undefined });
    }
  }

  /** The guest's host is gone and it was replicated: attach at the backup once it has taken the guest over. */
  private async followToBackup(backup: string): Promise<void> {
    const from = this.host;
    this.peer = undefined;
    this.replica = undefined;
    this.events.failover?.(backup);
    const deadline = Date.now() + FOLLOW_MS;
    for (;;) {
      try {
        await this.attachTo(backup);
        return;
      } catch (error) {
        // Not taken over yet (the backup waits for the link to close or fall silent), or not reachable yet.
        this.letGo();
        if (Date.now() > deadline) {
          this.finish({ code: 1, status: "connection-lost", report: `lost the connection to ${from}, and its backup ${backup} did not take the guest over (${(error as Error).message})` });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** The guest's backup as the client asked for it (run --replicate), before any host has said so. */
  knowBackup(url: string): void {
    this.replica ??= url;
  }

  /** Bytes typed: queue them and send everything unacknowledged. */
  input(data: Uint8Array): void {
    this.unacked = Buffer.concat([this.unacked, data]);
    void this.flushInput();
  }

  endInput(): void {
    this.inputEnded = true;
    void this.flushInput();
  }

  private async flushInput(): Promise<void> {
    const peer = this.peer;
    if (!peer?.open || (this.unacked.length === 0 && !this.inputEnded)) return;
    try {
      const reply = await peer.request({ t: "input", guest: this.guest, offset: this.unackedFrom, data: this.unacked, end: this.inputEnded });
      if (typeof reply.inputOffset === "number") this.acknowledge(reply.inputOffset);
    } catch {
      // the guest is moving or gone: the next host gets it again
    }
  }

  private acknowledge(inputOffset: number): void {
    const done = inputOffset - this.unackedFrom;
    if (done > 0) {
      this.unacked = this.unacked.subarray(Math.min(done, this.unacked.length));
      this.unackedFrom = inputOffset;
    }
  }

  /** Asks the host to stop the guest (Ctrl-C for a process-mode guest); the exit event follows. */
  /** Ctrl-C for a process-mode guest: it ends as `roam run` ends on Ctrl-C (exit 130). */
  interrupt(): void {
    void this.peer?.request({ t: "interrupt", guest: this.guest }).catch(() => {
      // moving or gone: the exit or the lost connection says what happened
    });
  }

  /** A continue asked for and not yet taken (the guest moved meanwhile): the next host gets it. */
  private continuePending = false;

  /** This client was continued after the guest's job stopped: so is the job, wherever the guest is by now. */
  continueGuest(): void {
    this.continuePending = true;
    void this.flushContinue();
  }

  private async flushContinue(): Promise<void> {
    const peer = this.peer;
    if (!this.continuePending || !peer?.open) return;
    try {
      await peer.request({ t: "continue", guest: this.guest });
      this.continuePending = false;
    } catch {
      // moving or gone: the next host gets it
    }
  }

  /** The client's terminal changed size: the guest's terminal takes it (nothing if it has none, or is moving). */
  resize(rows: number, columns: number): void {
    void this.peer?.request({ t: "resize", guest: this.guest, rows, columns }).catch(() => {});
  }

  /** This client leaves; the guest runs on. */
  close(): void {
    this.letGo();
  }

  /** Closes the connection we chose to leave, which is then no sign of a lost host. */
  private letGo(): void {
    const peer = this.peer;
    this.peer = undefined;
    peer?.close();
  }
}
