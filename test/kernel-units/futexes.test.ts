// Futex wait queues (src/kernel/futexes.ts) on their own: FIFO order, the
// bitset a wake must meet, requeue, and entries that lapse (a waiter
// interrupted, ended, or waiting anew). And the futex block: only a wake
// (or a signal, or the deadline) runs a waiter's call again, never another
// change the kernel notes.
import { describe, expect, test } from "vitest";
import type { AddressSpace } from "../../src/kernel/address-space.js";
import { Futexes } from "../../src/kernel/futexes.js";
import { Kernel } from "../../src/kernel/kernel.js";
import type { Task } from "../../src/kernel/task.js";

const space = {} as AddressSpace;
const other = {} as AddressSpace;

/** A thread as the queues see it: its space, its status, its wait, whether it is blocked. */
function thread(pid: number, on = space): Task {
  return { pid, space: on, status: "running", futexWait: undefined, blocked: { kind: "futex" } } as unknown as Task;
}

describe("futex wait queues", () => {
  test("a wake takes waiters in the order they came, up to its count, and unblocks each", () => {
    const q = new Futexes();
    const [a, b, c] = [thread(1), thread(2), thread(3)];
    for (const t of [a, b, c]) q.wait(t, 0x1000, ~0);
    expect(q.wake(space, 0x1000, 2)).toBe(2);
    expect([a.futexWait?.woken, b.futexWait?.woken, c.futexWait?.woken]).toEqual([true, true, false]);
    expect([a.blocked, b.blocked, c.blocked]).toEqual([undefined, undefined, { kind: "futex" }]);
    expect(q.wake(space, 0x1000, 5)).toBe(1);
    expect(q.wake(space, 0x1000, 5)).toBe(0);
  });

  test("a word is its address in one space: the same address in another space, or the next word, is another futex", () => {
    const q = new Futexes();
    const [a, b] = [thread(1), thread(2, other)];
    q.wait(a, 0x1000, ~0);
    q.wait(b, 0x1000, ~0);
    expect(q.wake(space, 0x1004, 9)).toBe(0);
    expect(q.wake(other, 0x1000, 9)).toBe(1);
    expect(b.futexWait?.woken).toBe(true);
    expect(a.futexWait?.woken).toBe(false);
  });

  test("a bitset wake passes by waiters whose bitset shares no bit with it", () => {
    const q = new Futexes();
    const [a, b] = [thread(1), thread(2)];
    q.wait(a, 0x1000, 0b01);
    q.wait(b, 0x1000, 0b10);
    expect(q.wake(space, 0x1000, 9, 0b10)).toBe(1);
    expect([a.futexWait?.woken, b.futexWait?.woken]).toEqual([false, true]);
  });

  test("requeue wakes some and moves the rest, in order, to wait on another word", () => {
    const q = new Futexes();
    const ts = [thread(1), thread(2), thread(3), thread(4)];
    for (const t of ts) q.wait(t, 0x1000, ~0);
    expect(q.requeue(space, 0x1000, 0x2000, 1, 2)).toBe(3);
    expect(ts.map((t) => [t.futexWait?.woken, t.futexWait?.address])).toEqual([[true, 0x1000], [false, 0x2000], [false, 0x2000], [false, 0x1000]]);
    expect(q.wake(space, 0x2000, 1)).toBe(1);
    expect(ts[1].futexWait?.woken).toBe(true);
    expect(q.wake(space, 0x1000, 9)).toBe(1); // the one left behind
    expect(ts[3].futexWait?.woken).toBe(true);
  });

  test("a waiter interrupted, ended, or waiting anew elsewhere is not counted by a wake", () => {
    const q = new Futexes();
    const [interrupted, ended, moved, waiting] = [thread(1), thread(2), thread(3), thread(4)];
    for (const t of [interrupted, ended, moved, waiting]) q.wait(t, 0x1000, ~0);
    interrupted.futexWait = undefined; // a handler ran: the call returned EINTR
    (ended as { status: string }).status = "zombie";
    q.wait(moved, 0x3000, ~0); // its call returned, and it waits on another word now
    expect(q.wake(space, 0x1000, 1)).toBe(1);
    expect(waiting.futexWait?.woken).toBe(true);
    expect(moved.futexWait?.woken).toBe(false);
  });
});

describe("the futex block", () => {
  test("a change the kernel notes (a pipe, a child) runs calls blocked on an event again, not futex waits", () => {
    const k = Object.create(Kernel.prototype) as Kernel;
    const onFutex = thread(1), onEvent = { blocked: { kind: "event" } } as unknown as Task;
    Object.assign(k, { tasks: new Map([[1, onFutex], [2, onEvent]]), changeWaiters: [], wake: undefined });
    k.notify();
    expect(onEvent.blocked).toBeUndefined();
    expect(onFutex.blocked).toEqual({ kind: "futex" });
  });
});
