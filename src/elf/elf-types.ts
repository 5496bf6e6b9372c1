// What the ELF parser hands back. Only what an emulator needs: where to start,
// what to load where, and the symbols (HTIF's tohost/fromhost, later debugging).

// Program header flags (p_flags).
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export interface ElfSegment {
  index: number; // position in the program header table, for messages
  vaddr: number;
  paddr: number; // where the loader places it: bare-metal images run with translation off
  offset: number; // file offset of data
  filesz: number;
  memsz: number; // memsz - filesz trailing bytes are zero (bss)
  flags: number; // PF_* bits
  data: Uint8Array; // filesz bytes, a view into the input (not a copy)
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type: number; // STT_* (st_info & 0xf)
  bind: number; // STB_* (st_info >> 4)
  sectionIndex: number; // st_shndx
}

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export interface ElfImage {
  entry: number;
  flags: number; // e_flags: RVC, float ABI, RVE
  segments: ElfSegment[]; // PT_LOAD entries with memsz > 0, in table order
  symbols: Map<string, ElfSymbol>; // global/weak definitions win over locals of the same name
  phoff: number; // program header table: file offset, count, entry size (a process's AT_PHDR/AT_PHNUM/AT_PHENT)
  phnum: number;
  phentsize: number;
}
