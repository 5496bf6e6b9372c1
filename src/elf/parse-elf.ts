import { ElfError } from "./elf-error.js";
import { ElfReader } from "./elf-reader.js";
import { readSymbols } from "./elf-symbols.js";
import type { ElfImage, ElfSegment } from "./elf-types.js";
import { hex } from "./hex.js";

// A strict parser for the images Roam runs: 32-bit little-endian RISC-V
// executables. Anything else, and anything whose tables point outside the file,
// is refused with an ElfError naming what is wrong, because a half-loaded guest
// fails much later in ways that are hard to trace back to a bad image.

const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;

const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const EV_CURRENT = 1;
const ET_EXEC = 2;
const EM_RISCV = 243;
const PT_LOAD = 1;
const PN_XNUM = 0xffff;

const TYPE_NAMES: Record<number, string> = { 0: "ET_NONE", 1: "ET_REL", 2: "ET_EXEC", 3: "ET_DYN", 4: "ET_CORE" };
const MACHINE_NAMES: Record<number, string> = {
  3: "x86",
  8: "MIPS",
  20: "PowerPC",
  40: "ARM",
  62: "x86-64",
  183: "AArch64",
  258: "LoongArch",
};

/** What parseElf reads besides the headers and segments. */
export interface ParseOptions {
  /**
   * The symbol table (default true). A process is loaded from its program headers alone, as Linux's execve loads
   * it, so process mode skips it: a musl program's table is thousands of entries (~2-4 ms of `roam run`'s start),
   * and only machine mode looks a symbol up (tohost/fromhost). Without it `symbols` is empty.
   */
  symbols?: boolean;
}

const ET_DYN = 3, PT_INTERP = 3;
const STATIC_HINT = "Roam runs static programs linked at fixed addresses (ET_EXEC, as qemu-riscv32 runs without a sysroot): link with -static -no-pie, as guests/musl/roam-cc does";

/**
 * Why an ET_DYN file is not run, in words a user can act on: a dynamically linked program names its loader
 * (PT_INTERP), which neither Roam nor the guest's root has; without one it is a shared object or a static-pie.
 */
function whyNotFixed(file: ElfReader): string {
  const phoff = file.size >= EHDR_SIZE ? file.u32(28) : 0, phentsize = file.size >= EHDR_SIZE ? file.u16(42) : 0;
  const phnum = file.size >= EHDR_SIZE ? file.u16(44) : 0;
  for (let i = 0; phentsize >= 32 && i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 32 > file.size || file.u32(at) !== PT_INTERP) continue;
    const offset = file.u32(at + 4), length = Math.min(file.u32(at + 16), 256);
    if (offset + length > file.size) break;
    const loader = Buffer.from(file.slice(offset, length)).toString("latin1").replace(/\0.*$/s, "");
    return `dynamically linked (it asks for the loader ${JSON.stringify(loader)}): ${STATIC_HINT}`;
  }
  return `position-independent (e_type 3, ET_DYN: a shared object or a static-pie): ${STATIC_HINT}`;
}

export function parseElf(bytes: Uint8Array, options: ParseOptions = {}): ElfImage {
  const file = new ElfReader(bytes);
  checkIdent(file);
  file.requireRange("ELF header", 0, EHDR_SIZE);

  const type = file.u16(16);
  if (type === ET_DYN) throw new ElfError(whyNotFixed(file));
  if (type !== ET_EXEC) {
    const name = TYPE_NAMES[type];
    throw new ElfError(`not an executable (e_type ${type}${name ? ", " + name : ""})`);
  }
  const machine = file.u16(18);
  if (machine !== EM_RISCV) {
    const name = MACHINE_NAMES[machine];
    throw new ElfError(`not a RISC-V ELF (e_machine ${machine}${name ? ", " + name : ""})`);
  }
  const version = file.u32(20);
  if (version !== EV_CURRENT) throw new ElfError(`unsupported ELF version (e_version ${version})`);

  const entry = file.u32(24);
  const phoff = file.u32(28);
  const shoff = file.u32(32);
  const flags = file.u32(36);
  const ehsize = file.u16(40);
  const phentsize = file.u16(42);
  const phnum = file.u16(44);
  const shentsize = file.u16(46);
  const shnum = file.u16(48);
  const shstrndx = file.u16(50);

  if (ehsize < EHDR_SIZE) throw new ElfError(`bad ELF header size (e_ehsize ${ehsize}, expected ${EHDR_SIZE})`);

  const segments = readSegments(file, phoff, phentsize, phnum);

  // Section headers are optional in an executable (a stripped image may have none);
  // without them there are just no symbols.
  if (shnum === 0 && shoff !== 0) {
    throw new ElfError("extended section numbering (e_shnum 0 with a section table) is not supported");
  }
  if (shnum > 0 && shentsize !== SHDR_SIZE) {
    throw new ElfError(`bad section header size (e_shentsize ${shentsize}, expected ${SHDR_SIZE})`);
  }
  if (shnum > 0) file.requireRange(`section header table (${shnum} entries at ${shoff})`, shoff, shnum * SHDR_SIZE);
  const symbols = shnum > 0 && options.symbols !== false ? readSymbols(file, shoff, shnum, shstrndx) : new Map();

  return { entry, flags, segments, symbols, phoff, phnum, phentsize };
}

function checkIdent(file: ElfReader): void {
  if (file.size < 4 || file.u8(0) !== 0x7f || file.u8(1) !== 0x45 || file.u8(2) !== 0x4c || file.u8(3) !== 0x46) {
    throw new ElfError("not an ELF file (bad magic)");
  }
  file.requireRange("ELF identification", 0, 16);
  const elfClass = file.u8(4);
  if (elfClass !== ELFCLASS32) {
    throw new ElfError(`not a 32-bit ELF (class ${elfClass}${elfClass === 2 ? ", ELFCLASS64" : ""})`);
  }
  const data = file.u8(5);
  if (data !== ELFDATA2LSB) {
    throw new ElfError(`not little-endian (data encoding ${data}${data === 2 ? ", big-endian" : ""})`);
  }
  const identVersion = file.u8(6);
  if (identVersion !== EV_CURRENT) throw new ElfError(`unsupported ELF version (EI_VERSION ${identVersion})`);
}

function readSegments(file: ElfReader, phoff: number, phentsize: number, phnum: number): ElfSegment[] {
  if (phnum === 0) throw new ElfError("no program headers");
  if (phnum === PN_XNUM) throw new ElfError("extended program header numbering (e_phnum 0xffff) is not supported");
  if (phentsize !== PHDR_SIZE) {
    throw new ElfError(`bad program header size (e_phentsize ${phentsize}, expected ${PHDR_SIZE})`);
  }

  const segments: ElfSegment[] = [];
  for (let index = 0; index < phnum; index++) {
    const at = phoff + index * PHDR_SIZE;
    file.requireRange(`program header ${index}`, at, PHDR_SIZE);
    if (file.u32(at) !== PT_LOAD) continue;

    const offset = file.u32(at + 4);
    const vaddr = file.u32(at + 8);
    const paddr = file.u32(at + 12);
    const filesz = file.u32(at + 16);
    const memsz = file.u32(at + 20);
    const flags = file.u32(at + 24);

    if (filesz > memsz) {
      throw new ElfError(`segment ${index} has more file bytes than memory bytes (p_filesz ${filesz} > p_memsz ${memsz})`);
    }
    if (paddr + memsz > 0x1_0000_0000 || vaddr + memsz > 0x1_0000_0000) {
      throw new ElfError(`segment ${index} at ${hex(paddr)} (${memsz} bytes) wraps around the 32-bit address space`);
    }
    file.requireRange(`segment ${index} data`, offset, filesz);
    // An empty PT_LOAD occupies nothing; keeping it would only confuse overlap checks.
    if (memsz === 0) continue;
    segments.push({ index, vaddr, paddr, offset, filesz, memsz, flags, data: file.slice(offset, filesz) });
  }
  if (segments.length === 0) throw new ElfError("no loadable segments");
  checkOverlaps(segments);
  return segments;
}

// Two segments claiming the same bytes would make the load order matter; QEMU's
// loader refuses such images too.
function checkOverlaps(segments: ElfSegment[]): void {
  const sorted = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    if (current.paddr < previous.paddr + previous.memsz) {
      const [first, second] = previous.index < current.index ? [previous, current] : [current, previous];
      throw new ElfError(`segments ${first.index} and ${second.index} overlap at ${hex(current.paddr)}`);
    }
  }
}
