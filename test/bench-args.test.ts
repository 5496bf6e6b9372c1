// The benchmarks' command lines (bench/common.ts benchArgs): `--help` shows what a benchmark measures and its options,
// and a wrong option is one line naming it, exit status 2, no stack trace. Run as a user runs them, from dist/.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { openingComment } from "../bench/common.js";
import { REPO } from "./e2e/cluster.js";

const BENCH = join(REPO, "dist", "bench");
const run = (script: string, ...args: string[]) => spawnSync(process.execPath, [join(BENCH, script), ...args], { encoding: "utf8", timeout: 60_000 });

describe("benchmark command lines", () => {
  test("openingComment takes the // lines a file opens with", () => {
    expect(openingComment("// one\n//   two\n//\nimport x;\n// later\n")).toBe("one\n  two\n\n");
  });

  // Every script that reads options (balance.ts and messages.ts start hosts: they are left to their own tests).
  const scripts = readdirSync(join(REPO, "bench")).filter((f) => /^(core|lua-exits|micro|migrate|process|processes|programs|replicate|startup)\.ts$/.test(f));

  test.each(scripts)("%s: --help shows its usage; an unknown option is named, exit 2", (file) => {
    const script = file.replace(/\.ts$/, ".js");
    const help = run(script, "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(`node dist/bench/${script}`);
    const bad = run(script, "--no-such-option");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`bench/${script.replace(/\.js$/, "")}: Unknown option '--no-such-option' (--help shows the options)\n`);
  });
});
