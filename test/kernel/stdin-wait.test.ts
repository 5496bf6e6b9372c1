import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROAM_JS } from "../process-harness.js";
import { guestElf, startInProcess } from "./kernel-harness.js";

// A guest blocked reading stdin waits on an event: it must use (nearly) no CPU
// while nothing arrives, and still get a line written later. echo-lines
// numbers each line as it comes and writes it back at once.
//
// Through the CLI the CPU time of the roam process is read from
// /proc/<pid>/stat (utime + stime); in this process, from process.cpuUsage()
// and from how often the kernel asked the console for input.
//
// A waiting process still spends CPU for a while after its last line: V8
// compiles the core's hot code on background threads and collects garbage,
// and on a loaded machine that work is late, so a fixed window right after
// the echo can catch it. So the test looks for one quiet second within
// QUIET_WITHIN_MS: a process that waits on an event settles into one soon; a
// process that polls never does, however long it is given.

const TIMEOUT_MS = 60_000;
const WAIT_MS = 1_000;
const QUIET_WITHIN_MS = 20_000;
/** CPU time allowed while blocked, as a fraction of the wall time waited */
const MAX_CPU_FRACTION = 0.1;

/** Waits for a window of WAIT_MS in which `cpuMs()` grows by less than MAX_CPU_FRACTION of it; fails after QUIET_WITHIN_MS. */
async function quietWindow(cpuMs: () => number, what: string): Promise<void> {
  const windows: string[] = [];
  for (const deadline = performance.now() + QUIET_WITHIN_MS; performance.now() < deadline;) {
    const cpu0 = cpuMs();
    const t0 = performance.now();
    await sleep(WAIT_MS);
    const cpu = cpuMs() - cpu0;
    const wall = performance.now() - t0;
    if (cpu < wall * MAX_CPU_FRACTION) return;
    windows.push(`${cpu.toFixed(0)} ms in ${wall.toFixed(0)} ms`);
  }
  expect.fail(`${what} never settled into a quiet second while waiting on stdin: CPU time per window ${windows.join(", ")}`);
}

let work = "";
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "roam-kernel-stdin-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const line = (n: number, text: string) => `${String(n).padStart(6)}\t${text}\n`;

/** user + system CPU time of a process, in ms (Linux /proc) */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
  const ticks = Number(fields[11]) + Number(fields[12]); // utime (14), stime (15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

describe("a guest blocked on stdin", () => {
  test.skipIf(!existsSync("/proc/self/stat"))(
    "roam run: nearly no CPU while waiting, then the line arrives",
    async () => {
      const child = spawn(process.execPath, [ROAM_JS, "run", "--root", work, guestElf("echo-lines")], {
        cwd: work, env: {}, stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
      child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
      const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 15_000;
        while (!out.includes(text)) {
          if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(out)}; stderr ${JSON.stringify(err)}`);
          await sleep(10);
        }
      };
      try {
        // the first line shows the guest is up (start-up, compiling the core: CPU well spent)
        child.stdin!.write("first\n");
        await waitFor(line(1, "first"));
        await quietWindow(() => cpuMs(child.pid!), "roam run");
        // and input written later still arrives
        child.stdin!.write("written later\n");
        await waitFor(line(2, "written later"));
        child.stdin!.end();
        expect(await closed).toBe(0);
        expect(out).toBe(line(1, "first") + line(2, "written later"));
        expect(err).toBe("echo-lines: 2 lines\n");
      } finally {
        child.kill("SIGKILL");
      }
    },
    TIMEOUT_MS,
  );

  test(
    "in-process: the kernel does not poll the console, and little CPU is used",
    async () => {
      const run = await startInProcess("echo-lines", { root: work });
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 15_000;
        while (!run.console.stdout.includes(text)) {
          if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(run.console.stdout)}`);
          await sleep(10);
        }
      };
      run.console.push("first\n");
      await waitFor(line(1, "first"));
      const reads0 = run.console.reads;
      await quietWindow(() => { const used = process.cpuUsage(); return (used.user + used.system) / 1000; }, "this process");
      // The kernel asked the console once (the read that blocked), not again and again.
      expect(run.console.reads - reads0, "console reads while nothing arrived").toBeLessThanOrEqual(1);
      run.console.push("written later\n");
      await waitFor(line(2, "written later"));
      run.console.end();
      const result = await run.done;
      expect(result.exitCode).toBe(0);
      expect(run.console.stdout).toBe(line(1, "first") + line(2, "written later"));
      expect(run.console.stderr).toBe("echo-lines: 2 lines\n");
    },
    TIMEOUT_MS,
  );
});
