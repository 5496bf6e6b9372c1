// The command-line grammar every `roam` command shares: a command describes its
// options once (name, value, meaning) and gets parsing, checking, typo
// suggestions and its --help page from that one description.
//
// node:util.parseArgs splits the words (--opt value, --opt=value, -o FILE,
// -oFILE, --); the checks are ours so that every mistake reads the same way:
// `roam CMD: unknown option '--stratgy'; did you mean --strategy?`, exit 2.

import { parseArgs } from "node:util";
import { UsageError } from "./usage-error.js";

export interface OptionSpec {
  name: string; // without the dashes
  short?: string;
  /** what the value is called in help (URL, SIZE…); absent for a flag */
  value?: string;
  help: string; // "\n" starts a continuation line
}

export interface CommandSpec {
  name: string;
  /** what follows `roam NAME` on the usage line */
  usage: string;
  /** one line, for `roam --help` */
  summary: string;
  /** paragraphs between the usage line and the options */
  about?: string;
  options: OptionSpec[];
  /** positional arguments by name: required ones, then optional ones in [brackets] */
  positionals: string[];
  /** everything from the first positional on is kept as given (a guest's own arguments) */
  passThrough?: boolean;
  /** text after the options (exit codes, keys) */
  footer?: string;
}

export class Parsed {
  constructor(private readonly values: Map<string, string | true>, readonly positionals: string[], private readonly lists = new Map<string, string[]>()) {}

  /** Every value given to a repeatable option (--peer A --peer B), in order. */
  strings(name: string): string[] {
    return this.lists.get(name) ?? [];
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === "string" ? v : undefined;
  }

  flag(name: string): boolean {
    return this.values.get(name) === true;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }
}

const HELP_OPTION: OptionSpec = { name: "help", short: "h", help: "show this help" };

/** Parses `args` (the words after the command's name); undefined when --help was asked for. */
export function parseCommandLine(spec: CommandSpec, args: string[]): Parsed | undefined {
  const options = [...spec.options, HELP_OPTION];
  const byName = new Map(options.map((o) => [o.name, o]));
  const split = spec.passThrough ? firstPositional(args, options) : { own: args, rest: [] };
  const { tokens } = parseArgs({
    args: split.own, strict: false, allowPositionals: true, tokens: true,
    options: Object.fromEntries(options.map((o) => [o.name, { type: o.value ? "string" : "boolean", ...(o.short ? { short: o.short } : {}) }])),
  });
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) return undefined;

  const values = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const option = byName.get(token.name);
    if (!option) throw new UsageError(unknownOption(token.rawName, options));
    if (option.value === undefined) {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value (got '${token.value}')`);
      values.set(option.name, true);
    } else {
      const value = token.value;
      if (value === undefined || (!token.inlineValue && value.startsWith("-") && value.length > 1)) {
        throw new UsageError(`${token.rawName} needs a value: ${token.rawName} ${option.value}`);
      }
      values.set(option.name, value);
      lists.set(option.name, [...(lists.get(option.name) ?? []), value]);
    }
  }
  positionals.push(...split.rest);
  checkPositionals(spec, positionals);
  return new Parsed(values, positionals, lists);
}

/** The words before the first positional are ours; that one and all after it are passed on untouched. */
function firstPositional(args: string[], options: OptionSpec[]): { own: string[]; rest: string[] } {
  const valued = new Set(options.filter((o) => o.value).flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return { own: args.slice(0, i), rest: args.slice(i + 1) };
    if (!arg.startsWith("-") || arg === "-") return { own: args.slice(0, i), rest: args.slice(i) };
    if (valued.has(arg)) i++; // its value may look like anything
  }
  return { own: args, rest: [] };
}

function checkPositionals(spec: CommandSpec, positionals: string[]): void {
  const required = spec.positionals.filter((p) => !p.startsWith("["));
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required.slice(positionals.length).join(" ")} (usage: roam ${spec.name} ${spec.usage})`);
  }
  if (!spec.passThrough && positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument '${positionals[spec.positionals.length]}' (usage: roam ${spec.name} ${spec.usage})`);
  }
}

function unknownOption(raw: string, options: OptionSpec[]): string {
  const long = options.map((o) => `--${o.name}`);
  const guess = raw.startsWith("--") ? closest(raw, long) : undefined;
  return `unknown option '${raw}'${guess ? `; did you mean ${guess}?` : ""}`;
}

/** The candidate a typo most likely meant: at most 2 edits away (1 for short words), or one it begins. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  const allowed = word.replace(/^-+/, "").length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= allowed) return best;
  const prefixed = candidates.filter((c) => word.length >= 3 && c.startsWith(word));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The command's --help page. */
export function formatHelp(spec: CommandSpec): string {
  const rows = [...spec.options, HELP_OPTION].map((o) => {
    const names = `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.value ? ` ${o.value}` : ""}`;
    const [first, ...more] = o.help.split("\n");
    return [`  ${names.padEnd(28)}${first}`, ...more.map((line) => `${" ".repeat(30)}${line}`)].join("\n");
  });
  const parts = [`Usage: roam ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}`];
  if (spec.about) parts.push(spec.about.trimEnd());
  parts.push(`Options:\n${rows.join("\n")}`);
  if (spec.footer) parts.push(spec.footer.trimEnd());
  return parts.join("\n\n") + "\n";
}
