// A guest's own root on a host gets /tmp, root's /etc/passwd and /etc/group, and /etc/hosts; what is there is kept.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { furnishOwnRoot } from "../../src/guest/guest-root.js";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

test("furnishOwnRoot makes /tmp (sticky, for everyone), /etc/passwd and /etc/group with root", () => {
  const dir = mkdtempSync(join(tmpdir(), "roam-own-root-"));
  dirs.push(dir);
  furnishOwnRoot(dir);
  expect(statSync(join(dir, "tmp")).mode & 0o7777).toBe(0o1777);
  expect(readFileSync(join(dir, "etc", "passwd"), "utf8")).toBe("root:x:0:0:root:/root:/bin/sh\n");
  expect(readFileSync(join(dir, "etc", "group"), "utf8")).toBe("root:x:0:\n");
  expect(readFileSync(join(dir, "etc", "hosts"), "utf8")).toMatch(/^127\.0\.0\.1\tlocalhost\n/);
});

test("what the root already has is kept", () => {
  const dir = mkdtempSync(join(tmpdir(), "roam-own-root-"));
  dirs.push(dir);
  mkdirSync(join(dir, "etc"));
  writeFileSync(join(dir, "etc", "passwd"), "mine\n");
  furnishOwnRoot(dir);
  furnishOwnRoot(dir);
  expect(readFileSync(join(dir, "etc", "passwd"), "utf8")).toBe("mine\n");
});
