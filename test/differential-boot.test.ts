import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

// Differential boot test: every bare-metal guest in guests/bin/baremetal runs
// under QEMU and under `roam boot`, with the same stdin; stdout must be the same
// bytes and the exit status the same number.
//
// QEMU is run as
//   qemu-system-riscv32 -M virt -cpu rv32,f=off,d=off,h=off -m 128M -smp 1
//     -bios none -display none -monitor none -serial stdio -kernel X.elf
// -serial stdio with -monitor none (rather than -nographic) keeps stdout to the
// UART's bytes alone and passes stdin through untouched: -nographic multiplexes
// the monitor onto stdio and treats 0x01 (Ctrl-A) as an escape. With stdout a
// pipe QEMU writes the bytes as they are: no "\n" -> "\r\n" translation (that
// is the terminal's doing, and only on a tty). The exit status is the test
// finisher's code. f/d/h are turned off so QEMU's hart is RV32IMAC + S + U like
// Roam's: hello prints misa.
//
// stdout goes to a file, not a pipe: QEMU (7.2 at least) makes its stdout
// non-blocking, and when the reader falls behind its 16550 model gives up on a
// byte after a few EAGAIN retries and drops it. Under a busy test runner that
// loses bytes from hello now and then; a file never says EAGAIN.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const GUESTS = join(ROOT, "guests", "bin", "baremetal");
const ROAM = process.env.ROAM_JS ?? join(ROOT, "bin", "roam.js"); // ROAM_JS: compare another build
const QEMU = "qemu-system-riscv32";
const QEMU_ARGS = [
  "-M", "virt", "-cpu", "rv32,f=off,d=off,h=off", "-m", "128M", "-smp", "1",
  "-bios", "none", "-display", "none", "-monitor", "none", "-serial", "stdio",
];
const TIMEOUT_MS = 120_000;
let outputDir = ""; // made by beforeAll
let outputCount = 0;

const qemuProbe = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
const qemuVersion = qemuProbe.error || qemuProbe.status !== 0 ? undefined : qemuProbe.stdout.split("\n")[0];
const skipReason = qemuVersion ? "" : ` (skipped: ${QEMU} is not on PATH)`;
if (!qemuVersion) console.warn(`differential-boot: ${QEMU} is not on PATH; skipping the QEMU comparison`);
// CI sets ROAM_REQUIRE_QEMU: there a missing QEMU is a failure, not a skip.
if (!qemuVersion && process.env.ROAM_REQUIRE_QEMU) throw new Error(`${QEMU} is required (ROAM_REQUIRE_QEMU) but not on PATH`);

interface Guest {
  name: string;
  status: number; // what the guest is written to exit with
  input?: string | Buffer;
  label?: string;
}

const GUESTS_UNDER_TEST: Guest[] = [
  { name: "hello", status: 0 },
  { name: "exit-code", status: 3 },
  { name: "trap", status: 0 },
  { name: "sieve", status: 0 },
  { name: "crc32", status: 0 },
  { name: "matmul", status: 0 },
  { name: "quicksort", status: 0 },
  { name: "dhry", status: 0 },
  { name: "compute-mix", status: 0 },
  { name: "compute-mix-sv32", status: 0 },
  { name: "echo", status: 0, label: "lines ending in an empty line", input: "Hello, Roam! 123 abc\nsecond line: xyz\n\nnot read\n" },
  { name: "echo", status: 0, label: "CRLF lines", input: "crlf line\r\nmore\r\n\r\n" },
  { name: "echo", status: 0, label: "EOT in mid-line", input: "stops at EOT\x04 not read\n" },
  { name: "echo", status: 0, label: "2 KiB of input, 40 lines", input: bigEchoInput() },
];

interface Run {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

// Runs a command with `input` on stdin (then EOF) and its stdout in a file.
function run(command: string, args: string[], input: string | Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const outputPath = join(outputDir, `stdout-${outputCount++}`);
    const outputFd = openSync(outputPath, "w");
    const child = spawn(command, args, { cwd: ROOT, stdio: ["pipe", outputFd, "pipe"] });
    closeSync(outputFd); // the child has its own copy
    const stdin = child.stdin!;
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS - 5_000);
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      const stdout = readFileSync(outputPath);
      rmSync(outputPath);
      resolve({ stdout, stderr: Buffer.concat(stderr).toString("utf8"), status, signal });
    });
    stdin.on("error", () => {}); // the guest may exit before reading it all
    stdin.end(input);
  });
}

// Shows bytes readably in assertion diffs: printable ASCII as is, the rest escaped.
function printable(bytes: Buffer): string {
  let text = "";
  for (const byte of bytes) {
    if (byte === 0x0a) text += "\\n\n";
    else if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return text;
}

function describeRun(who: string, result: Run): string {
  const how = result.signal ? `killed by ${result.signal}` : `status ${result.status}`;
  return `${who}: ${how}${result.stderr ? `, stderr:\n${result.stderr.trimEnd()}` : ""}`;
}

function bigEchoInput(): string {
  // 40 deterministic lines of 1..120 characters, then the empty line that ends echo
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  const alphabet = "abcdefghij KLMNO,.!?0123";
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    let line = "";
    for (let n = 1 + (next() % 120); n > 0; n--) line += alphabet[next() % alphabet.length];
    lines.push(line);
  }
  return lines.join("\n") + "\n\n";
}

describe.skipIf(!qemuVersion)(`bare-metal guests: roam boot vs ${qemuVersion ?? QEMU}${skipReason}`, () => {
  beforeAll(() => {
    outputDir = mkdtempSync(join(tmpdir(), "roam-differential-"));
  });
  afterAll(() => rmSync(outputDir, { recursive: true, force: true }));

  test("the prebuilt guests and the CLI are there", () => {
    for (const { name } of GUESTS_UNDER_TEST) {
      expect(existsSync(join(GUESTS, `${name}.elf`)), `${name}.elf missing: run \`npm run guests\``).toBe(true);
    }
    expect(existsSync(ROAM), `${ROAM} missing`).toBe(true);
  });

  test.each(GUESTS_UNDER_TEST.map((guest) => ({ ...guest, title: guest.label ? `${guest.name} (${guest.label})` : guest.name })))(
    "$title",
    async ({ name, status, input }) => {
      const elf = join(GUESTS, `${name}.elf`);
      const stdin = input ?? "";
      const [qemu, roam] = await Promise.all([
        run(QEMU, [...QEMU_ARGS, "-kernel", elf], stdin),
        run(process.execPath, [ROAM, "boot", elf], stdin),
      ]);

      // QEMU itself must behave as the guest intends, or the comparison says nothing.
      expect(qemu.status, describeRun("qemu", qemu)).toBe(status);
      expect(qemu.stdout.length).toBeGreaterThan(0);

      expect(printable(roam.stdout), describeRun("roam", roam)).toBe(printable(qemu.stdout));
      expect(roam.stdout.equals(qemu.stdout)).toBe(true);
      expect(roam.status, describeRun("roam", roam)).toBe(qemu.status);
    },
    TIMEOUT_MS,
  );
});
