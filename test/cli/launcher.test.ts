import { readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROAM_V8_FLAGS } from "../../src/launch/v8-flags.js";
import { Proc, REPO, roam, tempDir, waitUntil } from "../e2e/cluster.js";

// bin/roam.js run as a command (the installed `roam`, or `bin/roam.js`): its first lines are sh's and start Node as
// Roam wants it started (--v8-pool-size=0: one V8 background thread per CPU besides the main one; Roam's V8 flags;
// NODE_EXTRA_CA_CERTS kept from Node's start-up and put back into the environment; glibc's malloc tunables for Node
// alone), then Node runs the same file as the CLI. These check
// the command behaves as the CLI does (arguments with spaces and quotes, stdin, the exit status, a signal, the
// guest's environment) and that Node was started so; `node bin/roam.js` still runs with Node's own defaults.
// (test/e2e/tls.test.ts checks a wss:// connection verified through NODE_EXTRA_CA_CERTS.) Needs `npm run build`.

const HELLO = join(REPO, "guests/bin/process/hello.elf");
const CAT = join(REPO, "guests/bin/process/cat.elf");
const CRASH = join(REPO, "guests/bin/process/crash.elf");
const BUSYBOX = join(REPO, "guests/bin/real/busybox.elf");
const scratch = tempDir("launcher");
afterAll(() => scratch.remove());

// Preloaded into the Node the command starts (NODE_OPTIONS --require): writes the options Node was started with, its
// environment as it started (/proc/self/environ: what glibc read), and, at exit, the modules of Node's it loaded.
const PRELOAD = join(scratch.path, "started.cjs");
writeFileSync(PRELOAD, `const fs = require("node:fs");
const environ = fs.readFileSync("/proc/self/environ", "latin1").split("\\0").filter((line) => line !== "");
fs.writeFileSync(process.env.STARTED_FILE, JSON.stringify({ execArgv: process.execArgv, environ }));
process.on("exit", () => fs.writeFileSync(process.env.STARTED_FILE + ".modules", JSON.stringify(process.moduleLoadList)));
`);

interface Started { execArgv: string[]; environ: string[]; modules: string[] }

/** How the Node that ran `roam args` was started (`command`: through bin/roam.js's first lines), and what it loaded. */
async function startedWith(args: string[], command: boolean, name: string, env: Record<string, string | undefined> = {}): Promise<Started> {
  const file = join(scratch.path, `${name}.started`);
  const ran = await roam(args, { command, env: { ...env, NODE_OPTIONS: `--require ${PRELOAD}`, STARTED_FILE: file } });
  expect(ran.code, ran.describe()).toBe(0);
  const modules = JSON.parse(readFileSync(`${file}.modules`, "utf8")) as string[];
  return { ...(JSON.parse(readFileSync(file, "utf8")) as Omit<Started, "modules">), modules };
}

/** The guest's environment (BusyBox env), run as the command with `env` added to the test's (undefined: left out). */
async function guestEnvironment(env: Record<string, string | undefined>): Promise<string[]> {
  const ran = await roam(["run", BUSYBOX, "env"], { command: true, env });
  expect(ran.code, ran.describe()).toBe(0);
  return ran.stdout.trimEnd().split("\n");
}

describe("bin/roam.js run as a command", () => {
  test("starts Node with --v8-pool-size=0 and Roam's V8 flags; `node bin/roam.js` leaves Node's defaults", async () => {
    expect((await startedWith(["--version"], true, "command")).execArgv).toEqual(["--v8-pool-size=0", ...ROAM_V8_FLAGS]);
    expect((await startedWith(["--version"], false, "node")).execArgv).toEqual([]);
  }, 60_000);

  test("the command never loads node:v8 (nor the streams it brings): its V8 flags are on Node's command line", async () => {
    const command = await startedWith(["run", HELLO], true, "command-run");
    expect(command.modules).not.toContain("NativeModule v8");
    expect(command.modules).not.toContain("NativeModule stream");
    // Without them on the command line, v8-flags.ts sets them, through node:v8.
    expect((await startedWith(["run", HELLO], false, "node-run")).modules).toContain("NativeModule v8");
  }, 60_000);

  test("Node starts with Roam's malloc tunables first, the user's after them; `node bin/roam.js` with the user's alone", async () => {
    const tunables = (started: Started) => started.environ.filter((line) => line.startsWith("GLIBC_TUNABLES="));
    const ours = "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432";
    // glibc may cut the variable short where it read its first tunable: only the start is certain.
    expect(tunables(await startedWith(["--version"], true, "tunables", { GLIBC_TUNABLES: undefined }))[0]).toMatch(new RegExp(`^${ours}`));
    expect(tunables(await startedWith(["--version"], true, "tunables-user", { GLIBC_TUNABLES: "glibc.malloc.check=0" }))[0]).toMatch(new RegExp(`^${ours}`));
    expect(tunables(await startedWith(["--version"], false, "tunables-node", { GLIBC_TUNABLES: "glibc.malloc.check=0" })))
      .toEqual(["GLIBC_TUNABLES=glibc.malloc.check=0"]);
  }, 60_000);

  test("passes every argument through as given, spaces, quotes and dollars included", async () => {
    const ran = await roam(["run", HELLO, "one two", `it's "quoted"`, "$HOME", ""], { command: true });
    expect(ran.code, ran.describe()).toBe(0);
    expect(ran.stdout).toContain("argc = 5");
    expect(ran.stdout).toContain("argv[1] = one two");
    expect(ran.stdout).toContain(`argv[2] = it's "quoted"`);
    expect(ran.stdout).toContain("argv[3] = $HOME");
    expect(ran.stdout).toContain("argv[4] = \n");
  }, 60_000);

  test("the guest reads the command's stdin", async () => {
    const ran = await roam(["run", CAT], { command: true, input: "through the launcher\n" });
    expect(ran.code, ran.describe()).toBe(0);
    expect(ran.stdout).toBe("through the launcher\n");
  }, 60_000);

  test("its exit status is the CLI's: a guest's exit code, and 128 + the signal of a guest that faults", async () => {
    const exited = await roam(["run", CRASH, "exit", "7"], { command: true });
    expect(exited.code, exited.describe()).toBe(7);
    const faulted = await roam(["run", CRASH, "segv"], { command: true });
    expect(faulted.code, faulted.describe()).toBe(139);
    expect(faulted.stderr).toMatch(/segmentation fault/);
  }, 60_000);

  test("Node takes the command's own process (sh execs it): a signal sent to the command reaches Node", async () => {
    const run = new Proc(["run", CAT], {}, true); // the guest waits on stdin, which stays open
    const node = realpathSync(process.execPath);
    const exe = () => { try { return readlinkSync(`/proc/${run.pid}/exe`); } catch { return ""; } };
    await waitUntil(() => exe() === node, 30_000, () => `the command's process to become Node (it is ${exe()})`);
    run.kill("SIGTERM");
    const { code, signal } = await run.closed;
    expect(signal === "SIGTERM" || code === 143, `code ${code}, signal ${signal}`).toBe(true);
  }, 60_000);

  test("Node does not read NODE_EXTRA_CA_CERTS as it starts; `node bin/roam.js` does (a missing file: Node's warning)", async () => {
    const env = { NODE_EXTRA_CA_CERTS: join(scratch.path, "no-such-bundle.pem") };
    const command = await roam(["run", HELLO], { command: true, env });
    expect(command.code, command.describe()).toBe(0);
    expect(command.stderr).not.toMatch(/extra certs/);
    const node = await roam(["run", HELLO], { env });
    expect(node.code, node.describe()).toBe(0);
    expect(node.stderr).toMatch(/Warning: Ignoring extra certs from `\S*no-such-bundle\.pem`/);
  }, 60_000);

  test("the guest's environment is the user's: NODE_EXTRA_CA_CERTS as given (set, empty, unset), nothing of the launcher's", async () => {
    const bundle = join(scratch.path, "bundle.pem");
    const set = await guestEnvironment({ NODE_EXTRA_CA_CERTS: bundle });
    expect(set).toContain(`NODE_EXTRA_CA_CERTS=${bundle}`);
    expect(set.filter((line) => line.startsWith("ROAM_NODE_EXTRA_CA_CERTS"))).toEqual([]);
    expect(await guestEnvironment({ NODE_EXTRA_CA_CERTS: "" })).toContain("NODE_EXTRA_CA_CERTS=");
    const unset = await guestEnvironment({ NODE_EXTRA_CA_CERTS: undefined, ROAM_NODE_EXTRA_CA_CERTS: undefined });
    expect(unset.filter((line) => line.includes("EXTRA_CA_CERTS"))).toEqual([]);
  }, 60_000);

  test("the guest's environment is the user's: GLIBC_TUNABLES as given (set or unset), not the launcher's", async () => {
    const set = await guestEnvironment({ GLIBC_TUNABLES: "glibc.malloc.check=0" });
    expect(set.filter((line) => line.includes("GLIBC_TUNABLES"))).toEqual(["GLIBC_TUNABLES=glibc.malloc.check=0"]);
    const unset = await guestEnvironment({ GLIBC_TUNABLES: undefined, ROAM_GLIBC_TUNABLES: undefined });
    expect(unset.filter((line) => line.includes("GLIBC_TUNABLES"))).toEqual([]);
  }, 60_000);
});
