import { bootCommand } from "./boot-command.js";
import { runCommand } from "./run-command.js";
import { EXIT_USAGE } from "./usage-error.js";

// The `roam` command line: picks the subcommand and turns unexpected failures
// into one line on stderr. Returns the process exit code.

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  boot: { summary: "boot a bare-metal RV32 ELF in machine mode (roam boot --help)", run: bootCommand },
  run: { summary: "run a static RV32 Linux program in process mode (roam run --help)", run: runCommand },
};

const HELP = `Usage: roam <command> [options]

Roam is a RISC-V RV32IMAC virtual machine whose guests can move between hosts.

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(8)}${command.summary}`)
  .join("\n")}

Options:
  -h, --help  show this help
`;

export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    (name === undefined ? process.stderr : process.stdout).write(HELP);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`roam: unknown command '${name}' (see roam --help)\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    process.stderr.write(`roam: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.ROAM_DEBUG && error instanceof Error && error.stack) process.stderr.write(error.stack + "\n");
    return 1;
  }
}
