import { bootCommand } from "./boot-command.js";
import { runCommand } from "./run-command.js";
import { demoCommand } from "./demo-command.js";
import {
  attachCommand, checkpointCommand, hostCommand, inspectCommand, killCommand, migrateCommand, psCommand, remoteRun,
  restoreCommand, statsCommand,
} from "./cluster-commands.js";
import { EXIT_USAGE } from "./usage-error.js";

// The `roam` command line: picks the subcommand and turns unexpected failures
// into one line on stderr. Returns the process exit code.

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  boot: {
    summary: "boot a bare-metal RV32 ELF in machine mode (roam boot --help); with --on, on a host",
    run: (args) => (args.includes("--on") ? remoteRun(args, "machine") : bootCommand(args)),
  },
  run: {
    summary: "run a static RV32 Linux program in process mode (roam run --help); with --on, on a host",
    run: (args) => (args.includes("--on") ? remoteRun(args) : runCommand(args)),
  },
  demo: { summary: "three hosts on loopback; a running guest moves between them (npm run demo)", run: demoCommand },
  host: { summary: "run a host that runs guests for clients and migrates them (roam host --help)", run: hostCommand },
  ps: { summary: "list a host's guests: roam ps [--on ws://HOST]", run: psCommand },
  attach: { summary: "attach the terminal to a guest, following it across moves: roam attach GID", run: attachCommand },
  kill: { summary: "stop a guest: roam kill GID", run: killCommand },
  migrate: { summary: "move a running guest: roam migrate GID --to ws://OTHER [--strategy ...]", run: migrateCommand },
  checkpoint: { summary: "stop a guest into a file: roam checkpoint GID -o FILE", run: checkpointCommand },
  restore: { summary: "start a guest from a checkpoint file: roam restore FILE --on ws://HOST", run: restoreCommand },
  inspect: { summary: "show what is inside a checkpoint file: roam inspect FILE", run: inspectCommand },
  stats: { summary: "a guest's migration statistics: roam stats GID [--json]", run: statsCommand },
};

const HELP = `Usage: roam <command> [options]

Roam is a RISC-V RV32IMAC virtual machine whose guests can move between hosts.

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(12)}${command.summary}`)
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
