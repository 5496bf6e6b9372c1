// The satellite's side of a process that moved alone (src/kernel/lone-satellite.ts):
// how often its waits for the children it left at home ask there.
import { afterEach, describe, expect, test, vi } from "vitest";
import "../../src/kernel/syscalls.js"; // first, as the kernel loads it: the call tables and the tree import each other
import type { Kernel } from "../../src/kernel/kernel.js";
import { HOLD_MS } from "../../src/kernel/lone-home.js";
import { waitAtHome } from "../../src/kernel/lone-satellite.js";
import { P_ALL, WEXITED } from "../../src/kernel/process-tree.js";
import type { Task } from "../../src/kernel/task.js";

/** A satellite whose home answers every proc-wait with "later" (a child there still runs); the questions it got. */
function satellite() {
  const asked: Array<Record<string, unknown>> = [];
  const remote = { call: (_home: string, request: Record<string, unknown>) => { asked.push(request); return { later: true, children: 1 }; } };
  const task = { pid: 1000, remoteRound: 0, homeWait: undefined } as unknown as Task;
  const kernel = {
    home: { url: "ws://home", guest: "g" }, firstPid: 1000, homeChildren: 1, homeChildEvents: 0, openFiles: { remote },
  } as unknown as Kernel;
  return { kernel, task, asked };
}

afterEach(() => vi.useRealTimers());

describe("a wait of a process that moved alone, for its children at home", () => {
  test("asks home once, then again after a SIGCHLD from there, not at every local change", () => {
    const { kernel, task, asked } = satellite();
    expect(waitAtHome(kernel, task, P_ALL, 0, WEXITED)).toBe("later");
    expect(waitAtHome(kernel, task, P_ALL, 0, WEXITED)).toBe("later");
    expect(asked.length).toBe(1);
    kernel.homeChildEvents++;
    expect(waitAtHome(kernel, task, P_ALL, 0, WEXITED)).toBe("later");
    expect(asked.length).toBe(2);
  });

  test("asks again after the hold time even with no SIGCHLD: a signal lost on a broken link does not leave it waiting for ever", () => {
    vi.useFakeTimers();
    const { kernel, task, asked } = satellite();
    expect(waitAtHome(kernel, task, P_ALL, 0, WEXITED)).toBe("later");
    vi.advanceTimersByTime(HOLD_MS - 1);
    expect(waitAtHome(kernel, task, P_ALL, 0, WEXITED)).toBe("later");
    expect(asked.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(waitAtHome(kernel, task, P_ALL, 0, WEXITED)).toBe("later");
    expect(asked.length).toBe(2);
  });
});
