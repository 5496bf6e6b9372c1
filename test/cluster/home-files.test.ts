// A home host's side of files a guest left open there (src/cluster/home-files.ts):
// a write that names itself (`op`, its open file's count of answered writes)
// is done once however often it comes — a replicated guest's backup sends
// again the write its dead primary's guest waited for (issue 13) — and is
// answered the same each time; a different write is done.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { HomeFiles } from "../../src/cluster/home-files.js";
import { O_APPEND, O_WRONLY, type OpenFile } from "../../src/kernel/files.js";
import type { Message } from "../../src/net/protocol.js";

const root = mkdtempSync(join(tmpdir(), "roam-home-files-"));
afterEach(() => rmSync(root, { recursive: true, force: true }));

test("an appending write with the same op and bytes is done once and answered the same; another op, or none, is done", () => {
  writeFileSync(join(root, "log.txt"), "");
  const home = new HomeFiles();
  const file: OpenFile = { id: 3, path: "/log.txt", flags: O_WRONLY | O_APPEND, mode: 0o644, position: 0, kind: "file" };
  const cap = home.within(root).issue("g1", 3, file);
  const write = (text: string, op?: number) => home.serve({ t: "file-write", guest: "g1", cap, path: "/log.txt", position: 0, append: true, data: Buffer.from(text), ...(op === undefined ? {} : { op }) } as unknown as Message);
  const first = write("line 1\n", 0);
  expect(write("line 1\n", 0), "the backup's copy of the same write").toEqual(first);
  expect(write("line 2\n", 1)).toEqual({ written: 7, position: 14 });
  expect(write("line 2\n", 1)).toEqual({ written: 7, position: 14 });
  expect(write("other\n", 1), "same op, other bytes: another write (two processes sharing the file)").toEqual({ written: 6, position: 20 });
  expect(write("x\n")).toEqual({ written: 2, position: 22 });
  expect(write("x\n"), "without op (an older host): done each time").toEqual({ written: 2, position: 24 });
  expect(readFileSync(join(root, "log.txt"), "utf8")).toBe("line 1\nline 2\nother\nx\nx\n");
  expect(() => home.serve({ t: "file-write", guest: "g1", cap, path: "/log.txt", position: 0, data: Buffer.from("y"), op: "one" } as unknown as Message)).toThrow(/op must be a number/);
});
