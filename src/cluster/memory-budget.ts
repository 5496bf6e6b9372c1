// How much guest RAM a host takes on (`roam host --max-memory`). Every guest
// that comes to this host — run, restored, or arriving by migration — is
// admitted against it before any of its memory is made, so a flood of large
// arrivals is refused with a reason instead of swelling the host until the
// kernel kills it (or every guest stalls while 1 GiB is faulted in).

import { totalmem } from "node:os";

/** Without --max-memory: three quarters of this machine's memory. */
export function defaultMaxMemory(): number {
  return Math.floor(totalmem() * 0.75);
}

export class MemoryBudget {
  /** Arrivals under way (admitted, not yet running here), by guest id. */
  private readonly reserved = new Map<string, number>();

  /** `inUse`: the RAM of the guests this host holds now (running, frozen, or a postcopy source's). */
  constructor(readonly limit: number, private readonly hostName: string, private readonly inUse: () => number) {}

  get committed(): number {
    let sum = this.inUse();
    for (const bytes of this.reserved.values()) sum += bytes;
    return sum;
  }

  /** Throws, saying how much is free, unless a guest of `bytes` fits now. */
  check(bytes: number, what: string): void {
    const free = this.limit - this.committed;
    if (bytes > free) {
      throw new NoRoom(`${what} needs ${mib(bytes)} MiB; host ${this.hostName} has ${mib(Math.max(free, 0))} of its ${mib(this.limit)} MiB (--max-memory) free`);
    }
  }

  /** Admits an arrival of `bytes` (held until `release(id)`), or throws as check does. */
  reserve(id: string, bytes: number, what: string): void {
    this.check(bytes, what);
    this.reserved.set(id, bytes);
  }

  release(id: string): void {
    this.reserved.delete(id);
  }
}

export class NoRoom extends Error {}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);
