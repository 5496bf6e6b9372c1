// Two (or more) guests' socket layers joined by an in-memory network, with no
// host: each guest is a system call context over its own memory and Sockets;
// the names are cluster-wide (a name one guest bound is found by the other, as
// src/cluster/cluster-names.ts does for hosts), and what one kernel sends
// reaches the other's receiveMessage on a later turn — in order, or shuffled
// and duplicated, as routes that overtake each other after a migration would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { FileTable } from "../../src/kernel/files.js";
import type { Kernel } from "../../src/kernel/kernel.js";
import { OpenFiles } from "../../src/kernel/open-files.js";
import { guestAddress, type SocketName } from "../../src/kernel/sockets/addresses.js";
import { LocalNames, type SocketNames, type SocketRef } from "../../src/kernel/sockets/names.js";
import { receiveMessage } from "../../src/kernel/sockets/remote-messages.js";
import type { OutMessage } from "../../src/kernel/sockets/remote-peer.js";
import { Sockets } from "../../src/kernel/sockets/table.js";
import { runSyscall, type SyscallContext } from "../../src/kernel/syscalls.js";
import { spaceOver, quietConsole } from "./unit-context.js";

export const DATA = 0x20000;
const PAGES = 200;

export interface TestGuest {
  id: string;
  address: number;
  local: LocalNames;
  sockets: Sockets;
  c: SyscallContext;
  warnings: string[];
}

/** One guest's view of the cluster's names: its own first (guest ""), then the other guests'. */
class ClusterView implements SocketNames {
  constructor(private readonly net: TwoGuestNetwork, private readonly self: () => TestGuest) {}

  private get own(): LocalNames { return this.self().local; }

  bind(name: SocketName, socket: SocketRef): number {
    if (name.kind === "abstract" && this.net.others(this.self()).some((g) => g.local.lookup(name))) return -98; // EADDRINUSE cluster-wide
    return this.own.bind(name, socket);
  }

  unbind(name: SocketName, socket: SocketRef): void { this.own.unbind(name, socket); }

  lookup(name: SocketName): SocketRef | undefined {
    if (name.kind === "inet") {
      const owner = this.net.all().find((g) => g.address === name.address);
      if (owner && owner !== this.self()) {
        const ref = owner.local.lookup(name);
        return ref && { guest: owner.id, socket: ref.socket };
      }
      return this.own.lookup(name);
    }
    const mine = this.own.lookup(name);
    if (mine) return mine;
    for (const g of this.net.others(this.self())) {
      const ref = g.local.lookup(name);
      if (ref) return { guest: g.id, socket: ref.socket };
    }
    return undefined;
  }

  ephemeralPort(protocol: "tcp" | "udp", address: number): number | undefined { return this.own.ephemeralPort(protocol, address); }

  hasGuest(address: number): boolean { return this.net.all().some((g) => g.address === address); }
}

export interface DeliveryPlan {
  /** Deliver each turn's messages in a shuffled order (seeded). */
  shuffle?: boolean;
  /** Deliver every `n`th message twice. */
  duplicateEvery?: number;
}

export class TwoGuestNetwork {
  private readonly guests = new Map<string, TestGuest>();
  readonly inFlight: OutMessage[] = [];
  readonly root = mkdtempSync(join(tmpdir(), "roam-two-guests-"));
  private seed = 12345;
  delivered = 0;

  all(): TestGuest[] { return [...this.guests.values()]; }
  others(g: TestGuest): TestGuest[] { return this.all().filter((o) => o !== g); }
  guest(id: string): TestGuest { return this.guests.get(id)!; }

  /** A guest named `id`, with its own memory, descriptors and sockets. */
  add(id: string): TestGuest {
    const ram = new Uint8Array(4 << 20);
    const space = spaceOver(ram);
    space.addRegion({ start: DATA, end: DATA + PAGES * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
    const openFiles = new OpenFiles();
    const guest = { id, address: guestAddress(id), local: new LocalNames(), warnings: [] as string[] } as TestGuest;
    guest.sockets = this.socketsFor(guest);
    openFiles.onLastClose = (file) => { const socket = file.kind === "socket" ? guest.sockets.get(file.socket!) : undefined; if (socket) guest.sockets.close(socket); };
    const kernel = { openFiles, tasks: new Map(), pipes: new Map(), get sockets() { return guest.sockets; }, notify: () => {} } as unknown as Kernel;
    guest.c = {
      kernel, space, files: FileTable.withConsole(this.root, openFiles), pid: 1000, sleepDeadline: undefined,
      clock: { monotonicNs: () => process.hrtime.bigint(), realtimeNs: () => 0n },
      console: quietConsole(),
    };
    this.guests.set(id, guest);
    return guest;
  }

  /** A fresh Sockets for `guest` (a restored kernel's, or its first). */
  socketsFor(guest: TestGuest): Sockets {
    const sockets = new Sockets(new ClusterView(this, () => guest), guest.address, () => {});
    sockets.guestId = guest.id;
    sockets.network = { send: (m) => this.inFlight.push(structuredClone(m)) };
    return sockets;
  }

  /** `guest` comes back from a snapshot of its sockets: a fresh LocalNames and Sockets, restored. */
  restore(guest: TestGuest, state: ReturnType<Sockets["state"]>): void {
    guest.local = new LocalNames();
    guest.sockets = this.socketsFor(guest);
    guest.sockets.restore(state);
  }

  private random(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return this.seed / 2 ** 32;
  }

  /** Lets microtasks (acks) run, then delivers what was in flight: one turn. Returns how many were delivered. */
  async turn(plan: DeliveryPlan = {}, hold?: (m: OutMessage) => boolean): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    const batch = this.inFlight.splice(0).filter((m) => !hold?.(m) || (this.inFlight.push(m), false));
    const order = [...batch];
    if (plan.duplicateEvery) batch.forEach((m, i) => { if (i % plan.duplicateEvery! === 0) order.push(structuredClone(m)); });
    if (plan.shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    for (const m of order) {
      const to = this.guests.get(m.to);
      if (!to) throw new Error(`a message for ${m.to}, which is no guest here`);
      this.delivered++;
      receiveMessage(to.sockets, m, (text) => to.warnings.push(text));
    }
    return order.length;
  }

  /** Turns until nothing is in flight (every message delivered, and every ack it caused). */
  async settle(plan: DeliveryPlan = {}): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if ((await this.turn(plan)) === 0 && this.inFlight.length === 0) return;
    }
    throw new Error("the network never went quiet");
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A system call in `g`: its value, or "blocks" when it waits. */
export function callOn(g: TestGuest, n: number, ...args: number[]): number | "blocks" {
  const r = runSyscall(g.c, n, [...args, 0, 0, 0, 0, 0, 0].slice(0, 6).map((v) => v >>> 0))!;
  if (r.kind === "return") return r.value;
  if (r.kind === "block-event") return "blocks";
  throw new Error(`syscall ${n}: ${JSON.stringify(r)}`);
}

/** A system call in `g` that must not wait: its value. */
export function callNow(g: TestGuest, n: number, ...args: number[]): number {
  const r = callOn(g, n, ...args);
  if (r === "blocks") throw new Error(`syscall ${n} in ${g.id} blocks`);
  return r;
}

/** Writes `bytes` (or a string's) into `g`'s memory at `at`. */
export function put(g: TestGuest, at: number, bytes: Uint8Array | string): void {
  g.c.space.write(at, typeof bytes === "string" ? Buffer.from(bytes) : bytes);
}

/** An abstract AF_UNIX sockaddr for `name` (with its leading NUL) written at `at`; its length. */
export function abstractAt(g: TestGuest, at: number, name: string): number {
  put(g, at, Buffer.concat([Buffer.from([1 /* AF_UNIX */, 0, 0]), Buffer.from(name)]));
  return 3 + name.length;
}
