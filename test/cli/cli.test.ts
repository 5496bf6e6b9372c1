import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { elfPath, ps, REPO, ROAM, roam, runAttached, startHosts, stopAll, tempDir, waitUntil, type CliResult, type HostProc } from "../e2e/cluster.js";

// `roam` as a user meets it (`node bin/roam.js ...`, its own process): every
// command's --help, --version, typos with suggestions, --opt=value, usage
// errors (exit 2), one-line errors `roam: WHAT: WHY` (exit 1) against a real
// host, a reader that goes away (`| head`), and the host's daemon-style log.
// Needs `npm run build`.

const JS_STACK = /^\s+at .+[:(]\d+|node:internal|Error: |throw er/m;
const EXIT_USAGE = 2;

function oneLine(r: CliResult, line: string | RegExp): void {
  expect(r.stderr, r.describe()).not.toMatch(JS_STACK);
  if (typeof line === "string") expect(r.stderr, r.describe()).toBe(line + "\n");
  else expect(r.stderr, r.describe()).toMatch(new RegExp(`^${line.source}\n$`));
}

// Each command's options, as README.md's CLI section lists them.
const OPTIONS: Record<string, string[]> = {
  run: ["--root", "--ram", "--max-instructions", "--stats", "--no-jit", "--on", "--token", "--detach", "--via", "--require"],
  boot: ["--ram", "--max-instructions", "--stats", "--no-jit", "--on", "--token", "--detach"],
  host: ["--listen", "--name", "--root", "--token", "--peer", "--join", "--capacity", "--label", "--balance", "--dashboard", "--max-memory", "--drain-to", "--drain-dir", "--force", "--no-jit"],
  ps: ["--on", "--token", "--json", "--cluster"],
  attach: ["--on", "--token"],
  kill: ["--on", "--token"],
  migrate: ["--to", "--strategy", "--max-downtime", "--bandwidth", "--cancel", "--json", "--on", "--token"],
  checkpoint: ["-o, --output", "--leave-running", "--on", "--token"],
  restore: ["--attach", "--on", "--token"],
  inspect: ["--json"],
  stats: ["--json", "--on", "--token", "--cluster"],
  demo: [],
};

describe.concurrent("help and version", () => {
  test.each(Object.entries(OPTIONS))("roam %s --help describes every option", async (name, options) => {
    const r = await roam([name, "--help"]);
    expect(r.code, r.describe()).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^Usage: roam ${name}\\b`));
    for (const option of [...options, "-h, --help"]) {
      // the option, then its meaning on the same line
      expect(r.stdout, `${name} --help: ${option}`).toMatch(new RegExp(`^ +${option.replace(/[-,]/g, "\\$&")}\\b[^\\n]*\\s{2,}\\w`, "m"));
    }
    const same = await roam(["help", name]);
    expect(same.stdout).toBe(r.stdout);
  }, 30_000);

  test("roam --help lists every command; roam alone says the same on stderr with exit 2", async () => {
    const r = await roam(["--help"]);
    expect(r.code).toBe(0);
    for (const name of Object.keys(OPTIONS)) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\w`, "m"));
    const bare = await roam([]);
    expect(bare.code).toBe(EXIT_USAGE);
    expect(bare.stderr).toBe(r.stdout);
  }, 30_000);

  test("roam --version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const r = await roam([flag]);
      expect(r.code, r.describe()).toBe(0);
      expect(r.stdout).toBe(`roam ${version}\n`);
    }
  }, 30_000);
});

describe.concurrent("command-line mistakes: one line, a suggestion when there is one, exit 2", () => {
  test.each([
    [["migrate", "g1", "--stratgy", "precopy"], "roam: migrate: unknown option '--stratgy'; did you mean --strategy?"],
    [["bot", "x.elf"], "roam: bot: unknown command; did you mean boot?"],
    [["chekpoint", "g1"], "roam: chekpoint: unknown command; did you mean checkpoint?"],
    [["run", "--rma", "2M", "x.elf"], "roam: run: unknown option '--rma'; did you mean --ram?"],
    [["--vresion"], "roam: --vresion: unknown option; did you mean --version?"],
    [["ps", "--frobnicate"], "roam: ps: unknown option '--frobnicate'"],
    [["kill"], "roam: kill: missing GID (usage: roam kill GID [options])"],
    [["kill", "g1", "g2"], "roam: kill: unexpected argument 'g2' (usage: roam kill GID [options])"],
    [["ps", "--json=yes"], "roam: ps: --json takes no value (got 'yes')"],
    [["migrate", "g1", "--to"], "roam: migrate: --to needs a value: --to URL"],
    [["migrate", "g1", "--to", "--json"], "roam: migrate: --to needs a value: --to URL"],
    [["migrate", "g1", "--to=ws://127.0.0.1:1", "--strategy=precopyy"], "roam: migrate: --strategy precopyy: one of stop-copy, precopy, postcopy, hybrid; did you mean precopy?"],
    [["migrate", "g1"], "roam: migrate: where to? --to URL is required"],
    [["checkpoint", "g1"], "roam: checkpoint: where to? -o FILE is required"],
    [["ps", "--on", "localhost:7001"], "roam: ps: --on localhost:7001: expected a host's address, e.g. ws://127.0.0.1:7001"],
    [["run", "--ram=5", "x.elf"], "roam: run: --ram 5: want 1M..1G in whole pages"],
    [["run", "--stats", "--on", "ws://127.0.0.1:1", "x.elf"], "roam: run: --stats is for a run here, not with --on"],
    [["boot"], "roam: boot: missing image.elf (usage: roam boot [options] image.elf)"],
    [["host", "--listen", "7001"], "roam: host: --listen 7001: expected HOST:PORT, e.g. 127.0.0.1:7001"],
  ])("roam %j", async (args, line) => {
    const r = await roam(args);
    expect(r.code, r.describe()).toBe(EXIT_USAGE);
    expect(r.stdout).toBe("");
    oneLine(r, line);
  }, 30_000);

  test("files Roam cannot use: `roam: FILE: WHY` in the man pages' words, exit 2", async () => {
    for (const args of [["run", "nothere.elf"], ["run", "--on", "ws://127.0.0.1:1", "nothere.elf"], ["boot", "nothere.elf"], ["inspect", "nothere.elf"], ["restore", "nothere.elf"]]) {
      const r = await roam(args);
      expect(r.code, r.describe()).toBe(EXIT_USAGE);
      oneLine(r, "roam: nothere.elf: no such file");
    }
    const dir = await roam(["inspect", "guests"]);
    expect(dir.code).toBe(EXIT_USAGE);
    oneLine(dir, "roam: guests: is a directory");
  }, 30_000);

  test("a host nobody listens on: the reason in words, not ECONNREFUSED, exit 1", async () => {
    const r = await roam(["ps", "--on", "ws://127.0.0.1:1"]);
    expect(r.code, r.describe()).toBe(1);
    oneLine(r, "roam: ps: cannot reach ws://127.0.0.1:1: connection refused");
  }, 30_000);
});

describe.concurrent("--opt=value and the guest's own arguments", () => {
  test("--max-instructions=N is --max-instructions N", async () => {
    for (const flags of [["--max-instructions=1000"], ["--max-instructions", "1000"], ["--ram=2M", "--max-instructions=1000"]]) {
      const r = await roam(["run", ...flags, elfPath("hello")]);
      expect(r.code, r.describe()).toBe(124);
      expect(r.stderr).toMatch(/instruction limit reached/);
    }
  }, 30_000);

  test("everything after the ELF goes to the guest untouched, --help and -- included", async () => {
    const r = await roam(["run", "--ram=4M", elfPath("hello"), "--help", "--ram", "5", "--", "-x"]);
    expect(r.code, r.describe()).toBe(0);
    expect(r.stdout).toMatch(/argc = 6\nargv\[0\] = hello\.elf\nargv\[1\] = --help\nargv\[2\] = --ram\nargv\[3\] = 5\nargv\[4\] = --\nargv\[5\] = -x\n/);
    const afterDashes = await roam(["run", "--", elfPath("hello"), "--stats"]);
    expect(afterDashes.stdout).toMatch(/argc = 2\n.*\nargv\[1\] = --stats\n/);
    expect(afterDashes.stderr).toBe("");
  }, 30_000);
});

/** `roam ARGS | head HEAD_ARGS` in bash: roam's exit code, its stderr, and what head printed. */
let pipes = 0;
function pipedToHead(args: string[], headArgs: string): Promise<{ code: number; stderr: string; out: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const errFile = join(scratch.path, `pipe-${pipes++}.err`);
  const script = `${[process.execPath, ROAM, ...args].map(quote).join(" ")} 2>${quote(errFile)} | head ${headArgs}; echo "exit \${PIPESTATUS[0]}"`;
  return new Promise((resolve, reject) => {
    const shell = spawn("bash", ["-c", script], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    shell.stdout.on("data", (d: Buffer) => (out += d.toString()));
    shell.on("error", reject);
    shell.on("close", () => {
      resolve({ code: Number(/exit (\d+)\n$/.exec(out)?.[1]), stderr: existsSync(errFile) ? readFileSync(errFile, "utf8") : "", out: out.replace(/exit \d+\n$/, "") });
    });
  });
}

let scratch: ReturnType<typeof tempDir>;
let hosts: HostProc[] = [];
beforeAll(async () => {
  scratch = tempDir("cli");
  hosts = await startHosts(["A"], scratch.path);
}, 30_000);
afterAll(async () => {
  await stopAll(hosts);
  scratch.remove();
});

describe("against a real host", () => {
  test.each([
    [["stats", "gnope"]], [["kill", "gnope"]], [["attach", "gnope"]], [["migrate", "gnope", "--to", "ws://127.0.0.1:1"]],
    [["checkpoint", "gnope", "-o", "CHECKPOINT"]],
  ])("roam %j of a guest the host does not have: `roam: CMD: no guest GID on HOST`, exit 1", async (args) => {
    const checkpoint = join(scratch.path, "gnope.snap");
    const r = await roam([...args.map((a) => (a === "CHECKPOINT" ? checkpoint : a)), "--on", hosts[0].url]);
    expect(r.code, r.describe()).toBe(1);
    expect(r.stdout).toBe("");
    oneLine(r, `roam: ${args[0]}: no guest gnope on A`);
    expect(existsSync(checkpoint), "a failed checkpoint leaves no file behind").toBe(false);
  }, 30_000);

  test("--opt=value reaches the host too: --on=URL, ROAM_HOST", async () => {
    const r = await roam(["ps", `--on=${hosts[0].url}`, "--json"]);
    expect(r.code, r.describe()).toBe(0);
    expect(JSON.parse(r.stdout)).toBeInstanceOf(Array);
    const viaEnv = await roam(["stats", "gnope"], { env: { ROAM_HOST: hosts[0].url } });
    oneLine(viaEnv, "roam: stats: no guest gnope on A");
  }, 30_000);

  test("checkpoint -o into a directory that does not exist: refused before the host lets the guest go", async () => {
    const { proc, id } = await runAttached(hosts[0].url, "counter", ["200", "1", "50"]);
    const r = await roam(["checkpoint", id, "-o", join(scratch.path, "no-such-dir", "x.snap"), "--on", hosts[0].url]);
    expect(r.code, r.describe()).toBe(EXIT_USAGE);
    oneLine(r, `roam: ${join(scratch.path, "no-such-dir", "x.snap")}: no such file`);
    expect((await ps(hosts[0].url)).find((g) => g.id === id)?.status, "the guest still runs where it was").toBe("running");
    expect((await roam(["kill", id, "--on", hosts[0].url])).code).toBe(0);
    await proc.wait(20_000);
  }, 40_000);

  test("a second host on the same address: `roam: host: ADDRESS: address already in use`, exit 1", async () => {
    const listen = hosts[0].url.replace("ws://", "");
    const r = await roam(["host", "--listen", listen, "--root", scratch.path]);
    expect(r.code, r.describe()).toBe(1);
    oneLine(r, `roam: host: ${listen}: address already in use`);
    const noRoot = await roam(["host", "--listen", "127.0.0.1:0", "--root", join(scratch.path, "nothere")]);
    expect(noRoot.code, noRoot.describe()).toBe(EXIT_USAGE);
    oneLine(noRoot, `roam: host: --root ${join(scratch.path, "nothere")}: not a directory`);
  }, 30_000);

  test("the host logs like a daemon: an ISO time and a level on every line; each guest's end once", async () => {
    const r = await roam(["run", "--on", hosts[0].url, elfPath("hello")]);
    expect(r.code, r.describe()).toBe(0);
    const id = /roam: guest (\S+) on/.exec(r.stderr)![1];
    await waitUntil(() => hosts[0].log.includes(`guest ${id} exited`), 10_000, () => `the host to log ${id}'s exit (log: ${hosts[0].log})`);
    const lines = hosts[0].log.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info |warn |error) \[A\] \S/);
    expect(lines[0]).toMatch(/ info  \[A\] host A listening on ws:\/\//);
    expect(lines.filter((l) => l.includes(`guest ${id} exited (0)`)).map((l) => l.split(" ")[1])).toEqual(["info"]);
  }, 30_000);
});

describe("a slow reader", () => {
  test("roam run cat.elf of 1 MiB | (sleep; wc -c): every byte arrives after roam has finished", async () => {
    // Writes to a full pipe wait in Node's stream; roam used to exit with them there and lose the output's end.
    const file = join(scratch.path, "mib.txt");
    writeFileSync(file, "0123456789abcde\n".repeat(65536));
    const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
    const roamCat = [process.execPath, ROAM, "run", "--root", scratch.path, elfPath("cat"), "mib.txt"].map(quote).join(" ");
    const out = execFileSync("bash", ["-c", `${roamCat} | { sleep 2; wc -c; }; echo "exit \${PIPESTATUS[0]}"`], { encoding: "utf8" });
    expect(out).toBe(`${1 << 20}\nexit 0\n`);
  }, 30_000);
});

describe("a reader that goes away (| head)", () => {
  test("roam run hello.elf | head -c 1: no stack trace", async () => {
    const r = await pipedToHead(["run", elfPath("hello")], "-c 1");
    expect(r.out).toBe("H");
    expect(r.stderr).not.toMatch(JS_STACK);
    expect([0, 141]).toContain(r.code); // 0 when hello's one write got in before head left
  }, 30_000);

  test("an attached guest that keeps printing, | head -n 1: quiet, exit 141 (SIGPIPE's code)", async () => {
    for (const args of [["run", elfPath("counter"), "20", "1", "40"], ["run", "--on", hosts[0].url, elfPath("counter"), "20", "1", "40"]]) {
      const r = await pipedToHead(args, "-n 1");
      expect(r.out).toMatch(/^counter: /);
      expect(r.stderr, args.join(" ")).not.toMatch(JS_STACK);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(141);
    }
  }, 30_000);
});
