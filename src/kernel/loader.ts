// Loads a static RV32 ELF (ET_EXEC, as qemu-riscv32 accepts) into a fresh
// address space and lays out the initial stack as Linux does:
//
//   sp -> argc, argv[0..argc-1], NULL, envp[...], NULL, auxv (type, value)..., AT_NULL
//         ... then the strings and AT_RANDOM's 16 bytes above, up to the stack top.

import { randomBytes } from "./random.js";
import { ElfError, PF_R, PF_W, PF_X, type ElfImage } from "../elf/index.js";
import { AddressSpace, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, pageDown, pageUp, hex, type Region } from "./address-space.js";
import type { Frames } from "./frames.js";
import { TRAMPOLINE_CODE, TRAMPOLINE_PAGE } from "./signals.js";

export const STACK_TOP = 0x7fff0000;
export const STACK_SIZE = 8 * 1024 * 1024;
export const MMAP_TOP = STACK_TOP - STACK_SIZE - 16 * PAGE; // anonymous mappings grow down from here

// Auxiliary vector types (linux/auxvec.h)
const AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9;
const AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23;
const AT_RANDOM = 25, AT_EXECFN = 31;

/** AT_HWCAP on RISC-V: one bit per single-letter extension, 'a' = bit 0. */
export const HWCAP = ["i", "m", "a", "c"].reduce((bits, ext) => bits | (1 << (ext.charCodeAt(0) - 97)), 0);

export interface LoadedProcess {
  space: AddressSpace;
  entry: number;
  sp: number;
}

const protOf = (flags: number) => ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);

/**
 * A new address space holding `image`, its stack and the sigreturn trampoline.
 * Throws ElfError for an image that cannot run here, OutOfMemory when RAM runs
 * out while loading (the partly built space is released first).
 */
export function loadProcess(frames: Frames, image: ElfImage, argv: string[], envp: string[]): LoadedProcess {
  checkLayout(image);
  const space = new AddressSpace(frames);
  try {
    return fill(space, frames.frameCount, image, argv, envp);
  } catch (error) {
    space.release();
    throw error;
  }
}

function checkLayout(image: ElfImage): void {
  for (const segment of image.segments) {
    const end = segment.vaddr + segment.memsz;
    if (end > MMAP_TOP - STACK_SIZE || end < segment.vaddr) {
      throw new ElfError(`segment ${segment.index} [${hex(segment.vaddr)}, ${hex(end)}) is outside the process address space`);
    }
    if (segment.vaddr < PAGE) throw new ElfError(`segment ${segment.index} at ${hex(segment.vaddr)} maps page zero`);
  }
  if (!image.segments.some((s) => image.entry >= s.vaddr && image.entry < s.vaddr + s.memsz && (s.flags & PF_X))) {
    throw new ElfError(`entry point ${hex(image.entry)} is not in an executable segment`);
  }
}

function fill(space: AddressSpace, frameCount: number, image: ElfImage, argv: string[], envp: string[]): LoadedProcess {
  // One protection per page (segments sharing a page get the union), then regions.
  const pageProt = new Map<number, number>();
  let imageEnd = 0;
  for (const segment of image.segments) {
    const end = segment.vaddr + segment.memsz;
    for (let va = pageDown(segment.vaddr); va < end; va += PAGE) {
      pageProt.set(va, (pageProt.get(va) ?? 0) | protOf(segment.flags));
    }
    imageEnd = Math.max(imageEnd, end);
  }
  checkRamSize(frameCount, pageProt, argv, envp);
  const starts = [...pageProt.keys()].sort((a, b) => a - b);
  for (let i = 0; i < starts.length; ) {
    let j = i;
    while (j + 1 < starts.length && starts[j + 1] === starts[j] + PAGE && pageProt.get(starts[j + 1]) === pageProt.get(starts[i])) j++;
    space.addRegion({ start: starts[i], end: starts[j] + PAGE, prot: pageProt.get(starts[i])!, kind: "image" });
    i = j + 1;
  }
  for (const segment of image.segments) {
    // Map every page of the segment (bss included: zeroed frames), then copy the file bytes.
    for (let va = pageDown(segment.vaddr); va < segment.vaddr + segment.memsz; va += PAGE) space.ramOffset(va, 0);
    space.loadImage(segment.vaddr, segment.data, pageProt.get(pageDown(segment.vaddr))!);
  }

  space.brkStart = space.brk = pageUp(imageEnd);
  space.mmapTop = MMAP_TOP;
  space.addRegion({ start: STACK_TOP - STACK_SIZE, end: STACK_TOP, prot: PROT_READ | PROT_WRITE, kind: "stack" });
  space.addRegion(TRAMPOLINE_REGION);
  mapTrampoline(space);

  const sp = buildStack(space, image, argv, envp);
  return { space, entry: image.entry, sp };
}

/** Where a signal handler returns to (ra): `li a7, 139; ecall`, as the vDSO's __vdso_rt_sigreturn. */
export const TRAMPOLINE_REGION: Region = { start: TRAMPOLINE_PAGE, end: TRAMPOLINE_PAGE + PAGE, prot: PROT_READ | PROT_EXEC, kind: "vdso" };

/** The trampoline's page, mapped in `space` (which has its region) with its code. */
export function mapTrampoline(space: AddressSpace): void {
  space.loadImage(TRAMPOLINE_PAGE, new Uint8Array(Uint32Array.from(TRAMPOLINE_CODE).buffer), TRAMPOLINE_REGION.prot);
}

const MiB = 1024 * 1024;

// Loading maps every page of the image at once, so an image bigger than the
// guest's RAM is refused here with the sizes (the fix is a larger --ram), not
// later as an out-of-memory crash.
function checkRamSize(frameCount: number, pageProt: Map<number, number>, argv: string[], envp: string[]): void {
  const tables = new Set([...pageProt.keys()].map((va) => va >>> 22)).size + 1; // second-level tables: the image's and the stack's
  const stackBytes = [...argv, ...envp].reduce((sum, s) => sum + Buffer.byteLength(s) + 1 + 4, 0) + 64 * 4;
  const needed = 1 + tables + pageProt.size + Math.ceil(stackBytes / PAGE) + 1; // 1: the root table
  if (needed > frameCount) {
    throw new ElfError(`needs ${Math.ceil((needed * PAGE) / MiB)} MiB of RAM, --ram is ${+((frameCount * PAGE) / MiB).toFixed(2)} MiB`);
  }
}

function buildStack(space: AddressSpace, image: ElfImage, argv: string[], envp: string[]): number {
  let top = STACK_TOP;
  const push = (bytes: Uint8Array): number => {
    top -= bytes.length;
    if (!space.write(top, bytes)) throw new Error("initial stack does not fit");
    return top;
  };
  const pushString = (s: string) => push(Buffer.from(s + "\0", "utf8"));
  const execfn = pushString(argv[0] ?? "");
  const argvPointers = argv.map(pushString);
  const envPointers = envp.map(pushString);
  const random = push(randomBytes(16));

  const phdr = programHeaderAddress(image);
  const auxv: Array<[number, number]> = [
    [AT_PHDR, phdr], [AT_PHENT, image.phentsize], [AT_PHNUM, image.phnum], [AT_PAGESZ, PAGE], [AT_BASE, 0], [AT_FLAGS, 0],
    [AT_ENTRY, image.entry], [AT_UID, 0], [AT_EUID, 0], [AT_GID, 0], [AT_EGID, 0], [AT_HWCAP, HWCAP], [AT_CLKTCK, 100],
    [AT_SECURE, 0], [AT_RANDOM, random], [AT_EXECFN, execfn], [AT_NULL, 0],
  ];
  const words = [argv.length, ...argvPointers, 0, ...envPointers, 0, ...auxv.flat()];
  top = (top - words.length * 4) & ~15; // the ABI wants sp 16-byte aligned
  const block = new Uint8Array(words.length * 4);
  const view = new DataView(block.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  if (!space.write(top, block)) throw new Error("initial stack does not fit");
  return top;
}

/** Where the program headers are in memory: inside the PT_LOAD that covers their file offset. */
function programHeaderAddress(image: ElfImage): number {
  for (const s of image.segments) {
    if (image.phoff >= s.offset && image.phoff + image.phnum * image.phentsize <= s.offset + s.filesz) {
      return s.vaddr + (image.phoff - s.offset);
    }
  }
  return 0;
}
