import { describe, expect, it } from "vitest";
import { ConsoleKeys } from "../../src/cli/console-keys.js";
import { parseCount, parseSize } from "../../src/cli/parse-numbers.js";

function keys() {
  const guest: number[] = [];
  const interrupts: string[] = [];
  const k = new ConsoleKeys({ toGuest: (bytes) => guest.push(...bytes), interrupt: (reason) => interrupts.push(reason) });
  return { k, guest, interrupts };
}

describe("ConsoleKeys", () => {
  it("passes ordinary input through", () => {
    const { k, guest, interrupts } = keys();
    k.feed(Buffer.from("ls\r"));
    expect(Buffer.from(guest).toString()).toBe("ls\r");
    expect(interrupts).toEqual([]);
  });

  it("stops on Ctrl-C after forwarding what came before it", () => {
    const { k, guest, interrupts } = keys();
    k.feed(Uint8Array.from([0x61, 0x03, 0x62]));
    expect(guest).toEqual([0x61]);
    expect(interrupts).toEqual(["interrupted (Ctrl-C)"]);
  });

  it("stops on Ctrl-A x, even split across reads", () => {
    const { k, interrupts } = keys();
    k.feed(Uint8Array.from([0x01]));
    expect(interrupts).toEqual([]);
    k.feed(Buffer.from("x"));
    expect(interrupts).toEqual(["stopped from the console (Ctrl-A x)"]);
  });

  it("sends the key after Ctrl-A to the guest literally", () => {
    const { k, guest, interrupts } = keys();
    k.feed(Uint8Array.from([0x01, 0x03, 0x01, 0x01, 0x01, 0x61]));
    expect(guest).toEqual([0x03, 0x01, 0x61]);
    expect(interrupts).toEqual([]);
  });
});

describe("command-line numbers", () => {
  it("parses sizes with binary units", () => {
    expect(parseSize("--ram", "128M")).toBe(128 * 1024 * 1024);
    expect(parseSize("--ram", "1G")).toBe(1024 ** 3);
    expect(parseSize("--ram", "64k")).toBe(65536);
    expect(parseSize("--ram", "256MiB")).toBe(256 * 1024 * 1024);
    expect(parseSize("--ram", "4096")).toBe(4096);
    expect(() => parseSize("--ram", "lots")).toThrow("--ram lots: expected a size such as 128M or 1G");
    expect(() => parseSize("--ram", "1.5G")).toThrow(/expected a size/);
  });

  it("parses counts", () => {
    expect(parseCount("--max-instructions", "1000")).toBe(1000);
    expect(parseCount("--max-instructions", "1_000_000")).toBe(1_000_000);
    expect(() => parseCount("--max-instructions", "-5")).toThrow("--max-instructions -5: expected a whole number");
    expect(() => parseCount("--max-instructions", "1e6")).toThrow(/whole number/);
  });
});
