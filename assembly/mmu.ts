// Address translation (Sv32) and the slow paths of memory access: TLB misses,
// misaligned and page-straddling accesses, device (MMIO) accesses, missing pages.

import {
  STATE_BASE, CSR_MSTATUS, CSR_SATP, RAM_GUEST_BASE, RAM_HOST_BASE, STATE_EXIT_SIZE, STATE_EXIT_KIND, STATE_MMIO_PENDING,
  STATE_WATCH_PADDR, STATE_WATCH_LEN, STATE_RAM_BYTES, PRIV_M, PRIV_S, PRIV_U,
  CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_PAGE_FAULT, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE,
  EXIT_MMIO, EXIT_PAGE_MISSING, EXIT_WATCH, MMIO_STORE, PRESENT_BITMAP,
} from "./layout";
import {
  st, priv, event, raiseException, requestExit, EV_EXIT_RETIRED, EV_EXIT_RESTART,
  MSTATUS_MPRV, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_SUM, MSTATUS_MXR,
} from "./hart";
import { bitGet, installRead, installWrite, installFetch, noteWrite, decodedPageFor, ramHost, tlbIndex } from "./memory";
import { TLB_FETCH } from "./layout";

export const ACCESS_READ: u32 = 0;
export const ACCESS_WRITE: u32 = 1;
export const ACCESS_EXEC: u32 = 2;

// PTE bits
const PTE_V: u32 = 1;
const PTE_R: u32 = 2;
const PTE_W: u32 = 4;
const PTE_X: u32 = 8;
const PTE_U: u32 = 16;
const PTE_A: u32 = 64;
const PTE_D: u32 = 128;

/** Sentinel physical address: translation failed and `event` says why. */
export const NO_ADDRESS: u64 = 0xffffffffffffffff;

@inline function pageFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_PAGE_FAULT : access == ACCESS_WRITE ? CAUSE_STORE_PAGE_FAULT : CAUSE_LOAD_PAGE_FAULT;
}
@inline function accessFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_ACCESS : access == ACCESS_WRITE ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS;
}

/** RAM page index of a physical address, or -1 when it is not RAM. */
@inline export function ramPageOf(pa: u64): i32 {
  const off = pa - <u64>RAM_GUEST_BASE;
  if (pa < <u64>RAM_GUEST_BASE || off >= <u64>st(STATE_RAM_BYTES)) return -1;
  return <i32>(off >>> 12);
}

/** The privilege that data accesses run at: MPRV lets M-mode borrow MPP's. */
@inline function dataPriv(): u32 {
  const p = priv();
  if (p == PRIV_M) {
    const ms = st(CSR_MSTATUS);
    if (ms & MSTATUS_MPRV) return (ms & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
  }
  return p;
}

/**
 * Translates a virtual address for an access. Returns the physical address, or
 * NO_ADDRESS with an exception or exit recorded in `event`.
 */
export function translate(va: u32, access: u32): u64 {
  const p = access == ACCESS_EXEC ? priv() : dataPriv();
  const satp = st(CSR_SATP);
  if (p == PRIV_M || (satp >>> 31) == 0) return <u64>va;
  const mstatus = st(CSR_MSTATUS);
  let table: u64 = <u64>(satp & 0x3fffff) << 12;
  let level: i32 = 1;
  let pte: u32 = 0;
  let pteAddr: u64 = 0;
  let ptePage: i32 = 0;
  while (true) {
    const vpn = level == 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    pteAddr = table + (<u64>vpn << 2);
    ptePage = ramPageOf(pteAddr);
    // "If accessing pte violates a PMA or PMP check, raise an access-fault exception"
    if (ptePage < 0) { raiseException(accessFaultCause(access), va); return NO_ADDRESS; }
    if (!bitGet(PRESENT_BITMAP, <u32>ptePage)) {
      requestExit(EV_EXIT_RESTART, EXIT_PAGE_MISSING, <u32>ptePage, 0);
      return NO_ADDRESS;
    }
    pte = load<u32>(RAM_HOST_BASE + <u32>(pteAddr - <u64>RAM_GUEST_BASE));
    // "If pte.v = 0, or if pte.r = 0 and pte.w = 1 ... raise a page-fault exception"
    if ((pte & PTE_V) == 0 || ((pte & PTE_R) == 0 && (pte & PTE_W) != 0)) { raiseException(pageFaultCause(access), va); return NO_ADDRESS; }
    if (pte & (PTE_R | PTE_X)) break; // a leaf
    // "Otherwise, this PTE is a pointer to the next level of the page table"
    level--;
    if (level < 0) { raiseException(pageFaultCause(access), va); return NO_ADDRESS; }
    table = <u64>(pte >>> 10) << 12;
  }
  // Permission checks on the leaf.
  if (p == PRIV_U) {
    if ((pte & PTE_U) == 0) { raiseException(pageFaultCause(access), va); return NO_ADDRESS; }
  } else if (pte & PTE_U) {
    // S-mode may touch U pages only with SUM, and never execute them.
    if (access == ACCESS_EXEC || (mstatus & MSTATUS_SUM) == 0) { raiseException(pageFaultCause(access), va); return NO_ADDRESS; }
  }
  let allowed: bool;
  if (access == ACCESS_EXEC) allowed = (pte & PTE_X) != 0;
  else if (access == ACCESS_WRITE) allowed = (pte & PTE_W) != 0;
  else allowed = (pte & PTE_R) != 0 || ((mstatus & MSTATUS_MXR) != 0 && (pte & PTE_X) != 0);
  if (!allowed) { raiseException(pageFaultCause(access), va); return NO_ADDRESS; }
  // "If i > 0 and pte.ppn[i-1:0] != 0, this is a misaligned superpage"
  if (level == 1 && ((pte >>> 10) & 0x3ff) != 0) { raiseException(pageFaultCause(access), va); return NO_ADDRESS; }
  // Hardware A/D update: "set pte.a to 1 and, if the memory access is a store, also set pte.d to 1"
  let wanted = pte | PTE_A;
  if (access == ACCESS_WRITE) wanted |= PTE_D;
  if (wanted != pte) {
    store<u32>(RAM_HOST_BASE + <u32>(pteAddr - <u64>RAM_GUEST_BASE), wanted);
    noteWrite(<u32>ptePage);
  }
  const ppn = <u64>(pte >>> 10);
  if (level == 1) return ((ppn >> 10) << 22) | <u64>(va & 0x3fffff);
  return (ppn << 12) | <u64>(va & 0xfff);
}

/** A RAM page that is not here yet: exit so the host fetches it; the instruction restarts. */
@inline function missing(page: u32): void {
  requestExit(EV_EXIT_RESTART, EXIT_PAGE_MISSING, page, 0);
}

// ---- Data access slow paths ----------------------------------------------------------

/**
 * Host (WASM) address for `size` bytes at `va`, which must not straddle a page.
 * Installs a TLB entry when the page allows it. Returns 0 with `event` set on a
 * fault, a missing page, or a device address (then `mmioPa` holds the address).
 */
export let mmioPa: u32 = 0;
/** The virtual address of the last device access (the tval if the host refuses it). */
export let mmioVa: u32 = 0;

function hostAddress(va: u32, access: u32): u32 {
  const pa = translate(va, access);
  if (pa == NO_ADDRESS) return 0;
  const page = ramPageOf(pa);
  if (page < 0) {
    if (pa > <u64>0xffffffff) { raiseException(accessFaultCause(access), va); return 0; }
    mmioPa = <u32>pa;
    return 0;
  }
  if (!bitGet(PRESENT_BITMAP, <u32>page)) { missing(<u32>page); return 0; }
  if (access == ACCESS_WRITE) {
    noteWrite(<u32>page);
    if (!isWatchedPage(<u32>pa)) installWrite(va, <u32>page);
  } else {
    installRead(va, <u32>page);
  }
  return ramHost(<u32>page) + (va & 0xfff);
}

@inline function isWatchedPage(pa: u32): bool {
  const w = st(STATE_WATCH_PADDR);
  return w != 0 && ((w ^ pa) & 0xfffff000) == 0;
}

@inline function loadHost(h: u32, size: u32, signed: bool): u32 {
  if (size == 4) return load<u32>(h);
  if (size == 2) return signed ? <u32><i32>load<i16>(h) : <u32>load<u16>(h);
  return signed ? <u32><i32>load<i8>(h) : <u32>load<u8>(h);
}

@inline function storeHost(h: u32, size: u32, v: u32): void {
  if (size == 4) store<u32>(h, v);
  else if (size == 2) store<u16>(h, <u16>v);
  else store<u8>(h, <u8>v);
}

/** Load slow path. `kind` is MMIO_LOAD_SIGNED/UNSIGNED, `rdIndex` the destination register (32 = sink). */
export function loadSlow(va: u32, size: u32, kind: u32, rdIndex: u32): u32 {
  const signed = kind == 1;
  mmioPa = 0;
  if ((va & 0xfff) + size > 4096) {
    // A misaligned load straddling two pages: translate both before reading either.
    const h0 = hostAddress(va, ACCESS_READ);
    if (h0 == 0) return mmioStraddle(va, ACCESS_READ);
    const second = (va + size - 1) & 0xfffff000;
    const h1 = hostAddress(second, ACCESS_READ);
    if (h1 == 0) return mmioStraddle(va, ACCESS_READ);
    let v: u32 = 0;
    for (let i: u32 = 0; i < size; i++) {
      const a = va + i;
      const b = (a & 0xfffff000) == second ? load<u8>(h1 + (a & 0xfff)) : load<u8>(h0 + i);
      v |= <u32>b << (i * 8);
    }
    if (signed) v = size == 2 ? <u32><i32><i16>v : v;
    return v;
  }
  const h = hostAddress(va, ACCESS_READ);
  if (h != 0) return loadHost(h, size, signed);
  if (event != 0) return 0;
  // A device: the host performs the read and the next run() places the value in rd.
  if (va & (size - 1)) { raiseException(CAUSE_LOAD_ACCESS, va); return 0; }
  mmioVa = va;
  requestExit(EV_EXIT_RETIRED, EXIT_MMIO, mmioPa, 0);
  store<u32>(STATE_BASE + STATE_EXIT_SIZE, size);
  store<u32>(STATE_BASE + STATE_EXIT_KIND, kind | (rdIndex << 8));
  store<u32>(STATE_BASE + STATE_MMIO_PENDING, 1);
  return 0;
}

/** A page-straddling access that touched a device: not supported, an access fault. */
function mmioStraddle(va: u32, access: u32): u32 {
  if (event == 0) raiseException(accessFaultCause(access), va);
  return 0;
}

export function storeSlow(va: u32, size: u32, v: u32): void {
  mmioPa = 0;
  if ((va & 0xfff) + size > 4096) {
    const h0 = hostAddress(va, ACCESS_WRITE);
    if (h0 == 0) { mmioStraddle(va, ACCESS_WRITE); return; }
    const second = (va + size - 1) & 0xfffff000;
    const h1 = hostAddress(second, ACCESS_WRITE);
    if (h1 == 0) { mmioStraddle(va, ACCESS_WRITE); return; }
    for (let i: u32 = 0; i < size; i++) {
      const a = va + i;
      const b = <u8>(v >> (i * 8));
      if ((a & 0xfffff000) == second) store<u8>(h1 + (a & 0xfff), b); else store<u8>(h0 + i, b);
    }
    return;
  }
  const h = hostAddress(va, ACCESS_WRITE);
  if (h != 0) {
    storeHost(h, size, v);
    checkWatch(h, size);
    return;
  }
  if (event != 0) return;
  if (va & (size - 1)) { raiseException(CAUSE_STORE_ACCESS, va); return; }
  mmioVa = va;
  requestExit(EV_EXIT_RETIRED, EXIT_MMIO, mmioPa, v);
  store<u32>(STATE_BASE + STATE_EXIT_SIZE, size);
  store<u32>(STATE_BASE + STATE_EXIT_KIND, MMIO_STORE);
}

/** A store into the watched range (HTIF tohost) leaves run() once it has retired. */
@inline function checkWatch(h: u32, size: u32): void {
  const w = st(STATE_WATCH_PADDR);
  if (w == 0) return;
  const pa = h - RAM_HOST_BASE + RAM_GUEST_BASE;
  if (pa + size > w && pa < w + st(STATE_WATCH_LEN)) {
    requestExit(EV_EXIT_RETIRED, EXIT_WATCH, pa, 0);
    store<u32>(STATE_BASE + STATE_EXIT_SIZE, size);
  }
}

/**
 * Host address of the aligned word an LR/SC/AMO works on. AMOs need write
 * permission; LR only read. Misaligned → address-misaligned; devices → access fault.
 */
export function atomicAddress(va: u32, isLoadReserved: bool): u32 {
  if (va & 3) { raiseException(isLoadReserved ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, va); return 0; }
  mmioPa = 0;
  const access = isLoadReserved ? ACCESS_READ : ACCESS_WRITE;
  const h = hostAddress(va, access);
  if (h == 0 && event == 0) raiseException(accessFaultCause(access), va);
  return h;
}

// ---- Instruction fetch ---------------------------------------------------------------

/** The decoded page that holds `pc`, filling the fetch TLB; 0 with `event` set on failure. */
export function fetchPage(pcv: u32): u32 {
  const i = tlbIndex(pcv);
  if (load<u32>(TLB_FETCH + i) == (pcv & 0xfffff000)) return load<u32>(TLB_FETCH + i + 4);
  const pa = translate(pcv, ACCESS_EXEC);
  if (pa == NO_ADDRESS) return 0;
  const page = ramPageOf(pa);
  if (page < 0) { raiseException(CAUSE_FETCH_ACCESS, pcv); return 0; }
  if (!bitGet(PRESENT_BITMAP, <u32>page)) { missing(<u32>page); return 0; }
  const base = decodedPageFor(<u32>page);
  installFetch(pcv, base);
  return base;
}

/** Reads the 16-bit parcel at `pcv` for the upper half of a straddling instruction. */
export function fetchParcel(pcv: u32): u32 {
  const pa = translate(pcv, ACCESS_EXEC);
  if (pa == NO_ADDRESS) return 0;
  const page = ramPageOf(pa);
  if (page < 0) { raiseException(CAUSE_FETCH_ACCESS, pcv); return 0; }
  if (!bitGet(PRESENT_BITMAP, <u32>page)) { missing(<u32>page); return 0; }
  return <u32>load<u16>(ramHost(<u32>page) + (pcv & 0xfff));
}

// Re-exported for the interpreter
export { PRIV_S, PRIV_U };
