// Processes, pipes and signals (guests/calls/processes.c, built with the musl
// SDK) on roam, against qemu-riscv32 byte for byte; without QEMU, against the
// output it gave (guests/calls/processes.expected). And a fork bomb, which
// QEMU would let grow to the host's limit: on Roam it stops at the guest's
// 512 processes with EAGAIN, and cleans up.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { describeRun, qemuPath, ROOT, runProgram, runRoam } from "../process-harness.js";

const elf = (name: string) => join(ROOT, "guests", "bin", "calls", `${name}.elf`);
const dirs: string[] = [];
const fresh = () => { const d = mkdtempSync(join(tmpdir(), "roam-processes-")); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test("fork, pipes, wait statuses, exec errors, descriptors, signals, groups, poll and EFAULT: as qemu-riscv32", async () => {
  const dir = fresh();
  const roam = await runRoam(["run", "--root", dir, elf("processes")], { cwd: dir, timeoutMs: 100_000 });
  const expected = qemuPath
    ? (await runProgram("qemu", qemuPath, [elf("processes")], { cwd: fresh(), timeoutMs: 100_000 })).stdout.toString()
    : readFileSync(join(ROOT, "guests", "calls", "processes.expected"), "utf8");
  expect(roam.stdout.toString(), describeRun(roam)).toBe(expected);
  expect(roam.stderr, describeRun(roam)).toBe("");
  expect(roam.status).toBe(0);
}, 120_000);

test("execve of another architecture's program (an x86-64 ELF), or any file that is not a RISC-V executable: ENOEXEC", async () => {
  const dir = fresh();
  copyFileSync(process.execPath, join(dir, "foreign")); // node itself: an ELF for the host's machine, not RISC-V
  chmodSync(join(dir, "foreign"), 0o755);
  const r = await runRoam(["run", "--root", dir, elf("processes"), "exec", "./foreign"], { cwd: dir, timeoutMs: 100_000 });
  expect(r.stdout.toString(), describeRun(r)).toBe("execve: -1 Exec format error\n");
}, 120_000);

test("a fork bomb stops at the guest's process limit with EAGAIN, and the guest cleans up after it", async () => {
  const dir = fresh();
  const r = await runRoam(["run", "--root", dir, elf("forkbomb")], { cwd: dir, timeoutMs: 100_000 });
  expect(r.stdout.toString(), describeRun(r)).toBe("fork failed after 511 children: Resource temporarily unavailable\nreaped 511 children, each ended by SIGTERM\n");
  expect(r.status).toBe(0);
}, 120_000);
