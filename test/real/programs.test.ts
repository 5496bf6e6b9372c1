import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CaseDirs, QEMU, ROAM_JS, ROOT, describeRun, limiter, qemuPath, runProgram, type Run } from "../process-harness.js";

// The real programs built with the musl SDK (guests/bin/real/*.elf, built by
// guests/real/build.sh from guests/vendor/): BusyBox, Lua and the SQLite
// shell. On qemu-riscv32, the oracle, every case must give the output written
// down here; if that fails, the SDK or the build is wrong, not Roam. On
// `roam run` the cases the kernel can run today must give the same; the ones
// it cannot yet are listed in ROAM_GAPS (each with what is missing) and show
// as todo, so the list is the kernel's to-do list: move a case out of it when
// its system calls land.
//
// Runs as in test/process-harness.ts: a fresh directory (the files first)
// that is also roam's --root, argv[0] the absolute path of the ELF, stdin an
// empty pipe, and an environment of HOME=/ alone: without HOME the SQLite
// shell looks for ~/.sqliterc through /etc/passwd, which qemu-riscv32 finds on
// the host and roam (rightly) not in the guest's root.

const TIMEOUT_MS = 60_000;
const requireQemu = !!process.env.ROAM_REQUIRE_QEMU;
const WARNING_LINE = /^roam: warning: unsupported system call \d+; it returns ENOSYS\n/gm;

interface RealCase {
  id: string;
  program: "busybox" | "lua" | "sqlite3";
  args: string[];
  files?: Record<string, string>;
  stdout: string;
  /** checked in the directory after the run */
  after?: (cwd: string) => void;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const TEXT = "hello\nworld\n";
const LUA_SCRIPT = `local t = {}
for i = 1, 5 do t[#t + 1] = string.format("%03d:%.2f", i, i / 3) end
print(table.concat(t, " "), string.format("%5.1f|%-4s|%x", math.pi, "ab", 255))
`;

const CASES: RealCase[] = [
  { id: "busybox echo hi", program: "busybox", args: ["echo", "hi"], stdout: "hi\n" },
  { id: "busybox seq 1 10", program: "busybox", args: ["seq", "1", "10"], stdout: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n" },
  { id: "busybox sh -c 'echo a; echo b'", program: "busybox", args: ["sh", "-c", "echo a; echo b"], stdout: "a\nb\n" },
  {
    id: "busybox sh: a pipeline of NOEXEC applets (fork, pipe)", program: "busybox",
    args: ["sh", "-c", "seq 1 100 | sort -rn | head -3"], stdout: "100\n99\n98\n",
  },
  { id: "busybox awk", program: "busybox", args: ["awk", "BEGIN{print 1+2}"], stdout: "3\n" },
  { id: "busybox md5sum", program: "busybox", args: ["md5sum", "f.txt"], files: { "f.txt": TEXT }, stdout: `${md5(TEXT)}  f.txt\n` },
  { id: "lua -e", program: "lua", args: ["-e", "print(1+2)"], stdout: "3\n" },
  {
    id: "lua script with string.format", program: "lua", args: ["s.lua"], files: { "s.lua": LUA_SCRIPT },
    stdout: "001:0.33 002:0.67 003:1.00 004:1.33 005:1.67\t  3.1|ab  |ff\n",
  },
  { id: "sqlite3 :memory:", program: "sqlite3", args: [":memory:", "select 1+2"], stdout: "3\n" },
  {
    id: "sqlite3 on a file: create, insert, select", program: "sqlite3",
    args: ["x.db", "create table t(a, b); insert into t values (1, 'x'), (2, 'y'); select sum(a), group_concat(b) from t"],
    stdout: "3|x,y\n",
    after: (cwd) => expect(readFileSync(join(cwd, "x.db")).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0"),
  },
];

/** what `roam run` lacks for a case today (and what it prints), by case id */
const ROAM_GAPS: Record<string, string> = {
};

const dirs = new CaseDirs("roam-real-programs-");
const slot = limiter(2); // two cores: at most two guests at once
beforeAll(() => dirs.open());
afterAll(() => dirs.close());

function run(kind: "qemu" | "roam", c: RealCase): Promise<{ run: Run; cwd: string }> {
  return slot(async () => {
    const cwd = dirs.fresh({ id: c.id, guest: c.program, args: c.args, status: 0 }, `${kind}-${c.program}`);
    for (const [name, data] of Object.entries(c.files ?? {})) writeFileSync(join(cwd, name), data);
    const elf = join(ROOT, "guests", "bin", "real", `${c.program}.elf`);
    const [program, args] = kind === "qemu"
      ? [qemuPath!, [elf, ...c.args]]
      : [process.execPath, [ROAM_JS, "run", "--root", cwd, elf, ...c.args]];
    return { run: await runProgram(kind, program, args, { cwd, env: { HOME: "/" }, timeoutMs: 45_000 }), cwd };
  });
}

function expectOutput(result: Run, c: RealCase, stderr: string): void {
  const what = describeRun(result);
  expect(result.timedOut, `${what}\n(timed out)`).toBe(false);
  expect(result.stdout.toString("utf8"), what).toBe(c.stdout);
  expect(stderr, what).toBe("");
  expect(result.status, what).toBe(0);
}

describe.skipIf(!qemuPath && !requireQemu)(`real programs on ${QEMU}, the oracle`, () => {
  test.each(CASES)("$id", async (c) => {
    expect(qemuPath, `${QEMU} is not on PATH (ROAM_REQUIRE_QEMU is set)`).toBeTruthy();
    const { run: result, cwd } = await run("qemu", c);
    expectOutput(result, c, result.stderr);
    c.after?.(cwd);
  }, TIMEOUT_MS);
});

describe("real programs on roam run", () => {
  for (const c of CASES) {
    if (ROAM_GAPS[c.id]) {
      test.todo(`${c.id} (needs ${ROAM_GAPS[c.id]})`);
      continue;
    }
    test(c.id, async () => {
      const { run: result, cwd } = await run("roam", c);
      expectOutput(result, c, result.stderr.replace(WARNING_LINE, ""));
      c.after?.(cwd);
    }, TIMEOUT_MS);
  }
});
