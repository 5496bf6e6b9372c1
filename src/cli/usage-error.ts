// A mistake on the command line: printed as `roam <command>: <message>` with a
// pointer to --help, exit code 2.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

// Exit codes the CLI itself produces (the guest's own codes pass through).
export const EXIT_USAGE = 2;
