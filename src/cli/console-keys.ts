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
