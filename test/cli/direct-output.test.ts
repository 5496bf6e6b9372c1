// Whether a descriptor is a terminal (src/cli/direct-output.ts): answered from fstat for files, pipes and Linux's
// memory devices, where loading node:tty would cost the start-up milliseconds for nothing; a terminal's answer is
// node:tty's isatty.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { isTerminalDescriptor } from "../../src/cli/direct-output.js";

const dir = mkdtempSync(join(tmpdir(), "roam-direct-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withOpen(path: string, flags: string, check: (fd: number) => void): void {
  const fd = openSync(path, flags);
  try { check(fd); } finally { closeSync(fd); }
}

describe("isTerminalDescriptor", () => {
  test("a file, /dev/null and /dev/zero are no terminals", () => {
    writeFileSync(join(dir, "f"), "x");
    withOpen(join(dir, "f"), "r", (fd) => expect(isTerminalDescriptor(fd)).toBe(false));
    withOpen("/dev/null", "w", (fd) => expect(isTerminalDescriptor(fd)).toBe(false));
    withOpen("/dev/zero", "r", (fd) => expect(isTerminalDescriptor(fd)).toBe(false));
  });

  test("a descriptor that is not open is none", () => {
    expect(isTerminalDescriptor(987_654)).toBe(false);
  });
});
