import { ConsoleKeys, LineKeys, RawKeys } from "./console-keys.js";
import { DescriptorInput, readsWithoutWaiting } from "./descriptor-input.js";
import { isTerminalDescriptor } from "./direct-output.js";

// Connects the process's terminal to a running guest: stdin bytes go to the
// guest's UART, and the ways a user stops a run (Ctrl-C, SIGINT, SIGTERM) reach
// the machine. When stdin is a TTY it is put in raw mode so the guest sees every
// key as typed (no line editing, no echo); the previous mode is restored on
// detach and, as a last resort, when the process exits. A file or /dev/null on
// stdin is read without Node's stream (descriptor-input.ts).

export interface TerminalHandlers {
  input(bytes: Uint8Array | number[]): void;
  inputEnded(): void;
  interrupt(reason: string, exitCode: number): void;
}

export interface TerminalSession {
  readonly isTTY: boolean;
  detach(): void;
  /** The terminal's mode as it was, for a while (this client stops: its shell has the terminal); resume: raw again. */
  suspend?(): void;
  resume?(): void;
}

const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

/** `openStdin` gives Node's stream for stdin (process.stdin), made only when stdin is a terminal, a pipe or a socket. */
export function attachTerminal(openStdin: () => NodeJS.ReadStream, handlers: TerminalHandlers): TerminalSession {
  const onSigint = () => handlers.interrupt("interrupted (SIGINT)", EXIT_SIGINT);
  const onSigterm = () => handlers.interrupt("terminated (SIGTERM)", EXIT_SIGTERM);
  const signals = { SIGINT: onSigint, SIGTERM: onSigterm };
  if (readsWithoutWaiting(0)) {
    return readDescriptor(new DescriptorInput(0, { data: (chunk) => handlers.input(chunk), end: () => handlers.inputEnded() }), signals);
  }
  const stdin = openStdin();
  const isTTY = stdin.isTTY === true;
  const keys = new ConsoleKeys({
    toGuest: (bytes) => handlers.input(bytes),
    interrupt: (reason) => handlers.interrupt(reason, EXIT_SIGINT),
  });
  const onData = (chunk: Buffer) => (isTTY ? keys.feed(chunk) : handlers.input(chunk));
  return takeTerminal(stdin, { data: onData, end: () => handlers.inputEnded() }, signals);
}

/** Listens to `signals` while `input` is read, until the returned session is detached. */
function readDescriptor(input: DescriptorInput, signals: Partial<Record<NodeJS.Signals, () => void>>): TerminalSession {
  for (const [signal, handler] of Object.entries(signals)) process.on(signal, handler);
  return {
    isTTY: false,
    detach() {
      input.stop();
      for (const [signal, handler] of Object.entries(signals)) process.off(signal, handler);
    },
  };
}

/**
 * Puts a TTY stdin in raw mode and listens to it and to `signals` until the
 * returned session is detached; the terminal's mode comes back on detach, or
 * when the process exits, whichever comes first. An unreadable stdin (closed
 * by the caller) counts as its end, not a crash.
 */
function takeTerminal(
  stdin: NodeJS.ReadStream, on: { data: (chunk: Buffer) => void; end: () => void }, signals: Partial<Record<NodeJS.Signals, () => void>>,
): TerminalSession {
  const isTTY = stdin.isTTY === true;
  const restoreMode = () => {
    if (isTTY) stdin.setRawMode(false);
  };
  if (isTTY) stdin.setRawMode(true);
  stdin.on("data", on.data);
  stdin.on("end", on.end);
  stdin.on("error", on.end);
  for (const [signal, handler] of Object.entries(signals)) process.on(signal, handler);
  process.on("exit", restoreMode);
  return {
    isTTY,
    suspend: restoreMode,
    resume() { if (isTTY) stdin.setRawMode(true); },
    detach() {
      stdin.off("data", on.data);
      stdin.off("end", on.end);
      for (const [signal, handler] of Object.entries(signals)) process.off(signal, handler);
      process.off("exit", restoreMode);
      restoreMode();
      stdin.pause();
      stdin.destroy(); // nothing reads it any more; a paused stdin could still hold the event loop open
    },
  };
}

// ---- A guest on a host (`roam attach`, `run --on`, `boot --on`) ----------------------------

export interface HeldTerminal {
  /** The attached terminal has taken over (it restores the mode itself). */
  handOver(): void;
  /** No terminal will take over: the mode comes back now. */
  release(): void;
}

/**
 * Makes a TTY stdin raw before a client has its guest to attach to, and reads
 * nothing: keys typed meanwhile wait in the terminal, neither echoed by it
 * (the line editor echoes them once it has them) nor turned into signals (an
 * early Ctrl-C reaches the guest as one typed later would). Nothing is done
 * when stdin is not a terminal.
 */
export function holdTerminal(): HeldTerminal {
  if (!isTerminalDescriptor(0)) return { handOver() {}, release() {} };
  const stdin = process.stdin;
  const restoreMode = () => stdin.setRawMode(false);
  stdin.setRawMode(true);
  process.on("exit", restoreMode);
  return {
    handOver: () => process.off("exit", restoreMode),
    release() {
      process.off("exit", restoreMode);
      restoreMode();
    },
  };
}


export interface AttachedTerminalHandlers {
  input(bytes: Uint8Array): void;
  inputEnded(): void;
  /** Ctrl-] (or SIGTERM, SIGHUP): this client leaves; the guest runs on. */
  detach(): void;
  /** Ctrl-C for a process-mode guest. */
  interrupt(): void;
}

/**
 * The terminal of a client attached to a guest. On a TTY it is raw, so Ctrl-]
 * acts at once: a machine-mode guest, or a process-mode guest with a terminal
 * of its own (GuestInfo.terminal), gets every other byte as typed (its UART or
 * its line discipline echoes, so the terminal must not); any other
 * process-mode guest gets lines edited here (LineKeys). Input that is not a
 * TTY (a pipe, a file) goes to the guest unchanged, and its end ends the
 * guest's input.
 */
export function attachGuestTerminal(stdin: NodeJS.ReadStream, echo: NodeJS.WriteStream, keysGo: "as typed" | "by line", handlers: AttachedTerminalHandlers): TerminalSession {
  const isTTY = stdin.isTTY === true;
  const keys = keysGo === "as typed"
    ? new RawKeys({ toGuest: (bytes) => handlers.input(bytes), detach: () => handlers.detach() })
    : new LineKeys({
      toGuest: (bytes) => handlers.input(bytes), detach: () => handlers.detach(), endInput: () => handlers.inputEnded(),
      interrupt: () => handlers.interrupt(), echo: (bytes) => echo.write(bytes),
    });
  const onData = (chunk: Buffer) => (isTTY ? keys.feed(chunk) : handlers.input(chunk));
  const onSignal = () => handlers.detach();
  // A client killed in raw mode would leave the terminal raw; these leave politely instead.
  return takeTerminal(stdin, { data: onData, end: () => handlers.inputEnded() }, { SIGTERM: onSignal, SIGHUP: onSignal });
}
