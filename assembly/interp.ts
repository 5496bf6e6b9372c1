// The dispatch loop: runs decoded entries (see ops.ts for their layout) until the
// budget is spent or something needs the host. Semantics live in alu.ts, mmu.ts,
// csr.ts and trap.ts; this file only moves operands and the instruction pointer.
//
// The loop keeps no program counter. It walks `ip`, a pointer into the decoded
// copy of the current code page (8 bytes per guest halfword), and derives the pc
// when an instruction needs it: pc = pageVA + (ip - decodedPage) / 4.

import * as O from "./ops";
import * as A from "./alu";
import {
  STATE_BASE, TLB_READ, TLB_WRITE, TLB_FETCH, DECODE_SCRATCH, STATE_INSTRET, STATE_MMIO_PENDING, STATE_MMIO_VALUE,
  STATE_EXIT_KIND, STATE_EXIT_SIZE, STATE_EXIT_REASON, STATE_EXIT_PC, STATE_WFI, STATE_FLAGS, STATE_RESERVATION,
  STATE_RESERVATION_VALID, CSR_MIP, CSR_MIE, EXIT_BUDGET, EXIT_WFI, EXIT_BREAKPOINT, FLAG_EBREAK_EXITS,
  MMIO_LOAD_SIGNED, MMIO_LOAD_UNSIGNED, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_BREAKPOINT, CAUSE_ECALL_U, PRIV_M,
} from "./layout";
import {
  st, setSt, st64, setSt64, priv, pc, setPc, event, eventCause, eventTval, clearEvent, raiseException, requestExit,
  requestRelookup, EV_NONE, EV_EXCEPTION, EV_EXIT_RETIRED, EV_EXIT_RESTART, EV_RELOOKUP,
} from "./hart";
import { loadSlow, storeSlow, atomicAddress, fetchPage, fetchParcel, mmioVa } from "./mmu";
import { tlbIndex, pageOfDecoded, ramHost, noteCodePage, flushTlbs } from "./memory";
import { decodeInto, expandCompressed, writeIllegal } from "./decode";
import { takeTrap, pendingInterrupt, mret, sret } from "./trap";
import { csrAccess, ok as csrOk, setRetiredInSlice, wfiAllowed, sretAllowed, sfenceAllowed } from "./csr";
import * as C from "./csr";

// Entry field extraction (see ops.ts)
@inline function RD(w: u32): u32 { return (w >> 8) & 0xfc; }
@inline function RS1(w: u32): u32 { return (w >> 16) & 0xff; }
@inline function RS2(w: u32): u32 { return w >>> 24; }
@inline function IMM(ip: u32): i32 { return load<i32>(ip, 4); }
/** The next entry: 2 guest bytes = 8 entry bytes, 4 guest bytes = 16. */
@inline function NEXT(ip: u32, w: u32): u32 { return ip + 8 + ((w >> 5) & 8); }
@inline function LEN(w: u32): u32 { return 2 + ((w >> 7) & 2); }

@inline function X(r: u32): u32 { return load<u32>(r, STATE_BASE); }
@inline function SETX(r: u32, v: u32): void { store<u32>(r, v, STATE_BASE); }

// The current code page: its virtual base and its decoded copy.
let pageVA: u32 = 0;
let decoded: u32 = 0;

@inline function pcOf(ip: u32): u32 { return pageVA + ((ip - decoded) >> 2); }

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

/** Decodes the entry at `ip` of the current page in place. */
function decodeEntry(ip: u32): void {
  const page = pageOfDecoded(decoded);
  noteCodePage(page);
  const offset = (ip - decoded) >> 2;
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
@inline function finish(reason: u32, budget: u32, n: u32, lost: u32): u32 {
  setSt64(STATE_INSTRET, st64(STATE_INSTRET) + <u64>(budget - n - lost));
  setSt(STATE_EXIT_REASON, reason);
  return reason;
}

/** Runs up to `budget` instructions from STATE_PC; returns an EXIT_* reason. */
export function run(budget: u32): u32 {
  clearEvent();
  if (st(STATE_MMIO_PENDING)) completeMmioLoad();
  let n = budget; // dispatches left
  let lost: u32 = 0; // dispatches that did not retire (faults, restarts)
  let ip: u32 = 0;
  let w: u32 = 0;
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
        if (n == 0) return finish(EXIT_BUDGET, budget, n, lost);
        n--; lost++; // a failed fetch costs a dispatch, so a trap loop cannot hang the host
        if (!takeTrap(eventCause, eventTval, target, false)) { setPc(target); return finish(st(STATE_EXIT_REASON), budget, n, lost); }
        continue;
      }
      setSt(STATE_EXIT_PC, target); // a missing page: the host fetches it, then we restart here
      return finish(st(STATE_EXIT_REASON), budget, n, lost);
    }
    decoded = page;
    pageVA = target & 0xfffff000;
    ip = page + ((target & 0xfff) << 2);

    while (n != 0) {
      n--;
      w = load<u32>(ip);
      switch (w & 0xff) {
        case O.OP_DECODE: { decodeEntry(ip); n++; continue; }
        case O.OP_PAGE_END: { setPc(pcOf(ip)); requestRelookup(); n++; break; }
        case O.OP_STRADDLE: {
          // A 4-byte instruction at offset 0xffe: its upper half lives on the next page.
          const at = pcOf(ip);
          const lo = <u32>load<u16>(ramHost(pageOfDecoded(decoded)) + 0xffe);
          const hi = fetchParcel(at + 2);
          if (event) break;
          decodeInto(DECODE_SCRATCH, lo | (hi << 16), lo | (hi << 16), true, 0xffe, true);
          decoded = DECODE_SCRATCH - 0x7ff * 8; // so that pcOf(DECODE_SCRATCH) = pageVA + 0xffe
          ip = DECODE_SCRATCH;
          n++;
          continue;
        }
        case O.OP_ILLEGAL: { raiseException(CAUSE_ILLEGAL_INSTRUCTION, <u32>IMM(ip)); break; }
        case O.OP_NOP: { ip = NEXT(ip, w); continue; }

        // ---- Register-immediate ----
        case O.OP_ADDI: { SETX(RD(w), X(RS1(w)) + <u32>IMM(ip)); ip = NEXT(ip, w); continue; }
        case O.OP_SLTI: { SETX(RD(w), A.slt(X(RS1(w)), <u32>IMM(ip))); ip = NEXT(ip, w); continue; }
        case O.OP_SLTIU: { SETX(RD(w), A.sltu(X(RS1(w)), <u32>IMM(ip))); ip = NEXT(ip, w); continue; }
        case O.OP_XORI: { SETX(RD(w), X(RS1(w)) ^ <u32>IMM(ip)); ip = NEXT(ip, w); continue; }
        case O.OP_ORI: { SETX(RD(w), X(RS1(w)) | <u32>IMM(ip)); ip = NEXT(ip, w); continue; }
        case O.OP_ANDI: { SETX(RD(w), X(RS1(w)) & <u32>IMM(ip)); ip = NEXT(ip, w); continue; }
        case O.OP_SLLI: { SETX(RD(w), A.sll(X(RS1(w)), <u32>IMM(ip))); ip = NEXT(ip, w); continue; }
        case O.OP_SRLI: { SETX(RD(w), A.srl(X(RS1(w)), <u32>IMM(ip))); ip = NEXT(ip, w); continue; }
        case O.OP_SRAI: { SETX(RD(w), A.sra(X(RS1(w)), <u32>IMM(ip))); ip = NEXT(ip, w); continue; }
        // LUI: "places the U-immediate value in the top 20 bits of rd, filling the lowest 12 bits with zeros"
        case O.OP_LUI: { SETX(RD(w), <u32>IMM(ip)); ip = NEXT(ip, w); continue; }
        // AUIPC: "adds this offset to the address of the AUIPC instruction"
        case O.OP_AUIPC: { SETX(RD(w), pcOf(ip) + <u32>IMM(ip)); ip = NEXT(ip, w); continue; }

        // ---- Register-register ----
        case O.OP_ADD: { SETX(RD(w), A.add(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_SUB: { SETX(RD(w), A.sub(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_SLL: { SETX(RD(w), A.sll(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_SLT: { SETX(RD(w), A.slt(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_SLTU: { SETX(RD(w), A.sltu(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_XOR: { SETX(RD(w), X(RS1(w)) ^ X(RS2(w))); ip = NEXT(ip, w); continue; }
        case O.OP_SRL: { SETX(RD(w), A.srl(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_SRA: { SETX(RD(w), A.sra(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_OR: { SETX(RD(w), X(RS1(w)) | X(RS2(w))); ip = NEXT(ip, w); continue; }
        case O.OP_AND: { SETX(RD(w), X(RS1(w)) & X(RS2(w))); ip = NEXT(ip, w); continue; }

        // ---- Jumps ----
        // JAL: "stores the address of the instruction following the jump (pc+4) into register rd"
        case O.OP_JAL_L: { SETX(RD(w), pcOf(NEXT(ip, w))); ip += IMM(ip); continue; }
        case O.OP_JAL_F: {
          SETX(RD(w), pcOf(NEXT(ip, w)));
          const t = pcOf(ip) + <u32>IMM(ip);
          const j = tlbIndex(t);
          if (load<u32>(j, TLB_FETCH) == (t & 0xfffff000)) { decoded = load<u32>(j, TLB_FETCH + 4); pageVA = t & 0xfffff000; ip = decoded + ((t & 0xfff) << 2); continue; }
          setPc(t); requestRelookup(); break;
        }
        // JALR: "target address is obtained by adding the sign-extended 12-bit I-immediate to rs1, then setting the least-significant bit to zero"
        case O.OP_JALR: {
          const t = (X(RS1(w)) + <u32>IMM(ip)) & ~1;
          SETX(RD(w), pcOf(NEXT(ip, w)));
          const j = tlbIndex(t);
          if (load<u32>(j, TLB_FETCH) == (t & 0xfffff000)) { decoded = load<u32>(j, TLB_FETCH + 4); pageVA = t & 0xfffff000; ip = decoded + ((t & 0xfff) << 2); continue; }
          setPc(t); requestRelookup(); break;
        }

        // ---- Branches on the same page: imm is already an entry delta ----
        case O.OP_BEQ_L: { ip = X(RS1(w)) == X(RS2(w)) ? ip + IMM(ip) : NEXT(ip, w); continue; }
        case O.OP_BNE_L: { ip = X(RS1(w)) != X(RS2(w)) ? ip + IMM(ip) : NEXT(ip, w); continue; }
        case O.OP_BLT_L: { ip = A.lt(X(RS1(w)), X(RS2(w))) ? ip + IMM(ip) : NEXT(ip, w); continue; }
        case O.OP_BGE_L: { ip = A.ge(X(RS1(w)), X(RS2(w))) ? ip + IMM(ip) : NEXT(ip, w); continue; }
        case O.OP_BLTU_L: { ip = X(RS1(w)) < X(RS2(w)) ? ip + IMM(ip) : NEXT(ip, w); continue; }
        case O.OP_BGEU_L: { ip = X(RS1(w)) >= X(RS2(w)) ? ip + IMM(ip) : NEXT(ip, w); continue; }
        // ---- Branches to another page ----
        case O.OP_BEQ_F: case O.OP_BNE_F: case O.OP_BLT_F: case O.OP_BGE_F: case O.OP_BLTU_F: case O.OP_BGEU_F: {
          const a = X(RS1(w)), b = X(RS2(w));
          const op = w & 0xff;
          const taken = op == O.OP_BEQ_F ? a == b : op == O.OP_BNE_F ? a != b : op == O.OP_BLT_F ? A.lt(a, b) :
            op == O.OP_BGE_F ? A.ge(a, b) : op == O.OP_BLTU_F ? a < b : a >= b;
          if (!taken) { ip = NEXT(ip, w); continue; }
          const t = pcOf(ip) + <u32>IMM(ip);
          const j = tlbIndex(t);
          if (load<u32>(j, TLB_FETCH) == (t & 0xfffff000)) { decoded = load<u32>(j, TLB_FETCH + 4); pageVA = t & 0xfffff000; ip = decoded + ((t & 0xfff) << 2); continue; }
          setPc(t); requestRelookup(); break;
        }

        // ---- Loads: the TLB tag check also sends misaligned accesses to the slow path ----
        case O.OP_LW: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          let v: u32;
          if (load<u32>(t, TLB_READ) == (a & 0xfffff003)) v = load<u32>(load<u32>(t, TLB_READ + 4) + a);
          else { v = loadSlow(a, 4, MMIO_LOAD_SIGNED, RD(w) >> 2); if (event) break; }
          SETX(RD(w), v); ip = NEXT(ip, w); continue;
        }
        case O.OP_LH: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          let v: u32;
          if (load<u32>(t, TLB_READ) == (a & 0xfffff001)) v = <u32><i32>load<i16>(load<u32>(t, TLB_READ + 4) + a);
          else { v = loadSlow(a, 2, MMIO_LOAD_SIGNED, RD(w) >> 2); if (event) break; }
          SETX(RD(w), v); ip = NEXT(ip, w); continue;
        }
        case O.OP_LHU: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          let v: u32;
          if (load<u32>(t, TLB_READ) == (a & 0xfffff001)) v = <u32>load<u16>(load<u32>(t, TLB_READ + 4) + a);
          else { v = loadSlow(a, 2, MMIO_LOAD_UNSIGNED, RD(w) >> 2); if (event) break; }
          SETX(RD(w), v); ip = NEXT(ip, w); continue;
        }
        case O.OP_LB: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          let v: u32;
          if (load<u32>(t, TLB_READ) == (a & 0xfffff000)) v = <u32><i32>load<i8>(load<u32>(t, TLB_READ + 4) + a);
          else { v = loadSlow(a, 1, MMIO_LOAD_SIGNED, RD(w) >> 2); if (event) break; }
          SETX(RD(w), v); ip = NEXT(ip, w); continue;
        }
        case O.OP_LBU: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          let v: u32;
          if (load<u32>(t, TLB_READ) == (a & 0xfffff000)) v = <u32>load<u8>(load<u32>(t, TLB_READ + 4) + a);
          else { v = loadSlow(a, 1, MMIO_LOAD_UNSIGNED, RD(w) >> 2); if (event) break; }
          SETX(RD(w), v); ip = NEXT(ip, w); continue;
        }
        // ---- Stores ----
        case O.OP_SW: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          if (load<u32>(t, TLB_WRITE) == (a & 0xfffff003)) store<u32>(load<u32>(t, TLB_WRITE + 4) + a, X(RS2(w)));
          else { storeSlow(a, 4, X(RS2(w))); if (event) break; }
          ip = NEXT(ip, w); continue;
        }
        case O.OP_SH: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          if (load<u32>(t, TLB_WRITE) == (a & 0xfffff001)) store<u16>(load<u32>(t, TLB_WRITE + 4) + a, <u16>X(RS2(w)));
          else { storeSlow(a, 2, X(RS2(w))); if (event) break; }
          ip = NEXT(ip, w); continue;
        }
        case O.OP_SB: {
          const a = X(RS1(w)) + <u32>IMM(ip);
          const t = tlbIndex(a);
          if (load<u32>(t, TLB_WRITE) == (a & 0xfffff000)) store<u8>(load<u32>(t, TLB_WRITE + 4) + a, <u8>X(RS2(w)));
          else { storeSlow(a, 1, X(RS2(w))); if (event) break; }
          ip = NEXT(ip, w); continue;
        }

        // ---- M ----
        case O.OP_MUL: { SETX(RD(w), A.mul(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_MULH: { SETX(RD(w), A.mulh(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_MULHSU: { SETX(RD(w), A.mulhsu(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_MULHU: { SETX(RD(w), A.mulhu(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_DIV: { SETX(RD(w), A.div(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_DIVU: { SETX(RD(w), A.divu(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_REM: { SETX(RD(w), A.rem(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }
        case O.OP_REMU: { SETX(RD(w), A.remu(X(RS1(w)), X(RS2(w)))); ip = NEXT(ip, w); continue; }

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
        case O.OP_FENCE: { ip = NEXT(ip, w); continue; }
        // FENCE.I: stores already drop decoded copies of the pages they hit, so nothing is stale.
        case O.OP_FENCE_I: { ip = NEXT(ip, w); continue; }
        // ECALL: "used to make a request to the supporting execution environment"
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
          setRetiredInSlice(<u64>(budget - n - 1 - lost));
          const csr = <u32>IMM(ip) & 0xfff;
          const old = csrAccess(csr, writes, kind, operand);
          if (!C.ok) { raiseException(CAUSE_ILLEGAL_INSTRUCTION, rawCsr(w, csr)); break; }
          SETX(RD(w), old);
          if (!writes) { ip = NEXT(ip, w); continue; }
          // A write may change translation or enable an interrupt: re-enter at the next instruction.
          setPc(pcOf(NEXT(ip, w))); requestRelookup(); break;
        }
        default: { raiseException(CAUSE_ILLEGAL_INSTRUCTION, 0); break; }
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
