// Runs the bare-metal ISA test programs (test/isa/bin/*.elf, built from
// test/isa/src by test/isa/build.sh and validated on QEMU by
// test/isa/qemu.sh) on Roam through the CLI:
//
//   node bin/roam.js boot <elf> --max-instructions 50000000
//
// Contract: exit status 0 when the program reports HTIF pass (tohost = 1),
// N when it reports failure of test case N (tohost = (N << 1) | 1).
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { limiter } from "./process-harness.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const binDir = path.join(root, "test", "isa", "bin");
const cli = path.join(root, "bin", "roam.js");
const MAX_INSTRUCTIONS = 50_000_000;
const TIMEOUT_MS = 180_000;

// Layer order: a failure in an early layer usually explains later ones.
const LAYERS = [
  "rv32i-rr",
  "rv32i-imm",
  "rv32i-ctrl",
  "rv32i-mem",
  "rv32m",
  "rv32a",
  "rv32c",
  "misaligned",
  "priv-csr",
  "priv-trap",
  "priv-irq",
  "sv32",
];

function programs(): string[] {
  const names = existsSync(binDir)
    ? readdirSync(binDir)
        .filter((f) => f.endsWith(".elf"))
        .map((f) => f.slice(0, -".elf".length))
    : [];
  const rank = (n: string) => {
    const i = LAYERS.indexOf(n);
    return i < 0 ? LAYERS.length : i;
  };
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

// Each program runs three ways: as shipped (hot code translated), with every
// jump target translated at its first arrival (ROAM_JIT_THRESHOLD=0, so the
// translator runs nearly all of it), and interpreted only (--no-jit).
const MODES = [
  { name: "translated when hot", args: [] as string[], env: {} },
  { name: "translated from the first arrival", args: [] as string[], env: { ROAM_JIT_THRESHOLD: "0" } },
  { name: "interpreted only", args: ["--no-jit"], env: {} },
];
type Mode = (typeof MODES)[number];

// At most two roam processes at once (the machine has 2 cores): priv-irq times a
// timer interrupt against a wfi, which a crowd of concurrent runs can make late.
const withSlot = limiter(2);

function boot(elf: string, mode: Mode): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, "boot", elf, "--max-instructions", String(MAX_INSTRUCTIONS), ...mode.args],
      { cwd: root, timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...mode.env } },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        resolve({
          status: e ? (typeof e.code === "number" ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
          error: e && typeof e.code !== "number" ? e : undefined,
        });
      },
    );
  });
}

function tail(s: string, lines = 20): string {
  const l = s.trimEnd().split("\n");
  return l.slice(Math.max(0, l.length - lines)).join("\n");
}

function explain(name: string, r: Run): string {
  const src = `test/isa/src/${name}.S`;
  let what: string;
  if (r.status === null) {
    what = r.signal
      ? `${name}: roam was killed by ${r.signal} (timeout ${TIMEOUT_MS} ms?)`
      : `${name}: could not run roam: ${r.error?.message ?? "unknown error"}`;
  } else {
    what =
      `${name}: FAILED test case ${r.status} (exit status ${r.status}; ` +
      `see TEST_START(${r.status}) / TEST_*(${r.status}, ...) in ${src}; ` +
      `label test_${r.status} in the disassembly test/isa/build.sh writes ` +
      `to test/isa/bin/${name}.dump). ` +
      `An exit status that is not a test number means the CLI itself failed ` +
      `(e.g. the instruction limit of ${MAX_INSTRUCTIONS} was hit).`;
  }
  const out = [what];
  if (r.stdout.trim()) out.push(`--- stdout (tail) ---\n${tail(r.stdout)}`);
  if (r.stderr.trim()) out.push(`--- stderr (tail) ---\n${tail(r.stderr)}`);
  return out.join("\n");
}

describe("ISA test programs on Roam (test/isa)", () => {
  const list = programs();

  it("has prebuilt programs in test/isa/bin", () => {
    expect(list.length, "run test/isa/build.sh").toBeGreaterThan(0);
  });

  it("has the CLI at bin/roam.js", () => {
    expect(existsSync(cli), `${cli} does not exist yet`).toBe(true);
  });

  for (const mode of MODES) {
    for (const name of list) {
      it.concurrent(
        `${name} (${mode.name})`,
        async () => {
          const r = await withSlot(() => boot(path.join(binDir, `${name}.elf`), mode));
          expect(r.status, explain(name, r)).toBe(0);
        },
        TIMEOUT_MS + 10_000,
      );
    }
  }
});
