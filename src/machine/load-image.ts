import { MAX_RAM_BYTES, RAM_GUEST_BASE } from "../../assembly/layout.js";
import { checkSegmentsInside, ElfError, type ElfImage } from "../elf/index.js";
import { hex, hexRange } from "../elf/hex.js";
import type { GuestRam } from "./guest-ram.js";

// Places a bare-metal image in guest RAM the way QEMU's `-kernel` does for an
// ELF: each PT_LOAD at its physical address, the bss tail zeroed. GuestRam
// reports every write to the core, which drops any decoded code for those pages.
export function loadImage(ram: GuestRam, image: ElfImage): void {
  checkRamSize(ram, image);
  checkSegmentsInside(image, ram.base, ram.end);
  for (const segment of image.segments) {
    ram.writeBytes(segment.paddr, segment.data);
    if (segment.memsz > segment.filesz) {
      ram.fill(segment.paddr + segment.filesz, segment.memsz - segment.filesz, 0);
    }
  }
}

const MiB = 1024 * 1024;

// An image that would fit a bigger RAM gets the sizes, not segment addresses:
// the user's fix is a larger --ram.
function checkRamSize(ram: GuestRam, image: ElfImage): void {
  const ends = image.segments.map((segment) => segment.paddr + segment.memsz);
  const needed = Math.max(0, ...ends) - ram.base;
  const fitsSomeRam = image.segments.every((segment) => segment.paddr >= ram.base) && needed <= MAX_RAM_BYTES;
  if (fitsSomeRam && needed > ram.size) {
    throw new ElfError(`needs ${Math.ceil(needed / MiB)} MiB of RAM, --ram is ${+(ram.size / MiB).toFixed(2)} MiB`);
  }
}

export interface HtifAddresses {
  tohost: number;
  fromhost: number | undefined;
}

// The HTIF mailboxes, when the image has a `tohost` symbol (riscv-tests and
// friends). Both must be 8 bytes of RAM: the host reads and writes them there.
export function findHtifAddresses(image: ElfImage, ram: GuestRam): HtifAddresses | undefined {
  const tohost = image.symbols.get("tohost");
  if (!tohost) return undefined;
  const fromhost = image.symbols.get("fromhost");
  for (const symbol of fromhost ? [tohost, fromhost] : [tohost]) {
    if (!ram.contains(symbol.value, 8)) {
      throw new ElfError(`symbol ${symbol.name} at ${hex(symbol.value)} outside RAM ${hexRange(ram.base, ram.end)}`);
    }
  }
  return { tohost: tohost.value, fromhost: fromhost?.value };
}

// Where a1 points at boot. QEMU's virt machine passes the device tree's address
// there: the last 2 MiB-aligned block of RAM (0x87e00000 with 128 MiB). Roam has
// no device tree yet, so that block holds whatever the image put there (normally
// zeros); the value is kept so guests that save a1 see what they expect, and a
// future DTB will be placed at the same address.
const DTB_ALIGN = 2 * 1024 * 1024;

export function deviceTreeAddress(ramBytes: number): number {
  const lastByte = RAM_GUEST_BASE + ramBytes - 1;
  return Math.max(RAM_GUEST_BASE, lastByte - (lastByte % DTB_ALIGN));
}
