// An attached terminal as a user sees it: real `roam host` processes, and the
// client in a real terminal (a tmux pane), typed at with `tmux send-keys` and
// read with `tmux capture-pane`. Every wait polls for what should appear, with
// a generous bound. tmux runs on a socket of its own, killed at the end.
import { execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { elfPath, HostProc, migrate, Proc, ps, REPO, ROAM, roam, stopAll, tempDir, waitUntil } from "../e2e/cluster.js";

const SOCKET = `roam-attach-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
const ECHO_UART = join(REPO, "guests/bin/baremetal/echo.elf");

let sessions = 0;
/** A terminal running `roam ARGS`; when roam ends the pane shows "[exit N]" and stays. */
class Pane {
  readonly name = `t${++sessions}`;

  constructor(args: string[]) {
    const command = [process.execPath, ROAM, ...args].map((a) => `'${a}'`).join(" ");
    tmux("new-session", "-d", "-s", this.name, "-x", "120", "-y", "30", "-c", REPO, `${command}; echo "[exit $?]"; sleep 3600`);
  }

  get screen(): string {
    return tmux("capture-pane", "-p", "-t", this.name);
  }

  keys(...keys: string[]): void {
    tmux("send-keys", "-t", this.name, ...keys);
  }

  /** Types text as it is (no key names). */
  type(text: string): void {
    tmux("send-keys", "-t", this.name, "-l", text);
  }

  async see(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
    const found = () => (typeof text === "string" ? this.screen.includes(text) : text.test(this.screen));
    await waitUntil(found, timeoutMs, () => `${JSON.stringify(String(text))} on the screen of roam; it shows:\n${this.screen}`, 50);
    return this.screen;
  }

  async guestId(): Promise<string> {
    const screen = await this.see(/roam: guest (\S+) on ws:/);
    return /roam: guest (\S+) on ws:/.exec(screen)![1];
  }
}

let hosts: HostProc[] = [];
const root = tempDir("attach-console");
beforeAll(async () => {
  hosts = await Promise.all(["A", "B"].map((name) => HostProc.start({ name, root: root.path })));
}, 60_000);
afterAll(async () => {
  try { tmux("kill-server"); } catch { /* no sessions left */ }
  // The server's socket file outlives it.
  rmSync(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid!()}`, SOCKET), { force: true });
  await stopAll(hosts);
  root.remove();
});

const statusOf = async (url: string, id: string) => (await ps(url)).find((g) => g.id === id)?.status;

describe("a machine-mode guest's terminal is raw", () => {
  test("typed keys are echoed once (by the guest's UART); Ctrl-] detaches and the guest runs on; a kill from elsewhere shows 'was killed'", async () => {
    const [a] = hosts;
    const pane = new Pane(["boot", "--on", a.url, ECHO_UART]);
    const id = await pane.guestId();
    await pane.see("echo: type lines");
    pane.type("hello there");
    // The echo guest upper-cases what it echoes: a local echo would show the lower-case text too.
    await pane.see("HELLO THERE");
    expect(pane.screen).not.toContain("hello there");
    pane.keys("Enter");
    pane.keys("C-]");
    const screen = await pane.see("[exit 0]");
    expect(screen).toContain(`roam: detached from ${id} (it runs on at ${a.url})`);
    expect(screen.match(/HELLO THERE/g)).toHaveLength(1);
    expect(await statusOf(a.url, id)).toBe("running");

    const again = new Pane(["attach", id, "--on", a.url]);
    await again.see("HELLO THERE"); // what the host kept
    again.type("more");
    await again.see("MORE");
    const killed = await roam(["kill", id, "--on", a.url]);
    expect(killed.code, killed.describe()).toBe(0);
    const end = await again.see("[exit 137]");
    expect(end).toContain(`roam: guest ${id} was killed`);
  }, 90_000);
});

describe("a process-mode guest's terminal gives it lines", () => {
  test("a line is echoed as typed, sent at Enter; Ctrl-D ends the input and the client exits with the guest's status", async () => {
    const [a] = hosts;
    const pane = new Pane(["run", "--on", a.url, elfPath("echo-lines")]);
    await pane.guestId();
    pane.type("first line");
    await pane.see("first line");
    pane.keys("Enter");
    await pane.see("     1\tfirst line".replace("\t", "  "));
    pane.keys("C-d");
    const screen = await pane.see("[exit 0]");
    expect(screen).toContain("echo-lines: 1 lines");
    expect(screen.match(/first line/g)).toHaveLength(2); // the typed line, and the guest's numbered copy
  }, 90_000);

  test("Ctrl-C interrupts the program as it would `roam run` (exit 130), and the client says so", async () => {
    const [a] = hosts;
    const pane = new Pane(["run", "--on", a.url, elfPath("cat")]);
    const id = await pane.guestId();
    pane.keys("C-c");
    const screen = await pane.see("[exit 130]");
    expect(screen).toContain(`roam: guest ${id}: interrupted (Ctrl-C)`);
  }, 90_000);
});

describe("an attached client whose host goes away", () => {
  test("says so in one line and exits 1 when the host is killed", async () => {
    const doomed = await HostProc.start({ name: "C", root: root.path });
    hosts.push(doomed);
    const pane = new Pane(["run", "--on", doomed.url, elfPath("cat")]);
    await pane.guestId();
    await doomed.crash();
    const screen = await pane.see("[exit 1]");
    expect(screen).toContain(`roam: lost the connection to ${doomed.url}: the host is gone?`);
  }, 90_000);
});

describe("attached clients without a terminal", () => {
  test("a late attach at the host a guest left follows it, with the output from before the move; at the new host too, as far as the carried output reaches", async () => {
    const [a, b] = hosts;
    const started = await roam(["run", "--on", a.url, "--detach", elfPath("counter"), "100000", "1", "20"]);
    const id = started.stdout.trim();
    const watcher = new Proc(["attach", id, "--on", a.url]);
    await waitUntil(() => watcher.text.includes("count 3/"), 20_000, () => watcher.describe());
    const moved = await migrate(id, a.url, b.url, "precopy");
    expect(moved.result.code, moved.result.describe()).toBe(0);
    const movedBy = watcher.stdout.length; // the guest froze at or before this byte
    const late = new Proc(["attach", id, "--on", a.url]);
    await waitUntil(() => late.err.includes(`moved to ${b.url}`) && late.text.length > watcher.text.length / 2, 20_000, () => late.describe());
    expect(late.text.startsWith("counter: N=100000 K=1 sleep=20ms\ncount 1/")).toBe(true);
    expect(late.err).not.toContain("no longer kept");

    // The new host has the last output the guest carried with it (8 KiB); an older start is said in one line.
    const atB = new Proc(["attach", id, "--on", b.url]);
    await waitUntil(() => atB.stdout.length > 100, 20_000, () => atB.describe());
    const gap = /roam: output before byte (\d+) is no longer kept\n/.exec(atB.err);
    const kept = gap ? Number(gap[1]) : 0;
    expect(kept, atB.describe()).toBeLessThan(movedBy); // output from before the move is there
    expect(watcher.stdout.subarray(kept, kept + 100).equals(atB.stdout.subarray(0, 100)), atB.describe()).toBe(true);

    const checkpointed = await roam(["checkpoint", id, "--on", b.url, "-o", join(root.path, "counter.roam")]);
    expect(checkpointed.code, checkpointed.describe()).toBe(0);
    for (const client of [watcher, late, atB]) {
      expect((await client.wait(20_000)).code, client.describe()).toBe(0);
      expect(client.err).toContain(`roam: guest ${id} was checkpointed\n`);
    }

    // `restore --attach` gets the same console: Ctrl-] leaves the restored guest running.
    const pane = new Pane(["restore", join(root.path, "counter.roam"), "--on", a.url, "--attach"]);
    await pane.see(/count \d+\/100000/);
    pane.keys("C-]");
    expect(await pane.see("[exit 0]")).toContain(`roam: detached from ${id} (it runs on at ${a.url})`);
    expect(await statusOf(a.url, id)).toBe("running");
    await roam(["kill", id, "--on", a.url]);
  }, 90_000);

  test("`roam attach GID | head -1` ends quietly once head has gone", async () => {
    const [a] = hosts;
    const started = await roam(["run", "--on", a.url, "--detach", elfPath("counter"), "100000", "1", "20"]);
    const id = started.stdout.trim();
    const shell = spawn("bash", ["-c", `'${process.execPath}' '${ROAM}' attach ${id} --on ${a.url} | head -1; echo "status \${PIPESTATUS[0]}" >&2`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    shell.stdout.on("data", (d: Buffer) => (out += d));
    shell.stderr.on("data", (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((resolve) => shell.once("close", resolve));
    expect(code).toBe(0);
    expect(out).toBe("counter: N=100000 K=1 sleep=20ms\n");
    expect(err).toMatch(/^status 141\n$/);
    expect(await statusOf(a.url, id)).toBe("running");
    await roam(["kill", id, "--on", a.url]);
  }, 60_000);
});
