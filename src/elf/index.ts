// The ELF reader shared by machine mode (bare-metal images) and process mode.
export { ElfError } from "./elf-error.js";
export { parseElf, type ParseOptions } from "./parse-elf.js";
export { checkSegmentsInside } from "./check-placement.js";
export * from "./elf-types.js";
