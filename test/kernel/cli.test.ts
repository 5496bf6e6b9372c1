import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JS_STACK, describeRun, runRoam, type Run } from "../process-harness.js";
import { buildElf } from "../machine/elf-builder.js";
import { guestElf, runInProcess } from "./kernel-harness.js";

// `roam run` as a user meets it: ELF files it must refuse (exit 2, one line
// "roam: FILE: REASON"), --max-instructions (exit 124 and a report) and
// --stats (instructions, MIPS, page faults, system calls by name).

const TIMEOUT_MS = 30_000;
const EXIT_USAGE = 2;
let work = "";
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "roam-kernel-cli-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const roam = (args: string[], stdin = "") => runRoam(args, { cwd: work, stdin, timeoutMs: 25_000 });

function expectOneLine(run: Run, pattern: RegExp): string {
  const details = describeRun(run);
  expect(run.stderr, details).not.toMatch(JS_STACK);
  expect(run.stderr, `exactly one line on stderr\n${details}`).toMatch(/^[^\n]+\n$/);
  expect(run.stderr, details).toMatch(pattern);
  return run.stderr;
}

// ---- ELF files roam must refuse ---------------------------------------------------------

const hello = () => Buffer.from(readFileSync(guestElf("hello")));
const patched = (edit: (elf: Buffer) => void) => () => {
  const elf = hello();
  edit(elf);
  return elf;
};

interface BadElf {
  what: string;
  /** file contents; a directory when "dir"; nothing (a missing file) when undefined */
  contents?: (() => Buffer) | "dir";
  reason: RegExp;
}

const BAD_ELVES: BadElf[] = [
  { what: "a missing file", reason: /no such file/i },
  { what: "a directory", contents: "dir", reason: /directory/i },
  { what: "an empty file", contents: () => Buffer.alloc(0), reason: /truncat|empty|too short|not an ELF/i },
  { what: "a text file", contents: () => Buffer.from("#!/bin/sh\necho hello\n"), reason: /not an ELF|magic/i },
  { what: "a truncated ELF header (30 bytes)", contents: () => hello().subarray(0, 30), reason: /truncat/i },
  { what: "an ELF cut off inside its program headers (100 bytes)", contents: () => hello().subarray(0, 100), reason: /truncat/i },
  { what: "an ELF cut off inside its first segment (2000 bytes)", contents: () => hello().subarray(0, 2000), reason: /truncat/i },
  { what: "a 64-bit ELF (EI_CLASS 2)", contents: patched((e) => (e[4] = 2)), reason: /32-bit|class|64/i },
  { what: "a big-endian ELF (EI_DATA 2)", contents: patched((e) => (e[5] = 2)), reason: /endian/i },
  { what: "an x86-64 ELF (e_machine 62)", contents: patched((e) => e.writeUInt16LE(62, 18)), reason: /RISC-V|machine/i },
  { what: "a relocatable object (e_type 1)", contents: patched((e) => e.writeUInt16LE(1, 16)), reason: /executable|e_type/i },
  {
    what: "a segment in page zero",
    contents: () => Buffer.from(buildElf({ entry: 0x100, segments: [{ paddr: 0x0, data: new Uint8Array(0x200), flags: 5 }] }).bytes),
    reason: /page zero/i,
  },
  {
    what: "an entry point outside the executable segments",
    contents: () => Buffer.from(buildElf({
      entry: 0x20000,
      segments: [
        { paddr: 0x10000, data: new Uint8Array(0x100), flags: 5 },
        { paddr: 0x20000, data: new Uint8Array(0x100), flags: 6 },
      ],
    }).bytes),
    reason: /entry/i,
  },
];

describe.concurrent("roam run refuses bad ELF files: exit 2 and one line naming the file", () => {
  test.each(BAD_ELVES.map((b, i) => ({ ...b, i })))("$what", async ({ contents, reason, i }) => {
    const file = join(work, `bad-${i}.elf`);
    if (contents === "dir") mkdirSync(file);
    else if (contents) writeFileSync(file, contents());
    const run = await roam(["run", file, "arg"]);
    expect(run.status, describeRun(run)).toBe(EXIT_USAGE);
    expect(run.stdout.length).toBe(0);
    const line = expectOneLine(run, new RegExp(`^roam: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: (.+)\n$`));
    expect(line.slice(`roam: ${file}: `.length), "the reason").toMatch(reason);
  }, TIMEOUT_MS);
});

// ---- an ELF bigger than --ram -------------------------------------------------------------

describe.concurrent("an ELF needing more than --ram: exit 2 and one line with the file name and the sizes", () => {
  // 8 MiB of bss behind a `j .`: loading it needs more than 4 MiB of RAM.
  const bigImage = (base: number) => Buffer.from(buildElf({
    entry: base, segments: [{ paddr: base, data: Uint8Array.of(0x6f, 0, 0, 0), memsz: 8 << 20, flags: 7 }],
  }).bytes);
  test.each([
    { command: "run", base: 0x10000 },
    { command: "boot", base: 0x80000000 },
  ])("roam $command", async ({ command, base }) => {
    const file = join(work, `big-${command}.elf`);
    writeFileSync(file, bigImage(base));
    const run = await roam([command, "--ram", "4M", file]);
    expect(run.status, describeRun(run)).toBe(EXIT_USAGE);
    const line = expectOneLine(run, new RegExp(`^roam: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: needs (\\d+) MiB of RAM, --ram is 4 MiB\n$`));
    const needed = Number(/needs (\d+) MiB/.exec(line)![1]);
    expect(needed).toBeGreaterThanOrEqual(8);
    // The figure is honest: with that much RAM the image loads and runs (to the limit).
    const fits = await roam([command, "--ram", `${needed}M`, "--max-instructions", "1000", file]);
    expect(fits.status, describeRun(fits)).toBe(124);
  }, TIMEOUT_MS);
});

// ---- --max-instructions -------------------------------------------------------------

describe.concurrent("--max-instructions", () => {
  const LIMIT = 2_000_000;
  const compute = guestElf("compute");

  test.each([
    { how: "", flags: [] as string[] },
    { how: " (--no-jit)", flags: ["--no-jit"] },
  ])("stops compute bench with exit 124 and a report$how", async ({ flags }) => {
    const run = await roam(["run", ...flags, "--max-instructions", String(LIMIT), "--stats", compute, "bench"]);
    const details = describeRun(run);
    expect(run.status, details).toBe(124);
    expect(run.stderr, details).not.toMatch(JS_STACK);
    const lines = run.stderr.split("\n");
    expect(lines[0], details).toMatch(new RegExp(`^roam: ${compute.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: instruction limit reached \\(pc 0x[0-9a-f]+\\)`));
    const retired = Number(/^instructions retired: (\d+)$/m.exec(run.stderr)?.[1]);
    // "about n": it stops at the limit, give or take a few instructions
    expect(retired, details).toBeGreaterThanOrEqual(LIMIT);
    expect(retired, details).toBeLessThan(LIMIT + 1000);
    expect(run.ms, "compute bench runs 1.43 billion instructions: it was stopped early").toBeLessThan(20_000);
  }, TIMEOUT_MS);

  test("in-process: exit code 124 and instret at the limit", async () => {
    const { result } = await runInProcess("compute", { root: work, args: ["bench"], maxInstructions: LIMIT, stdin: "" });
    expect(result.exitCode).toBe(124);
    expect(result.report).toMatch(/^instruction limit reached \(pc 0x[0-9a-f]+\)/);
    expect(Number(result.instret)).toBeGreaterThanOrEqual(LIMIT);
    expect(Number(result.instret)).toBeLessThan(LIMIT + 1000);
  }, TIMEOUT_MS);

  test("a guest that finishes under the limit is not affected", async () => {
    const run = await roam(["run", "--max-instructions", "1000000", guestElf("hello")]);
    expect(run.status, describeRun(run)).toBe(0);
    expect(run.stdout.toString("utf8")).toMatch(/^Hello from Roam!/);
    expect(run.stderr).toBe("");
  }, TIMEOUT_MS);
});

// ---- --stats -------------------------------------------------------------------------

interface Stats {
  instructions: number;
  mips: number;
  pageFaults: number;
  syscalls: Map<string, number>;
}

function parseStats(stderr: string): Stats {
  const instructions = /^instructions retired: (\d+)$/m.exec(stderr);
  const speed = /^wall time: [\d.]+ s; speed: ([\d.]+) MIPS$/m.exec(stderr);
  const faults = /^page faults \(demand paging\): (\d+); resident pages: \d+$/m.exec(stderr);
  const calls = /^system calls: (.+)$/m.exec(stderr);
  expect(instructions, `instructions retired\n${stderr}`).not.toBeNull();
  expect(speed, `MIPS\n${stderr}`).not.toBeNull();
  expect(faults, `page faults\n${stderr}`).not.toBeNull();
  expect(calls, `system calls\n${stderr}`).not.toBeNull();
  const syscalls = new Map<string, number>();
  for (const part of calls![1].split(", ")) {
    const m = /^([a-z_][a-z0-9_]*) (\d+)$/.exec(part);
    expect(m, `"${part}": a system call by name and its count`).not.toBeNull();
    syscalls.set(m![1], Number(m![2]));
  }
  return { instructions: Number(instructions![1]), mips: Number(speed![1]), pageFaults: Number(faults![1]), syscalls };
}

describe.concurrent("--stats", () => {
  test("hello: instructions, MIPS, page faults and its system calls by name", async () => {
    const run = await roam(["run", "--stats", guestElf("hello")]);
    expect(run.status, describeRun(run)).toBe(0);
    expect(run.stdout.toString("utf8")).toMatch(/^Hello from Roam!/);
    expect(run.stderr).not.toMatch(JS_STACK);
    const stats = parseStats(run.stderr);
    // qemu-riscv32's instruction-count plugin says about 6.5 K (guests/process/README.md)
    expect(stats.instructions).toBeGreaterThan(3_000);
    expect(stats.instructions).toBeLessThan(20_000);
    expect(stats.mips).toBeGreaterThan(0);
    expect(stats.syscalls.get("write"), "hello's output: one write (stdout is a pipe: fully buffered)").toBe(1);
    expect(stats.syscalls.get("exit_group")).toBe(1);
  }, TIMEOUT_MS);

  test("memwalk: demand paging shows as page faults", async () => {
    const run = await roam(["run", "--stats", guestElf("memwalk"), "--mib", "1", "--rounds", "1"]);
    expect(run.status, describeRun(run)).toBe(0);
    const stats = parseStats(run.stderr);
    expect(stats.pageFaults, "1 MiB touched: at least 256 pages").toBeGreaterThanOrEqual(256);
    expect(stats.instructions).toBeGreaterThan(1_000_000);
    expect(stats.syscalls.get("mmap")).toBeGreaterThanOrEqual(1);
  }, TIMEOUT_MS);

  test("compute: the share of the instructions translated code ran, and how many the interpreter ran", async () => {
    const run = await roam(["run", "--stats", guestElf("compute"), "small"]);
    expect(run.status, describeRun(run)).toBe(0);
    const instructions = Number(/^instructions retired: (\d+)$/m.exec(run.stderr)?.[1]);
    const share = /^translated code ran ([\d.]+)% of the instructions \((\d+) interpreted\)$/m.exec(run.stderr);
    expect(share, run.stderr).not.toBeNull();
    const [percent, interpreted] = [Number(share![1]), Number(share![2])];
    expect(percent, "60 M instructions of loops: most run translated").toBeGreaterThan(50);
    expect(interpreted, "the interpreter ran some (the first arrivals, while regions compile)").toBeGreaterThan(0);
    expect(percent).toBeCloseTo((100 * (instructions - interpreted)) / instructions, 1);
    const interpretedOnly = await roam(["run", "--no-jit", "--stats", guestElf("compute"), "small"]);
    expect(interpretedOnly.stderr, "no translator, no share").not.toMatch(/translated code ran/);
    // Machine mode says the same (the bare-metal compute mix, 31 M instructions).
    const boot = await roam(["boot", "--stats", fileURLToPath(new URL("../../guests/bin/baremetal/compute-mix.elf", import.meta.url))]);
    expect(boot.status, describeRun(boot)).toBe(0);
    expect(boot.stderr).toMatch(/^translated code ran [\d.]+% of the instructions \(\d+ interpreted\)$/m);
  }, TIMEOUT_MS);

  test("unknown system calls are counted by number", async () => {
    const run = await roam(["run", "--stats", guestElf("crash"), "enosys"]);
    expect(run.status, describeRun(run)).toBe(0);
    const stats = parseStats(run.stderr.replace(/^roam: warning: .*\n/gm, "").replace(/^system calls: (.*)$/m, (_, list: string) =>
      // "syscall 999 3" -> "syscall_999 3" so the list parses like the named ones
      `system calls: ${list.replace(/syscall (\d+)/g, "syscall_$1")}`));
    expect(stats.syscalls.get("syscall_999")).toBe(3);
    expect(stats.syscalls.get("syscall_500")).toBe(1);
  }, TIMEOUT_MS);
});
