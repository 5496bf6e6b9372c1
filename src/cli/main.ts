// The `roam` command line: picks the command, parses its options from its spec
// (args.ts), runs it, and turns every failure into one line on stderr
// (failure.ts). Returns the process exit code.

import { readFileSync } from "node:fs";
import { closest, formatHelp, parseCommandLine, type CommandSpec, type Parsed } from "./args.js";
import { reportFailure } from "./failure.js";
import { EXIT_USAGE } from "./usage-error.js";

interface Command {
  spec: CommandSpec;
  run(args: Parsed): Promise<number>;
}

// Each command's module is imported only when that command is chosen (or for
// help): most of a run's start-up time is Node loading modules, and `roam run`
// must not wait for the host's, the network's and migration's (issue 14).
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => { const m = await import("./run-command.js"); return { spec: m.RUN_SPEC, run: m.runCommand }; },
  boot: async () => { const m = await import("./boot-command.js"); return { spec: m.BOOT_SPEC, run: m.bootCommand }; },
  host: async () => { const m = await import("./host-command.js"); return { spec: m.HOST_SPEC, run: m.hostCommand }; },
  ps: async () => { const m = await import("./cluster-commands.js"); return { spec: m.PS_SPEC, run: m.psCommand }; },
  attach: async () => { const m = await import("./cluster-commands.js"); return { spec: m.ATTACH_SPEC, run: m.attachCommand }; },
  kill: async () => { const m = await import("./cluster-commands.js"); return { spec: m.KILL_SPEC, run: m.killCommand }; },
  migrate: async () => { const m = await import("./migrate-command.js"); return { spec: m.MIGRATE_SPEC, run: m.migrateCommand }; },
  replicate: async () => { const m = await import("./replicate-command.js"); return { spec: m.REPLICATE_SPEC, run: m.replicateCommand }; },
  checkpoint: async () => { const m = await import("./cluster-commands.js"); return { spec: m.CHECKPOINT_SPEC, run: m.checkpointCommand }; },
  restore: async () => { const m = await import("./cluster-commands.js"); return { spec: m.RESTORE_SPEC, run: m.restoreCommand }; },
  inspect: async () => { const m = await import("./inspect-command.js"); return { spec: m.INSPECT_SPEC, run: m.inspectCommand }; },
  stats: async () => { const m = await import("./cluster-commands.js"); return { spec: m.STATS_SPEC, run: m.statsCommand }; },
  demo: async () => { const m = await import("./demo-command.js"); return { spec: m.DEMO_SPEC, run: m.demoCommand }; },
};
const NAMES = Object.keys(COMMANDS);

/** The command called `name`, its module loaded; undefined for no such command. */
async function command(name: string): Promise<Command | undefined> {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name]() : undefined;
}

/** `roam --help`: every command's summary, so every command's module. */
async function overallHelp(): Promise<string> {
  const specs = await Promise.all(NAMES.map(async (name) => (await command(name))!.spec));
  return `Usage: roam <command> [options]

Roam is a RISC-V RV32IMAC virtual machine whose guests can move between hosts.

Commands:
${specs.map((spec) => `  ${spec.name.padEnd(12)}${spec.summary}`).join("\n")}

Options:
  -h, --help     show this help (roam <command> --help: that command's)
  -V, --version  print Roam's version

Exit codes: 0 success; 1 the command failed (a host refused, a guest is not
there); 2 a bad command line or a file Roam refuses; a guest's own exit code
for run, boot and attach. See README.md for the rest.
`;
}

/**
 * Runs the command line; its exit code, once what the CLI wrote to stdout and stderr has left. A write to a pipe is
 * done at once only while the pipe has room: with a slow reader the rest waits in Node's stream, and the process
 * exit that follows (bin/roam.js) would lose the end of the output (BusyBox sort into a pipe, 2 runs of 40).
 */
export async function main(args: string[]): Promise<number> {
  const made = quietOnClosedOutput();
  const code = await commandLine(args);
  // A terminal's writes are synchronous: it is left alone (waiting on one upset an attached client's terminal).
  const pending = made.filter((stream) => !stream.isTTY && stream.writableLength > 0 && !stream.destroyed);
  if (pending.length > 0) await Promise.all(pending.map(drained)); // else at once: nothing else runs first
  return code;
}

/** Resolves when `stream` has written what it holds, or failed (a reader that went away), or closed. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once("drain", resolve);
    stream.once("error", () => resolve());
    stream.once("close", resolve);
  });
}

async function commandLine(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) { process.stderr.write(await overallHelp()); return EXIT_USAGE; }
  if (name === "-h" || name === "--help") { process.stdout.write(await overallHelp()); return 0; }
  if (name === "-V" || name === "--version") { process.stdout.write(`roam ${version()}\n`); return 0; }
  if (name === "help") return help(rest[0]);
  const chosen = await command(name);
  if (!chosen) return unknownCommand(name);
  try {
    const parsed = parseCommandLine(chosen.spec, rest);
    if (!parsed) { process.stdout.write(formatHelp(chosen.spec)); return 0; }
    return await chosen.run(parsed);
  } catch (error) {
    return reportFailure(name, error);
  }
}

/** `roam help [COMMAND]` */
async function help(name: string | undefined): Promise<number> {
  if (name === undefined) { process.stdout.write(await overallHelp()); return 0; }
  const chosen = await command(name);
  if (!chosen) return unknownCommand(name);
  process.stdout.write(formatHelp(chosen.spec));
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
 * pipe) keep their own handling. The handler goes on each stream when Node
 * makes it (process.stdout is made on first use): making them here would load
 * Node's stream modules (and node:net for a pipe) in every `roam run`, whose
 * guest output goes straight to the descriptors (direct-output.ts).
 * Returns the list of those made, which fills as Node makes them.
 */
function quietOnClosedOutput(): NodeJS.WriteStream[] {
  const made: NodeJS.WriteStream[] = [];
  const EXIT_BROKEN_PIPE = 141;
  const quiet = (stream: NodeJS.WriteStream) => {
    made.push(stream);
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (stream.listenerCount("error") > 1) return;
      if (error.code !== "EPIPE" && stream === process.stdout) process.stderr.write(`roam: standard output: ${error.message}\n`);
      process.exit(error.code === "EPIPE" ? EXIT_BROKEN_PIPE : 1);
    });
  };
  for (const name of ["stdout", "stderr"] as const) {
    const property = Object.getOwnPropertyDescriptor(process, name);
    if (!property?.get || !property.configurable) { quiet(process[name]); continue; }
    const make = property.get;
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: property.enumerable,
      get: () => {
        if (!stream) quiet((stream = make.call(process) as NodeJS.WriteStream));
        return stream;
      },
    });
  }
  return made;
}
