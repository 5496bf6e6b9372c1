import { readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Proc, REPO, roam, tempDir, waitUntil } from "../e2e/cluster.js";

// bin/roam.js run as a command (the installed `roam`, or `bin/roam.js`): its first lines are sh's and start Node as
// Roam wants it started (--v8-pool-size=0: one V8 background thread per CPU besides the main one; NODE_EXTRA_CA_CERTS
// kept from Node's start-up and put back into the environment), then Node runs the same file as the CLI. These check
// the command behaves as the CLI does (arguments with spaces and quotes, stdin, the exit status, a signal, the
// guest's environment) and that Node was started so; `node bin/roam.js` still runs with Node's own defaults.
// (test/e2e/tls.test.ts checks a wss:// connection verified through NODE_EXTRA_CA_CERTS.) Needs `npm run build`.

const HELLO = join(REPO, "guests/bin/process/hello.elf");
const CAT = join(REPO, "guests/bin/process/cat.elf");
const CRASH = join(REPO, "guests/bin/process/crash.elf");
const BUSYBOX = join(REPO, "guests/bin/real/busybox.elf");
const scratch = tempDir("launcher");
afterAll(() => scratch.remove());

// Preloaded into the Node the command starts (NODE_OPTIONS --require): writes the options Node was started with.
const EXEC_ARGV_PRELOAD = join(scratch.path, "exec-argv.cjs");
writeFileSync(EXEC_ARGV_PRELOAD, `require("node:fs").writeFileSync(process.env.EXEC_ARGV_FILE, JSON.stringify(process.execArgv));\n`);

/** The options the Node that ran `roam args` was started with (`command`: through bin/roam.js's first lines). */
async function execArgvOf(args: string[], command: boolean, name: string): Promise<string[]> {
  const file = join(scratch.path, `${name}.exec-argv`);
  const ran = await roam(args, { command, env: { NODE_OPTIONS: `--require ${EXEC_ARGV_PRELOAD}`, EXEC_ARGV_FILE: file } });
  expect(ran.code, ran.describe()).toBe(0);
  return JSON.parse(readFileSync(file, "utf8")) as string[];
}

/** The guest's environment (BusyBox env), run as the command with `env` added to the test's (undefined: left out). */
async function guestEnvironment(env: Record<string, string | undefined>): Promise<string[]> {
  const ran = await roam(["run", BUSYBOX, "env"], { command: true, env });
  expect(ran.code, ran.describe()).toBe(0);
  return ran.stdout.trimEnd().split("\n");
}

describe("bin/roam.js run as a command", () => {
  test("starts Node with --v8-pool-size=0; `node bin/roam.js` leaves Node's defaults", async () => {
    expect(await execArgvOf(["--version"], true, "command")).toEqual(["--v8-pool-size=0"]);
    expect(await execArgvOf(["--version"], false, "node")).toEqual([]);
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
});
