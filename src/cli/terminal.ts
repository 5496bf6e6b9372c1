import { ConsoleKeys } from "./console-keys.js";

// Connects the process's terminal to a running guest: stdin bytes go to the
// guest's UART, and the ways a user stops a run (Ctrl-C, SIGINT, SIGTERM) reach
// the machine. When stdin is a TTY it is put in raw mode so the guest sees every
// key as typed (no line editing, no echo); the previous mode is restored on
// detach and, as a last resort, when the process exits.

export interface TerminalHandlers {
  input(bytes: Uint8Array | number[]): void;
  inputEnded(): void;
  interrupt(reason: string, exitCode: number): void;
}

export interface TerminalSession {
  readonly isTTY: boolean;
  detach(): void;
}

const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

export function attachTerminal(stdin: NodeJS.ReadStream, handlers: TerminalHandlers): TerminalSession {
  const isTTY = stdin.isTTY === true;
  const keys = new ConsoleKeys({
    toGuest: (bytes) => handlers.input(bytes),
    interrupt: (reason) => handlers.interrupt(reason, EXIT_SIGINT),
  });
  const onData = (chunk: Buffer) => (isTTY ? keys.feed(chunk) : handlers.input(chunk));
  const onSigint = () => handlers.interrupt("interrupted (SIGINT)", EXIT_SIGINT);
  const onSigterm = () => handlers.interrupt("terminated (SIGTERM)", EXIT_SIGTERM);
  const restoreMode = () => {
    if (isTTY) stdin.setRawMode(false);
  };
  // Without a listener, an unreadable stdin (closed by the caller) would crash the run.
  const onError = () => handlers.inputEnded();
  const onEnd = () => handlers.inputEnded();

  if (isTTY) stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.on("error", onError);
  stdin.on("end", onEnd);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("exit", restoreMode);

  return {
    isTTY,
    detach() {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
      process.off("exit", restoreMode);
      restoreMode();
      stdin.pause();
      // A paused stdin can still hold the event loop open; nothing reads it any more.
      stdin.destroy();
    },
  };
}
