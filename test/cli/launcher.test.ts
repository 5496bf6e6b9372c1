import { spawn } from "node:child_process";
import { readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { REPO, tempDir, waitUntil } from "../e2e/cluster.js";

// bin/roam.js run as a command (the installed `roam`, or `bin/roam.js`): its first line is sh's and starts Node with
// the options that must be on Node's command line (--v8-pool-size=0: one V8 background thread per CPU besides the
// main one), then Node runs the same file as the CLI. These check the command behaves as the CLI does (arguments with
// spaces and quotes, stdin, the exit status, a signal) and that Node got the options; `node bin/roam.js` still runs
// with Node's own. Needs `npm run build`.

const ROAM = join(REPO, "bin/roam.js");
const HELLO = join(REPO, "guests/bin/process/hello.elf");
const CAT = join(REPO, "guests/bin/process/cat.elf");
const CRASH = join(REPO, "guests/bin/process/crash.elf");
const scratch = tempDir("launcher");
afterAll(() => scratch.remove());

// Preloaded into the Node the command starts (NODE_OPTIONS --require): writes the options Node was started with.
const EXEC_ARGV_PRELOAD = join(scratch.path, "exec-argv.cjs");
writeFileSync(EXEC_ARGV_PRELOAD, `require("node:fs").writeFileSync(process.env.EXEC_ARGV_FILE, JSON.stringify(process.execArgv));\n`);

interface Ran { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `binary args` to its end with `input` on stdin; PATH leads to the Node running the tests (the line's `node`). */
function run(binary: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  const env = { ...process.env, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter), ...options.env };
  const child = spawn(binary, args, { cwd: scratch.path, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d: Buffer) => { stdout += d.toString("utf8"); });
  child.stderr.on("data", (d: Buffer) => { stderr += d.toString("utf8"); });
  child.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The options the Node that ran `binary args` was started with. */
async function execArgvOf(binary: string, args: string[], name: string): Promise<string[]> {
  const file = join(scratch.path, `${name}.exec-argv`);
  const ran = await run(binary, args, { env: { NODE_OPTIONS: `--require ${EXEC_ARGV_PRELOAD}`, EXEC_ARGV_FILE: file } });
  expect(ran.code, ran.stderr).toBe(0);
  return JSON.parse(readFileSync(file, "utf8")) as string[];
}

describe("bin/roam.js run as a command", () => {
  test("starts Node with --v8-pool-size=0; `node bin/roam.js` leaves Node's defaults", async () => {
    expect(await execArgvOf(ROAM, ["--version"], "command")).toEqual(["--v8-pool-size=0"]);
    expect(await execArgvOf(process.execPath, [ROAM, "--version"], "node")).toEqual([]);
  }, 60_000);

  test("passes every argument through as given, spaces, quotes and dollars included", async () => {
    const ran = await run(ROAM, ["run", HELLO, "one two", `it's "quoted"`, "$HOME", ""]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("argc = 5");
    expect(ran.stdout).toContain("argv[1] = one two");
    expect(ran.stdout).toContain(`argv[2] = it's "quoted"`);
    expect(ran.stdout).toContain("argv[3] = $HOME");
    expect(ran.stdout).toContain("argv[4] = \n");
  }, 60_000);

  test("the guest reads the command's stdin", async () => {
    const ran = await run(ROAM, ["run", CAT], { input: "through the launcher\n" });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe("through the launcher\n");
  }, 60_000);

  test("its exit status is the CLI's: a guest's exit code, and 128 + the signal of a guest that faults", async () => {
    const exited = await run(ROAM, ["run", CRASH, "exit", "7"]);
    expect(exited.code, exited.stderr).toBe(7);
    const faulted = await run(ROAM, ["run", CRASH, "segv"]);
    expect(faulted.code, faulted.stderr).toBe(139);
    expect(faulted.stderr).toMatch(/segmentation fault/);
  }, 60_000);

  test("Node takes the command's own process (sh execs it): a signal sent to the command reaches Node", async () => {
    const env = { ...process.env, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter) };
    const child = spawn(ROAM, ["run", CAT], { cwd: scratch.path, env, stdio: ["pipe", "ignore", "ignore"] });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    const node = realpathSync(process.execPath);
    const exe = () => { try { return readlinkSync(`/proc/${child.pid}/exe`); } catch { return ""; } };
    await waitUntil(() => exe() === node, 30_000, () => `the command's process to become Node (it is ${exe()})`);
    child.kill("SIGTERM"); // the guest waits on stdin, which stays open
    const { code, signal } = await closed;
    expect(signal === "SIGTERM" || code === 143, `code ${code}, signal ${signal}`).toBe(true);
  }, 60_000);
});
