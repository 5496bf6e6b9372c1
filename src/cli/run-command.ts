// `roam run`: a static RV32 Linux program in process mode, with this host as its kernel.

import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { ElfError, parseElf, type ElfImage } from "../elf/index.js";
import { Core } from "../machine/core.js";
import { Process } from "../kernel/process.js";
import { parseCount, parseSize } from "./parse-numbers.js";
import { StdioProcessConsole } from "./process-console.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";

const RUN_HELP = `Usage: roam run [options] prog.elf [args...]

Runs a static RV32 Linux program (ET_EXEC, the kind qemu-riscv32 runs) in
process mode: the program runs in U-mode on Sv32 page tables, and Roam is its
kernel (files, terminal, clocks, memory). Its files live in a sandbox.

Options:
  --root <dir>              the guest's root directory (default: the current one);
                            no path, "..", or symlink reaches outside it
  --ram <size>              guest RAM, e.g. 64M (default 64M, at most 1G)
  --max-instructions <n>    stop after about n instructions (exit code 124)
  --stats                   print instructions, MIPS, page faults and system calls
  --no-jit                  interpret only: do not translate hot loops
  -h, --help                show this help

Exit code: the program's; 128 + signal when it faults (139 segmentation fault,
132 illegal instruction, 135 bus error), 2 when the ELF is refused, 130 on Ctrl-C.
`;

export async function runCommand(args: string[]): Promise<number> {
  // Roam's options come first; the program's path and its own arguments follow.
  let split = args.length;
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith("-")) { split = i; break; }
    if (VALUED.has(args[i])) i++;
  }
  const own = args.slice(0, split);
  const guestArgs = args.slice(split);
  const { values } = parseArgs({
    args: own,
    strict: true,
    options: {
      root: { type: "string" }, ram: { type: "string" }, "max-instructions": { type: "string" },
      stats: { type: "boolean" }, "no-jit": { type: "boolean" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) { process.stdout.write(RUN_HELP); return 0; }
  if (guestArgs.length === 0) throw new UsageError("roam run: which program? (roam run --help)");
  const program = guestArgs[0];
  const ramBytes = values.ram === undefined ? 64 << 20 : parseSize("--ram", values.ram);
  if (ramBytes % 4096 || ramBytes < 1 << 20 || ramBytes > 1 << 30) throw new UsageError(`--ram ${values.ram}: want 1M..1G in whole pages`);
  const root = values.root ?? process.cwd();
  try { if (!statSync(root).isDirectory()) throw new Error(); } catch { throw new UsageError(`--root ${root}: not a directory`); }
  const maxInstructions = values["max-instructions"] === undefined ? undefined : parseCount("--max-instructions", values["max-instructions"]);

  let image: ElfImage;
  try {
    image = parseElf(readFileSync(program));
  } catch (error) {
    const reason = error instanceof ElfError ? error.message : (error as Error).message;
    process.stderr.write(`roam: ${program}: ${reason}\n`);
    return EXIT_USAGE;
  }

  const core = await Core.load();
  const console = new StdioProcessConsole(process.stdin, process.stdout, process.stderr);
  let guest: Process;
  try {
    guest = new Process({
      core, image, ramBytes, root, argv: guestArgs, envp: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
      console, inputReady: () => console.inputReady(), maxInstructions, translate: values["no-jit"] !== true,
      warn: (message) => process.stderr.write(`roam: warning: ${message}\n`),
    });
  } catch (error) {
    if (!(error instanceof ElfError)) throw error;
    process.stderr.write(`roam: ${program}: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const onInterrupt = () => guest.stop("interrupted", 130);
  process.on("SIGINT", onInterrupt);
  try {
    const result = await guest.run();
    if (result.report) process.stderr.write(`roam: ${program}: ${result.report}\n`);
    if (values.stats) process.stderr.write(guest.formatStats() + "\n");
    return result.exitCode;
  } finally {
    process.off("SIGINT", onInterrupt);
    console.close();
  }
}

const VALUED = new Set(["--root", "--ram", "--max-instructions"]);
