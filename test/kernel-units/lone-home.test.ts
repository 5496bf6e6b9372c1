// The home host's side of a process that moved alone (src/kernel/lone-home.ts),
// over a tree of plain tasks: what its kills reach, what its waits report of
// the children that stayed, and what its end leaves for its parent here.
import { describe, expect, test } from "vitest";
import "../../src/kernel/syscalls.js"; // first, as the kernel loads it: the call tables and the tree import each other
import type { Kernel } from "../../src/kernel/kernel.js";
import { homeExit, homeIo, homeKill, homeWait } from "../../src/kernel/lone-home.js";
import { Terminal } from "../../src/kernel/terminal.js";
import { findWaitable, P_ALL, reap, WEXITED } from "../../src/kernel/process-tree.js";
import { SignalState } from "../../src/kernel/signals.js";
import type { Task } from "../../src/kernel/task.js";

const SIGUSR1 = 10;

/** A guest at home: shell 1000 (its parent, 999), the proxy 1001 of the process that moved to B, and its children 1002 and 1003. */
function family() {
  const forwarded: Array<{ pid: number; sig: number }> = [];
  const task = (pid: number, ppid: number, more: Partial<Task> = {}) => ({
    pid, tgid: pid, ppid, pgid: 1000, sid: 1000, status: "running", exitedAsThread: false, threadsCpu: 0n, away: undefined, signals: new SignalState(), pendingInfo: new Map(),
    blocked: undefined, waitStatus: 0, stopReport: undefined, exitSignal: 17, cpuInstructions: 0n, childrenCpuNs: 0n,
    files: { closeAll: () => {} }, ...more,
  }) as unknown as Task;
  const tasks = new Map<number, Task>();
  for (const t of [
    task(999, 1), task(1000, 999), task(1001, 1000, { away: { host: "ws://b", guest: "g-1001" }, cpuInstructions: 5_000n }),
    task(1002, 1001), task(1003, 1001, { status: "zombie", waitStatus: 3 << 8, cpuInstructions: 70_000n, childrenCpuNs: 4_000n }),
  ]) tasks.set(t.pid, t);
  const kernel = {
    tasks, firstPid: 999, notify: () => {},
    onAwaySignal: (t: Task, sig: number) => forwarded.push({ pid: t.pid, sig }),
  } as unknown as Kernel;
  return { kernel, tasks, forwarded };
}

const pending = (t: Task | undefined) => t!.signals.anyPending !== 0n;

describe("the home of a process that moved alone", () => {
  test("its kill of its own group reaches the family here but not its proxy: the satellite signalled the process itself, so it gets one signal, not two", () => {
    const { kernel, tasks, forwarded } = family();
    expect(homeKill(kernel, 1001, 0, SIGUSR1)).toBe(0);
    expect([pending(tasks.get(999)), pending(tasks.get(1000)), pending(tasks.get(1002))]).toEqual([true, true, true]);
    expect(forwarded).toEqual([]);
    expect(homeKill(kernel, 1001, -1000, SIGUSR1)).toBe(0);
    expect(homeKill(kernel, 1001, -1, SIGUSR1)).toBe(0);
    expect(forwarded).toEqual([]);
    // A group with nobody here but its proxy: the satellite's own kill found it there.
    tasks.get(1001)!.pgid = 1001;
    expect(homeKill(kernel, 1001, 0, SIGUSR1)).toBe(-3); // ESRCH
    expect(forwarded).toEqual([]);
  });

  test("its wait reports an exited child with that child's CPU time, its reaped children's included, and leaves it to be reaped", () => {
    const { kernel, tasks } = family();
    const answer = homeWait(kernel, 1001, P_ALL, 0, WEXITED);
    expect(answer).toEqual({ pid: 1003, status: 3 << 8, what: "exited", children: 2, cpuNs: "74000" });
    expect(tasks.get(1003)?.status).toBe("zombie"); // reported, not reaped: proc-reap takes it
  });

  test("its end makes the proxy a zombie whose CPU times are those it counted there, which its parent's wait adds to its own", () => {
    const { kernel, tasks } = family();
    const shell = tasks.get(1000)!;
    homeExit(kernel, tasks.get(1001)!, 7 << 8, "905000", "12000");
    expect(tasks.get(1001)?.status).toBe("zombie");
    const found = findWaitable(kernel, shell, P_ALL, 0, WEXITED);
    if (typeof found !== "object") throw new Error(`nothing to reap: ${found}`);
    expect(found.child.pid).toBe(1001);
    expect(reap(kernel, found, WEXITED)).toBe(7 << 8);
    expect(shell.childrenCpuNs).toBe(917_000n);
  });

  test("an end whose CPU times are not decimal counts keeps the ones the proxy had", () => {
    const { kernel, tasks } = family();
    homeExit(kernel, tasks.get(1001)!, 0, "12e3", -1);
    expect(tasks.get(1001)!.cpuInstructions).toBe(5_000n);
    expect(tasks.get(1001)!.childrenCpuNs).toBe(0n);
  });

  test("its read of the guest's terminal, done here, takes the line discipline's input: it waits for a line, then has it", async () => {
    const { kernel, tasks } = family();
    const changes: Array<() => void> = [];
    const tty = new Terminal({ echo: () => {}, signalGroup: () => {}, readable: () => { for (const c of changes.splice(0)) c(); } }, 1000);
    Object.assign(kernel, {
      terminal: tty, changed: () => new Promise<void>((resolve) => changes.push(resolve)),
      console: { read: () => { throw new Error("the console holds no keys when the guest has a terminal"); } },
      options: { inputReady: () => new Promise(() => {}) },
    });
    Object.assign(tasks.get(1001)!, { files: { files: new Map([[0, { id: 7, kind: "terminal", terminal: 0, flags: 0 }]]), closeAll: () => {} } });
    const read = homeIo(kernel, 1001, 7, "read", 100, undefined);
    tty.receive(Buffer.from("half"));
    tty.receive(Buffer.from(" a line\r"));
    expect(Buffer.from((await read).data as Uint8Array).toString()).toBe("half a line\n");
  });
});
