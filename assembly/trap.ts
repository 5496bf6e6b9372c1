// Trap entry and return: synchronous exceptions, interrupts with delegation,
// direct/vectored trap vectors, mret/sret. (Privileged spec, "Machine-Level ISA".)

import {
  STATE_BASE, CSR_MSTATUS, CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_MIP, CSR_MTVEC, CSR_MEPC, CSR_MCAUSE, CSR_MTVAL,
  CSR_STVEC, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, STATE_PRIV, STATE_HOST_TRAPS, STATE_EXIT_PC, STATE_WFI,
  PRIV_M, PRIV_S, PRIV_U, EXIT_HOST_TRAP, IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI,
} from "./layout";
import {
  st, setSt, priv, setPc, requestExit, EV_EXIT_RESTART, MSTATUS_SIE, MSTATUS_MIE, MSTATUS_SPIE, MSTATUS_MPIE, MSTATUS_SPP,
  MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV,
} from "./hart";
import { flushTlbs } from "./memory";

/** Changes privilege; translations depend on it, so the TLBs go when it changes. */
export function setPriv(p: u32): void {
  if (p != priv()) {
    store<u32>(STATE_BASE + STATE_PRIV, p);
    flushTlbs();
  }
}

/**
 * Takes a trap at instruction `epc`. Exceptions whose bit is set in
 * STATE_HOST_TRAPS go to the host instead (process mode: the host is the kernel).
 * Returns false when the trap left run() for the host.
 */
export function takeTrap(cause: u32, tval: u32, epc: u32, interrupt: bool): bool {
  if (!interrupt && ((st(STATE_HOST_TRAPS) >>> cause) & 1) != 0) {
    requestExit(EV_EXIT_RESTART, EXIT_HOST_TRAP, cause, tval);
    setSt(STATE_EXIT_PC, epc);
    return false;
  }
  setSt(STATE_WFI, 0);
  const p = priv();
  const deleg = interrupt ? st(CSR_MIDELEG) : st(CSR_MEDELEG);
  const fullCause = interrupt ? cause | 0x80000000 : cause;
  let ms = st(CSR_MSTATUS);
  if (p <= <u32>PRIV_S && ((deleg >>> cause) & 1) != 0) {
    // "the trap is handled in S-mode": sepc, scause, stval; SPP, SPIE <- SIE, SIE <- 0
    setSt(CSR_SEPC, epc);
    setSt(CSR_SCAUSE, fullCause);
    setSt(CSR_STVAL, tval);
    ms = (ms & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) | (p == PRIV_S ? MSTATUS_SPP : 0) | ((ms & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
    setSt(CSR_MSTATUS, ms);
    setPc(vector(st(CSR_STVEC), cause, interrupt));
    setPriv(PRIV_S);
  } else {
    // "the trap is handled in M-mode": mepc, mcause, mtval; MPP, MPIE <- MIE, MIE <- 0
    setSt(CSR_MEPC, epc);
    setSt(CSR_MCAUSE, fullCause);
    setSt(CSR_MTVAL, tval);
    ms = (ms & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE)) | (p << MSTATUS_MPP_SHIFT) | ((ms & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
    setSt(CSR_MSTATUS, ms);
    setPc(vector(st(CSR_MTVEC), cause, interrupt));
    setPriv(PRIV_M);
  }
  return true;
}

/** "When MODE=Vectored, ... asynchronous interrupts set pc to BASE+4×cause." */
@inline function vector(tvec: u32, cause: u32, interrupt: bool): u32 {
  const base = tvec & ~3;
  return interrupt && (tvec & 3) == 1 ? base + (cause << 2) : base;
}

/**
 * The interrupt to take now, or -1. "Multiple simultaneous interrupts destined
 * for M-mode are handled in the following decreasing priority order: MEI, MSI,
 * MTI, SEI, SSI, STI."
 */
export function pendingInterrupt(): i32 {
  const pending = st(CSR_MIP) & st(CSR_MIE);
  if (pending == 0) return -1;
  const p = priv();
  const ms = st(CSR_MSTATUS);
  const mideleg = st(CSR_MIDELEG);
  // M-level interrupts are enabled below M, or in M with MIE.
  const mEnabled = p < <u32>PRIV_M || (ms & MSTATUS_MIE) != 0;
  // S-level (delegated) ones below S, or in S with SIE; never while in M.
  const sEnabled = p < <u32>PRIV_S || (p == <u32>PRIV_S && (ms & MSTATUS_SIE) != 0);
  const toM = mEnabled ? pending & ~mideleg : 0;
  const toS = sEnabled ? pending & mideleg : 0;
  const ready = toM != 0 ? toM : toS;
  if (ready == 0) return -1;
  if (ready & (1 << IRQ_MEI)) return IRQ_MEI;
  if (ready & (1 << IRQ_MSI)) return IRQ_MSI;
  if (ready & (1 << IRQ_MTI)) return IRQ_MTI;
  if (ready & (1 << IRQ_SEI)) return IRQ_SEI;
  if (ready & (1 << IRQ_SSI)) return IRQ_SSI;
  if (ready & (1 << IRQ_STI)) return IRQ_STI;
  return -1;
}

/** MRET: "priv <- MPP; MIE <- MPIE; MPIE <- 1; MPP <- U; if MPP != M, MPRV <- 0". Returns the new pc. */
export function mret(): u32 {
  let ms = st(CSR_MSTATUS);
  const mpp = (ms & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
  ms = (ms & ~(MSTATUS_MIE | MSTATUS_MPP)) | ((ms & MSTATUS_MPIE) ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
  if (mpp != PRIV_M) ms &= ~MSTATUS_MPRV;
  setSt(CSR_MSTATUS, ms);
  setPriv(mpp);
  return st(CSR_MEPC);
}

/** SRET: "priv <- SPP; SIE <- SPIE; SPIE <- 1; SPP <- U; MPRV <- 0". Returns the new pc. */
export function sret(): u32 {
  let ms = st(CSR_MSTATUS);
  const spp = (ms & MSTATUS_SPP) ? PRIV_S : PRIV_U;
  ms = (ms & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | ((ms & MSTATUS_SPIE) ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
  setSt(CSR_MSTATUS, ms);
  setPriv(spp);
  return st(CSR_SEPC);
}
