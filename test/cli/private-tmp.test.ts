import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { privateTmp } from "../../src/cli/private-tmp.js";

// The private /tmp of a root without one (src/cli/private-tmp.ts): made sticky and world-writable when first asked
// for, and removed when the run ends whether the guest left it empty (one rmdir) or not (the recursive removal).
const scratch = mkdtempSync(join(tmpdir(), "roam-private-tmp-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("private /tmp", () => {
  test("is made as Linux's /tmp is (drwxrwxrwt) and removed empty", () => {
    const root = mkdtempSync(join(scratch, "root-"));
    const tmp = privateTmp(root)!;
    const dir = tmp.dir();
    expect(tmp.dir()).toBe(dir);
    expect(statSync(dir).mode & 0o7777).toBe(0o1777);
    tmp.remove();
    expect(existsSync(dir)).toBe(false);
  });

  test("is removed with the files and directories a guest left in it", () => {
    const root = mkdtempSync(join(scratch, "root-"));
    const tmp = privateTmp(root)!;
    mkdirSync(join(tmp.dir(), "left"));
    writeFileSync(join(tmp.dir(), "left", "behind"), "x");
    writeFileSync(join(tmp.dir(), "file"), "y");
    tmp.remove();
    expect(existsSync(tmp.dir())).toBe(false);
  });

  test("is not made until asked for (a guest that never reaches /tmp costs no directory), then in TMPDIR", () => {
    const root = mkdtempSync(join(scratch, "root-"));
    const hostTmp = mkdtempSync(join(scratch, "host-tmp-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = hostTmp;
    try {
      const unused = privateTmp(root)!;
      unused.remove();
      expect(readdirSync(hostTmp)).toEqual([]);
      const used = privateTmp(root)!;
      expect(used.dir().startsWith(join(hostTmp, "roam-tmp-"))).toBe(true);
      used.remove();
      expect(readdirSync(hostTmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
    }
  });

  test("is not made for a root that has a tmp of its own", () => {
    const root = mkdtempSync(join(scratch, "root-"));
    mkdirSync(join(root, "tmp"));
    expect(privateTmp(root)).toBeUndefined();
  });
});
