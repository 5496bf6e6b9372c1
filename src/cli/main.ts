// The `roam` command line: picks the command, parses its options from its spec
// (args.ts), runs it, and turns every failure into one line on stderr
// (failure.ts). Returns the process exit code.

import { readFileSync } from "node:fs";
import { closest, formatHelp, parseCommandLine, type CommandSpec, type Parsed } from "./args.js";
import { BOOT_SPEC, bootCommand } from "./boot-command.js";
import {
  ATTACH_SPEC, attachCommand, CHECKPOINT_SPEC, checkpointCommand, KILL_SPEC, killCommand, PS_SPEC,
  psCommand, RESTORE_SPEC, restoreCommand, STATS_SPEC, statsCommand,
} from "./cluster-commands.js";
import { MIGRATE_SPEC, migrateCommand } from "./migrate-command.js";
import { DEMO_SPEC, demoCommand } from "./demo-command.js";
import { reportFailure } from "./failure.js";
import { HOST_SPEC, hostCommand } from "./host-command.js";
import { INSPECT_SPEC, inspectCommand } from "./inspect-command.js";
import { RUN_SPEC, runCommand } from "./run-command.js";
import { EXIT_USAGE } from "./usage-error.js";

interface Command {
  spec: CommandSpec;
  run(args: Parsed): Promise<number>;
}

const COMMANDS: Command[] = [
  { spec: RUN_SPEC, run: runCommand },
  { spec: BOOT_SPEC, run: bootCommand },
  { spec: HOST_SPEC, run: hostCommand },
  { spec: PS_SPEC, run: psCommand },
  { spec: ATTACH_SPEC, run: attachCommand },
  { spec: KILL_SPEC, run: killCommand },
  { spec: MIGRATE_SPEC, run: migrateCommand },
  { spec: CHECKPOINT_SPEC, run: checkpointCommand },
  { spec: RESTORE_SPEC, run: restoreCommand },
  { spec: INSPECT_SPEC, run: inspectCommand },
  { spec: STATS_SPEC, run: statsCommand },
  { spec: DEMO_SPEC, run: demoCommand },
];
const NAMES = COMMANDS.map((c) => c.spec.name);

const HELP = `Usage: roam <command> [options]

Roam is a RISC-V RV32IMAC virtual machine whose guests can move between hosts.

Commands:
${COMMANDS.map(({ spec }) => `  ${spec.name.padEnd(12)}${spec.summary}`).join("\n")}

Options:
  -h, --help     show this help (roam <command> --help: that command's)
  -V, --version  print Roam's version

Exit codes: 0 success; 1 the command failed (a host refused, a guest is not
there); 2 a bad command line or a file Roam refuses; a guest's own exit code
for run, boot and attach. See README.md for the rest.
`;

export async function main(args: string[]): Promise<number> {
  quietOnClosedOutput();
  const [name, ...rest] = args;
  if (name === undefined) { process.stderr.write(HELP); return EXIT_USAGE; }
  if (name === "-h" || name === "--help") { process.stdout.write(HELP); return 0; }
  if (name === "-V" || name === "--version") { process.stdout.write(`roam ${version()}\n`); return 0; }
  if (name === "help") return help(rest[0]);
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) return unknownCommand(name);
  try {
    const parsed = parseCommandLine(command.spec, rest);
    if (!parsed) { process.stdout.write(formatHelp(command.spec)); return 0; }
    return await command.run(parsed);
  } catch (error) {
    return reportFailure(name, error);
  }
}

/** `roam help [COMMAND]` */
function help(name: string | undefined): number {
  if (name === undefined) { process.stdout.write(HELP); return 0; }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) return unknownCommand(name);
  process.stdout.write(formatHelp(command.spec));
  return 0;
}

function unknownCommand(name: string): number {
  const what = name.startsWith("-") ? "unknown option" : "unknown command";
  const guess = closest(name, name.startsWith("-") ? ["--help", "--version"] : NAMES);
  process.stderr.write(`roam: ${name}: ${what}; ${guess ? `did you mean ${guess}?` : "see roam --help"}\n`);
  return EXIT_USAGE;
}

/** package.json's version: found by walking up, as this file runs from dist/src/cli/ or src/cli/. */
function version(): string {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    try {
      return (JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { version: string }).version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dir.pathname === "/") throw error;
    }
  }
}

/**
 * `roam ps | head`: once the reader has gone, stop quietly as SIGPIPE would
 * stop a C program (exit 141), with no stack trace; stderr likewise. Commands
 * that watch the stream themselves (run and boot: the guest sees the broken
 * pipe) keep their own handling.
 */
function quietOnClosedOutput(): void {
  const EXIT_BROKEN_PIPE = 141;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (stream.listenerCount("error") > 1) return;
      if (error.code !== "EPIPE" && stream === process.stdout) process.stderr.write(`roam: standard output: ${error.message}\n`);
      process.exit(error.code === "EPIPE" ? EXIT_BROKEN_PIPE : 1);
    });
  }
}
