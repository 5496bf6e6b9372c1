// The ELF reader shared by machine mode (bare-metal images) and, later, process mode.
export { ElfError } from "./elf-error.js";
export { parseElf } from "./parse-elf.js";
export { checkSegmentsInside } from "./check-placement.js";
export * from "./elf-types.js";
