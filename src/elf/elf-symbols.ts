import { ElfError } from "./elf-error.js";
import type { ElfReader } from "./elf-reader.js";
import { STB_LOCAL, type ElfSymbol } from "./elf-types.js";

// Reads the section header table far enough to find the symbol tables. Every
// section that occupies file bytes must lie inside the file, and every link and
// name offset must point where it claims, so a corrupt table is an error rather
// than a symbol with a garbage name.

const SHDR_SIZE = 40;
const SYM_SIZE = 16;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHN_UNDEF = 0;

const utf8 = new TextDecoder();

interface Section {
  index: number;
  nameOffset: number;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
  name: string; // "" until section names are resolved
}

export function readSymbols(file: ElfReader, shoff: number, shnum: number, shstrndx: number): Map<string, ElfSymbol> {
  const sections: Section[] = [];
  for (let index = 0; index < shnum; index++) {
    const at = shoff + index * SHDR_SIZE;
    sections.push({
      index,
      nameOffset: file.u32(at),
      type: file.u32(at + 4),
      offset: file.u32(at + 16),
      size: file.u32(at + 20),
      link: file.u32(at + 24),
      entsize: file.u32(at + 36),
      name: "",
    });
  }
  nameSections(file, sections, shstrndx);
  for (const section of sections) {
    if (section.type !== SHT_NOBITS && section.index !== 0) {
      file.requireRange(describe(section), section.offset, section.size);
    }
  }

  const symbols = new Map<string, ElfSymbol>();
  for (const section of sections) {
    if (section.type === SHT_SYMTAB) readSymbolTable(file, sections, section, symbols);
  }
  return symbols;
}

function nameSections(file: ElfReader, sections: Section[], shstrndx: number): void {
  if (shstrndx === SHN_UNDEF) return;
  if (shstrndx >= sections.length) {
    throw new ElfError(`section name table index ${shstrndx} is out of range (${sections.length} sections)`);
  }
  const names = sections[shstrndx];
  if (names.type !== SHT_STRTAB) {
    throw new ElfError(`section name table (section ${shstrndx}) is not a string table (sh_type ${names.type})`);
  }
  file.requireRange(`section ${shstrndx} (section names)`, names.offset, names.size);
  for (const section of sections) {
    section.name = readString(file, names, section.nameOffset, `name of section ${section.index}`);
  }
}

function readSymbolTable(file: ElfReader, sections: Section[], table: Section, into: Map<string, ElfSymbol>): void {
  if (table.entsize !== SYM_SIZE) {
    throw new ElfError(`${describe(table)} has entry size ${table.entsize}, expected ${SYM_SIZE}`);
  }
  if (table.size % SYM_SIZE !== 0) {
    throw new ElfError(`${describe(table)} size ${table.size} is not a multiple of ${SYM_SIZE}`);
  }
  if (table.link === SHN_UNDEF || table.link >= sections.length) {
    throw new ElfError(`${describe(table)} links to string table ${table.link}, which does not exist`);
  }
  const strings = sections[table.link];
  if (strings.type !== SHT_STRTAB) {
    throw new ElfError(`${describe(table)} links to ${describe(strings)}, which is not a string table`);
  }

  const count = table.size / SYM_SIZE;
  for (let i = 1; i < count; i++) { // entry 0 is the reserved null symbol
    const at = table.offset + i * SYM_SIZE;
    const nameOffset = file.u32(at);
    if (nameOffset === 0) continue; // unnamed (section symbols and the like)
    const sectionIndex = file.u16(at + 14);
    if (sectionIndex === SHN_UNDEF) continue; // a reference, not a definition
    const info = file.u8(at + 12);
    const symbol: ElfSymbol = {
      name: readString(file, strings, nameOffset, `name of symbol ${i} in ${describe(table)}`),
      value: file.u32(at + 4),
      size: file.u32(at + 8),
      type: info & 0xf,
      bind: info >> 4,
      sectionIndex,
    };
    const existing = into.get(symbol.name);
    // A file-local static may share a name with the global the host looks up.
    if (!existing || (existing.bind === STB_LOCAL && symbol.bind !== STB_LOCAL)) into.set(symbol.name, symbol);
  }
}

// A NUL-terminated string at `offset` inside string table `table`.
function readString(file: ElfReader, table: Section, offset: number, what: string): string {
  if (offset >= table.size) {
    throw new ElfError(`${what} is at offset ${offset}, past the end of its ${table.size}-byte string table`);
  }
  const bytes = file.slice(table.offset + offset, table.size - offset);
  const end = bytes.indexOf(0);
  if (end < 0) throw new ElfError(`${what} is not NUL-terminated inside its string table`);
  return utf8.decode(bytes.subarray(0, end));
}

function describe(section: Section): string {
  return section.name ? `section ${section.index} (${section.name})` : `section ${section.index}`;
}
