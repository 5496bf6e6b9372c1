// Futex wait queues (futex(2)): "a futex is a 32-bit value ... a waiter sleeps
// until another thread wakes it". One FIFO queue per word, as Linux wakes
// waiters of one priority in the order they came. A word is named by its
// address space and virtual address: Roam's MAP_SHARED anonymous memory is not
// shared across fork (a child gets it copy-on-write), so every futex belongs to
// one process, whether the caller said FUTEX_PRIVATE_FLAG or not.
//
// The queues are not in a snapshot: a thread that waited runs its call again
// where it is restored and queues anew (calls/threads.ts); one that was woken
// and had not yet run again carries `futexWoken` in its state.

import type { AddressSpace } from "./address-space.js";
import type { Task } from "./task.js";

/** A thread's wait on one futex word, from FUTEX_WAIT until it returns. */
export interface FutexWait {
  space: AddressSpace;
  address: number;
  /** FUTEX_WAIT_BITSET's mask: a wake whose mask shares no bit with it passes it by. */
  bitset: number;
  /** A FUTEX_WAKE took it: the call returns 0 when the thread runs again. */
  woken: boolean;
}

interface Entry {
  task: Task;
  wait: FutexWait;
}

export class Futexes {
  private readonly queues = new Map<AddressSpace, Map<number, Entry[]>>();

  /** `task` waits on the word at `address` of its space: at the queue's end. */
  wait(task: Task, address: number, bitset: number): void {
    const wait: FutexWait = { space: task.space, address, bitset, woken: false };
    task.futexWait = wait;
    this.queue(task.space, address, true)!.push({ task, wait });
  }

  /** Wakes up to `count` waiters on the word whose bitset meets `bitset`; how many it woke. */
  wake(space: AddressSpace, address: number, count: number, bitset = ~0): number {
    const queue = this.queue(space, address, false);
    if (!queue) return 0;
    let woken = 0;
    for (let i = 0; i < queue.length && woken < count;) {
      const entry = queue[i];
      if (!waiting(entry)) { queue.splice(i, 1); continue; }
      if ((entry.wait.bitset & bitset) === 0) { i++; continue; }
      queue.splice(i, 1);
      entry.wait.woken = true;
      if (entry.task.blocked) entry.task.blocked = undefined; // its call runs again, and returns 0
      woken++;
    }
    this.prune(space, address, queue);
    return woken;
  }

  /**
   * FUTEX_REQUEUE: wakes up to `wakeCount` waiters on `from` and moves up to `moveCount` of the rest to wait on `to`
   * ("without waking them up"); how many it woke and moved.
   */
  requeue(space: AddressSpace, from: number, to: number, wakeCount: number, moveCount: number): number {
    const woken = this.wake(space, from, wakeCount);
    const queue = this.queue(space, from, false);
    if (!queue || moveCount <= 0) return woken;
    const moving = queue.filter(waiting).slice(0, moveCount);
    this.queues.get(space)!.set(from, queue.filter((e) => waiting(e) && !moving.includes(e)));
    this.prune(space, from, this.queue(space, from, false)!);
    const target = this.queue(space, to, true)!;
    for (const entry of moving) {
      entry.wait.address = to;
      target.push(entry);
    }
    return woken + moving.length;
  }

  private queue(space: AddressSpace, address: number, make: boolean): Entry[] | undefined {
    let words = this.queues.get(space);
    if (!words) {
      if (!make) return undefined;
      this.queues.set(space, (words = new Map()));
    }
    let queue = words.get(address);
    if (!queue && make) words.set(address, (queue = []));
    return queue;
  }

  private prune(space: AddressSpace, address: number, queue: Entry[]): void {
    if (queue.length > 0) return;
    const words = this.queues.get(space)!;
    words.delete(address);
    if (words.size === 0) this.queues.delete(space);
  }
}

/** Whether an entry still stands: its thread waits there (not woken, not interrupted, not ended, not waiting anew). */
function waiting(entry: Entry): boolean {
  return entry.task.futexWait === entry.wait && !entry.wait.woken && entry.task.status !== "zombie";
}
