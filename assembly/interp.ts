// The run loop and its slow step. fast.ts runs the common case of every
// instruction; when it stops at something it cannot finish, the slow step here
// runs that one instruction in full (TLB misses, devices, traps, system
// instructions, CSRs, decoding) and hands back to the fast loop.
//
// Neither keeps a program counter. They walk `ip`, a pointer into the decoded
// copy of the current code page (8 bytes per guest halfword), and derive the pc
// when an instruction needs it: pc = pageVA + (ip - decodedPage) / 4.

import * as O from "./ops";
import * as A from "./alu";
import {
  DECODE_SCRATCH, STATE_INSTRET, STATE_MMIO_PENDING, STATE_MMIO_VALUE,
  STATE_EXIT_KIND, STATE_EXIT_SIZE, STATE_EXIT_REASON, STATE_EXIT_PC, STATE_WFI, STATE_FLAGS, STATE_RESERVATION,
  STATE_RESERVATION_VALID, CSR_MIP, CSR_MIE, EXIT_BUDGET, EXIT_WFI, EXIT_BREAKPOINT, FLAG_EBREAK_EXITS,
  MMIO_LOAD_SIGNED, MMIO_LOAD_UNSIGNED, CAUSE_ILLEGAL_INSTRUCTION, FLAG_JIT, EXIT_JIT_REQUEST, JIT_ORIGINALS, JIT_REQUEST_ENTRY, RUN_RETIRED, CAUSE_BREAKPOINT, CAUSE_ECALL_U, PRIV_M,
} from "./layout";
import {
  st, setSt, st64, setSt64, priv, pc, setPc, event, eventCause, eventTval, clearEvent, raiseException, requestExit,
  requestRelookup, EV_NONE, EV_EXCEPTION, EV_EXIT_RETIRED, EV_EXIT_RESTART, EV_RELOOKUP,
} from "./hart";
import { loadSlow, storeSlow, atomicAddress, fetchPage, fetchParcel, mmioVa } from "./mmu";
import { pageOfDecoded, ramHost, noteCodePage, flushTlbs, noteStraddle } from "./memory";
import { decodeInto, expandCompressed, writeIllegal } from "./decode";
import { takeTrap, pendingInterrupt, mret, sret } from "./trap";
import { csrAccess, setRetiredInSlice, wfiAllowed, sretAllowed, sfenceAllowed } from "./csr";
import * as C from "./csr";

import { RD, RS1, RS2, IMM, NEXT, LEN, X, SETX, pcOf, fastLoop, fastBudget, farBranchTaken } from "./fast";
import * as F from "./fast";

/**
 * Places the value of a device load the host completed (after EXIT_MMIO) in its
 * destination register, extended as the load instruction says.
 */
function completeMmioLoad(): void {
  const kind = st(STATE_EXIT_KIND);
  const size = st(STATE_EXIT_SIZE);
  let v = st(STATE_MMIO_VALUE);
  const signed = (kind & 0xff) == MMIO_LOAD_SIGNED;
  if (size == 1) v = signed ? <u32><i32><i8>v : v & 0xff;
  else if (size == 2) v = signed ? <u32><i32><i16>v : v & 0xffff;
  const rd = (kind >> 8) & 63;
  if (rd != 0) SETX(rd << 2, v);
  setSt(STATE_MMIO_PENDING, 0);
}

/** Decodes the entry at `ip` of the decoded page at `base` in place. */
export function decodeEntry(ip: u32, base: u32): void {
  const page = pageOfDecoded(base);
  noteCodePage(page);
  const offset = (ip - base) >> 2;
  const host = ramHost(page) + offset;
  const lo = <u32>load<u16>(host);
  if ((lo & 3) == 3) {
    if (offset == 0xffe) { store<u32>(ip, O.OP_STRADDLE); store<u32>(ip, 0, 4); return; }
    const raw = lo | (<u32>load<u16>(host, 2) << 16);
    decodeInto(ip, raw, raw, true, offset, false);
  } else {
    const e = expandCompressed(lo);
    if (e == 0) writeIllegal(ip, lo, false);
    else decodeInto(ip, e, lo, false, offset, false);
  }
}

/** Finishes a slice: accounts retired instructions and records the exit reason. */
@inline function finish(reason: u32, budget: u32, n: i32, lost: u32): u32 {
  store<i32>(RUN_RETIRED, <i32>budget - n - <i32>lost);
  setSt64(STATE_INSTRET, st64(STATE_INSTRET) + <u64>(<i32>budget - n - <i32>lost));
  setSt(STATE_EXIT_REASON, reason);
  return reason;
}

/** Runs up to `budget` instructions from STATE_PC; returns an EXIT_* reason. */
export function run(budget: u32): u32 {
  clearEvent();
  if (st(STATE_MMIO_PENDING)) completeMmioLoad();
  // Dispatches left. The budget is checked at control transfers only (a page of
  // straight-line code ends in a PAGE_END sentinel), so a slice may overrun it by
  // at most one page of straight-line code; the retired count stays exact.
  let n = <i32>budget;
  let lost: u32 = 0; // dispatches that did not retire (faults, restarts)
  let ip: u32 = 0;
  let w: u32 = 0;
  // Set when straight-line code ran off the end of its page (after a straddling instruction too): where it goes on
  // counts as an arrival, as a jump target does, so that the rest of a hot loop or function on the next page gets
  // translated too (else every pass through it was interpreted: 4 % of the compute guest's instructions, whose
  // Dhrystone loop crosses a page, took ~20 % of its time).
  let fellOff = false;
  while (true) {
    // (Re)enter at STATE_PC: take a pending interrupt first, then find the code page.
    const irq = pendingInterrupt();
    if (irq >= 0) takeTrap(<u32>irq, 0, pc(), true);
    const target = pc();
    const page = fetchPage(target);
    if (page == 0) {
      const e = event;
      clearEvent();
      if (e == EV_EXCEPTION) {
        if (n <= 0) return finish(EXIT_BUDGET, budget, n, lost);
        n--; lost++; // a failed fetch costs a dispatch, so a trap loop cannot hang the host
        if (!takeTrap(eventCause, eventTval, target, false)) { setPc(target); return finish(st(STATE_EXIT_REASON), budget, n, lost); }
        continue;
      }
      setSt(STATE_EXIT_PC, target); // a missing page: the host fetches it, then we restart here
      return finish(st(STATE_EXIT_REASON), budget, n, lost);
    }
    F.decoded = page;
    F.pageVA = target & 0xfffff000;
    ip = page + ((target & 0xfff) << 2);
    if (n <= 0) { setPc(target); return finish(EXIT_BUDGET, budget, n, lost); }
    const arrived = fellOff;
    fellOff = false;
    if ((st(STATE_FLAGS) & FLAG_JIT) && (arrived || F.countsEverywhere()) && F.becameHot(ip)) {
      // Entered here by a jump to another page, a trap or a return from one (or fell through from the page before):
      // often enough to translate from here.
      F.hotEntry = 0;
      setPc(target);
      store<u32>(JIT_REQUEST_ENTRY, ip);
      return finish(EXIT_JIT_REQUEST, budget, n, lost);
    }

    while (true) {
      ip = fastLoop(ip, n);
      n = fastBudget;
      if (F.hotEntry != 0) {
        // A loop head got hot: let the host translate it (ip is at the head).
        const head = F.hotEntry;
        F.hotEntry = 0;
        if (st(STATE_FLAGS) & FLAG_JIT) {
          setPc(pcOf(ip));
          store<u32>(JIT_REQUEST_ENTRY, head);
          return finish(EXIT_JIT_REQUEST, budget, n, lost);
        }
        if (n > 0) continue; // no translator: carry on in the fast loop
      }
      if (n <= 0) break; // budget spent (no event)
      n--;
      w = load<u32>(ip);
      let imm = IMM(ip);
      if ((w & 0xff) == O.OP_JIT) {
        // Translated code stopped at its first instruction: run the entry it replaced.
        const original = JIT_ORIGINALS + (<u32>imm << 3);
        w = load<u32>(original);
        imm = load<i32>(original, 4);
      }
      switch (w & 0xff) {
        case O.OP_DECODE: { decodeEntry(ip, F.decoded); n++; continue; }
        case O.OP_PAGE_END: { setPc(pcOf(ip)); requestRelookup(); n++; fellOff = true; break; }
        case O.OP_STRADDLE: {
          // A 4-byte instruction at offset 0xffe: its upper half lives on the next page.
          const at = pcOf(ip);
          const lo = <u32>load<u16>(ramHost(pageOfDecoded(F.decoded)) + 0xffe);
          const hi = fetchParcel(at + 2);
          if (event) break;
          noteStraddle(F.decoded, hi);
          decodeInto(DECODE_SCRATCH, lo | (hi << 16), lo | (hi << 16), true, 0xffe, true);
          F.decoded = DECODE_SCRATCH - 0x7ff * 8; // so that pcOf(DECODE_SCRATCH) = pageVA + 0xffe
          ip = DECODE_SCRATCH;
          n++;
          continue;
        }
        case O.OP_ILLEGAL: { raiseException(CAUSE_ILLEGAL_INSTRUCTION, <u32>imm); break; }
        // ---- Jumps and taken branches whose target page is not in the fetch TLB ----
        case O.OP_JAL_F: {
          SETX(RD(w), pcOf(NEXT(ip, w)));
          setPc(pcOf(ip) + <u32>imm); requestRelookup(); break;
        }
        case O.OP_JALR: {
          const t = (X(RS1(w)) + <u32>imm) & ~1;
          SETX(RD(w), pcOf(NEXT(ip, w)));
          setPc(t); requestRelookup(); break;
        }
        case O.OP_BEQ_F: case O.OP_BNE_F: case O.OP_BLT_F: case O.OP_BGE_F: case O.OP_BLTU_F: case O.OP_BGEU_F: {
          setPc(farBranchTaken(w) ? pcOf(ip) + <u32>imm : pcOf(NEXT(ip, w))); requestRelookup(); break;
        }

        // ---- Loads and stores that missed the TLB (or are misaligned, or reach a device) ----
        case O.OP_LW: case O.OP_LH: case O.OP_LHU: case O.OP_LB: case O.OP_LBU: {
          const op = w & 0xff;
          const size: u32 = op == O.OP_LW ? 4 : op == O.OP_LB || op == O.OP_LBU ? 1 : 2;
          const kind = op == O.OP_LHU || op == O.OP_LBU ? MMIO_LOAD_UNSIGNED : MMIO_LOAD_SIGNED;
          const v = loadSlow(X(RS1(w)) + <u32>imm, size, kind, RD(w) >> 2);
          if (event) break;
          SETX(RD(w), v); ip = NEXT(ip, w); continue;
        }
        case O.OP_SW: case O.OP_SH: case O.OP_SB: {
          const op = w & 0xff;
          const size: u32 = op == O.OP_SW ? 4 : op == O.OP_SH ? 2 : 1;
          storeSlow(X(RS1(w)) + <u32>imm, size, X(RS2(w)));
          if (event) break;
          ip = NEXT(ip, w); continue;
        }

        // ---- A ----
        // LR.W: "loads a word from the address in rs1 ... and registers a reservation set"
        case O.OP_LR_W: {
          const a = X(RS1(w));
          const h = atomicAddress(a, true);
          if (event) break;
          setSt(STATE_RESERVATION, a);
          setSt(STATE_RESERVATION_VALID, 1);
          SETX(RD(w), load<u32>(h)); ip = NEXT(ip, w); continue;
        }
        // SC.W: "writes a word in rs2 to the address in rs1, provided a valid reservation still exists";
        // rd = 0 on success, 1 on failure; "regardless of success or failure, ... invalidates any reservation"
        case O.OP_SC_W: {
          const a = X(RS1(w));
          const h = atomicAddress(a, false);
          if (event) break;
          const okv = st(STATE_RESERVATION_VALID) != 0 && st(STATE_RESERVATION) == a;
          setSt(STATE_RESERVATION_VALID, 0);
          if (okv) store<u32>(h, X(RS2(w)));
          SETX(RD(w), okv ? 0 : 1); ip = NEXT(ip, w); continue;
        }
        case O.OP_AMOSWAP_W: case O.OP_AMOADD_W: case O.OP_AMOXOR_W: case O.OP_AMOAND_W: case O.OP_AMOOR_W:
        case O.OP_AMOMIN_W: case O.OP_AMOMAX_W: case O.OP_AMOMINU_W: case O.OP_AMOMAXU_W: {
          // "atomically load a data value from the address in rs1, place the value into register rd,
          // apply a binary operator to the loaded value and the original value in rs2, then store the result"
          const h = atomicAddress(X(RS1(w)), false);
          if (event) break;
          const old = load<u32>(h);
          const b = X(RS2(w));
          const op = w & 0xff;
          let nv: u32;
          if (op == O.OP_AMOSWAP_W) nv = b;
          else if (op == O.OP_AMOADD_W) nv = old + b;
          else if (op == O.OP_AMOXOR_W) nv = old ^ b;
          else if (op == O.OP_AMOAND_W) nv = old & b;
          else if (op == O.OP_AMOOR_W) nv = old | b;
          else if (op == O.OP_AMOMIN_W) nv = A.smin(old, b);
          else if (op == O.OP_AMOMAX_W) nv = A.smax(old, b);
          else if (op == O.OP_AMOMINU_W) nv = A.umin(old, b);
          else nv = A.umax(old, b);
          store<u32>(h, nv);
          SETX(RD(w), old); ip = NEXT(ip, w); continue;
        }

        // ---- System ----
        case O.OP_ECALL: {
          const p = priv();
          raiseException(CAUSE_ECALL_U + (p == PRIV_M ? 3 : p), 0);
          break;
        }
        // EBREAK: "used to return control to a debugging environment"
        case O.OP_EBREAK: {
          if (st(STATE_FLAGS) & FLAG_EBREAK_EXITS) { requestExit(EV_EXIT_RESTART, EXIT_BREAKPOINT, 0, 0); break; }
          raiseException(CAUSE_BREAKPOINT, 0); // QEMU (our oracle) leaves tval 0 for ebreak
          break;
        }
        case O.OP_MRET: {
          if (priv() != PRIV_M) { raiseException(CAUSE_ILLEGAL_INSTRUCTION, 0x30200073); break; }
          setPc(mret()); requestRelookup(); break;
        }
        case O.OP_SRET: {
          if (!sretAllowed()) { raiseException(CAUSE_ILLEGAL_INSTRUCTION, 0x10200073); break; }
          setPc(sret()); requestRelookup(); break;
        }
        // WFI: "provides a hint ... that the current hart can be stalled until an interrupt might need servicing"
        case O.OP_WFI: {
          if (!wfiAllowed()) { raiseException(CAUSE_ILLEGAL_INSTRUCTION, 0x10500073); break; }
          if ((st(CSR_MIP) & st(CSR_MIE)) != 0) { ip = NEXT(ip, w); continue; }
          setSt(STATE_WFI, 1);
          requestExit(EV_EXIT_RETIRED, EXIT_WFI, 0, 0);
          break;
        }
        // SFENCE.VMA: "orders ... stores to the memory-management data structures" — drop all translations.
        case O.OP_SFENCE_VMA: {
          if (!sfenceAllowed()) { raiseException(CAUSE_ILLEGAL_INSTRUCTION, rawSfence(w)); break; }
          flushTlbs();
          setPc(pcOf(NEXT(ip, w))); requestRelookup(); break;
        }
        case O.OP_CSRRW: case O.OP_CSRRS: case O.OP_CSRRC: case O.OP_CSRRWI: case O.OP_CSRRSI: case O.OP_CSRRCI: {
          const op = w & 0xff;
          const immForm = op >= O.OP_CSRRWI;
          const operand = immForm ? RS2(w) : X(RS1(w));
          const kind = immForm ? op - O.OP_CSRRWI : op - O.OP_CSRRW; // 0 write, 1 set, 2 clear
          // "If rs1=x0, then the instruction will not write to the CSR at all" (csrrs/csrrc, and uimm=0 for the immediate forms)
          const writes = kind == 0 || (immForm ? operand != 0 : RS1(w) != 0);
          setRetiredInSlice(<u64>(<i32>budget - n - 1 - <i32>lost));
          const csr = <u32>imm & 0xfff;
          const old = csrAccess(csr, writes, kind, operand);
          if (!C.ok) { raiseException(CAUSE_ILLEGAL_INSTRUCTION, rawCsr(w, csr)); break; }
          SETX(RD(w), old);
          if (!writes) { ip = NEXT(ip, w); continue; }
          // A write may change translation or enable an interrupt: re-enter at the next instruction.
          setPc(pcOf(NEXT(ip, w))); requestRelookup(); break;
        }
        // The fast loop finishes every other op; reaching here would be a decoder bug.
        default: unreachable();
      }
      break; // an event: leave the inner loop
    }

    // Why did the inner loop stop?
    const e = event;
    if (e == EV_NONE) { // budget spent
      setPc(pcOf(ip));
      return finish(EXIT_BUDGET, budget, n, lost);
    }
    clearEvent();
    if (e == EV_RELOOKUP) continue;
    const here = pcOf(ip);
    setSt(STATE_EXIT_PC, here);
    if (e == EV_EXCEPTION) {
      lost++;
      if (!takeTrap(eventCause, eventTval, here, false)) { setPc(here); return finish(st(STATE_EXIT_REASON), budget, n, lost); }
      continue;
    }
    if (e == EV_EXIT_RETIRED) { setPc(here + LEN(w)); return finish(st(STATE_EXIT_REASON), budget, n, lost); }
    // EV_EXIT_RESTART
    lost++;
    setPc(here);
    return finish(st(STATE_EXIT_REASON), budget, n, lost);
  }
  return EXIT_BUDGET; // not reached
}

/** Rebuilds the original bits of a CSR instruction for tval (decoded entries do not keep them). */
function rawCsr(w: u32, csr: u32): u32 {
  const op = w & 0xff;
  const f3: u32 = op >= O.OP_CSRRWI ? op - O.OP_CSRRWI + 5 : op - O.OP_CSRRW + 1;
  const src: u32 = op >= O.OP_CSRRWI ? RS2(w) : RS1(w) >> 2;
  const rd = RD(w) >> 2;
  return (csr << 20) | (src << 15) | (f3 << 12) | ((rd == 32 ? 0 : rd) << 7) | 0x73;
}

function rawSfence(w: u32): u32 {
  return 0x12000073 | ((RS2(w) >> 2) << 20) | ((RS1(w) >> 2) << 15);
}

/** The host could not perform the device access the core exited for: make it an access fault. */
export function mmioFault(cause: u32): void {
  setSt(STATE_MMIO_PENDING, 0);
  setSt64(STATE_INSTRET, st64(STATE_INSTRET) - 1);
  const epc = st(STATE_EXIT_PC);
  setPc(epc);
  takeTrap(cause, mmioVa, epc, false);
}
