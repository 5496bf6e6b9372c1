import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MAX_RAM_BYTES } from "../../assembly/layout.js";
import { ElfError, parseElf, type ElfImage } from "../elf/index.js";
import { hex } from "../elf/hex.js";
import { StreamConsoleOutput } from "../machine/console-output.js";
import { Core } from "../machine/core.js";
import { Machine, type MachineResult } from "../machine/machine.js";
import { KEYS_HELP } from "./console-keys.js";
import { parseCount, parseSize } from "./parse-numbers.js";
import { attachTerminal } from "./terminal.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";

// `roam boot image.elf`: runs a bare-metal RV32 ELF on the virt-like machine in
// machine mode, with the terminal as its serial console.

export const BOOT_HELP = `Usage: roam boot <image.elf> [options]

Boots a bare-metal RV32IMAC ELF in machine mode on a QEMU-virt-like machine:
RAM at 0x80000000, NS16550A UART at 0x10000000 (the terminal), CLINT at
0x02000000, SiFive test finisher at 0x100000, and HTIF through the image's
tohost/fromhost symbols. The hart starts at the ELF entry with a0 = 0 (hart id)
and a1 = the last 2 MiB-aligned block of RAM (where QEMU puts the device tree).

Options:
  --ram <size>              guest RAM, e.g. 64M or 1G (default 128M, at most 1G)
  --max-instructions <n>    stop once n instructions have retired (exit code 124;
                            the core checks its budget at jumps, so straight-line
                            code can take a run a little past n)
  --stats                   print instructions, time, speed and exits to stderr
  --no-jit                  interpret only: do not translate hot loops to WebAssembly
  -h, --help                show this help

Console: ${KEYS_HELP}.

Exit code: the guest's (test finisher or HTIF), 124 at the instruction limit,
130 when interrupted (143 on SIGTERM, 141 when stdout is closed), 1 when the
machine stops on an error, 2 for a bad command line or image.
`;

const DEFAULT_RAM = 128 * 1024 * 1024;
const EXIT_OUTPUT_CLOSED = 141;

interface BootOptions {
  image: string;
  ramBytes: number;
  maxInstructions: number | undefined;
  stats: boolean;
  translate: boolean;
}

export async function bootCommand(args: string[]): Promise<number> {
  let options: BootOptions | undefined;
  try {
    options = parseBootArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    // parseArgs reports unknown or incomplete options as TypeErrors with a usable message.
    process.stderr.write(`roam boot: ${error.message}\n(see roam boot --help)\n`);
    return EXIT_USAGE;
  }
  if (!options) {
    process.stdout.write(BOOT_HELP);
    return 0;
  }

  let image: ElfImage;
  try {
    image = parseElf(readFileSync(options.image));
  } catch (error) {
    process.stderr.write(`roam: ${options.image}: ${describeLoadError(error)}\n`);
    return EXIT_USAGE;
  }

  const core = await Core.load();
  // A reader that went away (`roam boot x.elf | head`) ends the run the way
  // SIGPIPE ends other programs: exit code 128 + 13.
  const output = new StreamConsoleOutput(process.stdout, (error) =>
    machine.stop(`console output failed (${(error as NodeJS.ErrnoException).code ?? error.message})`, EXIT_OUTPUT_CLOSED),
  );
  const machine = new Machine({ core, ramBytes: options.ramBytes, console: output, maxInstructions: options.maxInstructions, translate: options.translate });
  try {
    machine.load(image); // placement is checked here, against the RAM size
  } catch (error) {
    if (!(error instanceof ElfError)) throw error;
    process.stderr.write(`roam: ${options.image}: ${error.message}\n`);
    return EXIT_USAGE;
  }

  const terminal = attachTerminal(process.stdin, {
    input: (bytes) => machine.uart.receive(bytes),
    inputEnded: () => machine.uart.endInput(),
    interrupt: (reason, exitCode) => machine.stop(reason, exitCode),
  });
  let result: MachineResult;
  try {
    result = await machine.run();
  } finally {
    terminal.detach();
  }

  report(result, output, options.stats, core);
  return processExitCode(result.exitCode);
}

// undefined means --help was asked for.
function parseBootArgs(args: string[]): BootOptions | undefined {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ram: { type: "string" },
      "max-instructions": { type: "string" },
      stats: { type: "boolean" },
      "no-jit": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  if (positionals.length === 0) throw new UsageError("missing the image to boot");
  if (positionals.length > 1) throw new UsageError(`one image at a time (got ${positionals.join(", ")})`);

  const ramBytes = values.ram === undefined ? DEFAULT_RAM : parseSize("--ram", values.ram);
  if (ramBytes === 0 || ramBytes % 4096 !== 0 || ramBytes > MAX_RAM_BYTES) {
    throw new UsageError(`--ram ${values.ram}: must be a non-zero multiple of 4K, at most 1G`);
  }
  const limit = values["max-instructions"];
  const maxInstructions = limit === undefined ? undefined : parseCount("--max-instructions", limit);
  return { image: positionals[0], ramBytes, maxInstructions, stats: values.stats === true, translate: values["no-jit"] !== true };
}

function describeLoadError(error: unknown): string {
  if (error instanceof ElfError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES") return "permission denied";
  throw error;
}

// One line on stderr unless the guest simply said "pass"; --stats adds the counters.
function report(result: MachineResult, output: StreamConsoleOutput, stats: boolean, core: Core): void {
  if (!result.quiet || stats) {
    // Keep the report off the end of an unfinished guest line.
    if (output.lastByte !== 0x0a && process.stdout.isTTY) process.stderr.write("\n");
  }
  if (!result.quiet) {
    process.stderr.write(`roam: ${result.reason} (pc ${hex(result.pc)}, ${result.instret} instructions retired)\n`);
  }
  if (stats) process.stderr.write(result.stats.format(result.instret, core.translator?.stats) + "\n");
}

// A process exit status is one byte: guest codes outside 1..255 would wrap, and
// 256 would even read as success.
function processExitCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
}
