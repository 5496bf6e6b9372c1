// Builds small ELF32 RISC-V executables in memory, so parser tests can start
// from a valid image and break exactly one thing.
//
// Layout: ELF header | program headers | segment data | .strtab | .symtab |
// .shstrtab | section headers.

export interface SegmentSpec {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memsz?: number; // default data.length
  flags?: number; // default R|X
  type?: number; // default PT_LOAD
}

export interface ElfSpec {
  entry: number;
  segments: SegmentSpec[];
  symbols?: Array<{ name: string; value: number; size?: number; global?: boolean }>;
  withSections?: boolean; // default true
}

export interface BuiltElf {
  bytes: Uint8Array;
  view: DataView;
  phoff: number;
  shoff: number;
  segmentOffsets: number[]; // file offset of each segment's data
  sections: { strtab: number; symtab: number; shstrtab: number }; // section indices
}

const EHDR = 52;
const PHDR = 32;
const SHDR = 40;
const SYM = 16;

export function buildElf(spec: ElfSpec): BuiltElf {
  const withSections = spec.withSections ?? true;
  const phoff = EHDR;
  let cursor = phoff + PHDR * spec.segments.length;

  const segmentOffsets: number[] = [];
  for (const segment of spec.segments) {
    segmentOffsets.push(cursor);
    cursor += segment.data.length;
  }

  // Symbol string table: "\0name1\0name2\0"
  const symbols = spec.symbols ?? [];
  const strtabParts: number[] = [0];
  const nameOffsets = symbols.map((symbol) => {
    const offset = strtabParts.length;
    strtabParts.push(...Buffer.from(symbol.name, "latin1"), 0);
    return offset;
  });
  const strtab = Uint8Array.from(strtabParts);
  const sectionNames = ["", ".strtab", ".symtab", ".shstrtab"];
  const shstrParts: number[] = [];
  const sectionNameOffsets = sectionNames.map((name) => {
    const offset = shstrParts.length;
    shstrParts.push(...Buffer.from(name, "latin1"), 0);
    return offset;
  });
  const shstrtab = Uint8Array.from(shstrParts);

  const strtabOffset = cursor;
  const symtabOffset = align(strtabOffset + strtab.length, 4);
  const symtabSize = SYM * (symbols.length + 1);
  const shstrtabOffset = symtabOffset + symtabSize;
  const shoff = align(shstrtabOffset + shstrtab.length, 4);
  const total = withSections ? shoff + SHDR * 4 : cursor;

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 243, true); // EM_RISCV
  view.setUint32(20, 1, true);
  view.setUint32(24, spec.entry, true);
  view.setUint32(28, phoff, true);
  view.setUint32(32, withSections ? shoff : 0, true);
  view.setUint32(36, 0x1, true); // EF_RISCV_RVC
  view.setUint16(40, EHDR, true);
  view.setUint16(42, PHDR, true);
  view.setUint16(44, spec.segments.length, true);
  view.setUint16(46, SHDR, true);
  view.setUint16(48, withSections ? 4 : 0, true);
  view.setUint16(50, withSections ? 3 : 0, true);

  spec.segments.forEach((segment, index) => {
    const at = phoff + index * PHDR;
    view.setUint32(at, segment.type ?? 1, true);
    view.setUint32(at + 4, segmentOffsets[index], true);
    view.setUint32(at + 8, segment.vaddr ?? segment.paddr, true);
    view.setUint32(at + 12, segment.paddr, true);
    view.setUint32(at + 16, segment.data.length, true);
    view.setUint32(at + 20, segment.memsz ?? segment.data.length, true);
    view.setUint32(at + 24, segment.flags ?? 5, true);
    view.setUint32(at + 28, 0x1000, true);
    bytes.set(segment.data, segmentOffsets[index]);
  });

  if (withSections) {
    bytes.set(strtab, strtabOffset);
    symbols.forEach((symbol, i) => {
      const at = symtabOffset + SYM * (i + 1);
      view.setUint32(at, nameOffsets[i], true);
      view.setUint32(at + 4, symbol.value, true);
      view.setUint32(at + 8, symbol.size ?? 8, true);
      view.setUint8(at + 12, ((symbol.global ?? true) ? 1 : 0) << 4 | 1); // STT_OBJECT
      view.setUint16(at + 14, 1, true); // defined in some section
    });
    bytes.set(shstrtab, shstrtabOffset);
    const section = (index: number, type: number, offset: number, size: number, link: number, entsize: number) => {
      const at = shoff + index * SHDR;
      view.setUint32(at, sectionNameOffsets[index], true);
      view.setUint32(at + 4, type, true);
      view.setUint32(at + 16, offset, true);
      view.setUint32(at + 20, size, true);
      view.setUint32(at + 24, link, true);
      view.setUint32(at + 36, entsize, true);
    };
    section(1, 3, strtabOffset, strtab.length, 0, 0);
    section(2, 2, symtabOffset, symtabSize, 1, SYM);
    section(3, 3, shstrtabOffset, shstrtab.length, 0, 0);
  }

  return { bytes, view, phoff, shoff, segmentOffsets, sections: { strtab: 1, symtab: 2, shstrtab: 3 } };
}

// Offset of a field in section header `index`.
export function sectionField(elf: BuiltElf, index: number, fieldOffset: number): number {
  return elf.shoff + index * SHDR + fieldOffset;
}

// Offset of a field in program header `index`.
export function programField(elf: BuiltElf, index: number, fieldOffset: number): number {
  return elf.phoff + index * PHDR + fieldOffset;
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

// A typical image: code at 0x80000000 (entry), data + bss, tohost/fromhost symbols.
export function sampleElf(): BuiltElf {
  return buildElf({
    entry: 0x80000000,
    segments: [
      { paddr: 0x80000000, data: Uint8Array.from([0x13, 0, 0, 0, 0x73, 0, 0x10, 0x10]), flags: 5 },
      { paddr: 0x80001000, data: Uint8Array.from([1, 2, 3, 4]), memsz: 0x100, flags: 6 },
    ],
    symbols: [
      { name: "tohost", value: 0x80001000 },
      { name: "fromhost", value: 0x80001040 },
      { name: "_start", value: 0x80000000, size: 0 },
    ],
  });
}
