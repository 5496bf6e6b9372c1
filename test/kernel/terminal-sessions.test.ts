// The guest's terminal typed at on a pseudo-terminal (test/pty-session.ts), against qemu-riscv32 on one, whose
// program has Linux's own terminal: the screens must be the same, byte for byte. The line discipline is
// src/kernel/terminal.ts, its calls and job control src/kernel/calls/terminal.ts; Roam stopping with the user's job is
// src/cli/run-command.ts's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { findOnPath, qemuPath, ROAM_JS, ROOT } from "../process-harness.js";
import { printable, ptySession, type Step } from "../pty-session.js";

const dirs: string[] = [];
const fresh = () => { const d = mkdtempSync(join(tmpdir(), "roam-tty-")); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const roam = (...args: string[]) => [process.execPath, ROAM_JS, "run", ...args];
const env = { PATH: "/bin:/usr/bin", PS1: "$ ", HOME: "/", LANG: "C" };
const withQemu = qemuPath ? test : test.skip;
const withBash = findOnPath("bash") ? test : test.skip;

describe("a program's terminal (guests/calls/tty.c)", () => {
  // Settings, erase/kill/word erase, Ctrl-D, raw mode, poll and FIONREAD, Ctrl-C caught, background reads (SIGTTIN,
  // EIO when ignored), TOSTOP's SIGTTOU, the terminal given to a child's group, Ctrl-Z: each typed when it says so.
  const tty = join(ROOT, "guests", "bin", "calls", "tty.elf");
  const steps: Step[] = [
    { after: "ready 1\r\n", keys: "ab\x7fc\r" },
    { after: "ready 2\r\n", keys: "junk\x15hello wor\x17world\r" },
    { after: "ready 3\r\n", keys: "\x04" },
    { after: "ready 4\r\n", keys: "xyz" },
    { after: "ready 5\r\n", keys: "abc\r" },
    { after: "ready 6\r\n", keys: "\x03" }, // alone: keys typed with it may come in its chunk or before (its flush is the unit tests')
    { after: "ready 7\r\n", keys: "child line\r" },
    { after: "ready 8\r\n", keys: "\x1a" },
  ];

  test("the same screen as qemu-riscv32's", async () => {
    const r = await ptySession(roam(tty), steps, { cwd: fresh(), env });
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.status, printable(r.screen)).toBe(0);
    // Without qemu-riscv32: the screen it gave (tty.expected).
    const expected = qemuPath ? (await ptySession([qemuPath, tty], steps, { cwd: fresh(), env })).screen : readFileSync(join(ROOT, "guests", "calls", "tty.expected"), "latin1");
    expect(printable(r.screen)).toBe(printable(expected));
  }, 120_000);
});

describe("BusyBox's shell on the terminal: line editing and job control", () => {
  const busybox = join(ROOT, "guests", "bin", "real", "busybox.elf");
  // History (up arrow), tab completion, Ctrl-C at the prompt; a job reading the terminal stopped by Ctrl-Z, listed,
  // brought back with fg, given its line. Each key waits for what makes it certain: the job prints "ready" once it is
  // the terminal's foreground group (ash's child sets that before it runs the command), and a line typed before fg
  // has given it the terminal waits in the terminal's input.
  const steps: Step[] = [
    { after: "$ ", keys: "echo one\r" },
    { after: "one\r\n$ ", keys: "\x1b[A\r" },
    { after: "one\r\n$ ", keys: "ech\t two\r" },
    { after: "two\r\n$ ", keys: "abc\x03" },
    { after: "$ ", keys: "sh -c 'echo ready; read x; echo got $x'\r" },
    { after: "ready\r\n", keys: "\x1a" },
    { after: "Stopped", keys: "" },
    { after: "$ ", keys: "jobs\r" },
    { after: "jobs\r\n", keys: "" },
    { after: "$ ", keys: "fg\r" },
    // fg shows the job's command once the shell has its terminal settings back (after the line editor's raw mode):
    // the line is echoed and read as the job's terminal wants it.
    { after: "fg\r\n", keys: "" },
    { after: "got \\$x\"\r\n", keys: "hello\r" },
    { after: "got hello\r\n$ ", keys: "exit\r" },
  ];

  withQemu("the same screen as on qemu-riscv32", async () => {
    const r = await ptySession(roam(busybox, "sh"), steps, { cwd: fresh(), env });
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.status, printable(r.screen)).toBe(0);
    expect(r.screen).toMatch(/\^Z\[1\]\+ +Stopped +sh -c/);
    const q = await ptySession([qemuPath!, busybox, "sh"], steps, { cwd: fresh(), env });
    expect(printable(r.screen)).toBe(printable(q.screen));
  }, 120_000);
});

describe("the terminal's name and size", () => {
  test("ttyname(3) names it /dev/tty (its fd link and stat agree); TIOCSWINSZ sets the size TIOCGWINSZ reports", async () => {
    const busybox = join(ROOT, "guests", "bin", "real", "busybox.elf");
    const r = await ptySession(roam(busybox, "sh", "-c", "tty; stty rows 33 cols 101; stty size"), [], { cwd: fresh(), env });
    expect(r.status, printable(r.screen)).toBe(0);
    expect(r.screen).toBe("/dev/tty\r\n33 101\r\n");
  }, 60_000);
});

describe("roam run as the user's job", () => {
  withBash("Ctrl-Z stops Roam with its program (the shell says Stopped), fg continues both, Ctrl-C then ends it (130)", async () => {
    const busybox = join(ROOT, "guests", "bin", "real", "busybox.elf");
    const command = `${roam(busybox, "sh", "-c", "echo ready; exec sleep 60").map((w) => `'${w}'`).join(" ")}`;
    const r = await ptySession(["bash", "--norc", "--noprofile", "-i"], [
      { after: "$ ", keys: `${command}\r` },
      { after: "ready\r\n", keys: "\x1a" },
      { after: "Stopped", keys: "" },
      { after: "$ ", keys: "jobs -l | grep -c Stopped\r" },
      { after: "1\r\n", keys: "" },
      { after: "$ ", keys: "fg\r" },
      // bash prints the job as it continues it: Ctrl-C is SIGINT for the guest whichever way it comes (Roam's
      // terminal once it has it back, the host's SIGINT before).
      { after: "exec sleep 60'\r\n", keys: "\x03" },
      { after: "$ ", keys: "echo status $?\r" },
      { after: "status ", keys: "exit\r" },
    ], { cwd: fresh(), env: { ...env, PS1: "$ " } });
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.screen).toMatch(/\[1\]\+\s+Stopped\s/);
    expect(r.screen).toContain("status 130\r\n");
    expect(r.screen).toContain("interrupted (Ctrl-C)");
  }, 120_000);

  withBash("started in the background (&), roam leaves the terminal alone and its program runs to its end", async () => {
    const busybox = join(ROOT, "guests", "bin", "real", "busybox.elf");
    const command = roam(busybox, "sh", "-c", "echo from the background").map((w) => `'${w}'`).join(" ");
    const r = await ptySession(["bash", "--norc", "--noprofile", "-i"], [
      { after: "$ ", keys: `${command} & wait $!; echo status $?\r` },
      { after: "status ", keys: "exit\r" },
    ], { cwd: fresh(), env });
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.screen).toContain("from the background\r\n");
    expect(r.screen).toContain("status 0\r\n");
    expect(r.screen).not.toContain("Stopped");
  }, 60_000);
});
