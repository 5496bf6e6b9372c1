import { MAX_RAM_BYTES } from "../../assembly/layout.js";
import { ElfError } from "../elf/index.js";
import { hex } from "../elf/hex.js";
import { Core } from "../machine/core.js";
import { Machine, type MachineResult } from "../machine/machine.js";
import type { CommandSpec, Parsed } from "./args.js";
import { ON_HOST_OPTIONS } from "./client-options.js";
import { KEYS_HELP } from "./console-keys.js";
import { DirectConsoleOutput } from "./direct-console-output.js";
import { CliError } from "./failure.js";
import { parseCount, parseSize } from "./parse-numbers.js";
import { readElf } from "./read-input.js";
import { attachTerminal } from "./terminal.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";

// `roam boot image.elf`: runs a bare-metal RV32 ELF on the virt-like machine in
// machine mode, with the terminal as its serial console.

export const BOOT_SPEC: CommandSpec = {
  name: "boot",
  usage: "[options] image.elf",
  summary: "boot a bare-metal RV32 ELF in machine mode; with --on, on a host",
  about: `Boots a bare-metal RV32IMAC ELF in machine mode on a QEMU-virt-like machine:
RAM at 0x80000000, NS16550A UART at 0x10000000 (the terminal), CLINT at
0x02000000, SiFive test finisher at 0x100000, and HTIF through the image's
tohost/fromhost symbols. The hart starts at the ELF entry with a0 = 0 (hart id)
and a1 = the last 2 MiB-aligned block of RAM (where QEMU puts the device tree).`,
  positionals: ["image.elf"],
  options: [
    { name: "ram", value: "SIZE", help: "guest RAM, e.g. 64M or 1G (default 128M, at most 1G)" },
    { name: "max-instructions", value: "N", help: "stop once N instructions have retired (exit code 124;\nthe core checks its budget at jumps, so straight-line\ncode can take a run a little past N)" },
    { name: "stats", help: "print instructions, time, speed and exits to stderr" },
    { name: "no-jit", help: "interpret only: do not translate hot code to WebAssembly" },
    ...ON_HOST_OPTIONS,
  ],
  footer: `Console: ${KEYS_HELP}.

Exit code: the guest's (test finisher or HTIF), 124 at the instruction limit,
130 when interrupted (143 on SIGTERM, 141 when stdout is closed), 1 when the
machine stops on an error, 2 for a bad command line or image.`,
};

const DEFAULT_RAM = 128 * 1024 * 1024;
const EXIT_OUTPUT_CLOSED = 141;

interface BootOptions {
  image: string;
  ramBytes: number;
  maxInstructions: number | undefined;
  stats: boolean;
  translate: boolean;
}

export async function bootCommand(args: Parsed): Promise<number> {
  // The client (ws, msgpackr, TLS) loads only with --on: a local run starts without it.
  if (args.has("on")) return (await import("./cluster-commands.js")).remoteRun(args, "machine", ["max-instructions", "stats", "no-jit"]);
  for (const remoteOnly of ["detach", "token", "require", "prefer", "via"]) if (args.has(remoteOnly)) throw new UsageError(`--${remoteOnly} goes with --on`);
  const options = bootOptions(args);
  const { image } = readElf(options.image);

  const core = await Core.load();
  // A reader that went away (`roam boot x.elf | head`) ends the run the way
  // SIGPIPE ends other programs: exit code 128 + 13.
  const output = new DirectConsoleOutput(() => process.stdout, (error) =>
    machine.stop(`console output failed (${error.code ?? error.message})`, EXIT_OUTPUT_CLOSED),
  );
  const machine = new Machine({ core, ramBytes: options.ramBytes, console: output, maxInstructions: options.maxInstructions, translate: options.translate });
  try {
    machine.load(image); // placement is checked here, against the RAM size
  } catch (error) {
    if (error instanceof ElfError) throw new CliError(options.image, error.message, EXIT_USAGE);
    throw error;
  }

  const terminal = attachTerminal(() => process.stdin, {
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

function bootOptions(args: Parsed): BootOptions {
  const ram = args.string("ram");
  const ramBytes = ram === undefined ? DEFAULT_RAM : parseSize("--ram", ram);
  if (ramBytes === 0 || ramBytes % 4096 !== 0 || ramBytes > MAX_RAM_BYTES) {
    throw new UsageError(`--ram ${ram}: must be a non-zero multiple of 4K, at most 1G`);
  }
  const limit = args.string("max-instructions");
  const maxInstructions = limit === undefined ? undefined : parseCount("--max-instructions", limit);
  return { image: args.positionals[0], ramBytes, maxInstructions, stats: args.flag("stats"), translate: !args.flag("no-jit") };
}

// One line on stderr unless the guest simply said "pass"; --stats adds the counters.
function report(result: MachineResult, output: DirectConsoleOutput, stats: boolean, core: Core): void {
  if (!result.quiet || stats) {
    // Keep the report off the end of an unfinished guest line.
    if (output.lastByte !== 0x0a && output.isTerminal()) process.stderr.write("\n");
  }
  if (!result.quiet) {
    process.stderr.write(`roam: ${result.reason} (pc ${hex(result.pc)}, ${result.instret} instructions retired)\n`);
  }
  if (stats) process.stderr.write(result.stats.format(result.instret, core.translator?.stats, core.translator?.translatedRetired()) + "\n");
}

// A process exit status is one byte: guest codes outside 1..255 would wrap, and
// 256 would even read as success.
function processExitCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
}
