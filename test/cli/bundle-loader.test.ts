import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import util from "node:util";
import { setFlagsFromString } from "node:v8";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Bundle } from "../../src/launch/bundle-loader.js";
import { cacheDirectory } from "../../src/launch/code-cache.js";
import { chunkText, exportNames, splitModules, staticClosure, type Placement } from "../../src/launch/make-bundle.js";
import { tempDir } from "../e2e/cluster.js";

// The bundle's registry (src/launch/bundle-loader.ts) must run modules as Node runs ES modules: imports first, a
// cycle's modules seeing each other's exports, bindings live, `export *`, Node's modules, and a later chunk read only
// when one of its modules is imported, and only that chunk. The modules here are compiled by tsc to System.register as
// the build does.

const scratch = tempDir("bundle-loader");
const require = createRequire(import.meta.url);
afterAll(() => scratch.remove());

/** `source` as tsc's System.register output for module `id` (imports name modules by id, as in the build's outFile). */
function compile(id: string, source: string): string {
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.System, target: ts.ScriptTarget.ES2022 }, moduleName: id }).outputText;
}

const order: string[] = [];
const MODULES: Record<string, string> = {
  "src/a": `import { b, fromA } from "src/b"; (globalThis as any).__order.push("a"); export function a() { return "a" + b(); } export const seenByA = fromA();`,
  "src/b": `import { a } from "src/a"; import { count, bump } from "src/counter"; (globalThis as any).__order.push("b");
    export function b() { return "b"; } export function fromA() { return typeof a; } export function counted() { bump(); return count; }`,
  "src/counter": `export let count = 0; export function bump() { count++; }`,
  "src/again": `export * from "src/counter"; export { b } from "src/b";`,
  "src/node": `import { join, default as path } from "node:path"; export const joined = join("x", "y"); export const sep = path.sep;`,
  "src/zip": `import { gzipSync } from "node:zlib"; import * as zlib from "node:zlib"; export function zipped() { return gzipSync("x").length > 0; } export const hasInflate = () => "inflateSync" in zlib && Object.keys(zlib).includes("inflateSync"); export const namespaceSeen = () => zlib;`,
  "src/lazy": `export async function later() { return (await import("src/elsewhere")).where; } export async function booted() { return (await import("src/machine")).kind; }`,
  "src/elsewhere": `(globalThis as any).__order.push("elsewhere"); export const where = "rest";`,
  "src/machine": `(globalThis as any).__order.push("machine"); export const kind = "boot";`,
  "src/where": `export const url = import.meta.url; export const again = () => import.meta.url;`,
  // More exports than V8 keeps in fast mode when they are added by keyed stores without care (its soft limit is 12).
  "src/many": Array.from({ length: 200 }, (_, i) => `export const e${i} = ${i};`).join(" "),
  // A cycle: src/held is imported first, so src/holder runs first and keeps src/held's namespace from before it ran.
  "src/held": `import { early } from "src/holder"; export const k = 1; export function kept() { return early; }`,
  "src/holder": `import * as held from "src/held"; export const early = held;`,
};

describe("bundle loader", () => {
  let directory: string;
  let log: string;
  let bundle: Bundle;

  beforeAll(() => {
    (globalThis as { __order?: string[] }).__order = order;
    directory = join(scratch.path, "bundle");
    mkdirSync(directory);
    const modules = splitModules(Object.entries(MODULES).map(([id, source]) => compile(id, source)).join(""));
    const run = staticClosure(modules, ["src/a", "src/again", "src/node", "src/zip", "src/lazy", "src/where", "src/many", "src/held"]);
    expect(run.has("src/elsewhere")).toBe(false);
    const boot = modules.filter((m) => m.id === "src/machine");
    const rest = modules.filter((m) => !run.has(m.id) && m.id !== "src/machine");
    const placement: Placement = { boot: boot.map((m) => m.id), rest: rest.map((m) => m.id) };
    writeFileSync(join(directory, "run.js"), chunkText("run", modules.filter((m) => run.has(m.id)), placement));
    writeFileSync(join(directory, "boot.js"), chunkText("boot", boot));
    writeFileSync(join(directory, "rest.js"), chunkText("rest", rest));
    log = join(scratch.path, "log");
    process.env.ROAM_MODULE_LOG = log;
    process.env.ROAM_CODE_CACHE = "0";
    bundle = new Bundle(directory, pathToFileURL(join(scratch.path, "dist") + "/"));
  });
  afterAll(() => { delete process.env.ROAM_MODULE_LOG; delete process.env.ROAM_CODE_CACHE; });

  test("imports run first; in a cycle, the module imported first runs last and each sees the other's functions", () => {
    const a = bundle.import("src/a");
    expect(order).toEqual(["b", "a"]);
    expect((a.a as () => string)()).toBe("ab");
    expect(a.seenByA).toBe("function"); // b's fromA ran during a's body: a's function declarations exist before it runs
  });

  test("bindings are live, across `export *` too, and a module runs once", () => {
    const b = bundle.import("src/b");
    const again = bundle.import("src/again");
    expect((b.counted as () => number)()).toBe(1);
    expect((b.counted as () => number)()).toBe(2);
    expect(bundle.import("src/counter").count).toBe(2);
    expect(again.count).toBe(2);
    expect(again.b).toBe(b.b);
    expect(order).toEqual(["b", "a"]);
  });

  test("Node's modules by name and as default", () => {
    const node = bundle.import("src/node");
    expect(node.joined).toBe(join("x", "y"));
    expect(node.sep).toBe("/");
  });

  test("a Node module is required when one of its exports is first used, not when a module importing it runs", () => {
    const zip = bundle.import("src/zip");
    expect(readFileSync(log, "utf8")).not.toContain("external node:zlib");
    expect((zip.zipped as () => boolean)()).toBe(true);
    expect(readFileSync(log, "utf8")).toContain("external node:zlib");
    expect((zip.hasInflate as () => boolean)()).toBe(true); // a namespace import: `in` and its keys see the module's
  });

  test("a module's namespace is a fast-mode object once it has run, and a Node module's once it is loaded", () => {
    // V8 cannot inline a read from a dictionary-mode object: every import the bundle's code reads went through V8's
    // generic LoadIC (bundle-loader.ts, toFastProperties). %HasFastProperties is V8's own answer.
    setFlagsFromString("--allow-natives-syntax");
    const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
    const b = bundle.import("src/b");
    expect(hasFastProperties(b)).toBe(true);
    expect(Object.getPrototypeOf(b)).toBeNull();
    const many = bundle.import("src/many");
    expect(hasFastProperties(many)).toBe(true);
    expect([many.e0, many.e199, Object.keys(many).length]).toEqual([0, 199, 200]);
    const zip = bundle.import("src/zip");
    (zip.zipped as () => boolean)(); // loads node:zlib: its importers are given a plain namespace from then on
    const seen = (zip.namespaceSeen as () => object)();
    expect(hasFastProperties(seen)).toBe(true);
    expect(util.types.isProxy(seen)).toBe(false);
    expect(Object.prototype.toString.call(seen)).toBe("[object Module]");
    expect((seen as { default: unknown }).default).toBe(require("node:zlib"));
  });

  test("a module whose export names the build knows has one namespace, fast from the start, that its importers hold", () => {
    setFlagsFromString("--allow-natives-syntax");
    const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
    const held = bundle.import("src/held");
    const early = (held.kept as () => Record<string, unknown>)();
    expect(early).toBe(held); // not a copy made after src/held ran: the object src/holder was given before
    expect(hasFastProperties(held)).toBe(true);
    expect(Object.getPrototypeOf(held)).toBeNull();
    expect(Object.prototype.toString.call(held)).toBe("[object Module]");
    expect([held.k, Object.keys(held).sort()]).toEqual([1, ["k", "kept"]]);
  });

  test("the build reads a module's export names from tsc's output: each kind of export; none with `export *` or too many", () => {
    const [own] = splitModules(compile("src/kinds", `export function f() { return 1; } export const c = 1; export let n = 0;
      export function bump() { n++; } export class K {} export default 5; export { b, fromA as renamed } from "src/other";`) +
      compile("src/other", `export const b = 1, fromA = 2;`));
    expect(exportNames(own)?.sort()).toEqual(["K", "b", "bump", "c", "default", "f", "n", "renamed"]);
    const [star] = splitModules(compile("src/star", `export * from "src/other"; export const x = 1;`) + compile("src/other", `export const b = 1;`));
    expect(exportNames(star)).toBeUndefined();
    const [many] = splitModules(compile("src/many", MODULES["src/many"]));
    expect(exportNames(many)).toBeUndefined(); // 200: V8 makes a literal of 128 properties or more a hash table
    expect(chunkText("run", [own])).toContain(`System.shape("src/kinds", function () { return { `);
    expect(chunkText("run", [star])).not.toContain("System.shape");
  });

  test("the rest chunk is read when one of its modules is first imported, and not before; the boot chunk is not read for it", async () => {
    expect(readFileSync(log, "utf8")).not.toContain("chunk rest");
    expect(await (bundle.import("src/lazy").later as () => Promise<string>)()).toBe("rest");
    expect(readFileSync(log, "utf8")).toContain("chunk rest code-cache off");
    expect(readFileSync(log, "utf8")).not.toContain("chunk boot");
    expect(order).toEqual(["b", "a", "elsewhere"]);
  });

  test("the boot chunk is read, after the rest, when one of its modules is first imported", async () => {
    expect(await (bundle.import("src/lazy").booted as () => Promise<string>)()).toBe("boot");
    expect(readFileSync(log, "utf8")).toContain("chunk boot code-cache off");
    expect(order).toEqual(["b", "a", "elsewhere", "machine"]);
  });

  test("a module in neither chunk is an error naming it", () => {
    expect(() => bundle.import("src/nowhere")).toThrow(/src\/nowhere: no such module in the bundle/);
  });

  test("a module's import.meta.url is the URL it has as an ES module under dist/", () => {
    const where = bundle.import("src/where") as { url: string; again: () => string };
    expect(where.url).toBe(pathToFileURL(join(scratch.path, "dist", "src", "where.js")).href);
    expect(where.again()).toBe(where.url);
  });

  test("the build refuses a character other than ASCII (the loader reads a chunk as Latin-1), naming the module", () => {
    const [module] = splitModules(compile("src/dash", `export const dash = "a — b";`));
    expect(() => chunkText("run", [module])).toThrow(/src\/dash: a non-ASCII character \("—"\) on line \d+/);
    const [ascii] = splitModules(compile("src/escaped", `export const dash = "a \\u2014 b";`));
    expect(chunkText("run", [ascii])).toContain("\\u2014");
  });

  test("the build refuses top-level await (the loader runs modules synchronously)", () => {
    expect(() => splitModules(compile("src/waits", `await Promise.resolve(); export const x = 1;`))).toThrow(/src\/waits: top-level await/);
  });
});

test("the code cache's directory: XDG_CACHE_HOME, else ~/.cache; a relative one is ignored (XDG spec); ROAM_CODE_CACHE=0: none", () => {
  expect(cacheDirectory({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" })).toBe("/x/cache/roam-vm");
  expect(cacheDirectory({ HOME: "/home/u" })).toBe("/home/u/.cache/roam-vm");
  expect(cacheDirectory({ XDG_CACHE_HOME: "cache", HOME: "/home/u" })).toBe("/home/u/.cache/roam-vm");
  expect(cacheDirectory({ XDG_CACHE_HOME: "", HOME: "home" })).toBeUndefined();
  expect(cacheDirectory({})).toBeUndefined();
  expect(cacheDirectory({ HOME: "/home/u", ROAM_CODE_CACHE: "0" })).toBeUndefined();
});
