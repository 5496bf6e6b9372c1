import { describe, expect, test } from "vitest";
import { closest, formatHelp, parseCommandLine, type CommandSpec } from "../../src/cli/args.js";
import { hostLog, levelOf } from "../../src/cli/host-log.js";
import { UsageError } from "../../src/cli/usage-error.js";

// The command-line grammar (src/cli/args.ts) and the host's log lines (src/cli/host-log.ts), in-process.

const SPEC: CommandSpec = {
  name: "try", usage: "[options] prog [args...]", summary: "a test command", positionals: ["prog", "[args...]"], passThrough: true,
  options: [
    { name: "ram", value: "SIZE", help: "memory" },
    { name: "output", short: "o", value: "FILE", help: "where" },
    { name: "json", help: "as JSON" },
  ],
};

describe("parseCommandLine", () => {
  test("--opt value, --opt=value, -o FILE, -oFILE all mean the same", () => {
    for (const args of [["--ram", "2M", "-o", "f", "p"], ["--ram=2M", "-of", "p"], ["--ram=2M", "--output=f", "p"]]) {
      const parsed = parseCommandLine(SPEC, args)!;
      expect(parsed.string("ram")).toBe("2M");
      expect(parsed.string("output")).toBe("f");
      expect(parsed.positionals).toEqual(["p"]);
    }
  });

  test("from the first positional on, nothing is parsed: the guest gets it as given", () => {
    const parsed = parseCommandLine(SPEC, ["--json", "p", "--help", "--ram", "-o", "--", "x"])!;
    expect(parsed.flag("json")).toBe(true);
    expect(parsed.has("ram")).toBe(false);
    expect(parsed.positionals).toEqual(["p", "--help", "--ram", "-o", "--", "x"]);
    expect(parseCommandLine(SPEC, ["--ram", "2M", "--", "-p", "a"])!.positionals).toEqual(["-p", "a"]); // after --, a program may start with '-'
  });

  test("--help anywhere before the program asks for help", () => {
    expect(parseCommandLine(SPEC, ["--ram", "2M", "--help"])).toBeUndefined();
    expect(parseCommandLine(SPEC, ["-h"])).toBeUndefined();
  });

  test("mistakes are UsageErrors with one-line messages", () => {
    const error = (args: string[]) => { try { parseCommandLine(SPEC, args); } catch (e) { expect(e).toBeInstanceOf(UsageError); return (e as Error).message; } return "no error"; };
    expect(error(["--jsn", "p"])).toBe("unknown option '--jsn'; did you mean --json?");
    expect(error(["--ouptut", "f", "p"])).toBe("unknown option '--ouptut'; did you mean --output?");
    expect(error(["-x", "p"])).toBe("unknown option '-x'");
    expect(error(["--json=1", "p"])).toBe("--json takes no value (got '1')");
    expect(error(["--ram"])).toBe("--ram needs a value: --ram SIZE");
    expect(error([])).toBe("missing prog (usage: roam try [options] prog [args...])");
  });

  test("closest: typos within two edits (one for short words), swaps count once, unique prefixes", () => {
    expect(closest("--stratgy", ["--strategy", "--to"])).toBe("--strategy");
    expect(closest("mirgate", ["migrate", "kill"])).toBe("migrate");
    expect(closest("chec", ["checkpoint", "boot"])).toBe("checkpoint");
    expect(closest("xyz", ["ps", "run"])).toBeUndefined();
    expect(closest("--frobnicate", ["--on", "--token", "--json"])).toBeUndefined();
  });

  test("the help page lists each option with its value and meaning, continuation lines aligned", () => {
    const help = formatHelp({ ...SPEC, options: [...SPEC.options, { name: "two", help: "first\nsecond" }] });
    expect(help).toMatch(/^Usage: roam try \[options\] prog \[args\.\.\.\]\n/);
    expect(help).toContain("\n      --ram SIZE              memory\n");
    expect(help).toContain("\n  -o, --output FILE           where\n");
    expect(help).toContain("\n      --two                   first\n                              second\n");
    expect(help).toContain("\n  -h, --help                  show this help\n");
  });
});

describe("the host's log", () => {
  const at = () => new Date(Date.UTC(2026, 11, 4, 12, 0, 0, 5));

  test("an ISO time and a level on every line, a stack trace included", () => {
    let text = "";
    const log = hostLog("A", (t) => (text += t), at);
    log.line("host A listening on ws://127.0.0.1:7001");
    log.line("error handling run: Error: boom\n    at x (y.js:1:2)");
    log.warn("careful");
    expect(text).toBe(
      "2026-12-04T12:00:00.005Z info  [A] host A listening on ws://127.0.0.1:7001\n" +
      "2026-12-04T12:00:00.005Z error [A] error handling run: Error: boom\n" +
      "2026-12-04T12:00:00.005Z error [A]     at x (y.js:1:2)\n" +
      "2026-12-04T12:00:00.005Z warn  [A] careful\n");
  });

  test("levels read from host.ts's words; a level given wins", () => {
    expect(levelOf("guest g1 arrived")).toBe("info");
    expect(levelOf("guest g1 exited (0)")).toBe("info");
    expect(levelOf("guest g1 killed (137)")).toBe("info");
    expect(levelOf("unsupported system call 999; it returns ENOSYS")).toBe("warn");
    expect(levelOf("migration of g1 to ws://b failed: closed")).toBe("error");
    let text = "";
    hostLog("A", (t) => (text += t), at).line("guest g1 arrived", "warn");
    expect(text).toContain(" warn  [A] guest g1 arrived");
  });
});
