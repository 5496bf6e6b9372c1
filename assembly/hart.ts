// The hart's state lives in one fixed block of WASM memory (layout.ts), so the
// host can read, write and migrate it as plain bytes. These helpers name it.
//
// Events: slow paths (memory faults, device accesses, CSR side effects) cannot
// leave the interpreter's loop themselves. They record what happened in `event`
// and the interpreter handles it after the instruction's handler returns.

import { STATE_BASE, STATE_PC, STATE_PRIV, STATE_EXIT_REASON, STATE_EXIT_CAUSE, STATE_EXIT_TVAL } from "./layout";

@inline export function reg(offset: u32): u32 { return load<u32>(STATE_BASE + offset); }
@inline export function setReg(offset: u32, v: u32): void { store<u32>(STATE_BASE + offset, v); }
@inline export function st(offset: u32): u32 { return load<u32>(STATE_BASE + offset); }
@inline export function setSt(offset: u32, v: u32): void { store<u32>(STATE_BASE + offset, v); }
@inline export function st64(offset: u32): u64 { return load<u64>(STATE_BASE + offset); }
@inline export function setSt64(offset: u32, v: u64): void { store<u64>(STATE_BASE + offset, v); }

@inline export function priv(): u32 { return load<u32>(STATE_BASE + STATE_PRIV); }
@inline export function pc(): u32 { return load<u32>(STATE_BASE + STATE_PC); }
@inline export function setPc(v: u32): void { store<u32>(STATE_BASE + STATE_PC, v); }

// mstatus bits
export const MSTATUS_SIE: u32 = 1 << 1;
export const MSTATUS_MIE: u32 = 1 << 3;
export const MSTATUS_SPIE: u32 = 1 << 5;
export const MSTATUS_MPIE: u32 = 1 << 7;
export const MSTATUS_SPP: u32 = 1 << 8;
export const MSTATUS_MPP_SHIFT: u32 = 11;
export const MSTATUS_MPP: u32 = 3 << 11;
export const MSTATUS_MPRV: u32 = 1 << 17;
export const MSTATUS_SUM: u32 = 1 << 18;
export const MSTATUS_MXR: u32 = 1 << 19;
export const MSTATUS_TVM: u32 = 1 << 20;
export const MSTATUS_TW: u32 = 1 << 21;
export const MSTATUS_TSR: u32 = 1 << 22;

// ---- Events -----------------------------------------------------------------------

export const EV_NONE: u32 = 0;
/** An exception: `eventCause`/`eventTval` say which; the instruction did not retire. */
export const EV_EXCEPTION: u32 = 1;
/** Leave run() after this instruction retires (device access, watched store). */
export const EV_EXIT_RETIRED: u32 = 2;
/** Leave run() without retiring this instruction; it restarts later (missing page). */
export const EV_EXIT_RESTART: u32 = 3;
/** The instruction retired and changed state the loop must re-read (pc in STATE_PC). */
export const EV_RELOOKUP: u32 = 4;

export let event: u32 = EV_NONE;
export let eventCause: u32 = 0;
export let eventTval: u32 = 0;

@inline export function clearEvent(): void { event = EV_NONE; }

export function raiseException(cause: u32, tval: u32): void {
  event = EV_EXCEPTION;
  eventCause = cause;
  eventTval = tval;
}

export function requestExit(kind: u32, reason: u32, cause: u32, tval: u32): void {
  event = kind;
  store<u32>(STATE_BASE + STATE_EXIT_REASON, reason);
  store<u32>(STATE_BASE + STATE_EXIT_CAUSE, cause);
  store<u32>(STATE_BASE + STATE_EXIT_TVAL, tval);
}

export function requestRelookup(): void {
  event = EV_RELOOKUP;
}
