// A 4-byte instruction that straddles two pages: its lower half is the last
// halfword of a code page (offset 0xffe, decoded as OP_STRADDLE), its upper half
// the first of the next page. The interpreter runs one by fetching both halves
// each time (assembly/interp.ts). A translation takes it in too:
//
// - The translator builds the instruction from the lower half (the page's own,
//   which the region's decoded slot covers: a store there drops the translation)
//   and the upper half the interpreter last fetched for this slot
//   (STRADDLE_UPPER, noted with the slot's generation then), and has the core
//   decode it as the interpreter does (every branch or jump leaving the page).
// - The upper half lies on a page the translation knows nothing of, so the code
//   checks, each time before it runs the instruction, that the next page is still
//   executable (its fetch TLB entry) and still holds that half (read through the
//   next page's decoded slot, whose RAM page SLOT_PPN names). Otherwise it leaves
//   at the instruction, and the interpreter fetches, faults or decodes afresh.
//
// In the compute guest the Dhrystone loop has one: a million passes each left
// translated code for the interpreter's straddle path and came back (its run:
// 0.82 s, 0.75 s with the straddler translated). Whatever the noted half, the
// check keeps the code right: a stale or never-noted one only makes it leave.

import * as L from "../../assembly/layout.js";
import * as O from "../../assembly/ops.js";
import { PAGE_ENTRIES, decodedSlot, readEntry, type Entry } from "./region.js";
import { Exit, L_T0, L_TLB, type Gen } from "./gen.js";
import { Op } from "./wasm-writer.js";

/** The entry index of the lower half: offset 0xffe. */
export const STRADDLE_INDEX = PAGE_ENTRIES - 1;

/** What the translator needs of the core to build a straddling instruction. */
export interface StraddleDecoder {
  /** Decodes a 4-byte instruction at offset 0xffe into STRADDLE_DECODED (assembly/index.ts). */
  decodeStraddling(raw: number): void;
}

/**
 * The straddling instruction of the decoded page at `base` (slot generation `generation`) as an entry whose
 * `upper` the code must find on the next page; null when the interpreter has not run it since the slot took its
 * page (nothing noted for this generation), or when it is not one the generators take.
 */
export function straddlingEntry(view: DataView, base: number, generation: number, core: StraddleDecoder): Entry | null {
  const slot = decodedSlot(base);
  if (view.getUint32(L.STRADDLE_GENERATION + slot * 4, true) !== generation) return null;
  const upper = view.getUint32(L.STRADDLE_UPPER + slot * 4, true) & 0xffff;
  const ramPage = view.getUint32(L.SLOT_PPN + slot * 4, true);
  const lower = view.getUint16(L.RAM_HOST_BASE + ramPage * 4096 + 0xffe, true);
  core.decodeStraddling((lower | (upper << 16)) >>> 0);
  const decoded = readEntry(view, L.STRADDLE_DECODED, 0, L.JIT_ORIGINALS);
  if (decoded.op === O.OP_ILLEGAL || decoded.length !== 4) return null;
  return { ...decoded, index: STRADDLE_INDEX, upper };
}

/**
 * Before a straddling instruction: leaves at it (the interpreter runs it) unless the next page is in the fetch TLB
 * and its first halfword is still `e.upper`. `retired`: the block's instructions before it.
 */
export function checkUpperHalf(g: Gen, e: Entry, retired: number): void {
  const w = g.w;
  // The next page's first byte: the code page's base (this translation's pc page) + 4096.
  g.pc(PAGE_ENTRIES).w.localTee(L_T0);
  w.i32Const(12 - 3).op(Op.i32ShrU).i32Const((L.TLB_ENTRIES - 1) << 3).op(Op.i32And).localTee(L_TLB);
  w.mem(Op.i32Load, L.TLB_FETCH).localGet(L_T0).op(Op.i32Ne);
  g.exitIf(e.index, retired, Exit.MISS);
  // Its decoded slot's RAM page (pageOfDecoded in assembly/memory.ts), and the halfword there.
  w.localGet(L_TLB).mem(Op.i32Load, L.TLB_FETCH + 4).i32Const(L.DECODE_BASE).op(Op.i32Sub);
  w.i32Const(L.DECODE_SLOT_BYTES).op(Op.i32DivU).i32Const(2).op(Op.i32Shl).mem(Op.i32Load, L.SLOT_PPN);
  w.i32Const(12).op(Op.i32Shl).mem(Op.i32Load16U, L.RAM_HOST_BASE);
  w.i32Const(e.upper!).op(Op.i32Ne);
  g.exitIf(e.index, retired, Exit.MISS);
}
