// A console write's bytes are the guest's own memory or the kernel's scratch, valid only during the call
// (ProcessConsole.write): a console that keeps them, or hands them to someone who sends them later, copies them.
import { describe, expect, test } from "vitest";
import { GuestConsole } from "../../src/guest/guest-console.js";

describe("a host's guest console keeps and passes on copies", () => {
  test("what a listener got, and the log, stay as written when the writer's buffer changes after the call", () => {
    const console = new GuestConsole();
    const heard: Uint8Array[] = [];
    console.onOutput((_offset, bytes) => heard.push(bytes));
    const scratch = new Uint8Array(4);
    for (const text of ["abcd", "efgh", "ijkl"]) { // the first starts a chunk; the others join it
      scratch.set(Buffer.from(text));
      console.write(1, scratch);
      scratch.fill(0x2a); // the guest writes over its buffer, the kernel reuses its scratch
    }
    expect(heard.map((b) => Buffer.from(b).toString())).toEqual(["abcd", "efgh", "ijkl"]);
    expect(console.outputSince(0).map((c) => Buffer.from(c.data).toString()).join("")).toBe("abcdefghijkl");
  });
});
