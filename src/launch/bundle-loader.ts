// Loads the CLI from its bundle (make-bundle.ts) rather than from its ES modules: Node 20 loads ES modules one file at
// a time (resolve, read, compile, link: over half of `roam run hello`'s own time) and keeps no compiled code for them,
// where a chunk is one read and one compile, which V8's code cache skips (code-cache.ts). This file is the registry
// for tsc's System.register output: each module is declared when its chunk is read and run, in ES module order (its
// imports first; a cycle's modules see one another's exports as ES modules do), when something imports it. Node's
// modules and packages (ws, msgpackr) come from require(); `boot` and `rest` are read only when a command needs one of
// their modules, and only the chunk that holds it (the run chunk places them: make-bundle.ts).

import { appendFileSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHUNK_HEADER, CHUNK_NAMES, isBundled, noteRunChunkHash } from "./chunks.js";
import { runChunk } from "./code-cache.js";
import { setRoamV8Flags } from "./v8-flags.js";

setRoamV8Flags(); // first: before any WebAssembly is compiled or code cache read

type Namespace = Record<string, unknown>;
type Setter = ((namespace: Namespace) => void) | null | undefined;
type ExportFunction = (name: string | Namespace, value?: unknown) => unknown;
interface Context { id: string; meta: { url: string }; import(id: string): Promise<Namespace> }
interface Declared { setters: Setter[]; execute?: () => unknown }
type Declare = (exportValue: ExportFunction, context: Context) => Declared;
/**
 * What a chunk's function is given: each module registers, most after giving the shape of their namespace; the first
 * chunk places the others' (make-bundle.ts).
 */
interface System {
  register(id: string, deps: string[], declare: Declare): void;
  shape(id: string, make: () => Namespace): void;
  place(placement: Record<string, string[]>): void;
}

interface Module {
  id: string;
  chunk: string;
  deps: string[];
  declare: Declare;
  namespace: Namespace;
  /** Its namespace is fast-mode from the start and holds every name the module exports (System.shape). */
  shaped: boolean;
  importers: Setter[];
  declared?: Declared;
  state: "registered" | "linked" | "running" | "done";
}

export type Main = (args: string[]) => Promise<number>;

/** `main` of src/cli/main.ts from the bundle; undefined when off (ROAM_NO_BUNDLE=1), not built, or older than the modules. */
export function mainFromBundle(dist: URL): Main | undefined {
  if (process.env.ROAM_NO_BUNDLE === "1") return undefined;
  const directory = fileURLToPath(new URL("bundle/", dist));
  let built: number;
  try { built = statSync(join(directory, `${CHUNK_NAMES[0]}.js`)).mtimeMs; } catch { return undefined; }
  // `tsc` alone (not npm run build) rewrites every module but leaves the bundle as it was: then the modules are newer.
  try { if (statSync(fileURLToPath(new URL("src/cli/main.js", dist))).mtimeMs > built) return undefined; } catch { return undefined; }
  return new Bundle(directory, dist).import("src/cli/main").main as Main;
}

export class Bundle {
  private readonly modules = new Map<string, Module>();
  private readonly unread: string[] = [...CHUNK_NAMES];
  /** Which unread chunk holds a module, as the first chunk said (System.place); one not placed is looked for in each. */
  private readonly placed = new Map<string, string>();
  /** Each shaped module's namespace, made by its chunk's literal before the module registers (make-bundle.ts). */
  private readonly shapes = new Map<string, Namespace>();
  private readonly externals = new Map<string, { namespace: Namespace; importers: Setter[] }>();
  /** How many modules of each chunk have run: the code cache keeps the code of the fullest run (code-cache.ts). */
  private readonly ran = new Map<string, number>();
  private readonly require: NodeJS.Require;
  private readonly log = process.env.ROAM_MODULE_LOG;

  constructor(private readonly directory: string, private readonly dist: URL) {
    this.require = createRequire(new URL("src/cli/main.js", dist));
  }

  /** Module `id`'s exports, it and what it imports run first if they have not been. */
  import(id: string): Namespace {
    const module = this.find(id);
    if (!module) throw new Error(`${id}: no such module in the bundle (${this.directory})`);
    this.link(module);
    this.run(module);
    return module.namespace;
  }

  private find(id: string): Module | undefined {
    while (!this.modules.has(id) && this.unread.length > 0) {
      const placed = this.placed.get(id);
      const chunk = placed !== undefined && this.unread.includes(placed) ? placed : this.unread[0];
      this.unread.splice(this.unread.indexOf(chunk), 1);
      this.readChunk(chunk);
    }
    return this.modules.get(id);
  }

  private readChunk(name: string): void {
    const path = join(this.directory, `${name}.js`);
    const text = readFileSync(path, "latin1"); // ASCII, as the build checked (make-bundle.ts): no UTF-8 decoding
    const header = text.slice(0, text.indexOf("\n"));
    const [chunk, hash] = header.startsWith(`${CHUNK_HEADER} `) ? header.slice(CHUNK_HEADER.length + 1).split(" ") : [];
    if (chunk !== name || !/^[0-9a-f]{64}$/.test(hash ?? "")) {
      throw new Error(`${path}: not a chunk of Roam's bundle (rebuild with npm run build)`);
    }
    if (name === "run") noteRunChunkHash(hash);
    const { value, cache } = runChunk(path, name, hash, text, () => this.ran.get(name) ?? 0);
    this.note(`chunk ${name} code-cache ${cache}`);
    (value as (system: System) => void)({
      register: (id, deps, declare) => {
        const shaped = this.shapes.get(id);
        this.shapes.delete(id);
        const namespace = shaped ?? (Object.create(null) as Namespace);
        this.modules.set(id, { id, chunk: name, deps, declare, namespace, shaped: shaped !== undefined, importers: [], state: "registered" });
      },
      shape: (id, make) => { this.shapes.set(id, shapedNamespace(make())); },
      place: (placement) => { for (const [chunk, ids] of Object.entries(placement)) for (const id of ids) this.placed.set(id, chunk); },
    });
  }

  /** Declares `module` and, before its code runs, hands it each import's exports (and them its exports as they change). */
  private link(module: Module): void {
    if (module.state !== "registered") return;
    module.state = "linked";
    const exportValue: ExportFunction = (name, value) => {
      // Called for every export as a module is declared and runs: nothing made per call.
      let added = false;
      if (typeof name === "string") {
        added = !(name in module.namespace);
        module.namespace[name] = value;
      } else {
        for (const key of Object.keys(name)) {
          added ||= !(key in module.namespace);
          module.namespace[key] = name[key];
        }
      }
      // A name its shape lacked: V8 may have made the namespace a hash table by now; copied when the module has run.
      if (added) module.shaped = false;
      // A new export after the module ran (none of ours does): a new fast namespace for it.
      if (added && module.state === "done") module.namespace = fastNamespace(module.namespace);
      // Indexed: called per export per importer (~5,000 times as a run starts), in code V8 has not optimised, where a
      // for-of makes an iterator result per turn.
      const importers = module.importers;
      for (let i = 0; i < importers.length; i++) importers[i]?.(module.namespace);
      return value;
    };
    // import.meta.url made when first read (few modules read it): a URL for each of a run's ~90 modules was ~1 ms.
    const url = (): string => this.url(module.id);
    const context: Context = { id: module.id, meta: { get url() { return url(); } }, import: (id) => this.dynamicImport(id) };
    const declared = module.declare(exportValue, context);
    module.declared = declared;
    module.deps.forEach((dep, i) => {
      const setter = declared.setters[i];
      if (!isBundled(dep)) { this.linkExternal(dep, setter); return; }
      const imported = this.find(dep);
      if (!imported) throw new Error(`${module.id} imports ${dep}, which is not in the bundle`);
      this.link(imported);
      imported.importers.push(setter);
      setter?.(imported.namespace);
    });
  }

  /** Runs `module`'s code after its imports' (one already running is part of a cycle, and left to finish). */
  private run(module: Module): void {
    if (module.state !== "linked") return;
    module.state = "running";
    for (const dep of module.deps) if (isBundled(dep)) this.run(this.modules.get(dep)!);
    module.declared!.execute?.(); // synchronous: make-bundle.ts refuses a module with top-level await
    module.state = "done";
    // Its importers read its exports from a fast namespace from now on (see fastNamespace): a shaped one already is,
    // and they hold it.
    if (!module.shaped) {
      module.namespace = fastNamespace(module.namespace);
      for (const setter of module.importers) setter?.(module.namespace);
    }
    this.ran.set(module.chunk, (this.ran.get(module.chunk) ?? 0) + 1);
    if (this.log) this.note(`module ${this.url(module.id)}`);
  }

  private async dynamicImport(id: string): Promise<Namespace> {
    return isBundled(id) ? this.import(id) : ((await import(id)) as Namespace);
  }

  /**
   * A module of Node's or a package's, as an ES module would see it: its exports by name, and `default`. It is
   * required when one of its exports is first used, not when a module importing it is linked (lazyNamespace).
   */
  private linkExternal(id: string, setter: Setter): void {
    let external = this.externals.get(id);
    if (!external) {
      const importers: Setter[] = [];
      const namespace = lazyNamespace(() => {
        this.note(`external ${id}`);
        return this.require(id) as Namespace;
      }, (loaded) => { for (const set of importers) set?.(loaded); });
      external = { namespace, importers };
      this.externals.set(id, external);
    }
    external.importers.push(setter);
    setter?.(external.namespace);
  }

  /** The URL the module has when loaded as an ES module (its import.meta.url): it finds the package's files from it. */
  private url(id: string): string {
    return new URL(`${id}.js`, this.dist).href;
  }

  /** With ROAM_MODULE_LOG=FILE, each chunk read, module run and package or Node module required is listed there (test/cli/startup.test.ts). */
  private note(line: string): void {
    if (this.log) appendFileSync(this.log, line + "\n");
  }
}

/**
 * An ES module namespace for a CommonJS module that `load` requires when an export is first read. A run imports
 * Node's modules it may never use (node:tty for a guest that asks whether stdin is a terminal, node:os, node:v8...),
 * and each costs ~0.5-3 ms to load; a module with no side effects we rely on can wait until it is used. Its exports
 * are read through, never copied: copying them (Object.assign) calls every lazy getter Node's modules have (node:fs's
 * `promises` and streams, node:util's `parseArgs` and `MIMEType`), which loads a dozen more of Node's modules.
 * Once it is loaded, `loaded` is told of a plain namespace to use from then on (see loadedNamespace): a read through
 * the proxy is a call of its trap, ~20x a plain property read, and the kernel calls fs.readSync and its kin per
 * system call.
 */
export function lazyNamespace(load: () => Namespace, loaded?: (namespace: Namespace) => void): Namespace {
  let exported: Namespace | undefined;
  const module = (): Namespace => {
    if (exported === undefined) {
      exported = load();
      loaded?.(loadedNamespace(exported));
    }
    return exported;
  };
  return new Proxy(Object.create(null) as Namespace, {
    get: (_, key) => (key === "default" ? module() : key === Symbol.toStringTag ? "Module" : module()[key as string]),
    has: (_, key) => key === "default" || key in module(),
    ownKeys: () => [...Reflect.ownKeys(module()), "default"],
    getOwnPropertyDescriptor: (_, key) => ({ value: key === "default" ? module() : module()[key as string], enumerable: true, configurable: true, writable: false }),
  });
}

/**
 * What a module importing CommonJS module `exported` sees once it is loaded: its exports by name and `default`, the
 * object itself. Values are taken as they are now (as Node's own ES module view of a CommonJS module takes them); an
 * accessor (node:fs's `promises`) stays a getter that reads through, so no lazy getter runs before it is used.
 */
function loadedNamespace(exported: Namespace): Namespace {
  const values: Array<[string, unknown]> = [];
  const getters: Array<[string, PropertyDescriptor]> = [];
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(exported))) {
    if ("value" in d) values.push([key, d.value]);
    else getters.push([key, { get: () => exported[key], enumerable: true }]);
  }
  values.push(["default", exported]);
  return fastNamespace(Object.fromEntries(values), getters);
}

/**
 * A copy of `namespace` (with `getters` added) that V8 keeps in fast mode, its prototype null, as an ES module
 * namespace's. A namespace starts as Object.create(null), which V8 keeps as a hash table ("dictionary mode"), and
 * optimised code cannot inline a read from one: every `L.STATE_PC` or `fs.readSync` of the bundle's code (tsc's
 * System.register output reads each import through its module's namespace) was a call of V8's generic LoadIC, ~10x a
 * plain read (22 ns against 2.3 in a micro-benchmark), ~13% of the kernel's time per system call in a profile of
 * `busybox dd`. Object.fromEntries makes a fast-mode object, and defining getters or the prototype after keeps it so
 * (checked with %HasFastProperties: test/cli/bundle-loader.test.ts).
 */
function fastNamespace(namespace: Namespace, getters: Array<[string, PropertyDescriptor]> = []): Namespace {
  return shapedNamespace(Object.fromEntries(Object.entries(namespace)) as Namespace, getters);
}

/**
 * `fast` (a fast-mode object: an object literal's or Object.fromEntries') as a namespace: `getters` added, tagged
 * "Module", its prototype null; V8 keeps it fast (test/cli/bundle-loader.test.ts).
 */
function shapedNamespace(fast: Namespace, getters: Array<[string, PropertyDescriptor]> = []): Namespace {
  for (const [key, descriptor] of getters) Object.defineProperty(fast, key, descriptor);
  Object.defineProperty(fast, Symbol.toStringTag, { value: "Module" });
  return Object.setPrototypeOf(fast, null) as Namespace;
}
