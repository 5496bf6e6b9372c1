// The keys of an attached terminal, byte by byte, without a terminal: what
// reaches the guest, what is echoed, and when the client detaches or ends input.
import { describe, expect, test } from "vitest";
import { DETACH_KEY, LineKeys, RawKeys } from "../../src/cli/console-keys.js";

function recorder() {
  const log: string[] = [];
  const sent: number[] = [];
  const actions = {
    toGuest: (bytes: Uint8Array) => { sent.push(...bytes); log.push(`guest ${JSON.stringify(Buffer.from(bytes).toString("latin1"))}`); },
    detach: () => log.push("detach"),
    endInput: () => log.push("end"),
    interrupt: () => log.push("interrupt"),
    echo: (bytes: string | Uint8Array) => log.push(`echo ${JSON.stringify(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("latin1"))}`),
  };
  return { log, sent, actions };
}

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("machine mode (RawKeys): every byte to the UART but Ctrl-]", () => {
  test("Ctrl-C and Ctrl-D are bytes for the guest, not actions", () => {
    const r = recorder();
    new RawKeys(r.actions).feed(bytes("ab\x03c\x04\r"));
    expect(r.sent).toEqual([...bytes("ab\x03c\x04\r")]);
    expect(r.log).not.toContain("detach");
  });

  test("Ctrl-] in the middle of a chunk: what came before it goes, what comes after it does not", () => {
    const r = recorder();
    const keys = new RawKeys(r.actions);
    keys.feed(bytes(`ls\r${String.fromCharCode(DETACH_KEY)}rm -rf\r`));
    keys.feed(bytes("more\r"));
    expect(r.log).toEqual(['guest "ls\\r"', "detach"]);
  });

  test("Ctrl-] first in a chunk detaches without sending an empty chunk", () => {
    const r = recorder();
    new RawKeys(r.actions).feed(Uint8Array.of(DETACH_KEY, 0x61));
    expect(r.log).toEqual(["detach"]);
  });
});

describe("process mode (LineKeys): a cooked line, edited here", () => {
  test("a line is echoed as typed and sent whole, with a newline, at Enter", () => {
    const r = recorder();
    const keys = new LineKeys(r.actions);
    keys.feed(bytes("hi"));
    expect(r.sent).toEqual([]);
    keys.feed(bytes("!\r"));
    expect(Buffer.from(r.sent).toString()).toBe("hi!\n");
    expect(r.log.filter((l) => l.startsWith("echo"))).toEqual(['echo "h"', 'echo "i"', 'echo "!"', 'echo "\\r\\n"']);
  });

  test("Backspace and Ctrl-U edit the line before it goes; a UTF-8 character is erased whole", () => {
    const r = recorder();
    new LineKeys(r.actions).feed(Buffer.concat([bytes("junk\x15ab\x7fc"), Buffer.from("é"), bytes("\x7f\x7fd\r")]));
    expect(Buffer.from(r.sent).toString()).toBe("ad\n");
  });

  test("Ctrl-D on an empty line ends the input once; later keys but Ctrl-] go nowhere", () => {
    const r = recorder();
    const keys = new LineKeys(r.actions);
    keys.feed(bytes("last\r\x04more\r\x04"));
    keys.feed(Uint8Array.of(DETACH_KEY));
    expect(r.log.filter((l) => !l.startsWith("echo"))).toEqual(['guest "last\\n"', "end", "detach"]);
  });

  test("Ctrl-D after some text sends that text without a newline, and does not end the input", () => {
    const r = recorder();
    new LineKeys(r.actions).feed(bytes("part\x04"));
    expect(r.log.filter((l) => !l.startsWith("echo"))).toEqual(['guest "part"']);
  });

  test("Ctrl-] mid-line detaches at once and the half-typed line is not sent", () => {
    const r = recorder();
    new LineKeys(r.actions).feed(bytes(`one\rtw${String.fromCharCode(DETACH_KEY)}o\r`));
    expect(r.log.filter((l) => !l.startsWith("echo"))).toEqual(['guest "one\\n"', "detach"]);
  });

  test("Ctrl-C interrupts the program (shown as ^C) and nothing more is sent", () => {
    const r = recorder();
    new LineKeys(r.actions).feed(bytes("x\x03y\r"));
    expect(r.log).toEqual(['echo "x"', 'echo "^C\\r\\n"', "interrupt"]);
  });
});
