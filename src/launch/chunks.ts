// The bundle's chunks, shared by the build step (make-bundle.ts) and the loader (bundle-loader.ts).

/** A chunk file's first line: `// roam-bundle NAME SHA256`, the hash of the rest of the file. */
export const CHUNK_HEADER = "// roam-bundle";

/**
 * `run` holds what `roam run` loads; `boot` what `roam boot` loads besides (the machine and its devices: ~10% of the
 * rest, which boot read whole before); `rest` everything else. A chunk after `run` is read when a command first needs
 * one of its modules.
 */
export const CHUNK_NAMES = ["run", "boot", "rest"] as const;
export type ChunkName = (typeof CHUNK_NAMES)[number];

/** The modules whose static imports make up the `run` chunk: the command line, and `roam run` without --on or --strace. */
export const RUN_CHUNK_ENTRIES = ["src/cli/main", "src/cli/run-command"] as const;

/** The module whose static imports not in `run` make up the `boot` chunk: `roam boot` without --on. */
export const BOOT_CHUNK_ENTRIES = ["src/cli/boot-command"] as const;

/** Whether a module id is one of the bundle's (tsc names them by path: src/..., assembly/...), not Node's or a package's. */
export function isBundled(id: string): boolean {
  return id.startsWith("src/") || id.startsWith("assembly/");
}

/** Where the loader leaves the run chunk's hash for the code it runs (a symbol on globalThis: one Node process, one build). */
const RUN_CHUNK_HASH = Symbol.for("roam-vm.run-chunk-hash");

/** The loader notes the run chunk's SHA-256 as it reads it (bundle-loader.ts). */
export function noteRunChunkHash(hash: string): void {
  (globalThis as Record<symbol, unknown>)[RUN_CHUNK_HASH] = hash;
}

/**
 * The SHA-256 of the run chunk this process runs, which holds the translator: what names this build's emitter (a
 * translated batch's bytes kept across processes are this emitter's: src/jit/batch-key.ts). Undefined when Roam
 * runs from its modules (no bundle: tests, ROAM_NO_BUNDLE=1), whose build has no such name.
 */
export function runChunkHash(): string | undefined {
  const hash = (globalThis as Record<symbol, unknown>)[RUN_CHUNK_HASH];
  return typeof hash === "string" ? hash : undefined;
}
