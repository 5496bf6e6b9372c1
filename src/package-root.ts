// Where Roam's own files are (build/core.wasm, guests/bin/...), whether it runs
// from a checkout (src/ under vitest, dist/ once built) or from an installed
// package: the nearest directory up from here whose package.json is ours.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_NAME = "roam-vm";

export function packageRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === PACKAGE_NAME) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`cannot find the ${PACKAGE_NAME} package root (package.json)`);
    directory = parent;
  }
}
