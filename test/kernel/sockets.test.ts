// Sockets inside one guest (guests/calls/sockets-*.c, built with the musl SDK)
// on roam, against qemu-riscv32 byte for byte: qemu-user passes the calls to
// the host's Linux, so it is the oracle. Without QEMU, against the output it
// gave (guests/calls/sockets-*.expected). Each run has a fresh directory for
// path names; abstract names carry the pid, ports are whatever bind gave.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { describeRun, qemuPath, ROOT, runProgram, runRoam } from "../process-harness.js";

const elf = (name: string) => join(ROOT, "guests", "bin", "calls", `${name}.elf`);
const dirs: string[] = [];
const fresh = () => { const d = mkdtempSync(join(tmpdir(), "roam-sockets-")); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function expected(name: string): Promise<string> {
  if (!qemuPath) return readFileSync(join(ROOT, "guests", "calls", `${name}.expected`), "utf8");
  const q = await runProgram("qemu", qemuPath, [elf(name)], { cwd: fresh(), timeoutMs: 60_000 });
  expect(q.status, describeRun(q)).toBe(0);
  return q.stdout.toString();
}

describe("the same output as qemu-riscv32", () => {
  for (const [name, what] of [
    ["sockets-unix", "AF_UNIX: socketpair of each type, path and abstract names with a forked client, datagrams, errors"],
    ["sockets-inet", "AF_INET over 127.0.0.1: TCP with a forked client, non-blocking with ppoll and pselect, UDP, errors"],
  ]) {
    test(`${what} (guests/calls/${name}.c)`, async () => {
      const dir = fresh();
      const r = await runRoam(["run", "--root", dir, elf(name)], { cwd: dir, timeoutMs: 60_000 });
      expect(r.stderr, describeRun(r)).toBe("");
      expect(r.status, describeRun(r)).toBe(0);
      expect(r.stdout.toString()).toBe(await expected(name));
    }, 120_000);
  }
});

test("--strace names the socket calls, with their addresses, flags and errors", async () => {
  const dir = fresh();
  const r = await runRoam(["run", "--strace", "--root", dir, elf("sockets-inet")], { cwd: dir, timeoutMs: 60_000 });
  expect(r.status, describeRun(r)).toBe(0);
  expect(r.stderr).toContain("socket(AF_INET, SOCK_STREAM, 0) = 3\n");
  expect(r.stderr).toMatch(/bind\(3, \{sa_family=AF_INET, sin_port=htons\(0\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, 16\) = 0\n/);
  expect(r.stderr).toContain("listen(3, 8) = 0\n");
  expect(r.stderr).toMatch(/connect\(\d+, \{sa_family=AF_INET, sin_port=htons\(\d+\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, 16\) = -1 ECONNREFUSED \(Connection refused\)\n/);
  expect(r.stderr).toContain("socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0) = ");
  expect(r.stderr).toMatch(/recvfrom\(\d+, "msg 1\\nmsg 2\\nmsg 3\\nmsg 4\\n", 24, MSG_WAITALL, NULL, NULL\) = 24\n/);
  expect(r.stderr).toMatch(/setsockopt\(\d+, SOL_TCP, 1, 0x[0-9a-f]+, 4\) = 0\n/);
  expect(r.stderr).toMatch(/shutdown\(\d+, SHUT_WR\) = -1 ENOTCONN/);
}, 120_000);
