// Tiny bare-metal guests whose every trap traps again, so no instruction ever retires.
import { buildElf } from "./elf-builder.js";
import { CSR, csrw, li, lw, T0, T1, ZERO, words } from "./rv32-encode.js";

const BASE = 0x80000000;
const UNCLAIMED = 0x40000000; // no device answers here

/** An ELF with `program` at the start of RAM. */
export function stormImage(program: Uint8Array): Uint8Array {
  return buildElf({ entry: BASE, segments: [{ paddr: BASE, data: program, flags: 7 }] }).bytes;
}

/** mtvec = 0 (no code there), then an illegal instruction: each trap's fetch faults and traps again. */
export const fetchStorm = () => words(csrw(CSR.mtvec, ZERO), 0);

/** mtvec points at a load from an address no device claims: each access fault re-runs the faulting load. */
export const deviceStorm = () => words(li(T0, BASE + 20), csrw(CSR.mtvec, T0), li(T0, UNCLAIMED), lw(T1, T0, 0));

