// Addresses in messages are printed the way objdump and QEMU print them, so a
// reader can match them against a disassembly.
export function hex(value: number | bigint): string {
  return "0x" + value.toString(16);
}

// A half-open address range, e.g. "[0x80000000, 0x88000000)".
export function hexRange(start: number, end: number): string {
  return `[${hex(start)}, ${hex(end)})`;
}
