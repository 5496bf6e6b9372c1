import { ElfError } from "./elf-error.js";
import type { ElfImage } from "./elf-types.js";
import { hexRange, hex } from "./hex.js";

// Checks that an image fits the memory it will be loaded into: every segment's
// physical range and the entry point must lie in [start, end). Kept apart from
// the parser because the parser does not know the machine's memory map.
export function checkSegmentsInside(image: ElfImage, start: number, end: number, regionName = "RAM"): void {
  for (const segment of image.segments) {
    const segmentEnd = segment.paddr + segment.memsz;
    if (segment.paddr < start || segmentEnd > end) {
      throw new ElfError(
        `segment ${segment.index} ${hexRange(segment.paddr, segmentEnd)} outside ${regionName} ${hexRange(start, end)}`,
      );
    }
  }
  if (image.entry < start || image.entry >= end) {
    throw new ElfError(`entry point ${hex(image.entry)} outside ${regionName} ${hexRange(start, end)}`);
  }
}
