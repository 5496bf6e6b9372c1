// Build step (npm run build:host, after `tsc -p tsconfig.bundle.json`): splits dist/bundle/all.js, the CLI's modules
// as System.register calls, into the chunks bin/roam.js loads (bundle-loader.ts): `run`, every module `roam run`
// imports statically, `boot`, those `roam boot` imports besides (the machine, its devices), and `rest`, the others
// (the host, the network, migration...); a chunk after `run` is read only when a command needs one of its modules,
// and the run chunk says which chunk holds each of them (System.place), so a command reads only the chunks it needs.
// Each chunk is a script whose value is a function taking the registry's `System`; its first line names the chunk
// and the SHA-256 of the rest of the file, which keys its code cache (code-cache.ts).
//
//   node dist/src/launch/make-bundle.js [bundle directory, default dist/bundle]

import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BOOT_CHUNK_ENTRIES, CHUNK_HEADER, isBundled, RUN_CHUNK_ENTRIES, type ChunkName } from "./chunks.js";

interface Definition { id: string; deps: string[]; text: string }

// tsc writes each module as a `System.register("id", ["dep", ...], function (exports_1, context_1) {` at the start
// of a line; the text from one to the next (the comments before a module go with the previous one) is its definition.
const REGISTER = /^System\.register\("([^"]+)", \[([^\]]*)\], function \(/gm;

export function splitModules(bundle: string): Definition[] {
  const starts = [...bundle.matchAll(REGISTER)];
  if (starts.length === 0) throw new Error("no System.register calls: was it built with tsconfig.bundle.json?");
  const preamble = bundle.slice(0, starts[0].index).replace(/^\s*(\/\/.*)?$/gm, "");
  if (preamble.trim() !== "") throw new Error(`code before the first module: ${preamble.trim().slice(0, 80)}`);
  const ids = new Set(starts.map((match) => match[1]));
  return starts.map((match, i) => {
    if (!isBundled(match[1])) throw new Error(`${match[1]}: a module id the loader would take for a package's`);
    const deps = match[2].trim() === "" ? [] : match[2].split(",").map((dep) => JSON.parse(dep.trim()) as string);
    for (const dep of deps) if (isBundled(dep) && !ids.has(dep)) throw new Error(`${match[1]} imports ${dep}, which is not in the bundle`);
    const text = bundle.slice(match.index, i + 1 < starts.length ? starts[i + 1].index : bundle.length);
    // The loader runs each module's `execute` synchronously (ES module order); no module of ours awaits at top level.
    if (/\bexecute: async function\b/.test(text)) throw new Error(`${match[1]}: top-level await is not supported in the bundle`);
    return { id: match[1], deps, text };
  });
}

/** The ids of `entries` and of every module they import statically, in the bundle's order. */
export function staticClosure(modules: Definition[], entries: readonly string[]): Set<string> {
  const byId = new Map(modules.map((m) => [m.id, m]));
  const seen = new Set<string>();
  const visit = (id: string): void => {
    const module = byId.get(id);
    if (!module || seen.has(id)) return; // not ours: node:fs, ws, msgpackr
    seen.add(id);
    for (const dep of module.deps) visit(dep);
  };
  for (const entry of entries) {
    if (!byId.has(entry)) throw new Error(`entry ${entry} is not in the bundle`);
    visit(entry);
  }
  return seen;
}

/** Which chunk holds each module that is not in the first one: the loader reads that chunk, and no other, for it. */
export type Placement = Record<string, string[]>;

/**
 * A chunk's file: the header line, then a function expression that registers each module with the System it is
 * given (and, in the first chunk, tells it where the others' modules are).
 */
export function chunkText(name: string, modules: Definition[], placement?: Placement): string {
  for (const m of modules) refuseNonAscii(m);
  const place = placement ? `System.place(${JSON.stringify(placement)});\n` : "";
  const body = `(function (System) {\n${place}${modules.map((m) => shapeLine(m) + m.text).join("")}\n})\n`;
  return `${CHUNK_HEADER} ${name} ${createHash("sha256").update(body).digest("hex")}\n${body}`;
}

/**
 * V8 makes an object literal of this many properties or more a hash table ("dictionary mode"), as it makes an object
 * built by Object.create(null): such a module's namespace is made fast when it has run, as before (bundle-loader.ts).
 */
const MAX_SHAPED_EXPORTS = 127;

/**
 * The names a module exports from its own code: tsc writes each export as `exports_N("name", value)`, or
 * `exports_N({ "name": value, ... })` for `export { name } from`. Undefined for a module with `export *` (the names
 * come from another module as it links) or with too many names for a fast literal.
 */
export function exportNames(module: Definition): string[] | undefined {
  const own = /^System\.register\("[^"]*", \[[^\]]*\], function \((exports_\d+), /.exec(module.text)?.[1];
  if (own === undefined || /\bexportStar_\d+\(/.test(module.text)) return undefined;
  const names = new Set<string>();
  for (const match of module.text.matchAll(new RegExp(`\\b${own}\\("([A-Za-z_$][\\w$]*)"`, "g"))) names.add(match[1]);
  for (const match of module.text.matchAll(new RegExp(`\\b${own}\\(\\{([^}]*)\\}\\)`, "g"))) {
    for (const key of match[1].matchAll(/"([A-Za-z_$][\w$]*)":/g)) names.add(key[1]);
  }
  return names.size > MAX_SHAPED_EXPORTS ? undefined : [...names];
}

/**
 * `System.shape(id, factory)` before a module's registration: the factory is an object literal of its export names,
 * so the loader starts its namespace as a fast-mode object (a literal's shape is V8's from the start) instead of a
 * hash table copied into a fast object once the module has run (bundle-loader.ts, Bundle.register). Empty for a
 * module whose names are not all known here (exportNames).
 */
function shapeLine(module: Definition): string {
  const names = exportNames(module);
  if (names === undefined) return "";
  const fields = names.map((name) => `${JSON.stringify(name)}: undefined`).join(", ");
  return `System.shape(${JSON.stringify(module.id)}, function () { return { ${fields} }; });\n`;
}

/**
 * The loader reads a chunk as Latin-1 (bundle-loader.ts), straight into a one-byte string: for the 600 KB run chunk
 * ~2.5 ms less than decoding it as UTF-8. That reads ASCII right and nothing else, so a module with another character
 * (tsc keeps them in strings and templates; the comments are removed) fails the build here, not the run.
 */
function refuseNonAscii(module: Definition): void {
  const at = module.text.search(/[^\x00-\x7f]/);
  if (at < 0) return;
  const line = module.text.slice(0, at).split("\n").length;
  throw new Error(`${module.id}: a non-ASCII character (${JSON.stringify(module.text[at])}) on line ${line} of its compiled text: write it as a \\u escape`);
}

/** The modules of each chunk, in the bundle's order: run's closure, then boot's closure less run's, then the others. */
export function splitChunks(modules: Definition[]): Record<ChunkName, Definition[]> {
  const run = staticClosure(modules, RUN_CHUNK_ENTRIES);
  const boot = staticClosure(modules, BOOT_CHUNK_ENTRIES);
  return {
    run: modules.filter((m) => run.has(m.id)),
    boot: modules.filter((m) => boot.has(m.id) && !run.has(m.id)),
    rest: modules.filter((m) => !run.has(m.id) && !boot.has(m.id)),
  };
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function main(): void {
  const directory = process.argv[2] ?? join("dist", "bundle");
  const all = join(directory, "all.js");
  const modules = splitModules(readFileSync(all, "utf8"));
  const chunks = splitChunks(modules);
  const placement: Placement = { boot: chunks.boot.map((m) => m.id), rest: chunks.rest.map((m) => m.id) };
  writeAtomically(join(directory, "run.js"), chunkText("run", chunks.run, placement));
  writeAtomically(join(directory, "boot.js"), chunkText("boot", chunks.boot));
  writeAtomically(join(directory, "rest.js"), chunkText("rest", chunks.rest));
  rmSync(all);
  // The launcher's modules (tsconfig.launch.json) are CommonJS in a package that is "type": "module".
  writeAtomically(join(directory, "..", "launch", "package.json"), '{ "type": "commonjs" }\n');
  process.stdout.write(`bundle: ${Object.entries(chunks).map(([name, ms]) => `${ms.length} modules in ${name}.js`).join(", ")}\n`);
}

// Run as a script (the build), not when a test imports the functions above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
