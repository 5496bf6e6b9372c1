// The fast loop: every instruction's common case, with no calls at all.
//
// Why a separate function: V8 spills every value that lives across a call, and a
// loop that also holds the slow paths (page walks, traps, CSRs) kept its
// instruction pointer and budget on the stack. Here nothing is called, so they
// stay in registers. Anything uncommon — a TLB miss, a device, a trap, a system
// instruction, an undecoded entry — returns to the slow step in interp.ts with
// `ip` still at that instruction, which then runs it in full.

import * as O from "./ops";
import * as A from "./alu";
import {
  STATE_BASE, TLB_READ, TLB_WRITE, TLB_FETCH, TLB_ENTRIES, JIT_BUDGET, JIT_PAGE_VA, JIT_DECODED, JIT_HOT_AT, HOT_COUNTERS, JIT_EXIT_TRANSFER, JIT_RETIRED,
  HOT_COUNTER_MASK,
} from "./layout";

// Entry field extraction (see ops.ts for the layout)
@inline export function RD(w: u32): u32 { return (w >> 8) & 0xfc; }
@inline export function RS1(w: u32): u32 { return (w >> 16) & 0xff; }
@inline export function RS2(w: u32): u32 { return w >>> 24; }
@inline export function IMM(ip: u32): i32 { return load<i32>(ip, 4); }
/** The next entry: 2 guest bytes = 8 entry bytes, 4 guest bytes = 16. */
@inline export function NEXT(ip: u32, w: u32): u32 { return ip + ((w >> 5) & 24); }
/** The instruction's length in bytes. */
@inline export function LEN(w: u32): u32 { return (w >> 7) & 6; }

@inline export function X(r: u32): u32 { return load<u32>(r, STATE_BASE); }
@inline export function SETX(r: u32, v: u32): void { store<u32>(r, v, STATE_BASE); }

@inline function tlbIndex(va: u32): u32 { return ((va >>> 12) & (TLB_ENTRIES - 1)) << 3; }

// The current code page: its virtual base and its decoded copy (8 bytes per halfword).
export let pageVA: u32 = 0;
export let decoded: u32 = 0;

@inline export function pcOf(ip: u32): u32 { return pageVA + ((ip - decoded) >> 2); }

/** The budget left when fastLoop returned. */
export let fastBudget: i32 = 0;

/** A jump target (entry address) that just got hot, or 0: the run loop asks the host to translate a region from it. */
export let hotEntry: u32 = 0;

/**
 * Counts an arrival at `target` by a taken backward branch, a jump, a call or a
 * return (where regions start: loop heads, functions, return points). Returns
 * true when the target has been reached JIT_HOT_AT times.
 *
 * The counter then stays at JIT_HOT_AT (asked: pending) until the host settles
 * it (src/jit/translator.ts: 0 once installed, JIT_HOT_AT + 1 to ask again 256
 * arrivals later, left pending when the head can never be translated), or the
 * core drops the slot's counters with its decoded entries (memory.ts). While a
 * region waits for its background compile the core no longer asks every 256
 * arrivals (BusyBox sort: 4,679 requests for 128 regions; compute small 6,942
 * for 36). Entries that share a hashed counter with a pending one do not count
 * meanwhile: a collision only delays them.
 */
@inline export function becameHot(target: u32): bool {
  if ((load<u32>(target) & 0xff) == O.OP_JIT) return false; // translated already: its code left early, nothing to ask
  const h = HOT_COUNTERS + ((target >> 3) & HOT_COUNTER_MASK);
  const hotAt = <u32>load<u8>(JIT_HOT_AT);
  const c = <u32>load<u8>(h);
  if (c == hotAt) return false; // asked already, not settled yet
  store<u8>(h, <u8>(c + 1));
  if (c + 1 != hotAt) return false;
  hotEntry = target;
  return true;
}

/**
 * Whether every arrival counts (JIT_HOT_AT = 1, to test the translator on
 * nearly all code): returns, exits of translated code, re-entries. Otherwise
 * only loop heads and called functions become regions; counting where
 * translated code returns to made many small regions whose compilation and
 * register traffic cost more than they saved (Lua: 430 regions, 18
 * instructions per call).
 */
@inline export function countsEverywhere(): bool { return load<u8>(JIT_HOT_AT) == 1; }

/**
 * Translated code (src/jit): a function in the table taking (entry, budget, the
 * entry's page: its virtual base and its decoded entry 0, and how calls nest:
 * none from here, so depth 0 and no pc expected, 1), returning the next
 * entry; the budget left is at JIT_BUDGET. The code page is at JIT_PAGE_VA /
 * JIT_DECODED when it returns: a region that jumps to another page through the
 * fetch TLB leaves the new page there. A region chains to the next with the
 * same call (src/jit/emit.ts), so one function serves both, and calls another
 * with it when the guest calls (src/jit/gen.ts, nestedCall).
 */
type Translated = (ip: u32, n: i32, pageVA: u32, decoded: u32, depth: u32, expect: u32) => u32;

/**
 * Runs instructions from `ip` while they take their common path. Returns the ip
 * of the first instruction it could not finish (not counted), or — when the
 * budget ran out at a control transfer — the ip of the next one.
 */
export function fastLoop(ip: u32, n: i32): u32 {
  while (true) {
    const w = load<u32>(ip);
    switch (w & 0xff) {
      case O.OP_NOP: case O.OP_FENCE: case O.OP_FENCE_I: { n--; ip = NEXT(ip, w); continue; }

      case O.OP_ADDI: { SETX(RD(w), X(RS1(w)) + <u32>IMM(ip)); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SLTI: { SETX(RD(w), A.slt(X(RS1(w)), <u32>IMM(ip))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SLTIU: { SETX(RD(w), A.sltu(X(RS1(w)), <u32>IMM(ip))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_XORI: { SETX(RD(w), X(RS1(w)) ^ <u32>IMM(ip)); n--; ip = NEXT(ip, w); continue; }
      case O.OP_ORI: { SETX(RD(w), X(RS1(w)) | <u32>IMM(ip)); n--; ip = NEXT(ip, w); continue; }
      case O.OP_ANDI: { SETX(RD(w), X(RS1(w)) & <u32>IMM(ip)); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SLLI: { SETX(RD(w), A.sll(X(RS1(w)), <u32>IMM(ip))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SRLI: { SETX(RD(w), A.srl(X(RS1(w)), <u32>IMM(ip))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SRAI: { SETX(RD(w), A.sra(X(RS1(w)), <u32>IMM(ip))); n--; ip = NEXT(ip, w); continue; }
      // LUI: "places the U-immediate value in the top 20 bits of rd, filling the lowest 12 bits with zeros"
      case O.OP_LUI: { SETX(RD(w), <u32>IMM(ip)); n--; ip = NEXT(ip, w); continue; }
      // AUIPC: "adds this offset to the address of the AUIPC instruction"
      case O.OP_AUIPC: { SETX(RD(w), pcOf(ip) + <u32>IMM(ip)); n--; ip = NEXT(ip, w); continue; }

      case O.OP_ADD: { SETX(RD(w), A.add(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SUB: { SETX(RD(w), A.sub(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SLL: { SETX(RD(w), A.sll(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SLT: { SETX(RD(w), A.slt(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SLTU: { SETX(RD(w), A.sltu(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_XOR: { SETX(RD(w), X(RS1(w)) ^ X(RS2(w))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SRL: { SETX(RD(w), A.srl(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_SRA: { SETX(RD(w), A.sra(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_OR: { SETX(RD(w), X(RS1(w)) | X(RS2(w))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_AND: { SETX(RD(w), X(RS1(w)) & X(RS2(w))); n--; ip = NEXT(ip, w); continue; }

      case O.OP_MUL: { SETX(RD(w), A.mul(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_MULH: { SETX(RD(w), A.mulh(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_MULHSU: { SETX(RD(w), A.mulhsu(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_MULHU: { SETX(RD(w), A.mulhu(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_DIV: { SETX(RD(w), A.div(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_DIVU: { SETX(RD(w), A.divu(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_REM: { SETX(RD(w), A.rem(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }
      case O.OP_REMU: { SETX(RD(w), A.remu(X(RS1(w)), X(RS2(w)))); n--; ip = NEXT(ip, w); continue; }

      // ---- Control transfer: the only places the budget is checked ----
      // JAL: "stores the address of the instruction following the jump (pc+4) into register rd"
      case O.OP_JAL_L: {
        SETX(RD(w), pcOf(NEXT(ip, w))); n--;
        const d = IMM(ip); ip += d;
        if (((d < 0 || RD(w) == 4 || countsEverywhere()) && becameHot(ip)) || n <= 0) break; // a loop or a call (rd = ra)
        continue;
      }
      // Translated code runs until it leaves its region or needs the slow step.
      case O.OP_JIT: {
        const next = changetype<Translated>(ip + 4)(ip, n, pageVA, decoded, 0, 1) // ip + 4 holds the table index: a function reference;
        const left = load<i32>(JIT_BUDGET);
        store<u64>(JIT_RETIRED, load<u64>(JIT_RETIRED) + <u64>(n - left));
        if (left == n) break; // no progress: its first instruction needs the slow step
        n = left; ip = next;
        pageVA = load<u32>(JIT_PAGE_VA);
        decoded = load<u32>(JIT_DECODED);
        // Where it left to by a jump or call counts as an arrival: code that only translated code calls gets hot too.
        if (n <= 0 || ((countsEverywhere() || load<u32>(JIT_EXIT_TRANSFER) != 0) && becameHot(ip))) break;
        continue;
      }
      case O.OP_BEQ_L: { n--; if (X(RS1(w)) == X(RS2(w))) { const d = IMM(ip); ip += d; if (d < 0 && becameHot(ip)) break; } else ip = NEXT(ip, w); if (n <= 0) break; continue; }
      case O.OP_BNE_L: { n--; if (X(RS1(w)) != X(RS2(w))) { const d = IMM(ip); ip += d; if (d < 0 && becameHot(ip)) break; } else ip = NEXT(ip, w); if (n <= 0) break; continue; }
      case O.OP_BLT_L: { n--; if (A.lt(X(RS1(w)), X(RS2(w)))) { const d = IMM(ip); ip += d; if (d < 0 && becameHot(ip)) break; } else ip = NEXT(ip, w); if (n <= 0) break; continue; }
      case O.OP_BGE_L: { n--; if (A.ge(X(RS1(w)), X(RS2(w)))) { const d = IMM(ip); ip += d; if (d < 0 && becameHot(ip)) break; } else ip = NEXT(ip, w); if (n <= 0) break; continue; }
      case O.OP_BLTU_L: { n--; if (X(RS1(w)) < X(RS2(w))) { const d = IMM(ip); ip += d; if (d < 0 && becameHot(ip)) break; } else ip = NEXT(ip, w); if (n <= 0) break; continue; }
      case O.OP_BGEU_L: { n--; if (X(RS1(w)) >= X(RS2(w))) { const d = IMM(ip); ip += d; if (d < 0 && becameHot(ip)) break; } else ip = NEXT(ip, w); if (n <= 0) break; continue; }
      case O.OP_JAL_F: {
        const t = pcOf(ip) + <u32>IMM(ip);
        const j = tlbIndex(t);
        if (load<u32>(j, TLB_FETCH) != (t & 0xfffff000)) break;
        SETX(RD(w), pcOf(NEXT(ip, w)));
        decoded = load<u32>(j, TLB_FETCH + 4); pageVA = t & 0xfffff000; ip = decoded + ((t & 0xfff) << 2);
        n--; if (n <= 0 || ((RD(w) == 4 || countsEverywhere()) && becameHot(ip))) break; continue; // a call (rd = ra)
      }
      // JALR: "target address is obtained by adding the sign-extended 12-bit I-immediate to rs1, then setting the least-significant bit to zero"
      case O.OP_JALR: {
        const t = (X(RS1(w)) + <u32>IMM(ip)) & ~1;
        const j = tlbIndex(t);
        if (load<u32>(j, TLB_FETCH) != (t & 0xfffff000)) break;
        SETX(RD(w), pcOf(NEXT(ip, w)));
        decoded = load<u32>(j, TLB_FETCH + 4); pageVA = t & 0xfffff000; ip = decoded + ((t & 0xfff) << 2);
        n--; if (n <= 0 || ((RD(w) == 4 || countsEverywhere()) && becameHot(ip))) break; continue; // a call through a pointer
      }
      case O.OP_BEQ_F: case O.OP_BNE_F: case O.OP_BLT_F: case O.OP_BGE_F: case O.OP_BLTU_F: case O.OP_BGEU_F: {
        if (!farBranchTaken(w)) { n--; ip = NEXT(ip, w); if (n <= 0) break; continue; }
        const t = pcOf(ip) + <u32>IMM(ip);
        const j = tlbIndex(t);
        if (load<u32>(j, TLB_FETCH) != (t & 0xfffff000)) break;
        decoded = load<u32>(j, TLB_FETCH + 4); pageVA = t & 0xfffff000; ip = decoded + ((t & 0xfff) << 2);
        n--; if (n <= 0) break; continue;
      }

      // ---- Loads and stores on a TLB hit; the tag check also sends misaligned accesses to the slow step ----
      case O.OP_LW: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_READ) != (a & 0xfffff003)) break;
        SETX(RD(w), load<u32>(load<u32>(t, TLB_READ + 4) + a)); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_LH: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_READ) != (a & 0xfffff001)) break;
        SETX(RD(w), <u32><i32>load<i16>(load<u32>(t, TLB_READ + 4) + a)); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_LHU: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_READ) != (a & 0xfffff001)) break;
        SETX(RD(w), <u32>load<u16>(load<u32>(t, TLB_READ + 4) + a)); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_LB: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_READ) != (a & 0xfffff000)) break;
        SETX(RD(w), <u32><i32>load<i8>(load<u32>(t, TLB_READ + 4) + a)); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_LBU: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_READ) != (a & 0xfffff000)) break;
        SETX(RD(w), <u32>load<u8>(load<u32>(t, TLB_READ + 4) + a)); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_SW: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_WRITE) != (a & 0xfffff003)) break;
        store<u32>(load<u32>(t, TLB_WRITE + 4) + a, X(RS2(w))); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_SH: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_WRITE) != (a & 0xfffff001)) break;
        store<u16>(load<u32>(t, TLB_WRITE + 4) + a, <u16>X(RS2(w))); n--; ip = NEXT(ip, w); continue;
      }
      case O.OP_SB: {
        const a = X(RS1(w)) + <u32>IMM(ip);
        const t = tlbIndex(a);
        if (load<u32>(t, TLB_WRITE) != (a & 0xfffff000)) break;
        store<u8>(load<u32>(t, TLB_WRITE + 4) + a, <u8>X(RS2(w))); n--; ip = NEXT(ip, w); continue;
      }
      default: break; // everything else needs the slow step
    }
    break;
  }
  fastBudget = n;
  return ip;
}

/** Whether a branch to another page (OP_Bxx_F) is taken. */
@inline export function farBranchTaken(w: u32): bool {
  const a = X(RS1(w)), b = X(RS2(w));
  const op = w & 0xff;
  // BEQ/BNE: equal / not equal; BLT/BGE: signed; BLTU/BGEU: unsigned comparison
  return op == O.OP_BEQ_F ? a == b : op == O.OP_BNE_F ? a != b : op == O.OP_BLT_F ? A.lt(a, b) :
    op == O.OP_BGE_F ? A.ge(a, b) : op == O.OP_BLTU_F ? a < b : a >= b;
}
