// musl programs (guests/calls/*.c, built with guests/musl/roam-cc into
// guests/bin/calls/) on roam, against qemu-riscv32 byte for byte where Linux's
// answers are the same everywhere, and against what Linux must say where the
// figures differ (CPU time, how much RAM). Without qemu-riscv32 the files
// program is compared with the output qemu gave (guests/calls/files.expected).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { qemuPath, ROAM_JS, ROOT, runProgram, runRoam, type Run } from "../process-harness.js";
import { BUSYBOX_APPLETS } from "../../src/kernel/base-layer.js";

const elf = (name: string) => join(ROOT, "guests", "bin", "calls", `${name}.elf`);
const dirs: string[] = [];
const fresh = () => { const d = mkdtempSync(join(tmpdir(), "roam-musl-calls-")); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const roam = (args: string[], env: Record<string, string> = {}) => runRoam(args, { cwd: fresh(), env, timeoutMs: 60_000 });
const qemu = (program: string) => runProgram("qemu", qemuPath!, [program], { cwd: fresh(), timeoutMs: 60_000 });
/** A shell line run in a fresh directory (for redirections), $ROAM and $QEMU set. */
const shell = (line: string) => runProgram("roam", "/bin/sh", ["-c", line], { cwd: fresh(), env: { ROAM: `${process.execPath} ${ROAM_JS}`, QEMU: qemuPath ?? "false", PATH: process.env.PATH ?? "" }, timeoutMs: 60_000 });
const show = (r: Run) => `status ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const withQemu = qemuPath ? test : test.skip;

describe("files, devices, umask and /proc/self/exe (guests/calls/files.c)", () => {
  test("the same output as qemu-riscv32", async () => {
    // Through a pipe: qemu-riscv32 cannot open /dev/stdout when it is the socket a spawn gives.
    const r = await shell(`$ROAM run ${elf("files")} | cat`);
    expect(r.status, show(r)).toBe(0);
    const expected = qemuPath ? (await shell(`$QEMU ${elf("files")} | cat`)).stdout : readFileSync(join(ROOT, "guests", "calls", "files.expected"));
    expect(r.stdout.toString()).toBe(expected.toString());
  }, 60_000);

  test("--strace shows the calls with their strings, flags and errors", async () => {
    const r = await roam(["run", "--strace", elf("files")]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('openat(AT_FDCWD, "f.txt", O_RDWR|O_CREAT|O_TRUNC|O_LARGEFILE, 0666) = 3\n');
    expect(r.stderr).toContain('pread64(3, "3456", 4, 3) = 4\n');
    expect(r.stderr).toContain('fchownat(AT_FDCWD, "missing", 0, 0, 0) = -1 ENOENT (No such file or directory)\n');
    expect(r.stderr).toContain('openat(AT_FDCWD, "/dev/full", O_WRONLY|O_LARGEFILE) = 3\nwrite(3, "x", 1) = -1 ENOSPC (No space left on device)\n');
    expect(r.stderr).toMatch(/exit_group\(0\) = \?\n\+\+\+ exited with 0 \+\+\+\n$/);
    expect(r.stderr).not.toContain("[pid"); // one process
  }, 60_000);
});

describe("POSIX threads (guests/calls/threads.c, src/kernel/threads.ts, futexes.ts)", () => {
  // Creation and join, a contended mutex, condition variables, semaphores, a barrier, TLS, ids, pthread_kill, sigwait of
  // a signal sent to the process, a timed wait, cancellation, fork from a thread, and how a process with threads ends.
  // Without qemu-riscv32 it is compared with the output qemu gave (threads.expected).
  const expected = async () => (qemuPath ? (await shell(`$QEMU ${elf("threads")}`)).stdout : readFileSync(join(ROOT, "guests", "calls", "threads.expected"))).toString();
  for (const [how, args, env] of [
    ["translated as usual", [], {}],
    ["every jump target translated at once", [], { ROAM_JIT_THRESHOLD: "0" }],
    ["interpreted (--no-jit)", ["--no-jit"], {}],
  ] as Array<[string, string[], Record<string, string>]>) {
    test(`the same output as qemu-riscv32, ${how}`, async () => {
      const r = await roam(["run", ...args, elf("threads")], env);
      expect(r.status, show(r)).toBe(0);
      expect(r.stdout.toString()).toBe(await expected());
      expect(r.stderr.toString()).toBe(""); // no call it makes is missing
    }, 60_000);
  }

  test("execve from a thread that is not the main one: the other threads end, the process keeps its pid, its one thread is the main one", async () => {
    // What Linux's execve(2) says ("all threads other than the calling thread are destroyed ... the thread ID of the
    // execing thread becomes the thread group ID"): qemu-riscv32 cannot show it here, its execve being the host's.
    const r = await roam(["run", elf("threads"), "exec-from-thread"]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe("  after execve: same pid 1, one thread 1\nexecve from a thread: exited 3\n");
  }, 60_000);

  test("a robust mutex whose owner ended holding it: the next lock returns EOWNERDEAD", async () => {
    // set_robust_list(2)'s list, walked as the thread ends (qemu-riscv32 offers no robust lists: ENOSYS).
    const r = await roam(["run", elf("threads"), "robust"]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe("a robust mutex whose owner ended: EOWNERDEAD\nmade consistent: 0, unlocked: 0, locked again: 0\n");
  }, 60_000);

  test("threads deadlocked for good: roam waits, as Linux would, until Ctrl-C ends the guest (it did not end as if it exited 0)", async () => {
    const child = spawn(process.execPath, [ROAM_JS, "run", elf("threads"), "deadlock"], { cwd: fresh(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
    const ended = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout.on("data", () => { if (out.includes("deadlocked\n")) resolve(); }));
    child.kill("SIGINT");
    expect(await ended, `stdout ${out}\nstderr ${err}`).toBe(130);
    expect(err).toContain("interrupted (Ctrl-C)");
  }, 60_000);

  test("--strace names each thread's calls: clone gives a thread ID, futex waits and wakes, each thread's exit", async () => {
    const r = await roam(["run", "--strace", elf("threads"), "handoff"]);
    expect(r.status, show(r)).toBe(0);
    const trace = r.stderr.toString();
    expect(trace).toMatch(/\[pid 1000\] clone\(0x7d0f00, 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+\) = 1001\n/);
    expect(trace).toMatch(/\[pid 100[1-4]\] futex_time64\(0x[0-9a-f]+, FUTEX_WAIT_PRIVATE, /);
    expect(trace).toMatch(/\[pid 100[0-4]\] futex_time64\(0x[0-9a-f]+, FUTEX_WAKE_PRIVATE, /);
    expect(trace).toMatch(/\[pid 1001\] rt_sigtimedwait_time64\(0x[0-9a-f]+, 0x[0-9a-f]+, NULL, 8\) = 12\n/);
    expect(trace.match(/\] exit\(0\) = \?\n/g)).toHaveLength(4); // each thread but main; main ends the process
    expect(trace).toMatch(/\[pid 1000\] exit_group\(0\) = \?\n\[pid 1000\] \+\+\+ exited with 0 \+\+\+\n$/);
  }, 60_000);
});

describe("a shell, $PATH, the user database, localhost: the base layer (guests/calls/system.c, src/kernel/base-layer.ts)", () => {
  test("system(3), popen(3), execvp, #! scripts, getpwuid, getgrgid, getaddrinfo(localhost): the same output as qemu-riscv32", async () => {
    // On qemu-riscv32 these are the host's /bin/sh, programs and /etc; on roam, in an empty directory, the base layer's
    // BusyBox and /etc files beneath it. Without qemu-riscv32, compared with the output qemu gave (system.expected).
    const dir = fresh();
    const r = await runRoam(["run", elf("system")], { cwd: dir, timeoutMs: 60_000 });
    expect(r.status, show(r)).toBe(0);
    const expected = qemuPath ? (await qemu(elf("system"))).stdout : readFileSync(join(ROOT, "guests", "calls", "system.expected"));
    expect(r.stdout.toString()).toBe(expected.toString());
    expect(r.stderr.toString()).toBe("");
    expect(readdirSync(dir).sort()).toEqual(["env-script", "script.sh"]); // the layer was read, nothing copied into the root
  }, 60_000);

  test("the layer is read as one tree with the root, and changed only through the root's own copies", async () => {
    const dir = fresh();
    const r = await runRoam(["run", elf("system"), "layer"], { cwd: dir, timeoutMs: 60_000 });
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe([
      "stat /bin/sh: 0", "stat /bin/ls: 0", "one file, many names: same inode, over 40 links", "fstat is stat: yes",
      "fchmod of the layer's file: -1 Read-only file system", "access /bin/sh X_OK: 0", "access /etc/passwd W_OK: 0",
      "/ lists bin 1 etc 1 usr 1 dev 1", "/bin lists sh 1 busybox 1, /usr/bin lists env 1",
      "open /etc O_RDWR: -1 Is a directory", "open /etc/passwd O_CREAT|O_EXCL: -1 File exists", "mkdir /etc: -1 File exists",
      "unlink /bin/sh: -1 Read-only file system", "rmdir /usr/bin: -1 Read-only file system",
      "rename /etc/hosts /hosts: -1 Read-only file system",
      "append to /etc/hosts: 12", "/etc/hosts: 73 bytes, first line 127.0.0.1\tlocalhost", "stat /etc/hosts: 0",
      "  its size 73, its mode 644", "/etc still lists passwd 1 group 1", "mkdir /etc/app: 0",
      "tool ran", "a program made in /usr/bin: exited 0", "/usr/bin lists env 1 tool 1",
      "chmod /etc/group 0600: 0", "stat /etc/group: 0", "  its mode 600",
      "rename my-passwd /etc/passwd: 0", "getpwuid(0) now: me", "unlink /etc/passwd (the root's): 0", "getpwuid(0) after: root",
      "unlink /etc/passwd again (the layer's): -1 Read-only file system",
      "/bin/sh -c ignored", "system with the root's own /bin/sh: exited 0", "",
    ].join("\n"));
    // What the guest changed is the root's; the layer's own files are as they were.
    const inRoot = (p: string) => readdirSync(join(dir, p)).sort();
    expect(inRoot(".")).toEqual(["bin", "etc", "usr"]);
    expect(inRoot("etc")).toEqual(["app", "group", "hosts"]);
    expect(inRoot("usr/bin")).toEqual(["tool"]);
    expect(readFileSync(join(dir, "etc", "hosts"), "utf8")).toBe(`${readFileSync(join(ROOT, "guests", "base", "etc", "hosts"), "utf8")}10.0.0.9\tdb\n`);
    expect(readFileSync(join(ROOT, "guests", "base", "etc", "hosts"), "utf8")).not.toContain("db");
    expect(statSync(join(ROOT, "guests", "bin", "real", "busybox.elf")).mode & 0o777).toBe(0o755);
  }, 60_000);

  test("the layer's /bin is BusyBox's applets, every one", async () => {
    const r = await roam(["run", join(ROOT, "guests", "bin", "real", "busybox.elf"), "--list"]);
    expect(r.status, show(r)).toBe(0);
    // This build's list names busybox itself too: the layer has /bin/busybox apart from the applets.
    const listed = r.stdout.toString().trim().split("\n").filter((name) => name !== "busybox");
    expect([...BUSYBOX_APPLETS]).toEqual(listed);
    const bin = await roam(["run", join(ROOT, "guests", "bin", "real", "busybox.elf"), "ls", "/bin"]);
    expect(bin.stdout.toString().trim().split("\n").sort()).toEqual([...listed, "busybox"].sort());
  }, 60_000);
});

describe("/proc (guests/calls/procfs.c, src/kernel/procfs.ts)", () => {
  // Checked against what the same process learns by system calls: its ids, argv, descriptors, sysinfo, its child.
  for (const [how, args] of [["translated", []], ["interpreted", ["--no-jit"]]] as Array<[string, string[]]>) {
    test(`what /proc says is what the process's own calls say (${how})`, async () => {
      const r = await roam(["run", ...args, elf("procfs"), "one", "two words", ""]);
      expect(r.stdout.toString(), show(r)).not.toContain("not ok");
      expect(r.stdout.toString()).toMatch(/\n1\.\.32\n$/);
      expect(r.status, show(r)).toBe(0);
    }, 60_000);
  }

  test("BusyBox reads it: a pipeline's processes, each with its own /proc/self", async () => {
    const r = await roam(["run", join(ROOT, "guests", "bin", "real", "busybox.elf"), "sh", "-c",
      "cat /proc/self/comm; head -c 0 /proc/self/status && cat /proc/$$/comm; cat /proc/self/stat | cut -d' ' -f2-3; ls /proc/self/fd | wc -l"]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe("cat\nbusybox.elf\n(cat) R\n4\n"); // ls's own 0, 1, 2 and the directory it reads
  }, 60_000);

  test("ps, top, free and uptime read it: the guest's processes, memory and hart", async () => {
    const r = await roam(["run", "--ram", "32M", join(ROOT, "guests", "bin", "real", "busybox.elf"), "sh", "-c",
      "ps > ps.txt; head -1 ps.txt; grep -c '^ *100[0-9] root ' ps.txt; top -b -n 1 | cut -c1-5 | head -4; free | sed -n 2p | tr -s ' ' | cut -d' ' -f1-2; uptime | grep -c 'load average'; grep -c ^cpu /proc/stat"]);
    expect(r.status, show(r)).toBe(0);
    // ps in a child of the shell (its output redirected): two processes; top's summary and its table's header.
    expect(r.stdout.toString()).toBe("  PID USER       VSZ STAT COMMAND\n2\nMem: \nCPU: \nLoad \n  PID\nMem: 32768\n1\n2\n");
  }, 60_000);
});

describe("read-ahead (guests/calls/read-ahead.c, src/kernel/read-ahead.ts)", () => {
  test("sequential reads see every change made before them, as on qemu-riscv32: a write ahead, a child's, an append", async () => {
    // Each change lands in bytes a run of reads before it had Roam read ahead; the program's output says which bytes
    // each later read returned. Without qemu-riscv32 it is compared with the output qemu gave (read-ahead.expected).
    const r = await shell(`$ROAM run ${elf("read-ahead")}`);
    expect(r.status, show(r)).toBe(0);
    const expected = qemuPath ? (await shell(`$QEMU ${elf("read-ahead")}`)).stdout : readFileSync(join(ROOT, "guests", "calls", "read-ahead.expected"));
    expect(r.stdout.toString()).toBe(expected.toString());
    expect(r.stdout.toString()).toContain("after a write ahead (holds it): 4096 bytes, \"CHANGED!\"");
  }, 60_000);

  test("a write to stdout between reads keeps the buffer, unless the host sent stdout to a file: then a read sees the write", async () => {
    // The program reads the file its stdout is appended to, writes to stdout between reads, and reads on to the end;
    // the unit test (test/kernel-units/read-ahead.test.ts) checks the choice itself without a clock.
    const r = await shell(`touch g.dat && $ROAM run ${elf("read-ahead")} own-output >> g.dat`);
    expect(r.status, show(r)).toBe(0);
    expect(r.stderr.toString()).toBe("read 9217 bytes\n"); // 8 KiB, its first byte to stdout, and the 1 KiB it wrote
    if (qemuPath) expect((await shell(`touch g.dat && $QEMU ${elf("read-ahead")} own-output >> g.dat`)).stderr.toString()).toBe("read 9217 bytes\n");
  }, 60_000);
});

describe("standard streams are what the user gave (guests/calls/stdio-kinds.c)", () => {
  for (const [name, redirect] of [["a file", "> out.txt 2> err.txt < /dev/null"], ["a pipe", "2> err.txt < /dev/null | cat > out.txt"]]) {
    withQemu(`stdout to ${name}: fstat, isatty and lseek as on qemu-riscv32`, async () => {
      const r = await shell(`$ROAM run ${elf("stdio-kinds")} ${redirect} && cat out.txt err.txt && mkdir q && cd q && $QEMU ${elf("stdio-kinds")} ${redirect} && cat out.txt err.txt`);
      expect(r.status, show(r)).toBe(0);
      const text = r.stdout.toString();
      const half = text.length / 2;
      expect(text.slice(0, half)).toBe(text.slice(half));
      expect(text).toContain(name === "a file" ? "fd 1: file size 6 tty 0 lseek 6" : "fd 1: pipe tty 0 lseek Invalid seek");
    }, 60_000);
  }
});

describe("CPU time and memory", () => {
  test("clock(), CPU-time clocks, times and getrusage grow with the work done (guests/calls/cputime.c)", async () => {
    const r = await roam(["run", elf("cputime")]);
    expect(r.status, show(r)).toBe(0);
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line, show(r)).toMatch(/: 1$/);
  }, 60_000);

  test("a reaped child's CPU time, and its own reaped children's, reach wait4's rusage, RUSAGE_CHILDREN and tms_cutime (guests/calls/child-cputime.c)", async () => {
    const r = await roam(["run", elf("child-cputime")]);
    expect(r.status, show(r)).toBe(0);
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines).toHaveLength(10);
    for (const line of lines) expect(line, show(r)).toMatch(/: 1$/);
    if (qemuPath) expect(r.stdout.toString()).toBe((await qemu(elf("child-cputime"))).stdout.toString());
  }, 60_000);

  test("realloc through mremap keeps every byte; mremap moves and shrinks (guests/calls/realloc-grow.c)", async () => {
    const r = await roam(["run", elf("realloc-grow")]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe("grew to 34012224 bytes intact\nmremap maymove: ok kept second\nshrink in place: 1\nbad flags: Invalid argument\n");
    if (qemuPath) expect(r.stdout.toString()).toBe((await qemu(elf("realloc-grow"))).stdout.toString());
  }, 60_000);

  test("with --ram 8M, malloc returns NULL instead of the program dying, and memory freed can be had again (guests/calls/malloc-limit.c)", async () => {
    const r = await roam(["run", "--ram", "8M", elf("malloc-limit")]);
    expect(r.status, show(r)).toBe(0);
    const m = /^malloc returned NULL after (\d+) KiB\nafter freeing: (\d+) KiB again\n$/.exec(r.stdout.toString());
    expect(m, show(r)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(6 * 1024);
    expect(Number(m![1])).toBeLessThan(8 * 1024);
    expect(Number(m![2])).toBe(Number(m![1]));
  }, 60_000);
});

describe("/tmp under roam run (guests/calls/tmpfiles.c)", () => {
  const tmpfilesOutput = [
    "/tmp is a directory: 1, sticky and world-writable: 1", "mkstemp: a file in /tmp: 1", "write: 16", "read back: 16 written to /tmp",
    "rename within /tmp: 0", "old name gone: 1", "renamed file holds: written to /tmp", "unlink: 0", "tmpfile reads: tmpfile line",
    "getcwd: /tmp", "relative mkdir in /tmp: 1", "rmdir: 0", "",
  ].join("\n");
  /** `roam run` with TMPDIR (where the host makes a private /tmp) a fresh directory of its own, which it returns. */
  const runWithTmpdir = async (args: string[], cwd = fresh()) => {
    const tmpdir = fresh();
    return { r: await runRoam(args, { cwd, env: { TMPDIR: tmpdir }, timeoutMs: 60_000 }), tmpdir, cwd };
  };

  test("a root without a tmp gets a private one: mkstemp, write, read back, rename, tmpfile — as on qemu-riscv32 — and nothing is left behind", async () => {
    const { r, tmpdir, cwd } = await runWithTmpdir(["run", elf("tmpfiles")]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe(tmpfilesOutput);
    if (qemuPath) expect(r.stdout.toString()).toBe((await qemu(elf("tmpfiles"))).stdout.toString());
    expect(readdirSync(cwd), "the user's directory gets no tmp").toEqual([]);
    expect(readdirSync(tmpdir), "the private /tmp is removed when the run ends").toEqual([]);
  }, 60_000);

  test("it is mounted as Linux mounts one: .. is the root, links start at the root, EXDEV across, EBUSY to remove it", async () => {
    const { r, tmpdir } = await runWithTmpdir(["run", elf("tmpfiles"), "mount"]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe([
      "/tmp/.. is the root: 1", "the root lists tmp: 1", "symlink in /tmp to /in-root: 0", "it leads to the root's file: 5 root",
      "symlink in /tmp to ../in-root: 0", "it leads there too: 5 root", "rename /tmp -> root: -1 Cross-device link",
      "rename root -> /tmp: -1 Cross-device link", "link /tmp -> root: -1 Cross-device link",
      "rename of a missing file: -1 No such file or directory", "rmdir /tmp: -1 Resource busy", "rename /tmp: -1 Resource busy",
      "/tmp still there: 1", "",
    ].join("\n"));
    expect(readdirSync(tmpdir)).toEqual([]);
  }, 60_000);

  test("a root with its own tmp keeps it", async () => {
    const root = fresh();
    mkdirSync(join(root, "tmp"));
    const busybox = join(ROOT, "guests", "bin", "real", "busybox.elf");
    const { r, tmpdir } = await runWithTmpdir(["run", busybox, "sh", "-c", "echo kept > /tmp/kept"], root);
    expect(r.status, show(r)).toBe(0);
    expect(readFileSync(join(root, "tmp", "kept"), "utf8")).toBe("kept\n");
    expect(readdirSync(tmpdir), "no private /tmp was made").toEqual([]);
  }, 60_000);
});

describe("resource limits (guests/calls/rlimits.c)", () => {
  // It runs itself again through /proc/self/exe, which qemu-riscv32 cannot exec: the expected output is what the same
  // program built for the host's Linux printed (with musl's words for EMFILE).
  test("are inherited by fork and kept by execve; NOFILE bounds descriptors, AS mappings, STACK the stack's growth", async () => {
    const r = await roam(["run", elf("rlimits")]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.toString()).toBe(readFileSync(join(ROOT, "guests", "calls", "rlimits.expected"), "utf8"));
  }, 60_000);
});

describe("a program's stderr is its own", () => {
  test("no warning for an unsupported system call unless ROAM_WARN is set", async () => {
    const syscalls = join(ROOT, "guests", "bin", "process", "syscalls.elf");
    const quiet = await roam(["run", syscalls, "."]);
    expect(quiet.stderr).not.toContain("roam: warning");
    const warned = await roam(["run", syscalls, "."], { ROAM_WARN: "1" });
    expect(warned.stderr).toContain("roam: warning: unsupported system call 999; it returns ENOSYS");
  }, 60_000);
});
