// How a failed command reads: always one line, `roam: WHAT: WHY`, where WHAT is
// the file, or else the command, that failed, and WHY is in the user's words
// (the man pages' words for a system error, never ENOENT or a JS stack).

import { RemoteError } from "../net/remote-error.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";

/** A failure that already knows what it concerns and its exit code. */
export class CliError extends Error {
  constructor(readonly what: string, readonly why: string, readonly exitCode = 1) {
    super(`${what}: ${why}`);
    this.name = "CliError";
  }
}

// strerror(3)'s words, shortened where the file name already says "file".
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EEXIST: "file exists",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EMFILE: "too many open files",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "temporary failure in name resolution",
};

/** "ENOENT" -> "no such file"; undefined for a code we have no words for. */
export function errnoWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : ERRNO_WORDS[code];
}

/** Node's "connect ECONNREFUSED 127.0.0.1:1" inside a message -> "connection refused". */
function plainMessage(message: string): string {
  return message.replace(/\b(?:connect|getaddrinfo|listen|read|write) (E[A-Z_]+)(?: \S+)?/g, (whole, code: string) => errnoWords(code) ?? whole);
}

/** A file named on the command line that could not be used: `roam: FILE: no such file`, exit 2. Other errors pass through. */
export function fileError(path: string, error: unknown): unknown {
  const words = errnoWords((error as NodeJS.ErrnoException)?.code);
  return words ? new CliError(path, words, EXIT_USAGE) : error;
}

/** Prints the one line for `error` raised by `command` and returns the exit code. */
export function reportFailure(command: string, error: unknown): number {
  const say = (what: string, why: string) => process.stderr.write(`roam: ${what}: ${why}\n`);
  if (error instanceof UsageError) { say(command, error.message); return EXIT_USAGE; }
  if (error instanceof CliError) { say(error.what, error.why); return error.exitCode; }
  if (error instanceof RemoteError) { say(command, plainMessage(error.message)); return 1; }
  const system = error as NodeJS.ErrnoException;
  const words = errnoWords(system?.code);
  if (words) { say(system.path ?? command, words); return 1; }
  // TypeError and its kin are Roam's bugs, not the user's mistakes: say so, and how to see where.
  const bug = error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError;
  const message = plainMessage(error instanceof Error ? error.message : String(error));
  say(command, bug ? `internal error: ${message}${process.env.ROAM_DEBUG ? "" : " (ROAM_DEBUG=1 shows where)"}` : message);
  if (process.env.ROAM_DEBUG && error instanceof Error && error.stack) process.stderr.write(error.stack + "\n");
  return 1;
}
