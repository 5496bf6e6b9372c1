/*
 * priv-csr: CSR instructions and CSR access rules.
 *
 * - csrrw/csrrs/csrrc and the immediate forms: old value returned, new
 *   value written, rd == rs1, uimm up to 31;
 * - csrrs/csrrc with rs1 = x0 and csrrsi/csrrci with uimm = 0 do not write
 *   (so they are legal on read-only CSRs); csrrw/csrrwi always write;
 * - writing a read-only CSR (mhartid, mvendorid, cycle, instret, time)
 *   raises illegal instruction with mtval = the instruction bits; so do
 *   unimplemented CSR numbers;
 * - privilege: S-mode touching M CSRs and U-mode touching S/M CSRs raise
 *   illegal instruction; satp under mstatus.TVM;
 * - misa (RV32, I M A C S U), mhartid = 0, mvendorid/marchid/mimpid readable;
 * - sstatus/sie/sip as restricted views of mstatus/mie/mip (mideleg);
 * - counters: mcycle/minstret advance (minstret exactly by retired
 *   instructions), cycle/instret/time user aliases, the high halves, and
 *   mcounteren/scounteren gating S- and U-mode reads;
 * - satp (Sv32 mode field), mtvec/stvec/mscratch/sscratch/mtval/stval R/W.
 *
 * Test cases: 1..78
 */
#include "test.h"

/* `insn` (labelled 8:) in mode mpp must raise illegal instruction with
 * mtval = enc and must not write rd (a0 preset to 0x5555). */
#define TEST_ILLEGAL_IN(n, mpp, enc, insn...) \
    TEST_START(n) ; \
    li a0, 0x5555 ; \
    ARM_TRAP(9f) ; \
    GOTO_MODE(mpp, 8f) ; \
8:  insn ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_ILLEGAL_INSTRUCTION) ; \
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b) ; \
    CHECK_TRAP_FIELD(TA_TVAL, enc) ; \
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP, mpp) ; \
    CHECK(a0, 0x5555)

/* `insn` in mode mpp must NOT trap; it runs, then ecall returns to M.
 * Afterwards the mode's ecall cause is checked. */
#define TEST_LEGAL_IN(n, mpp, ecall_cause, insn...) \
    TEST_START(n) ; \
    ARM_TRAP(9f) ; \
    GOTO_MODE(mpp, 8f) ; \
8:  insn ; \
    ecall ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, ecall_cause)

    TEST_BEGIN

    /* ---------------- CSR instruction semantics (mscratch) ---------------- */
    TEST_START(1)                   /* csrrw: returns old, writes new */
    li a1, 0x12345678
    csrw mscratch, a1
    li a2, 0x9abcdef0
    csrrw a0, mscratch, a2
    CHECK(a0, 0x12345678)
    csrr a0, mscratch
    CHECK(a0, 0x9abcdef0)
    TEST_START(2)                   /* csrrs: sets bits */
    li a2, 0x0000000f
    csrrs a0, mscratch, a2
    CHECK(a0, 0x9abcdef0)
    csrr a0, mscratch
    CHECK(a0, 0x9abcdeff)
    TEST_START(3)                   /* csrrc: clears bits */
    li a2, 0xf0000001
    csrrc a0, mscratch, a2
    CHECK(a0, 0x9abcdeff)
    csrr a0, mscratch
    CHECK(a0, 0x0abcdefe)
    TEST_START(4)                   /* csrrwi: zero-extended 5-bit immediate */
    csrrwi a0, mscratch, 31
    CHECK(a0, 0x0abcdefe)
    csrr a0, mscratch
    CHECK(a0, 31)
    TEST_START(5)                   /* csrrci */
    csrrci a0, mscratch, 0x11
    CHECK(a0, 31)
    csrr a0, mscratch
    CHECK(a0, 0x0e)
    TEST_START(6)                   /* csrrsi */
    csrrsi a0, mscratch, 0x10
    CHECK(a0, 0x0e)
    csrr a0, mscratch
    CHECK(a0, 0x1e)
    TEST_START(7)                   /* csrrw with rd == rs1: a swap */
    li a0, -1
    csrrw a0, mscratch, a0
    CHECK(a0, 0x1e)
    csrr a0, mscratch
    CHECK(a0, -1)
    TEST_START(8)                   /* csrrs/csrrc with rs1 = x0: read only */
    csrrs a0, mscratch, x0
    csrrc a1, mscratch, x0
    csrrsi a2, mscratch, 0
    csrrci a3, mscratch, 0
    CHECK(a0, -1)
    CHECK(a1, -1)
    CHECK(a2, -1)
    CHECK(a3, -1)
    csrr a0, mscratch
    CHECK(a0, -1)
    TEST_START(9)                   /* rd = x0: still writes */
    li a1, 0x600d
    csrrw x0, mscratch, a1
    csrr a0, mscratch
    CHECK(a0, 0x600d)
    CHECK(x0, 0)
    TEST_START(10)                  /* csrrwi with uimm 0 writes zero */
    csrrwi x0, mscratch, 0
    csrr a0, mscratch
    CHECK(a0, 0)

    /* ---------------- read-only and unimplemented CSRs ---------------- */
    TEST_START(11)                  /* reads of read-only CSRs with x0 / uimm 0 */
    li a0, -1
    csrrs a0, mhartid, x0
    CHECK(a0, 0)
    li a1, -1
    csrrsi a1, mhartid, 0
    CHECK(a1, 0)
    csrrc a2, mvendorid, x0
    csrrci a3, marchid, 0
    csrr a4, mimpid
    csrrs a5, cycle, x0
    csrrc a6, instret, x0
    csrrsi a7, cycleh, 0
    TEST_EXC(12, CAUSE_ILLEGAL_INSTRUCTION, 0xf1401073, 8: csrw mhartid, x0)
    TEST_EXC(13, CAUSE_ILLEGAL_INSTRUCTION, 0xf1405073, 8: csrwi mhartid, 0)
    TEST_EXC(14, CAUSE_ILLEGAL_INSTRUCTION, 0xf1159573, 8: csrrw a0, mvendorid, a1)
    TEST_EXC(15, CAUSE_ILLEGAL_INSTRUCTION, 0xc0029073, 8: csrw cycle, t0)
    TEST_EXC(16, CAUSE_ILLEGAL_INSTRUCTION, 0xc0216073, 8: csrsi instret, 2)
    TEST_EXC(17, CAUSE_ILLEGAL_INSTRUCTION, 0xc0129073, 8: csrw time, t0)
    TEST_EXC(18, CAUSE_ILLEGAL_INSTRUCTION, 0xc8029073, 8: csrw cycleh, t0)
    TEST_EXC(19, CAUSE_ILLEGAL_INSTRUCTION, 0x0ff02573, 8: csrr a0, 0x0ff)
    TEST_EXC(20, CAUSE_ILLEGAL_INSTRUCTION, 0x7c002573, 8: csrr a0, 0x7c0)
    TEST_EXC(21, CAUSE_ILLEGAL_INSTRUCTION, 0x5ff02573, 8: csrr a0, 0x5ff)
    TEST_EXC(22, CAUSE_ILLEGAL_INSTRUCTION, 0xcff02573, 8: csrr a0, 0xcff)
    TEST_START(23)                  /* a trapping CSR instruction writes no rd */
    li a0, 0x1234
    ARM_TRAP(1f)
    csrrw a0, mhartid, a1
    j fail
1:  CHECK(a0, 0x1234)

    /* ---------------- identification ---------------- */
    TEST_START(24)                  /* misa: MXL = 1 (RV32) */
    csrr a0, misa
    srli a1, a0, 30
    CHECK(a1, 1)
    TEST_START(25)                  /* misa: I M A C S U */
    CHECK_MASK(a0, 0x00141105, 0x00141105)
    TEST_START(26)                  /* misa: not E */
    CHECK_MASK(a0, 0x10, 0)
    TEST_START(27)
    li a0, -1
    csrr a0, mhartid
    CHECK(a0, 0)

    /* ---------------- privilege rules ---------------- */
    TEST_ILLEGAL_IN(28, MPP_S, 0x30002573, csrr a0, mstatus)
    TEST_ILLEGAL_IN(29, MPP_S, 0x34059573, csrrw a0, mscratch, a1)
    TEST_ILLEGAL_IN(30, MPP_S, 0xf1402573, csrr a0, mhartid)
    TEST_ILLEGAL_IN(31, MPP_S, 0x30202573, csrr a0, medeleg)
    TEST_ILLEGAL_IN(32, MPP_S, 0x30502573, csrr a0, mtvec)
    TEST_ILLEGAL_IN(33, MPP_S, 0xb0002573, csrr a0, mcycle)
    TEST_ILLEGAL_IN(34, MPP_U, 0x10002573, csrr a0, sstatus)
    TEST_ILLEGAL_IN(35, MPP_U, 0x14059573, csrrw a0, sscratch, a1)
    TEST_ILLEGAL_IN(36, MPP_U, 0x18002573, csrr a0, satp)
    TEST_ILLEGAL_IN(37, MPP_U, 0x34002573, csrr a0, mscratch)
    TEST_ILLEGAL_IN(38, MPP_U, 0x30102573, csrr a0, misa)
    TEST_LEGAL_IN(39, MPP_S, CAUSE_SUPERVISOR_ECALL, csrw sscratch, a1 ; csrr a0, sstatus ; csrr a0, satp)
    TEST_START(40)                  /* S-mode CSRs really are read/write from S */
    li a1, 0x13572468
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  csrw sscratch, a1
    li a2, 0x80004000
    csrw sepc, a2
    la a3, s_trap_entry
    csrw stvec, a3
    li a4, 0x0000000d
    csrw scause, a4
    li a5, 0x87654321
    csrw stval, a5
    ecall
    j fail
9:  csrr a0, sscratch
    CHECK(a0, 0x13572468)
    csrr a0, sepc
    CHECK(a0, 0x80004000)
    csrr a0, stvec
    CHECK_ADDR(a0, s_trap_entry)
    csrr a0, scause
    CHECK(a0, 0x0000000d)
    csrr a0, stval
    CHECK(a0, 0x87654321)

    /* ---------------- sstatus / sie / sip views ---------------- */
    TEST_START(41)                  /* sstatus.SIE/SPIE/SPP/SUM/MXR are mstatus bits */
    csrw mstatus, zero
    li t0, SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR
    csrs sstatus, t0
    csrr a0, mstatus
    csrw mstatus, zero
    CHECK_MASK(a0, SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR, SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR)
    TEST_START(42)                  /* sstatus cannot reach M-only bits */
    li t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
    csrs sstatus, t0
    csrr a0, mstatus
    csrr a1, sstatus
    csrw mstatus, zero
    CHECK_MASK(a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR, 0)
    TEST_START(43)                  /* sstatus does not show M-only bits */
    li t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM
    csrs mstatus, t0
    csrr a1, sstatus
    csrw mstatus, zero
    CHECK_MASK(a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM, 0)
    TEST_START(44)                  /* mstatus bits read back */
    li t0, MSTATUS_MPIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MPP_S
    csrw mstatus, t0
    csrr a0, mstatus
    csrw mstatus, zero
    CHECK_MASK(a0, 0x007e19aa, MSTATUS_MPIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MPP_S)
    TEST_START(45)                  /* mie: all six standard enables writable */
    li t0, -1
    csrw mie, t0
    csrr a0, mie
    csrw mie, zero
    CHECK_MASK(a0, 0xaaa, 0xaaa)
    TEST_START(46)                  /* sie with nothing delegated: read-only zero */
    csrw mideleg, zero
    li t0, -1
    csrw sie, t0
    csrr a0, sie
    csrr a1, mie
    CHECK(a0, 0)
    CHECK_MASK(a1, 0xaaa, 0)
    TEST_START(47)                  /* sie with S interrupts delegated */
    li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw mideleg, t0
    li t0, -1
    csrw sie, t0
    csrr a0, sie
    csrr a1, mie
    csrw mie, zero
    CHECK_MASK(a0, 0xaaa, 0x222)
    CHECK_MASK(a1, 0xaaa, 0x222)
    TEST_START(48)                  /* sie never shows M enables */
    li t0, MIP_MTIP | MIP_MSIP | MIP_MEIP
    csrw mie, t0
    csrr a0, sie
    csrw mie, zero
    CHECK_MASK(a0, 0xaaa, 0)
    TEST_START(49)                  /* mip.STIP written by M shows in sip when delegated */
    li t0, MIP_STIP
    csrs mip, t0
    csrr a0, sip
    csrr a1, mip
    csrc mip, t0
    csrr a2, mip
    CHECK_MASK(a0, MIP_STIP, MIP_STIP)
    CHECK_MASK(a1, MIP_STIP, MIP_STIP)
    CHECK_MASK(a2, MIP_STIP, 0)
    TEST_START(50)                  /* sip.SSIP is writable through sip */
    csrsi sip, MIP_SSIP
    csrr a0, mip
    csrci sip, MIP_SSIP
    csrr a1, mip
    CHECK_MASK(a0, MIP_SSIP, MIP_SSIP)
    CHECK_MASK(a1, MIP_SSIP, 0)
    TEST_START(51)                  /* sip with nothing delegated reads zero */
    li t0, MIP_STIP | MIP_SSIP
    csrs mip, t0
    csrw mideleg, zero
    csrr a0, sip
    csrc mip, t0
    CHECK_MASK(a0, 0x222, 0)

    /* ---------------- counters ---------------- */
    TEST_START(52)                  /* mcycle advances */
    csrr a0, mcycle
    nop
    nop
    csrr a1, mcycle
    sub a2, a1, a0
    CHECK_GT0(a2)
    CHECK_MASK(a2, 0x80000000, 0)
    TEST_START(53)                  /* minstret: back-to-back reads */
    csrr a0, minstret
    csrr a1, minstret
    sub a2, a1, a0
#if QUIRK_EXACT_INSTRET
    CHECK(a2, 1)
#else
    CHECK_GT0(a2)
#endif
    TEST_START(54)                  /* minstret: 10 instructions in between */
    csrr a0, minstret
    .rept 10
    nop
    .endr
    csrr a1, minstret
    sub a2, a1, a0
#if QUIRK_EXACT_INSTRET
    CHECK(a2, 11)
#else
    CHECK_GT0(a2)
#endif
    TEST_START(55)                  /* minstret counts a loop: 3 * 100 + setup */
    li a3, 100
    csrr a0, minstret
1:  addi a3, a3, -1
    nop
    bnez a3, 1b
    csrr a1, minstret
    sub a2, a1, a0
#if QUIRK_EXACT_INSTRET
    CHECK(a2, 301)
#else
    CHECK_GT0(a2)
#endif
    TEST_START(56)                  /* minstret is writable */
    li t0, 1000
    csrw minstret, t0
    csrr a0, minstret
#if QUIRK_EXACT_INSTRET
    addi a0, a0, -1000
    sltiu a0, a0, 2                 /* 1000 or 1001 */
    CHECK(a0, 1)
#else
    li t0, 1000
    .if cur_test == BREAK_TEST ; bgeu a0, t0, fail ; .else ; bltu a0, t0, fail ; .endif
#endif
    TEST_START(57)                  /* a trapping ecall does not retire */
#if QUIRK_EXACT_INSTRET
    /* expected delta: the first csrr (1) + every
     * instruction of m_trap_entry up to and including its mret (the
     * exception path is straight-line, 4-byte instructions) */
    la a3, m_trap_resume_mret
    la a4, m_trap_entry
    sub a3, a3, a4
    srli a3, a3, 2
    addi a3, a3, 2
    ARM_TRAP(1f)
    csrr a0, minstret
    ecall
    j fail
1:  csrr a1, minstret
    sub a2, a1, a0
    CHECK_REG(a2, a3)
#else
    QEMU_UNCHECKED(57)
#endif
    TEST_START(58)                  /* cycle/instret aliases track mcycle/minstret */
    csrr a0, minstret
    csrr a1, instret
    sub a2, a1, a0
#if QUIRK_EXACT_INSTRET
    CHECK(a2, 1)
#else
    CHECK_GT0(a2)
#endif
    csrr a0, mcycle
    csrr a1, cycle
    sub a2, a1, a0
    .if cur_test == BREAK_TEST ; bgez a2, fail ; .else ; bltz a2, fail ; .endif
    TEST_START(59)                  /* high halves: minstreth/mcycleh consistent */
    csrw minstret, zero
    csrw minstreth, zero
    csrr a0, minstreth
    csrr a1, instreth
    CHECK(a0, 0)
    CHECK(a1, 0)
    li t0, -1
    csrw mcycleh, t0
    csrr a0, mcycleh
    csrr a1, cycleh
    CHECK(a0, -1)
    CHECK(a1, -1)
    csrw mcycleh, zero
    TEST_START(60)                  /* minstret carries into minstreth */
#if QUIRK_EXACT_INSTRET               /* (QEMU 7.2 keeps the halves apart) */
    li t0, -1
    csrw minstret, t0
    nop
    nop
    csrr a0, minstreth
    CHECK(a0, 1)
    csrw minstreth, zero
#else
    QEMU_UNCHECKED(60)
#endif
#if QUIRK_HAS_TIME_CSR
    TEST_START(61)                  /* time reads CLINT mtime */
    READ_MTIME(a1, a0)
    csrr a2, time
    csrr a3, timeh
    READ_MTIME(a5, a4)
    bltu a2, a0, fail
    bltu a4, a2, fail
    CHECK_REG(a3, a5)
#else
    TEST_EXC(61, CAUSE_ILLEGAL_INSTRUCTION, 0xc0102573, 8: csrr a0, time)
#endif

    /* ---------------- counter enables ---------------- */
    csrw mcounteren, zero
    csrw scounteren, zero
    TEST_ILLEGAL_IN(62, MPP_S, 0xc0002573, csrr a0, cycle)
    TEST_ILLEGAL_IN(63, MPP_S, 0xc0202573, csrr a0, instret)
    TEST_ILLEGAL_IN(64, MPP_S, 0xc0102573, csrr a0, time)
    TEST_ILLEGAL_IN(65, MPP_U, 0xc0002573, csrr a0, cycle)
    TEST_ILLEGAL_IN(66, MPP_U, 0xc0202573, csrr a0, instret)
    TEST_ILLEGAL_IN(67, MPP_U, 0xc0102573, csrr a0, time)
    li t0, 7                        /* CY TM IR for S */
    csrw mcounteren, t0
    TEST_LEGAL_IN(68, MPP_S, CAUSE_SUPERVISOR_ECALL, csrr a0, cycle ; csrr a0, instret ; csrr a0, cycleh ; csrr a0, instreth)
    TEST_ILLEGAL_IN(69, MPP_U, 0xc0002573, csrr a0, cycle)
    TEST_ILLEGAL_IN(70, MPP_U, 0xc8202573, csrr a0, instreth)
    li t0, 5                        /* CY IR for U as well */
    csrw scounteren, t0
    TEST_LEGAL_IN(71, MPP_U, CAUSE_USER_ECALL, csrr a0, cycle ; csrr a0, instret ; csrr a0, cycleh)
    TEST_ILLEGAL_IN(72, MPP_U, 0xc0102573, csrr a0, time)   /* TM still clear in scounteren */
    li t0, 1                        /* only CY in mcounteren */
    csrw mcounteren, t0
    TEST_ILLEGAL_IN(73, MPP_U, 0xc0202573, csrr a0, instret)
    TEST_ILLEGAL_IN(74, MPP_S, 0xc0202573, csrr a0, instret)
#if QUIRK_HAS_TIME_CSR
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, t0
    TEST_LEGAL_IN(75, MPP_U, CAUSE_USER_ECALL, csrr a0, time ; csrr a0, timeh)
#else
    TEST_START(75)
    QEMU_UNCHECKED(75)
#endif
    csrw mcounteren, zero
    csrw scounteren, zero

    /* ---------------- satp, trap vector and scratch registers ---------------- */
    TEST_START(76)                  /* satp: Sv32 mode + PPN read back (from M) */
    li t0, SATP_MODE_SV32 | 0x00080123
    csrw satp, t0
    csrr a0, satp
    csrw satp, zero
    sfence.vma
    CHECK(a0, SATP_MODE_SV32 | 0x00080123)
    TEST_START(77)                  /* mtvec direct mode, 4-byte aligned base */
    la t0, m_trap_entry
    csrr a1, mtvec
    li t1, 0x80000200
    csrw mtvec, t1
    csrr a0, mtvec
    csrw mtvec, t0
    CHECK(a0, 0x80000200)
    CHECK_REG(a1, t0)
    TEST_START(78)                  /* mtval / stval hold any value */
    li t0, 0xfedcba98
    csrw mtval, t0
    csrr a0, mtval
    li t0, 0x01234567
    csrw stval, t0
    csrr a1, stval
    CHECK(a0, 0xfedcba98)
    CHECK(a1, 0x01234567)

    TEST_END
