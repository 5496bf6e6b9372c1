// A host's guest console with a terminal (src/guest/guest-console.ts): it is a terminal to the guest, and each key
// clients send, numbered, goes once to the kernel's line discipline (src/kernel/terminal.ts), none kept here.
import { describe, expect, test } from "vitest";
import { GuestConsole } from "../../src/guest/guest-console.js";
import { Terminal } from "../../src/kernel/terminal.js";

function consoleWithTerminal() {
  const console = new GuestConsole(undefined, { rows: 40, columns: 132 });
  const signals: Array<[number, number]> = [];
  let hungUp = false;
  const tty = new Terminal({ echo: (bytes) => console.write(1, bytes), signalGroup: (pgid, sig) => signals.push([pgid, sig]), readable: () => {} }, 1000);
  expect(console.takeTerminal((bytes) => tty.receive(bytes), () => { hungUp = true; tty.hangUp(); })).toBe(true);
  return { console, tty, signals, hungUp: () => hungUp };
}

const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString("latin1"));

describe("a guest console with a terminal", () => {
  test("is a terminal of the client's size; one without is a pipe that gives no keys to a line discipline", () => {
    const { console } = consoleWithTerminal();
    expect(console.isTerminal()).toBe(true);
    expect(console.describe()).toEqual({ kind: "terminal" });
    expect(console.windowSize()).toEqual({ rows: 40, columns: 132 });
    const plain = new GuestConsole();
    expect(plain.isTerminal()).toBe(false);
    expect(plain.describe()).toEqual({ kind: "pipe" });
    expect(plain.takeTerminal(() => {}, () => {})).toBe(false);
  });

  test("keys go to the line discipline once each, resent ones skipped; its echo is the console's output; Ctrl-C a signal", () => {
    const { console, tty, signals } = consoleWithTerminal();
    expect(console.pushInput(0, Buffer.from("ls"))).toBe(2);
    expect(console.pushInput(0, Buffer.from("ls -l\r"))).toBe(6); // a client resending what it had not seen acknowledged
    expect(text(tty.read(100))).toBe("ls -l\n");
    expect(console.read(100)).toBeNull(); // nothing kept in the console itself
    expect(console.outputSince(0).map((c) => text(c.data)).join("")).toBe("ls -l\n");
    console.pushInput(6, Uint8Array.of(3));
    expect(signals).toEqual([[1000, 2]]);
    expect(console.pushInput(99, Buffer.from("gap"))).toBe(7); // a gap: the client must resend from 7
  });

  test("the end of the clients' input hangs the terminal up: a read returns 0", () => {
    const { console, tty, hungUp } = consoleWithTerminal();
    console.endInput();
    expect(hungUp()).toBe(true);
    expect(text(tty.read(10))).toBe("");
  });
});
