// Lua 5.4's own test suite (the testes/ directory of the vendored source,
// guests/vendor/lua-5.4.7.tar.xz) run by the musl-built interpreter on roam
// and on qemu-riscv32: the same output, byte for byte, and the same status.
// `_port` and `_soft` are the suite's own switches for a portable, lighter
// run. Left out: math.lua and sort.lua print random seeds and timings,
// constructs.lua a timing-dependent count, heavy.lua and verybig.lua take
// minutes, main.lua runs lua itself through the shell; and what fails on
// qemu-riscv32 too: literals.lua (its locale check: musl's setlocale accepts
// any name). files.lua makes its files with os.tmpname in /tmp, which the
// suite's directory (the guest's root) does not have: roam run gives it a
// private one, as a Linux root has (its io.popen part, which runs /bin/sh,
// is left out by _port); the line with the date it ran is not compared.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, limiter, qemuPath, ROAM_JS, ROOT, runProgram } from "../process-harness.js";

const SUITE = ["strings", "calls", "closure", "coroutine", "events", "goto", "locals", "nextvar", "pm", "tpack", "utf8", "vararg",
  "bitwise", "errors", "gc", "db", "attrib", "api", "code", "cstack", "gengc", "files"];
const requireQemu = !!process.env.ROAM_REQUIRE_QEMU;
const LUA = join(ROOT, "guests", "bin", "real", "lua.elf");
const slot = limiter(2);
let base = "";

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "roam-lua-suite-"));
  const tar = spawnSync("tar", ["xJf", join(ROOT, "guests", "vendor", "lua-5.4.7.tar.xz"), "-C", base, "lua-5.4.7/testes"]);
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A fresh copy of the suite's directory, with no tmp: os.tmpname's /tmp is the host's under QEMU, roam run's own on Roam. */
function suiteDir(label: string): string {
  const dir = join(base, label);
  spawnSync("cp", ["-r", join(base, "lua-5.4.7", "testes"), dir]);
  return dir;
}

/** files.lua prints when it ran ("test done on 04/12/2026, at 18:22:19"): the rest must be the same. */
const undated = (out: Buffer) => out.toString().replace(/^test done on .*$/m, "test done on DATE");

describe.skipIf(!qemuPath && !requireQemu)("Lua 5.4's test suite: roam run against qemu-riscv32", () => {
  test.each(SUITE)("%s.lua", async (name) => {
    expect(qemuPath, "qemu-riscv32 is not on PATH (ROAM_REQUIRE_QEMU is set)").toBeTruthy();
    const args = ["-e", "_port=true; _soft=true", `${name}.lua`];
    const qemuDir = suiteDir(`qemu-${name}`), roamDir = suiteDir(`roam-${name}`);
    const env = { HOME: "/", PATH: "/usr/bin:/bin" }; // files.lua asserts that PATH is set
    const [qemu, roam] = await Promise.all([
      slot(() => runProgram("qemu", qemuPath!, [LUA, ...args], { cwd: qemuDir, env, timeoutMs: 150_000 })),
      slot(() => runProgram("roam", process.execPath, [ROAM_JS, "run", "--root", roamDir, LUA, ...args], { cwd: roamDir, env, timeoutMs: 150_000 })),
    ]);
    const what = `qemu: ${describeRun(qemu)}\nroam: ${describeRun(roam)}`;
    expect(undated(roam.stdout), what).toBe(undated(qemu.stdout));
    expect(roam.stderr, what).toBe(qemu.stderr);
    expect(roam.status, what).toBe(qemu.status);
    expect(roam.status, what).toBe(0);
  }, 180_000);
});
