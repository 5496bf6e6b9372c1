// CPU-time clocks, times, getrusage, resource limits, prctl names, affinity,
// sysinfo, priorities and ids, on their own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { PROT_READ, PROT_WRITE } from "../../src/kernel/address-space.js";
import { Errno } from "../../src/kernel/errno.js";
import type { SyscallContext } from "../../src/kernel/syscalls.js";
import { spaceOver, unitContext, callIn, quietConsole } from "./unit-context.js";

const ram = new Uint8Array(4 << 20);
const DATA = 0x20000;
let dir: string;
let c: SyscallContext;
const task = { pid: 1000, tgid: 1000, status: "running", cpuInstructions: 0n, threadsCpu: 0n, name: "prog", limits: new Map() };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "roam-time-"));
  const space = spaceOver(ram);
  space.addRegion({ start: DATA, end: DATA + 4 * 4096, prot: PROT_READ | PROT_WRITE, kind: "mmap" });
  c = unitContext(space, dir, { monotonicNs: () => 5_000_000_000n, realtimeNs: () => 1_700_000_000_000_000_000n },
    quietConsole());
  task.cpuInstructions = 0n;
  task.name = "prog";
  task.limits = new Map();
  c.kernel.tasks.set(1000, task as never);
  (c.kernel as unknown as { frames: object }).frames = { frameCount: 2048, used: 512 };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const call = (n: number, ...args: number[]) => callIn(c, n, ...args);
const view = (at: number, n: number) => new DataView(c.space.read(at, n)!.buffer);

describe("CPU time is guest instructions, one a nanosecond", () => {
  test("clock_gettime64 of CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID", () => {
    task.cpuInstructions = 2_500_000_123n;
    for (const clock of [2, 3]) {
      expect(call(403, clock, DATA)).toBe(0);
      expect([view(DATA, 16).getBigInt64(0, true), view(DATA, 16).getBigInt64(8, true)]).toEqual([2n, 500_000_123n]);
    }
    expect(call(403, (~1000 << 3) | 2, DATA)).toBe(0); // clock_getcpuclockid(1000)
    expect(view(DATA, 16).getBigInt64(0, true)).toBe(2n);
    expect(call(403, (~4242 << 3) | 2, DATA)).toBe(-Errno.EINVAL); // no such process
    expect(call(403, 1, DATA)).toBe(0);
    expect(view(DATA, 16).getBigInt64(0, true)).toBe(5n); // the monotonic clock is not the CPU clock
    expect(call(403, 2, 0x10)).toBe(-Errno.EFAULT);
  });

  test("times counts ticks of 10 ms; getrusage gives the time as a 32-bit timeval", () => {
    task.cpuInstructions = 1_230_000_000n;
    expect(call(153, DATA)).toBe(500); // 5 s of guest time since boot, in ticks
    expect([0, 4, 8, 12].map((o) => view(DATA, 16).getUint32(o, true))).toEqual([123, 0, 0, 0]);
    expect(call(153, 0x10)).toBe(-Errno.EFAULT);
    expect(call(165, 0, DATA)).toBe(0);
    const ru = view(DATA, 72);
    expect([ru.getUint32(0, true), ru.getUint32(4, true), ru.getUint32(8, true)]).toEqual([1, 230000, 0]);
    expect(call(165, -1, DATA)).toBe(0);
    expect(view(DATA, 8).getUint32(4, true)).toBe(0);
    expect(call(165, 7, DATA)).toBe(-Errno.EINVAL);
  });
});

describe("limits", () => {
  const get = (resource: number) => {
    expect(call(261, 0, resource, 0, DATA)).toBe(0);
    return [view(DATA, 16).getBigUint64(0, true), view(DATA, 16).getBigUint64(8, true)];
  };
  const INF = 0xffffffffffffffffn;

  test("prlimit64 reports the guest's bounds; lower values are kept, raising a hard limit is EPERM", () => {
    expect(get(7)).toEqual([1024n, 1024n]); // RLIMIT_NOFILE
    expect(get(6)).toEqual([512n, 512n]); // RLIMIT_NPROC
    expect(get(3)).toEqual([8n << 20n, INF]); // RLIMIT_STACK
    expect(get(9)).toEqual([8n << 20n, 8n << 20n]); // RLIMIT_AS: the guest's RAM
    expect(get(0)).toEqual([INF, INF]);
    const set = (cur: bigint, max: bigint) => {
      const v = new DataView(new ArrayBuffer(16));
      v.setBigUint64(0, cur, true); v.setBigUint64(8, max, true);
      c.space.write(DATA + 64, new Uint8Array(v.buffer));
      return call(261, 0, 7, DATA + 64, 0);
    };
    expect(set(256n, 512n)).toBe(0);
    expect(get(7)).toEqual([256n, 512n]);
    expect(set(600n, 500n)).toBe(-Errno.EINVAL);
    expect(set(100n, 2048n)).toBe(-Errno.EPERM);
    expect(call(261, 0, 16, 0, DATA)).toBe(-Errno.EINVAL);
    expect(call(261, 4242, 7, 0, DATA)).toBe(-Errno.ESRCH);
    expect(call(261, 0, 7, 0x10, 0)).toBe(-Errno.EFAULT);
  });
});

describe("the process and the machine", () => {
  test("prctl PR_SET_NAME / PR_GET_NAME name the process (15 bytes at most); other options are EINVAL", () => {
    c.space.write(DATA, Buffer.from("a-very-long-process-name\0"));
    expect(call(167, 15, DATA)).toBe(0);
    expect(task.name).toBe("a-very-long-pro");
    expect(call(167, 16, DATA + 64)).toBe(0);
    expect(Buffer.from(c.space.read(DATA + 64, 16)!).toString()).toBe("a-very-long-pro\0");
    expect(call(167, 9999, 0)).toBe(-Errno.EINVAL);
    expect(call(167, 16, 0x10)).toBe(-Errno.EFAULT);
  });

  test("one CPU; sched_yield; sysinfo in pages", () => {
    expect(call(123, 0, 128, DATA)).toBe(4);
    expect(view(DATA, 4).getUint32(0, true)).toBe(1);
    expect(call(123, 0, 2, DATA)).toBe(-Errno.EINVAL);
    expect(call(123, 4242, 128, DATA)).toBe(-Errno.ESRCH);
    c.space.write(DATA, new Uint8Array([2]));
    expect(call(122, 0, 4, DATA)).toBe(-Errno.EINVAL);
    expect(call(124)).toBe(0);
    expect((c.kernel as unknown as { yields: number }).yields, "sched_yield passes the hart on").toBe(1);
    expect(call(179, DATA)).toBe(0);
    const si = view(DATA, 64);
    expect([si.getUint32(0, true), si.getUint32(16, true), si.getUint32(20, true), si.getUint16(40, true), si.getUint32(52, true)]).toEqual([5, 2048, 1536, 1, 4096]);
  });

  test("priorities, and ids of root", () => {
    expect(call(141, 0, 0)).toBe(20);
    expect(call(140, 0, 0, 5)).toBe(0);
    expect(call(141, 0, 0)).toBe(15);
    expect(call(141, 7, 0)).toBe(-Errno.EINVAL);
    expect(call(141, 0, 4242)).toBe(-Errno.ESRCH);
    c.space.write(DATA, new Uint8Array(12).fill(0xff));
    expect(call(148, DATA, DATA + 4, DATA + 8)).toBe(0);
    expect([...c.space.read(DATA, 12)!]).toEqual(new Array(12).fill(0));
    expect(call(150, DATA, 0x10, DATA)).toBe(-Errno.EFAULT);
    expect(call(158, 0, 0)).toBe(0);
    expect(call(146, 0)).toBe(0);
    expect(call(146, 1000)).toBe(-Errno.EPERM);
    expect(call(147, -1, 0, -1)).toBe(0);
  });
});
