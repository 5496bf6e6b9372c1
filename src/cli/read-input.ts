// Files named on the command line. One Roam cannot use is `roam: FILE: WHY`,
// exit 2, in the man pages' words ("no such file", "is a directory").

import { readFileSync } from "node:fs";
import { ElfError, parseElf, type ElfImage, type ParseOptions } from "../elf/index.js";
import { CliError, fileError } from "./failure.js";
import { EXIT_USAGE } from "./usage-error.js";

export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw fileError(path, error);
  }
}

/** An ELF read and checked here, before it goes anywhere (`options`: see parseElf). */
export function readElf(path: string, options: ParseOptions = {}): { bytes: Buffer; image: ElfImage } {
  const bytes = readInputFile(path);
  try {
    return { bytes, image: parseElf(bytes, options) };
  } catch (error) {
    if (error instanceof ElfError) throw new CliError(path, error.message, EXIT_USAGE);
    throw error;
  }
}
