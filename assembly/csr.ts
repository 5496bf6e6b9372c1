// Control and status registers (Zicsr + the privileged CSRs a kernel needs).
// Access rules: csr[9:8] is the lowest privilege that may access it, csr[11:10] = 3
// marks it read-only; anything else raises illegal-instruction.
// PMP CSRs are WARL storage only: physical memory protection is not enforced.

import {
  CSR_MSTATUS, CSR_MISA, CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_MIP, CSR_MTVEC, CSR_MSCRATCH, CSR_MEPC, CSR_MCAUSE,
  CSR_MTVAL, CSR_MCOUNTEREN, CSR_STVEC, CSR_SSCRATCH, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_SCOUNTEREN, CSR_SATP,
  CSR_MCOUNTINHIBIT, CSR_MENVCFG, CSR_MENVCFGH, CSR_SENVCFG, CSR_MCYCLE_OFFSET, CSR_PMPCFG, CSR_PMPADDR,
  STATE_INSTRET, STATE_MTIME, PRIV_M, PRIV_S, PRIV_U,
} from "./layout";
import {
  st, setSt, st64, setSt64, priv, MSTATUS_SIE, MSTATUS_MIE, MSTATUS_SPIE, MSTATUS_MPIE, MSTATUS_SPP, MSTATUS_MPP,
  MSTATUS_MPRV, MSTATUS_SUM, MSTATUS_MXR, MSTATUS_TVM, MSTATUS_TW, MSTATUS_TSR,
} from "./hart";
import { flushTlbs } from "./memory";

/** misa: MXL = 1 (32-bit), extensions A, C, I, M, S, U. */
export const MISA_VALUE: u32 = 0x40000000 | (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

const MSTATUS_WRITABLE: u32 = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
const SSTATUS_MASK: u32 = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
// Fields that change how addresses translate: a write to them drops the TLBs.
const MSTATUS_TRANSLATION: u32 = MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR;
const MIP_WRITABLE: u32 = (1 << 1) | (1 << 5) | (1 << 9); // SSIP, STIP, SEIP
const MIE_WRITABLE: u32 = 0xaaa; // SSIE, MSIE, STIE, MTIE, SEIE, MEIE
const S_INTERRUPTS: u32 = 0x222; // delegable: SSI, STI, SEI
const MEDELEG_WRITABLE: u32 = 0xb3ff & ~(1 << 11); // all standard exceptions but ecall from M

/** Instructions retired before the current one, kept current by the interpreter before CSR access. */
export let retiredInSlice: u64 = 0;
export function setRetiredInSlice(n: u64): void { retiredInSlice = n; }

@inline function instretNow(): u64 { return st64(STATE_INSTRET) + retiredInSlice; }

/** Whether `csr` exists and may be read at the current privilege. */
function accessible(csr: u32): bool {
  const p = priv();
  if (((csr >> 8) & 3) > p) return false;
  // Counters below M are gated by mcounteren (and scounteren for U).
  if ((csr >= 0xc00 && csr <= 0xc1f) || (csr >= 0xc80 && csr <= 0xc9f)) {
    const bitn = csr & 31;
    if (p < <u32>PRIV_M && ((st(CSR_MCOUNTEREN) >> bitn) & 1) == 0) return false;
    if (p == PRIV_U && ((st(CSR_SCOUNTEREN) >> bitn) & 1) == 0) return false;
  }
  // "When TVM=1, attempts to read or write the satp CSR ... while executing in S-mode will raise an illegal instruction exception."
  if (csr == 0x180 && p == PRIV_S && (st(CSR_MSTATUS) & MSTATUS_TVM) != 0) return false;
  return true;
}

/** CSR read; `ok` is false when the CSR does not exist. */
export let ok: bool = true;

export function csrRead(csr: u32): u32 {
  ok = true;
  switch (csr) {
    // User counters
    case 0xc00: case 0xb00: return <u32>(instretNow() + st64(CSR_MCYCLE_OFFSET)); // cycle, mcycle
    case 0xc80: case 0xb80: return <u32>((instretNow() + st64(CSR_MCYCLE_OFFSET)) >> 32);
    case 0xc01: return <u32>st64(STATE_MTIME); // time
    case 0xc81: return <u32>(st64(STATE_MTIME) >> 32);
    case 0xc02: case 0xb02: return <u32>instretNow(); // instret, minstret
    case 0xc82: case 0xb82: return <u32>(instretNow() >> 32);
    // Supervisor
    case 0x100: return st(CSR_MSTATUS) & SSTATUS_MASK;
    case 0x104: return st(CSR_MIE) & st(CSR_MIDELEG);
    case 0x105: return st(CSR_STVEC);
    case 0x106: return st(CSR_SCOUNTEREN);
    case 0x10a: return st(CSR_SENVCFG);
    case 0x140: return st(CSR_SSCRATCH);
    case 0x141: return st(CSR_SEPC);
    case 0x142: return st(CSR_SCAUSE);
    case 0x143: return st(CSR_STVAL);
    case 0x144: return st(CSR_MIP) & st(CSR_MIDELEG);
    case 0x180: return st(CSR_SATP);
    // Machine
    case 0xf11: case 0xf12: case 0xf13: case 0xf14: case 0xf15: return 0; // vendor, arch, impl, hartid, configptr
    case 0x300: return st(CSR_MSTATUS);
    case 0x301: return MISA_VALUE;
    case 0x302: return st(CSR_MEDELEG);
    case 0x303: return st(CSR_MIDELEG);
    case 0x304: return st(CSR_MIE);
    case 0x305: return st(CSR_MTVEC);
    case 0x306: return st(CSR_MCOUNTEREN);
    case 0x30a: return st(CSR_MENVCFG);
    case 0x310: return 0; // mstatush: MBE = SBE = 0 (little-endian)
    case 0x31a: return st(CSR_MENVCFGH);
    case 0x320: return st(CSR_MCOUNTINHIBIT);
    case 0x340: return st(CSR_MSCRATCH);
    case 0x341: return st(CSR_MEPC);
    case 0x342: return st(CSR_MCAUSE);
    case 0x343: return st(CSR_MTVAL);
    case 0x344: return st(CSR_MIP);
  }
  if (csr >= 0x3a0 && csr <= 0x3a3) return st(CSR_PMPCFG + ((csr - 0x3a0) << 2));
  if (csr >= 0x3b0 && csr <= 0x3bf) return st(CSR_PMPADDR + ((csr - 0x3b0) << 2));
  // Unimplemented hardware performance counters and their events read as zero.
  if ((csr >= 0xc03 && csr <= 0xc1f) || (csr >= 0xc83 && csr <= 0xc9f)) return 0;
  if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xb83 && csr <= 0xb9f) || (csr >= 0x323 && csr <= 0x33f)) return 0;
  ok = false;
  return 0;
}

/** CSR write of an existing, writable CSR (the caller checked access). Returns true if translation state changed. */
export function csrWrite(csr: u32, v: u32): void {
  switch (csr) {
    case 0xb00: { // mcycle: cycle = instret + offset
      const cur = instretNow() + 1; // this instruction retires too
      setSt64(CSR_MCYCLE_OFFSET, ((st64(CSR_MCYCLE_OFFSET) + cur) & 0xffffffff00000000) - cur + <u64>v);
      return;
    }
    case 0xb80: {
      const cur = instretNow() + 1;
      const cycle = st64(CSR_MCYCLE_OFFSET) + cur;
      setSt64(CSR_MCYCLE_OFFSET, ((<u64>v << 32) | (cycle & 0xffffffff)) - cur);
      return;
    }
    case 0xb02: { // minstret: the next instruction reads the written value
      const after = (instretNow() & 0xffffffff00000000) | <u64>v;
      setSt64(STATE_INSTRET, after - retiredInSlice - 1);
      return;
    }
    case 0xb82: {
      const after = (<u64>v << 32) | (instretNow() & 0xffffffff);
      setSt64(STATE_INSTRET, after - retiredInSlice - 1);
      return;
    }
    case 0x100: writeMstatus((st(CSR_MSTATUS) & ~SSTATUS_MASK) | (v & SSTATUS_MASK)); return;
    case 0x104: { const m = st(CSR_MIDELEG); setSt(CSR_MIE, (st(CSR_MIE) & ~m) | (v & m)); return; }
    case 0x105: writeTvec(CSR_STVEC, v); return;
    case 0x106: setSt(CSR_SCOUNTEREN, v); return;
    case 0x10a: setSt(CSR_SENVCFG, v & 1); return;
    case 0x140: setSt(CSR_SSCRATCH, v); return;
    case 0x141: setSt(CSR_SEPC, v & ~1); return;
    case 0x142: setSt(CSR_SCAUSE, v); return;
    case 0x143: setSt(CSR_STVAL, v); return;
    case 0x144: { // sip: only SSIP is writable from S
      const m = st(CSR_MIDELEG) & (1 << 1);
      setSt(CSR_MIP, (st(CSR_MIP) & ~m) | (v & m));
      return;
    }
    case 0x180: setSt(CSR_SATP, v); flushTlbs(); return;
    case 0x300: writeMstatus(v); return;
    case 0x301: return; // misa: WARL, read-only here
    case 0x302: setSt(CSR_MEDELEG, v & MEDELEG_WRITABLE); return;
    case 0x303: setSt(CSR_MIDELEG, v & S_INTERRUPTS); return;
    case 0x304: setSt(CSR_MIE, v & MIE_WRITABLE); return;
    case 0x305: writeTvec(CSR_MTVEC, v); return;
    case 0x306: setSt(CSR_MCOUNTEREN, v); return;
    case 0x30a: setSt(CSR_MENVCFG, v & 1); return;
    case 0x310: return;
    case 0x31a: setSt(CSR_MENVCFGH, 0); return;
    case 0x320: setSt(CSR_MCOUNTINHIBIT, v & ~2); return;
    case 0x340: setSt(CSR_MSCRATCH, v); return;
    case 0x341: setSt(CSR_MEPC, v & ~1); return;
    case 0x342: setSt(CSR_MCAUSE, v); return;
    case 0x343: setSt(CSR_MTVAL, v); return;
    case 0x344: setSt(CSR_MIP, (st(CSR_MIP) & ~MIP_WRITABLE) | (v & MIP_WRITABLE)); return;
  }
  if (csr >= 0x3a0 && csr <= 0x3a3) { setSt(CSR_PMPCFG + ((csr - 0x3a0) << 2), v); return; }
  if (csr >= 0x3b0 && csr <= 0x3bf) { setSt(CSR_PMPADDR + ((csr - 0x3b0) << 2), v & 0x3fffffff); return; }
  // Remaining existing CSRs (hpm counters/events) are read-only zero: writes are ignored.
}

function writeMstatus(v: u32): void {
  const old = st(CSR_MSTATUS);
  let nv = (old & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
  // MPP is WARL: the unsupported value 2 (H) becomes U.
  if (((nv & MSTATUS_MPP) >> 11) == 2) nv &= ~MSTATUS_MPP;
  setSt(CSR_MSTATUS, nv);
  if ((old ^ nv) & MSTATUS_TRANSLATION) flushTlbs();
}

/** xtvec: MODE 0 (direct) or 1 (vectored); other modes are reserved, so the write keeps the old mode. */
function writeTvec(off: u32, v: u32): void {
  const mode = v & 3;
  setSt(off, (v & ~3) | (mode < 2 ? mode : st(off) & 3));
}

/**
 * Executes a CSR instruction's access. `writes` is false for csrrs/csrrc with
 * rs1 = x0 (or zimm = 0): they must not write, nor trap on a read-only CSR.
 * Returns the old value; `ok` = false means illegal instruction.
 */
export function csrAccess(csr: u32, writes: bool, newValueOp: u32, operand: u32): u32 {
  if (!accessible(csr)) { ok = false; return 0; }
  const old = csrRead(csr);
  if (!ok) return 0;
  if (writes) {
    if ((csr >> 10) == 3) { ok = false; return 0; } // read-only
    let nv: u32;
    if (newValueOp == 0) nv = operand; // csrrw
    else if (newValueOp == 1) nv = old | operand; // csrrs
    else nv = old & ~operand; // csrrc
    csrWrite(csr, nv);
  }
  return old;
}

/** Whether wfi may execute here: "When TW=1, ... if WFI is executed in any less-privileged mode ... illegal". */
export function wfiAllowed(): bool {
  const p = priv();
  if (p == PRIV_M) return true;
  if (p == PRIV_U) return false;
  return (st(CSR_MSTATUS) & MSTATUS_TW) == 0;
}

/** sret: illegal in U, and in S when TSR=1. */
export function sretAllowed(): bool {
  const p = priv();
  if (p == PRIV_M) return true;
  return p == PRIV_S && (st(CSR_MSTATUS) & MSTATUS_TSR) == 0;
}

/** sfence.vma: illegal in U, and in S when TVM=1. */
export function sfenceAllowed(): bool {
  const p = priv();
  if (p == PRIV_M) return true;
  return p == PRIV_S && (st(CSR_MSTATUS) & MSTATUS_TVM) == 0;
}

export { MISA_VALUE as misaValue };
