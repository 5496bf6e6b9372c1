import { hex, hexRange } from "../elf/hex.js";

// The host's window on guest physical RAM, for the ELF loader and devices that
// read or write guest memory (HTIF). Every write is reported through `wrote` so
// the core can drop decoded code for those bytes (Core.hostWroteRam).
//
// The byte view is fetched on every access because the WASM memory buffer is
// replaced when memory grows; callers never keep a stale one.

export class GuestRam {
  constructor(
    private readonly view: () => Uint8Array,
    readonly base: number,
    private readonly wrote: (paddr: number, length: number) => void,
  ) {}

  get size(): number {
    return this.view().length; // a Uint8Array: `length` is inlined by V8, `byteLength` a call (core.ts, refreshViews)
  }

  get end(): number {
    return this.base + this.size;
  }

  contains(paddr: number, length: number): boolean {
    return paddr >= this.base && paddr + length <= this.end;
  }

  read32(paddr: number): number {
    const bytes = this.bytesAt(paddr, 4);
    return (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  }

  write32(paddr: number, value: number): void {
    const bytes = this.bytesAt(paddr, 4);
    bytes[0] = value & 0xff;
    bytes[1] = (value >>> 8) & 0xff;
    bytes[2] = (value >>> 16) & 0xff;
    bytes[3] = (value >>> 24) & 0xff;
    this.wrote(paddr, 4);
  }

  read64(paddr: number): bigint {
    return (BigInt(this.read32(paddr + 4)) << 32n) | BigInt(this.read32(paddr));
  }

  write64(paddr: number, value: bigint): void {
    this.write32(paddr, Number(value & 0xffffffffn));
    this.write32(paddr + 4, Number((value >> 32n) & 0xffffffffn));
  }

  // A live view (not a copy) of guest bytes.
  readBytes(paddr: number, length: number): Uint8Array {
    return this.bytesAt(paddr, length);
  }

  writeBytes(paddr: number, data: Uint8Array): void {
    this.bytesAt(paddr, data.byteLength).set(data);
    this.wrote(paddr, data.byteLength);
  }

  fill(paddr: number, length: number, value: number): void {
    this.bytesAt(paddr, length).fill(value);
    this.wrote(paddr, length);
  }

  private bytesAt(paddr: number, length: number): Uint8Array {
    if (!this.contains(paddr, length)) {
      throw new RangeError(`guest RAM access ${hex(paddr)} (${length} bytes) outside ${hexRange(this.base, this.end)}`);
    }
    const offset = paddr - this.base;
    return this.view().subarray(offset, offset + length);
  }
}
