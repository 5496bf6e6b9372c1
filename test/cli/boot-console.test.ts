import { spawn, type StdioOptions } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { DescriptorInput, readsWithoutWaiting } from "../../src/cli/descriptor-input.js";
import { REPO, ROAM, tempDir } from "../e2e/cluster.js";

// `roam boot`'s console: stdout written straight to descriptor 1 (direct-console-output.ts), and a file or /dev/null
// on stdin read without Node's stream (descriptor-input.ts), a pipe through it. The guest must see the same input
// and the user the same output and exit status whichever way. Needs `npm run build`.

const BARE = join(REPO, "guests/bin/baremetal");
const scratch = tempDir("boot-console");
afterAll(() => scratch.remove());

interface Exit { code: number | null; stdout: string; stderr: string }

/** `roam boot ARGS` with stdin `stdin` (a descriptor, or "pipe" given `input`); `closeStdout`: its reader is gone before it starts. */
function boot(args: string[], stdin: number | "pipe", input = "", closeStdout = false, env: NodeJS.ProcessEnv = process.env): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROAM, "boot", ...args], { stdio: [stdin, "pipe", "pipe"] as StdioOptions, env });
    let stdout = "", stderr = "";
    if (closeStdout) child.stdout!.destroy(); // Node takes tens of ms to start: roam's first write finds no reader
    else child.stdout!.on("data", (chunk: Buffer) => { stdout += chunk.toString("latin1"); });
    child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString("latin1"); });
    if (stdin === "pipe") child.stdin!.end(input);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const ECHO_INPUT = "first line\r\nsecond: xyz\n\nnot read\n";

describe("roam boot's console", () => {
  test("a file on stdin is the guest's input, as the same bytes through a pipe are", async () => {
    const file = join(scratch.path, "input.txt");
    writeFileSync(file, ECHO_INPUT);
    const fd = openSync(file, "r");
    try {
      const [fromFile, fromPipe] = await Promise.all([boot([join(BARE, "echo.elf")], fd), boot([join(BARE, "echo.elf")], "pipe", ECHO_INPUT)]);
      expect(fromPipe.code, fromPipe.stderr).toBe(0);
      expect(fromPipe.stdout).toContain("SECOND: XYZ");
      expect(fromFile).toEqual(fromPipe);
    } finally {
      closeSync(fd);
    }
  }, 60_000);

  test("/dev/null on stdin: the guest runs to its end", async () => {
    const fd = openSync("/dev/null", "r");
    try {
      const r = await boot([join(BARE, "hello.elf")], fd);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Hello from a bare-metal RISC-V guest!\n[^]*\nGoodbye\.\n$/);
      expect(r.stderr).toBe("");
    } finally {
      closeSync(fd);
    }
  }, 60_000);

  test("a reader gone before the first write: exit 141 (SIGPIPE's code) and one line saying so", async () => {
    const r = await boot([join(BARE, "hello.elf")], "pipe", "", true);
    expect(r.code, r.stderr).toBe(141);
    expect(r.stderr).toMatch(/^roam: console output failed \(EPIPE\) \(pc 0x[0-9a-f]+, \d+ instructions retired\)\n$/);
  }, 60_000);
});

test("with /dev/null on stdin, Node's stdin and stdout streams are never made (nor node:tty, node:net)", async () => {
  // Node's own list of the modules it loaded, internal ones too: fs.ReadStream is internal/fs/streams.
  const hook = join(scratch.path, "load-list.cjs");
  const list = join(scratch.path, "load-list.txt");
  writeFileSync(hook, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));`);
  const env = { ...process.env, NODE_OPTIONS: `--require ${hook}` };
  const fd = openSync("/dev/null", "r");
  try {
    const r = await boot([join(BARE, "hello.elf")], fd, "", false, env);
    expect(r.code, r.stderr).toBe(0);
    const loaded = readFileSync(list, "utf8").split("\n");
    expect(loaded).toContain("NativeModule vm"); // the list is the process's (the bundle loader's modules are in it)
    expect(loaded.filter((m) => /^NativeModule (internal\/fs\/streams|tty|net)$/.test(m))).toEqual([]);
  } finally {
    closeSync(fd);
  }
  const piped = await boot([join(BARE, "hello.elf")], "pipe", "", false, env);
  expect(piped.code, piped.stderr).toBe(0);
  expect(readFileSync(list, "utf8").split("\n")).toContain("NativeModule net"); // a pipe on stdin is Node's stream still
}, 60_000);

describe("reading stdin without a stream", () => {
  test("a regular file and /dev/null can be read without waiting; a directory is neither", () => {
    const file = join(scratch.path, "plain.txt");
    writeFileSync(file, "x");
    const dir = join(scratch.path, "dir");
    mkdirSync(dir);
    for (const [path, expected] of [[file, true], ["/dev/null", true], [dir, false]] as const) {
      const fd = openSync(path, "r");
      try { expect(readsWithoutWaiting(fd), path).toBe(expected); } finally { closeSync(fd); }
    }
    expect(readsWithoutWaiting(987654)).toBe(false); // not open
  });

  test("DescriptorInput delivers the file from its current offset, then its end, and nothing after stop()", async () => {
    const file = join(scratch.path, "big.txt");
    const text = "0123456789abcdef".repeat(10_000); // more than one 64 KiB chunk
    writeFileSync(file, `skip${text}`);
    const fd = openSync(file, "r");
    try {
      readSync(fd, Buffer.alloc(4), 0, 4, null); // as a shell's `read` would leave it
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve) => new DescriptorInput(fd, { data: (chunk) => chunks.push(Buffer.from(chunk)), end: resolve }));
      expect(chunks.length).toBeGreaterThan(1);
      expect(Buffer.concat(chunks).toString()).toBe(text);
    } finally {
      closeSync(fd);
    }
    const again = openSync(file, "r");
    try {
      let events = 0;
      const input = new DescriptorInput(again, { data: () => { events++; }, end: () => { events++; } });
      input.stop();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(events).toBe(0);
    } finally {
      closeSync(again);
    }
  });
});
