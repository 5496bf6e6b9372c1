// The guest terminal's line discipline (src/kernel/terminal.ts) against what termios(3) says of each key and setting,
// and its state through a snapshot's check (src/snapshot/validate-terminal.ts).
import { describe, expect, test } from "vitest";
import { ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ICANON, ICRNL, ISIG, IUTF8, NOFLSH, Terminal, VMIN, VTIME, type TerminalHost } from "../../src/kernel/terminal.js";
import { checkTerminal } from "../../src/snapshot/validate-terminal.js";

function terminal() {
  const screen: number[] = [];
  const signals: Array<[number, number]> = [];
  let readable = 0;
  const host: TerminalHost = {
    echo: (bytes) => screen.push(...bytes),
    signalGroup: (pgid, sig) => signals.push([pgid, sig]),
    readable: () => { readable++; },
  };
  const tty = new Terminal(host, 1000);
  const type = (keys: string) => tty.receive(Buffer.from(keys, "latin1"));
  const read = (max = 100) => { const r = tty.read(max); return r === null ? null : Buffer.from(r).toString("latin1"); };
  const shown = () => Buffer.from(screen.splice(0)).toString("latin1");
  return { tty, type, read, shown, signals, readable: () => readable };
}

describe("canonical mode (ICANON): lines, edited as they are typed", () => {
  test("a line is readable at its newline, not before; a carriage return is a newline (ICRNL); the line is echoed", () => {
    const t = terminal();
    t.type("hello");
    expect(t.read()).toBeNull();
    expect(t.tty.readableNow()).toBe(false);
    t.type("\r");
    expect(t.readable()).toBe(1);
    expect(t.shown()).toBe("hello\n");
    expect(t.read()).toBe("hello\n");
    expect(t.read()).toBeNull();
  });

  test("\"a read returns at most one line of input\"; a short read leaves the rest of the line for the next", () => {
    const t = terminal();
    t.type("one\ntwo\n");
    expect(t.read()).toBe("one\n");
    expect(t.read(2)).toBe("tw");
    expect(t.read()).toBe("o\n");
  });

  test("ERASE, KILL and WERASE edit the line, and the screen is erased with it (ECHOE, ECHOKE)", () => {
    const t = terminal();
    t.type("ab\x7fc\n");
    expect(t.read()).toBe("ac\n");
    expect(t.shown()).toBe("ab\b \bc\n");
    t.type("junk\x15line\n");
    expect(t.read()).toBe("line\n");
    t.type("hello wor\x17world\n");
    expect(t.read()).toBe("hello world\n");
    t.type("x\x01\x7f\x7f\x7fy\n"); // a control key is shown as ^A: two columns to erase
    expect(t.shown()).toContain("x^A\b \b\b \b\b \by\n");
    expect(t.read()).toBe("y\n");
  });

  test("IUTF8: ERASE takes back a whole character (one column), where without it a byte goes", () => {
    const t = terminal();
    t.tty.setTermios({ ...t.tty.termios, iflag: t.tty.termios.iflag | IUTF8 });
    t.type("caf\xc3\xa9\x7f\n");
    expect(t.read()).toBe("caf\n");
    expect(t.shown()).toBe("caf\xc3\xa9\b \b\n");
    t.tty.setTermios({ ...t.tty.termios, iflag: t.tty.termios.iflag & ~IUTF8 });
    t.type("\xc3\xa9\x7f\n");
    expect(t.read()).toBe("\xc3\n");
  });

  test("without ECHOKE, KILL echoes itself and a newline (ECHOK); without ECHOE, ERASE echoes itself", () => {
    const t = terminal();
    t.tty.setTermios({ ...t.tty.termios, lflag: ISIG | ICANON | ECHO | ECHOK | ECHOCTL });
    t.type("abc\x15");
    expect(t.shown()).toBe("abc^U\n");
    t.type("d\x7f");
    expect(t.shown()).toBe("d^?");
  });

  test("EOF (Ctrl-D) at the start of a line reads as end of file; after text, it ends the line without itself", () => {
    const t = terminal();
    t.type("\x04");
    expect(t.read()).toBe("");
    t.type("abc\x04");
    expect(t.read()).toBe("abc");
    expect(t.read()).toBeNull();
  });

  test("LNEXT (Ctrl-V) takes the next key as it is: a Ctrl-C typed so is a byte, not a signal", () => {
    const t = terminal();
    t.type("a\x16\x03b\n");
    expect(t.signals).toEqual([]);
    expect(t.read()).toBe("a\x03b\n");
  });

  test("no ECHO: nothing is shown, a password prompt's newline neither (ECHONL off)", () => {
    const t = terminal();
    t.tty.setTermios({ ...t.tty.termios, lflag: t.tty.termios.lflag & ~ECHO });
    t.type("secret\n");
    expect(t.shown()).toBe("");
    expect(t.read()).toBe("secret\n");
  });
});

describe("signals from the keyboard (ISIG)", () => {
  test("Ctrl-C, Ctrl-\\ and Ctrl-Z are SIGINT, SIGQUIT and SIGTSTP for the foreground group, shown as ^C, ^\\, ^Z, and flush the input", () => {
    const t = terminal();
    t.tty.foreground = 1005;
    t.type("half a line\x03");
    t.type("\x1c");
    t.type("\x1a");
    expect(t.signals.splice(0)).toEqual([[1005, 2], [1005, 3], [1005, 20]]);
    // The chunk's own echo went with the flush, as on Linux (its n_tty shows a chunk's echoes as the chunk ends).
    expect(t.shown()).toBe("^C^\\^Z");
    t.type("typed apart");
    t.type("\x03");
    expect(t.shown()).toBe("typed apart^C");
    t.type("\n");
    expect(t.read()).toBe("\n"); // the half line went with the signal
  });

  test("NOFLSH keeps the input; without ISIG the keys are bytes", () => {
    const t = terminal();
    t.tty.setTermios({ ...t.tty.termios, lflag: t.tty.termios.lflag | NOFLSH });
    t.type("kept\x03\n");
    expect(t.read()).toBe("kept\n");
    t.tty.setTermios({ ...t.tty.termios, lflag: ICANON });
    t.type("\x03\x1a\n");
    expect(t.read()).toBe("\x03\x1a\n");
    expect(t.signals).toEqual([[1000, 2]]);
  });
});

describe("non-canonical mode (a line editor's, an editor's)", () => {
  test("each key is readable at once (MIN 1), nothing echoed without ECHO, a carriage return stays one without ICRNL", () => {
    const t = terminal();
    t.tty.setTermios({ ...t.tty.termios, iflag: 0, lflag: ISIG });
    t.type("q");
    expect(t.read()).toBe("q");
    t.type("\r\x1b[A");
    expect(t.read(2)).toBe("\r\x1b");
    expect(t.read()).toBe("[A");
    expect(t.shown()).toBe("");
  });

  test("MIN 3: a read waits until three bytes are there; MIN 0 TIME 0 returns at once, with nothing", () => {
    const t = terminal();
    const cc = Uint8Array.from(t.tty.termios.cc);
    cc[VMIN] = 3;
    t.tty.setTermios({ ...t.tty.termios, lflag: 0, cc });
    t.type("ab");
    expect(t.read()).toBeNull();
    t.type("c");
    expect(t.read()).toBe("abc");
    const poll = Uint8Array.from(cc);
    poll[VMIN] = 0;
    poll[VTIME] = 0;
    t.tty.setTermios({ ...t.tty.termios, cc: poll });
    expect(t.read()).toBe("");
  });

  test("turning canonical mode off makes the line being edited readable (n_tty_set_termios)", () => {
    const t = terminal();
    t.type("partial");
    expect(t.read()).toBeNull();
    t.tty.setTermios({ ...t.tty.termios, lflag: ISIG });
    expect(t.read()).toBe("partial");
  });
});

describe("the terminal's state in a snapshot", () => {
  test("settings, groups, size, the line being edited and the lines not read come back as they were", () => {
    const t = terminal();
    t.tty.foreground = 1007;
    t.tty.rows = 50;
    t.type("first\nsecond\nthird, unfinished");
    t.tty.setTermios({ ...t.tty.termios, iflag: ICRNL, lflag: ISIG | ICANON | ECHO | ECHOE | ECHOKE });
    const wire = structuredClone(t.tty.state());
    const checked = checkTerminal(wire, "terminal")!;
    const again = terminal();
    again.tty.load(checked);
    expect(again.read()).toBe("first\n");
    expect(again.read()).toBe("second\n");
    again.type("\n");
    expect(again.read()).toBe("third, unfinished\n");
    expect(again.tty.state()).toMatchObject({ foreground: 1007, session: 1000, rows: 50, columns: 80 });
    expect(again.tty.termios.lflag).toBe(ISIG | ICANON | ECHO | ECHOE | ECHOKE);
  });

  test("a malformed state is refused with what is wrong", () => {
    const good = terminal().tty.state();
    expect(() => checkTerminal({ ...good, schemaVersion: 2 }, "terminal")).toThrow(/terminal.schemaVersion/);
    expect(() => checkTerminal({ ...good, termios: { ...good.termios, cc: new Uint8Array(5) } }, "terminal")).toThrow(/5 control characters where a termios has 19/);
    expect(() => checkTerminal({ ...good, editing: new Uint8Array(5000) }, "terminal")).toThrow(/a line of 5000 bytes/);
    expect(() => checkTerminal({ ...good, foreground: -1 }, "terminal")).toThrow(/terminal.foreground/);
    expect(() => checkTerminal({ ...good, pieces: [{ bytes: new Uint8Array(1), ended: "yes" }] }, "terminal")).toThrow(/terminal.pieces\[0\].ended/);
  });
});
