// A guest's terminal moves with it: `roam run --on` from a terminal gives a process-mode guest one of its own (the
// kernel's line discipline, src/kernel/terminal.ts), whose settings, foreground group and keys not yet read are the
// guest's state. Here BusyBox's shell, with a job stopped by Ctrl-Z and a command line half typed, migrates between
// two real host processes; the same attached client finishes the line, brings the job back with fg and gives it its
// input at the destination. The client runs on a pseudo-terminal (test/pty-session.ts), typed at on cues.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { printable, ptySession } from "../pty-session.js";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "../../src/net/peer.js";
import { migrate, ps, REPO, ROAM, roam, startHosts, stopAll, tempDir, type HostProc } from "./cluster.js";

let hosts: HostProc[] = [];
const root = tempDir("terminal-moves");
beforeAll(async () => {
  hosts = await startHosts(["A", "B"], root.path);
});
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

const busybox = join(REPO, "guests", "bin", "real", "busybox.elf");

/** SIGKILL to every roam client whose arguments include `args` in a row (found in /proc: no pkill needed). */
function killClients(args: string[]): void {
  const wanted = `\0${args.join("\0")}\0`;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let cmdline = "";
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch { continue; }
    if (cmdline.includes(ROAM) && cmdline.includes(wanted)) process.kill(Number(pid), "SIGKILL");
  }
}

describe("a guest's terminal across a migration", () => {
  for (const strategy of ["stop-copy", "precopy", "postcopy"]) {
    test(`a shell with a stopped job and a half-typed line moves (${strategy}); fg there brings the job back`, async () => {
      const [a, b] = hosts;
      let id = "";
      let moved: Awaited<ReturnType<typeof migrate>> | undefined;
      // Each line is typed once the shell's prompt is there (its line editor's raw mode, not the cooked mode it
      // leaves a job), so what the screen shows is certain.
      const r = await ptySession([process.execPath, ROAM, "run", "--on", a.url, busybox, "sh"], [
        { after: "# ", keys: "tty; stty rows 30 cols 90\r" },
        { after: "# ", keys: "sh -c 'echo ready; read x; echo got $x'\r" },
        // The job is the terminal's foreground group once it prints (ash's child takes the terminal before it runs).
        { after: "ready\r\n", keys: "\x1a" },
        { after: "Stopped", keys: "" },
        { after: "# ", keys: "echo half" },
        // Once the shell has echoed the half line, the guest moves; the keys after it are typed at B.
        {
          after: "echo half", keys: " done\r",
          then: async (screen) => {
            id = /roam: guest (\S+) on /.exec(screen)![1];
            moved = await migrate(id, a.url, b.url, strategy);
          },
        },
        { after: "half done\r\n", keys: "" },
        { after: "# ", keys: "jobs; stty size\r" },
        { after: "90\r\n", keys: "" },
        { after: "# ", keys: "fg\r" },
        { after: "got \\$x\"\r\n", keys: "hello\r" },
        { after: "got hello\r\n", keys: "" },
        { after: "# ", keys: "exit\r" },
      ], { env: { ...process.env, ROAM_HOST: undefined } as NodeJS.ProcessEnv, limitMs: 90_000 });
      expect(moved?.result.code, moved?.result.describe()).toBe(0);
      expect(r.missed, printable(r.screen)).toEqual([]);
      expect(r.status, printable(r.screen)).toBe(0);
      const screen = r.screen;
      expect(screen).toContain("/dev/tty\r\n");
      expect(screen).toMatch(/\^Z\[1\]\+ +Stopped +sh -c/);
      // After the move, at B: the line editor still in its raw mode (the rest of the line is echoed once), the job
      // still stopped and the shell's, the size set at A, the job's read given its line once fg gave it the terminal.
      const job = 'sh -c "echo ready; read x; echo got \\$x"';
      const moveLine = `roam: guest ${id} moved to ${b.url}\r\n`;
      expect(screen).toContain(moveLine);
      expect(screen.slice(screen.indexOf(moveLine) + moveLine.length)).toBe(
        ` done\r\nhalf done\r\n/ # jobs; stty size\r\n[1]+  Stopped                    ${job}\r\n30 90\r\n` +
        `/ # fg\r\n${job}\r\nhello\r\ngot hello\r\n/ # exit\r\n`,
      );
      expect((await ps(b.url)).find((g) => g.id === id)?.status).toBe("exited");
    }, 120_000);
  }

  test("Ctrl-Z on the guest's program stops the client with it (the user's shell says Stopped); moved meanwhile, fg continues it at its new host", async () => {
    const [a, b] = hosts;
    let id = "";
    // The guest's shell says "continued" when SIGCONT reaches it: the event that shows fg got through.
    const program = "trap 'echo continued' CONT; echo ready; while :; do sleep 1; done";
    const command = [process.execPath, ROAM, "run", "--on", a.url, busybox, "sh", "-c", program].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
    let moved: Awaited<ReturnType<typeof migrate>> | undefined;
    const r = await ptySession(["bash", "--norc", "--noprofile", "-i"], [
      { after: "$ ", keys: `${command}\r` },
      { after: "ready\r\n", keys: "\x1a" },
      {
        after: "Stopped", keys: "",
        then: async (screen) => {
          id = /roam: guest (\S+) on /.exec(screen)![1];
          moved = await migrate(id, a.url, b.url, "stop-copy");
        },
      },
      { after: "$ ", keys: "fg\r" },
      { after: "continued\r\n", keys: "\x03" },
      { after: "$ ", keys: "echo status $?\r" },
      { after: "status ", keys: "exit\r" },
    ], { env: { PATH: process.env.PATH, PS1: "$ ", HOME: root.path, LANG: "C" }, limitMs: 90_000 });
    expect(moved?.result.code, moved?.result.describe()).toBe(0);
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.screen).toMatch(/\[1\]\+\s+Stopped\s/);
    expect(r.screen).toContain(`roam: guest ${id} moved to ${b.url}`);
    expect(r.screen).toContain("interrupted (Ctrl-C)");
    expect(r.screen).toContain("status 130\r\n");
  }, 120_000);

  test("a client attaching to a job already stopped stops at once; its fg continues the job", async () => {
    const [a] = hosts;
    let id = "";
    const program = "trap 'echo continued' CONT; echo ready; while :; do sleep 1; done";
    const quote = (words: string[]) => words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
    const attach = { after: "$ ", keys: "" }; // typed once the guest's id is known
    const r = await ptySession(["bash", "--norc", "--noprofile", "-i"], [
      { after: "$ ", keys: `${quote([process.execPath, ROAM, "run", "--on", a.url, busybox, "sh", "-c", program])}\r` },
      { after: "ready\r\n", keys: "\x1a" },
      // The first client goes (killed while stopped); the guest's job stays stopped on A.
      {
        after: "Stopped", keys: "",
        then: async (screen) => {
          id = /roam: guest (\S+) on /.exec(screen)![1];
          killClients(["run", "--on", a.url]);
          attach.keys = `${quote([process.execPath, ROAM, "attach", id, "--on", a.url])}\r`;
        },
      },
      attach,
      { after: "Stopped", keys: "" },
      { after: "$ ", keys: "fg\r" },
      { after: "continued\r\n", keys: "\x03" },
      { after: "$ ", keys: "echo status $?\r" },
      { after: "status ", keys: "exit\r" },
    ], { env: { PATH: process.env.PATH, PS1: "$ ", HOME: root.path, LANG: "C" }, limitMs: 90_000 });
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.screen).toContain("interrupted (Ctrl-C)");
    expect(r.screen).toContain("status 130\r\n");
  }, 120_000);

  test("--detach --tty: a guest started without a client has a terminal; a client attached later has its shell's job control", async () => {
    const [a] = hosts;
    const started = await roam(["run", "--on", a.url, "--detach", "--tty", busybox, "sh"]);
    expect(started.code, started.describe()).toBe(0);
    const id = started.stdout.trim();
    const r = await ptySession([process.execPath, ROAM, "attach", id, "--on", a.url], [
      { after: "# ", keys: "tty; sleep 30 &\r" },
      { after: "# ", keys: "jobs; kill %1; wait; exit\r" },
    ], { limitMs: 60_000 });
    expect(r.missed, printable(r.screen)).toEqual([]);
    expect(r.status, printable(r.screen)).toBe(0);
    expect(r.screen).not.toContain("job control turned off");
    expect(r.screen).toContain("/dev/tty\r\n");
    expect(r.screen).toMatch(/\[1\]\+ +Running +sleep 30\r\n/);
  }, 60_000);

  test("a malformed terminal in a run request, or a resize, is refused with what is wrong; the host runs on", async () => {
    const [a] = hosts;
    const client = await connect(a.url, { role: "client" });
    try {
      const run = { t: "run", program: "busybox", argv: ["busybox", "true"], elf: readFileSync(busybox), ramBytes: 16 << 20 };
      await expect(client.request({ ...run, terminal: "big" })).rejects.toThrow(/run: terminal is not \{rows, columns\}/);
      await expect(client.request({ ...run, terminal: { rows: -1, columns: 80 } })).rejects.toThrow(/rows must be a number in \[0, 65535\]/);
      await expect(client.request({ ...run, kind: "machine", terminal: { rows: 24, columns: 80 } })).rejects.toThrow(/a terminal is for process-mode guests/);
      const ran = await client.request({ ...run, terminal: { rows: 24, columns: 80 } });
      const id = (ran.guest as { id: string; terminal?: boolean }).id;
      expect((ran.guest as { terminal?: boolean }).terminal).toBe(true);
      await expect(client.request({ t: "resize", guest: id, rows: 24, columns: 1e9 })).rejects.toThrow(/columns must be a number in \[0, 65535\]/);
      expect((await ps(a.url)).some((g) => g.id === id)).toBe(true);
    } finally {
      client.close();
    }
  }, 60_000);
});
