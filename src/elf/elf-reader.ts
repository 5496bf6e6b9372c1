import { ElfError } from "./elf-error.js";

// Little-endian reads that name the structure being read when the file is too
// short, so every truncation turns into a precise one-line ElfError.
export class ElfReader {
  readonly bytes: Uint8Array;
  readonly size: number;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.size = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  // Throws unless [offset, offset + length) lies inside the file. `what` names the
  // structure, e.g. "program header 2".
  requireRange(what: string, offset: number, length: number): void {
    const end = offset + length; // exact: both are < 2^32, sums stay far below 2^53
    if (end > this.size) {
      throw new ElfError(`truncated: ${what} ends at ${end} but file is ${this.size} bytes`);
    }
  }

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  slice(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
}
