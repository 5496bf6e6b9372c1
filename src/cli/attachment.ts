// A terminal attached to a guest on some host. Output is numbered by byte
// offset, so after the guest moves (the host says "moved, to ws://…") we attach
// at the new host from the last offset we printed: nothing lost, nothing twice.
// Input is numbered too: we keep what the host has not acknowledged and send
// it again after a move, and the guest's console takes each byte once.

import { connect, type Peer } from "../net/peer.js";
import type { Message } from "../net/protocol.js";

export interface AttachResult {
  code: number;
  report?: string;
  status?: string;
}

export class Attachment {
  private peer: Peer | undefined;
  private outputOffset: number;
  private unacked = Buffer.alloc(0); // input not yet acknowledged
  private unackedFrom = 0; // its input offset
  private inputEnded = false;
  private finish!: (r: AttachResult) => void;
  readonly done = new Promise<AttachResult>((resolve) => (this.finish = resolve));
  host: string;

  constructor(
    url: string,
    readonly guest: string,
    private readonly output: (data: Uint8Array, stream: number) => void,
    private readonly token?: string,
    from = 0,
    private readonly onMoved?: (to: string) => void,
  ) {
    this.host = url;
    this.outputOffset = from;
  }

  async start(): Promise<void> {
    await this.attachTo(this.host);
  }

  private async attachTo(url: string): Promise<void> {
    this.host = url;
    const peer = await connect(url, { role: "client", token: this.token });
    this.peer = peer;
    peer.onMessage((m) => this.event(m));
    const reply = await peer.request({ t: "attach", guest: this.guest, from: this.outputOffset });
    if (typeof reply.inputOffset === "number") this.acknowledge(reply.inputOffset);
    await this.flushInput();
  }

  private event(m: Message): void {
    if (m.guest !== this.guest) return;
    if (m.t === "out") {
      const data = m.data as Uint8Array;
      const start = m.offset as number;
      const end = start + data.length;
      if (end > this.outputOffset) {
        this.output(data.subarray(Math.max(0, this.outputOffset - start)), typeof m.stream === "number" ? m.stream : 1);
        this.outputOffset = end;
      }
    } else if (m.t === "moved") {
      const to = String(m.to);
      this.peer?.close();
      this.onMoved?.(to);
      if (to === "checkpoint") { this.finish({ code: 0, status: "checkpointed" }); return; }
      void this.attachTo(to).catch((error) => this.finish({ code: 1, report: `lost the guest after it moved to ${to}: ${(error as Error).message}` }));
    } else if (m.t === "exit") {
      this.peer?.close();
      this.finish({ code: typeof m.code === "number" ? m.code : 1, report: m.report as string | undefined, status: m.status as string | undefined });
    }
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

  close(): void {
    this.peer?.close();
  }
}
