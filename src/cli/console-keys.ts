// What the keyboard does while a guest owns the terminal (raw mode, where the
// terminal no longer turns Ctrl-C into SIGINT):
//   Ctrl-C           stop the machine (exit code 130), like SIGINT would
//   Ctrl-A x         stop the machine (QEMU's -nographic escape)
//   Ctrl-A <key>     send <key> itself to the guest: Ctrl-A Ctrl-C gives the
//                    guest a Ctrl-C, Ctrl-A Ctrl-A a Ctrl-A
// Everything else goes to the guest's UART unchanged.

const CTRL_A = 0x01;
const CTRL_C = 0x03;

export interface KeyActions {
  toGuest(bytes: number[]): void;
  interrupt(reason: string): void;
}

export const KEYS_HELP = "Ctrl-C or Ctrl-A x stops the machine; Ctrl-A Ctrl-C sends Ctrl-C to the guest";

export class ConsoleKeys {
  private escaped = false;

  constructor(private readonly actions: KeyActions) {}

  feed(input: Uint8Array): void {
    const forward: number[] = [];
    for (const byte of input) {
      if (this.escaped) {
        this.escaped = false;
        if (byte === 0x78 /* x */ || byte === 0x58 /* X */) {
          this.flush(forward);
          this.actions.interrupt("stopped from the console (Ctrl-A x)");
          return;
        }
        forward.push(byte);
      } else if (byte === CTRL_A) {
        this.escaped = true;
      } else if (byte === CTRL_C) {
        this.flush(forward);
        this.actions.interrupt("interrupted (Ctrl-C)");
        return;
      } else {
        forward.push(byte);
      }
    }
    this.flush(forward);
  }

  private flush(bytes: number[]): void {
    if (bytes.length > 0) this.actions.toGuest(bytes);
  }
}

// ---- An attached terminal (`roam attach`, `run --on`, `boot --on`) -------------------------
// Ctrl-] (like telnet and virsh console) detaches: the guest runs on. Every other
// key belongs to the guest, so the detach key is the one byte we keep.

export const DETACH_KEY = 0x1d; // Ctrl-]

const CTRL_D = 0x04;
const CTRL_U = 0x15;
const BACKSPACE = 0x08;
const DELETE = 0x7f;
const CR = 0x0d;
const LF = 0x0a;

export interface AttachedKeyActions {
  toGuest(bytes: Uint8Array): void;
  detach(): void;
  /** Process mode: Ctrl-D on an empty line, the end of the guest's input. */
  endInput(): void;
  /** Process mode: Ctrl-C, the guest's program is interrupted. */
  interrupt(): void;
  /** Process mode: what the terminal shows of the line being typed. */
  echo(bytes: string | Uint8Array): void;
}

/**
 * Machine mode: the guest's UART echoes and edits lines itself, so every byte
 * goes to it as typed, Ctrl-C (0x03) and Ctrl-D (0x04) included.
 */
export class RawKeys {
  private detached = false;

  constructor(private readonly actions: Pick<AttachedKeyActions, "toGuest" | "detach">) {}

  feed(chunk: Uint8Array): void {
    if (this.detached) return;
    const at = chunk.indexOf(DETACH_KEY);
    const forward = at < 0 ? chunk : chunk.subarray(0, at);
    if (forward.length > 0) this.actions.toGuest(forward);
    if (at >= 0) {
      this.detached = true;
      this.actions.detach();
    }
  }
}

/**
 * Process mode: the guest reads its stdin as a program reads a cooked terminal,
 * a line at a time, so the line is edited here (echo, Backspace, Ctrl-U) and
 * sent when Enter is pressed. Ctrl-D sends what is typed so far, and on an empty
 * line ends the input (the program reads EOF); Ctrl-C interrupts the program.
 * The raw terminal underneath is what lets Ctrl-] act at once, mid-line.
 */
export class LineKeys {
  private line: number[] = [];
  private stopped = false; // detached or interrupted: nothing more goes anywhere
  private ended = false; // the guest's input has ended: only Ctrl-] and Ctrl-C still mean something

  constructor(private readonly actions: AttachedKeyActions) {}

  feed(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (this.stopped) return;
      this.key(byte);
    }
  }

  private key(byte: number): void {
    if (byte === DETACH_KEY) { this.stopped = true; this.actions.detach(); return; }
    if (byte === CTRL_C) { this.stopped = true; this.actions.echo("^C\r\n"); this.actions.interrupt(); return; }
    if (this.ended) return;
    if (byte === CR || byte === LF) {
      this.actions.echo("\r\n");
      this.send([...this.line, LF]);
    } else if (byte === CTRL_D) {
      if (this.line.length === 0) { this.ended = true; this.actions.endInput(); return; }
      this.send(this.line);
    } else if (byte === DELETE || byte === BACKSPACE) {
      this.erase(1);
    } else if (byte === CTRL_U) {
      this.erase(this.line.length);
    } else {
      this.line.push(byte);
      this.actions.echo(byte < 0x20 ? `^${String.fromCharCode(byte + 0x40)}` : Uint8Array.of(byte));
    }
  }

  private send(bytes: number[]): void {
    this.line = [];
    if (bytes.length > 0) this.actions.toGuest(Uint8Array.from(bytes));
  }

  /** Takes back `chars` characters (a UTF-8 character is one, whatever its bytes) from the screen and the line. */
  private erase(chars: number): void {
    for (let i = 0; i < chars && this.line.length > 0; i++) {
      let byte: number;
      do byte = this.line.pop()!; while ((byte & 0xc0) === 0x80 && this.line.length > 0);
      this.actions.echo(byte < 0x20 ? "\b\b  \b\b" : "\b \b");
    }
  }
}
