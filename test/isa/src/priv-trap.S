/*
 * priv-trap: exceptions, trap entry/return and delegation (M/S/U).
 *
 * - illegal instructions (reserved opcodes and funct fields, RV64-only
 *   encodings, F-extension, 16-bit 0x0000): mcause 2, mepc, mtval = the
 *   instruction bits (0 for 0x0000), rd not written;
 * - ecall from M/S/U (11/9/8, mtval 0), ebreak from M/S/U (3);
 * - mret/sret/wfi/sfence.vma/satp in modes that may not use them, incl.
 *   mstatus.TSR / TW / TVM;
 * - mret/sret restoring MIE/SIE from MPIE/SPIE, setting MPIE/SPIE, resetting
 *   MPP/SPP to U, clearing MPRV when returning below M; sret from M-mode;
 * - trap entry saving MIE/SIE into MPIE/SPIE and the previous mode into
 *   MPP/SPP;
 * - medeleg delegation to S (stvec, scause, sepc, stval, SPP) and traps
 *   from M never being delegated; medeleg/mideleg writable bits;
 * - vectored mtvec/stvec: exceptions still go to the base address;
 * - mepc/sepc alignment (bit 0 reads as zero, bit 1 writable).
 *
 * Test cases: 1..56
 */
#include "test.h"

/* Run `insn` (labelled 8:) in privilege mode `mpp`; expect an M-mode trap
 * with the given cause and mtval, mepc = 8:, mstatus.MPP = mpp. */
#define TEST_MTRAP_IN(n, mpp, cause, tval, insn...) \
    TEST_START(n) ; \
    ARM_TRAP(9f) ; \
    GOTO_MODE(mpp, 8f) ; \
8:  insn ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, cause) ; \
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b) ; \
    CHECK_TRAP_FIELD(TA_TVAL, tval) ; \
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP, mpp)

/* Run `insn` (labelled 8:) in mode `mpp` with the exception delegated: the
 * S handler must see it (scause, sepc = 8:, stval, SPP = spp) and no M trap
 * may happen until the S code's ecall (cause 9) brings us back to M. */
#define TEST_STRAP_IN(n, mpp, spp, cause, tval, insn...) \
    TEST_START(n) ; \
    RESET_TRAP_COUNTS ; \
    ARM_STRAP(7f) ; \
    ARM_TRAP(9f) ; \
    GOTO_MODE(mpp, 8f) ; \
8:  insn ; \
    j fail ; \
7:  ecall ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL) ; \
    CHECK_TRAP_FIELD(TA_COUNT, 1) ; \
    CHECK_TRAP_FIELD(ST_COUNT, 1) ; \
    CHECK_TRAP_FIELD(ST_CAUSE, cause) ; \
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b) ; \
    CHECK_TRAP_FIELD(ST_TVAL, tval) ; \
    CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP, spp)

    TEST_BEGIN
    la t0, s_trap_entry
    csrw stvec, t0

    /* ---------------- illegal instructions (M-mode) ---------------- */
    TEST_EXC(1, CAUSE_ILLEGAL_INSTRUCTION, 0xdeadc06b, 8: .word 0xdeadc06b)  /* reserved opcode */
    TEST_EXC(2, CAUSE_ILLEGAL_INSTRUCTION, 0x02051513, 8: .word 0x02051513)  /* slli a0,a0,32 (RV64 only) */
    TEST_EXC(3, CAUSE_ILLEGAL_INSTRUCTION, 0x04b50533, 8: .word 0x04b50533)  /* OP with funct7 = 2 */
    TEST_EXC(4, CAUSE_ILLEGAL_INSTRUCTION, 0x0005b503, 8: .word 0x0005b503)  /* ld (RV64 only) */
    TEST_EXC(5, CAUSE_ILLEGAL_INSTRUCTION, 0x00b53023, 8: .word 0x00b53023)  /* sd (RV64 only) */
    TEST_EXC(6, CAUSE_ILLEGAL_INSTRUCTION, 0x00b52063, 8: .word 0x00b52063)  /* branch funct3 = 2 */
    TEST_EXC(7, CAUSE_ILLEGAL_INSTRUCTION, 0x000510e7, 8: .word 0x000510e7)  /* jalr funct3 = 1 */
    TEST_EXC(8, CAUSE_ILLEGAL_INSTRUCTION, 0x00052007, 8: .word 0x00052007)  /* flw (no F / FS off) */
    TEST_EXC(9, CAUSE_ILLEGAL_INSTRUCTION, 0, 8: .half 0x0000 ; .half 0x0000) /* 16-bit zero */
    TEST_EXC(10, CAUSE_ILLEGAL_INSTRUCTION, 0x00300073, 8: .word 0x00300073) /* SYSTEM funct12 = 3 */
    TEST_START(11)                  /* a trapping instruction does not write rd */
    li a0, 0x1234
    ARM_TRAP(1f)
    .word 0x02051513                /* slli a0, a0, 32 */
    j fail
1:  CHECK(a0, 0x1234)

    /* ---------------- ecall / ebreak ---------------- */
    TEST_MTRAP_IN(12, MPP_M, CAUSE_MACHINE_ECALL, 0, ecall)
    TEST_MTRAP_IN(13, MPP_S, CAUSE_SUPERVISOR_ECALL, 0, ecall)
    TEST_MTRAP_IN(14, MPP_U, CAUSE_USER_ECALL, 0, ecall)
    /* ebreak: mtval may be 0 or the pc (QEMU 7.2 and Roam: 0) */
    TEST_START(15)
    ARM_TRAP(9f)
8:  ebreak
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_BREAKPOINT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD_ZERO_OR_ADDR(TA_TVAL, 8b)
    TEST_START(16)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  ebreak
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_BREAKPOINT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD_ZERO_OR_ADDR(TA_TVAL, 8b)
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP, MPP_U)
    TEST_START(17)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  ebreak
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_BREAKPOINT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD_ZERO_OR_ADDR(TA_TVAL, 8b)
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP, MPP_S)

    /* ---------------- privileged instructions in lower modes ---------------- */
    TEST_MTRAP_IN(18, MPP_U, CAUSE_ILLEGAL_INSTRUCTION, 0x30200073, mret)
    TEST_MTRAP_IN(19, MPP_S, CAUSE_ILLEGAL_INSTRUCTION, 0x30200073, mret)
    TEST_MTRAP_IN(20, MPP_U, CAUSE_ILLEGAL_INSTRUCTION, 0x10200073, sret)
    TEST_MTRAP_IN(21, MPP_U, CAUSE_ILLEGAL_INSTRUCTION, 0x10500073, wfi)
    TEST_MTRAP_IN(22, MPP_U, CAUSE_ILLEGAL_INSTRUCTION, 0x12000073, sfence.vma)
    li t0, MSTATUS_TSR
    csrs mstatus, t0
    TEST_MTRAP_IN(23, MPP_S, CAUSE_ILLEGAL_INSTRUCTION, 0x10200073, sret)
    li t0, MSTATUS_TSR | MSTATUS_TW
    csrc mstatus, t0
    csrs mstatus, t0
    TEST_MTRAP_IN(24, MPP_S, CAUSE_ILLEGAL_INSTRUCTION, 0x10500073, wfi)
    li t0, MSTATUS_TSR | MSTATUS_TW
    csrc mstatus, t0
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    TEST_MTRAP_IN(25, MPP_S, CAUSE_ILLEGAL_INSTRUCTION, 0x12000073, sfence.vma)
    TEST_MTRAP_IN(26, MPP_S, CAUSE_ILLEGAL_INSTRUCTION, 0x18002573, csrr a0, satp)
    li t0, MSTATUS_TVM
    csrc mstatus, t0

    /* ---------------- mret ---------------- */
    TEST_START(27)                  /* MIE <- MPIE (0), MPIE <- 1, MPP <- U */
    li t0, MSTATUS_MPP | MSTATUS_MIE
    csrs mstatus, t0
    li t0, MSTATUS_MPIE
    csrc mstatus, t0
    la t0, 1f
    csrw mepc, t0
    mret
    j fail
1:  csrr a0, mstatus
    CHECK_MASK(a0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPIE)
    TEST_START(28)                  /* MIE <- MPIE (1) */
    li t0, MSTATUS_MPP | MSTATUS_MPIE
    csrs mstatus, t0
    li t0, MSTATUS_MIE
    csrc mstatus, t0
    la t0, 1f
    csrw mepc, t0
    mret
    j fail
1:  csrr a0, mstatus
    csrci mstatus, MSTATUS_MIE
    CHECK_MASK(a0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPIE | MSTATUS_MIE)
    TEST_START(29)                  /* mret to S with MPIE = 1: S runs with MIE = 1 */
    li t0, MSTATUS_MPIE
    csrs mstatus, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MPP_S | MSTATUS_MPIE)
    TEST_START(30)                  /* mret to U with MPIE = 0 */
    li t0, MSTATUS_MPIE
    csrc mstatus, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 1f)
1:  ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_USER_ECALL)
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MPP_U)
    TEST_START(31)                  /* mret below M clears MPRV */
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 1f)
1:  ecall
    j fail
#if QUIRK_XRET_CLEARS_MPRV
9:  CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPRV, 0)
#else
9:  CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPRV, MSTATUS_MPRV)
#endif
    TEST_START(32)                  /* mret to M keeps MPRV */
    li t0, MSTATUS_MPRV | MSTATUS_MPP
    csrs mstatus, t0
    la t0, 1f
    csrw mepc, t0
    mret
    j fail
1:  csrr a0, mstatus
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    CHECK_MASK(a0, MSTATUS_MPRV, MSTATUS_MPRV)
    TEST_START(33)                  /* mret jumps to mepc exactly */
    li a0, 0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    la t0, 2f
    csrw mepc, t0
    mret
1:  j fail
2:  li a0, 33
    CHECK(a0, 33)

    /* ---------------- sret ---------------- */
    TEST_START(34)                  /* S -> U: SIE <- SPIE (1), SPIE <- 1, SPP <- U */
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  li t0, SSTATUS_SPP | SSTATUS_SIE
    csrc sstatus, t0
    li t0, SSTATUS_SPIE
    csrs sstatus, t0
    la t0, 2f
    csrw sepc, t0
    sret
    j fail
2:  ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_USER_ECALL)
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP | SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE, MPP_U | SSTATUS_SPIE | SSTATUS_SIE)
    csrci mstatus, MSTATUS_SIE
    TEST_START(35)                  /* S -> S: SIE <- SPIE (0), SPIE <- 1, SPP <- U */
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  li t0, SSTATUS_SPP | SSTATUS_SIE
    csrs sstatus, t0
    li t0, SSTATUS_SPIE
    csrc sstatus, t0
    la t0, 2f
    csrw sepc, t0
    sret
    j fail
2:  csrr a0, sstatus
    ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK_MASK(a0, SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE, SSTATUS_SPIE)
    TEST_START(36)                  /* sret executed in M-mode goes to SPP */
    li t0, SSTATUS_SPP
    csrs mstatus, t0
    la t0, 1f
    csrw sepc, t0
    ARM_TRAP(9f)
    sret
    j fail
1:  ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 1b)

    /* ---------------- trap entry state ---------------- */
    TEST_START(37)                  /* M trap: MPIE <- MIE (1), MIE <- 0 */
    csrsi mstatus, MSTATUS_MIE
    ARM_TRAP(9f)
    ecall
    j fail
9:  CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MPP_M | MSTATUS_MPIE)
    TEST_START(38)                  /* M trap: MPIE <- MIE (0) */
    csrci mstatus, MSTATUS_MIE
    li t0, MSTATUS_MPIE
    csrs mstatus, t0
    ARM_TRAP(9f)
    ecall
    j fail
9:  CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPIE | MSTATUS_MIE, 0)

    /* ---------------- delegation with medeleg ---------------- */
    li t0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION) | (1 << CAUSE_BREAKPOINT)
    csrw medeleg, t0
    TEST_STRAP_IN(39, MPP_U, 0, CAUSE_USER_ECALL, 0, ecall)
    TEST_STRAP_IN(40, MPP_U, 0, CAUSE_ILLEGAL_INSTRUCTION, 0xdeadc06b, .word 0xdeadc06b)
    TEST_STRAP_IN(41, MPP_S, SSTATUS_SPP, CAUSE_ILLEGAL_INSTRUCTION, 0x30200073, mret)
    TEST_STRAP_IN(42, MPP_U, 0, CAUSE_ILLEGAL_INSTRUCTION, 0x10200073, sret)
    TEST_START(43)                  /* ebreak in S, delegated */
    RESET_TRAP_COUNTS
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  ebreak
    j fail
7:  ecall
    j fail
9:  CHECK_TRAP_FIELD(ST_COUNT, 1)
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_BREAKPOINT)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    CHECK_TRAP_FIELD_ZERO_OR_ADDR(ST_TVAL, 8b)
    CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP, SSTATUS_SPP)
    TEST_START(44)                  /* traps taken in M are never delegated */
    RESET_TRAP_COUNTS
    ARM_TRAP(9f)
8:  .word 0xdeadc06b
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_ILLEGAL_INSTRUCTION)
    CHECK_TRAP_FIELD(ST_COUNT, 0)
    TEST_START(45)                  /* delegated trap: SPIE <- SIE (1), SIE <- 0 */
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  csrsi sstatus, SSTATUS_SIE
8:  .word 0xdeadc06b
    j fail
7:  csrr a0, sstatus
    ecall
    j fail
9:  CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE, SSTATUS_SPP | SSTATUS_SPIE)
    CHECK_MASK(a0, SSTATUS_SIE, SSTATUS_SIE)   /* the handler's sret restored SIE */
    csrci mstatus, MSTATUS_SIE
    TEST_START(46)                  /* ecall from S delegated to S itself */
    li t0, 1 << CAUSE_SUPERVISOR_ECALL
    csrw medeleg, t0
    RESET_TRAP_COUNTS
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  ecall
    j fail
7:  .word 0xdeadc06b                /* back to M: illegal is not delegated now */
    j fail
9:  CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    CHECK_TRAP_FIELD(ST_COUNT, 1)
    csrw medeleg, zero
    TEST_START(47)                  /* medeleg / mideleg writable bits */
    li t0, -1
    csrw medeleg, t0
    csrw mideleg, t0
    csrr a0, medeleg
    csrr a1, mideleg
    csrw medeleg, zero
    csrw mideleg, zero
    CHECK_MASK(a0, 0xb30c, 0xb30c)       /* 2 3 8 9 12 13 15 */
    CHECK_MASK(a1, MIP_SSIP | MIP_STIP | MIP_SEIP, MIP_SSIP | MIP_STIP | MIP_SEIP)

    /* ---------------- vectored mtvec / stvec: exceptions use the base ---------------- */
    TEST_START(48)
    la t0, m_vectors + 1
    csrw mtvec, t0
    csrr a0, mtvec
    la t0, m_vectors + 1
    CHECK_REG(a0, t0)
    ARM_TRAP(9f)
8:  ecall
    j fail
9:  la t0, m_trap_entry
    csrw mtvec, t0
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_MACHINE_ECALL)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    la t1, vec_hits
    lw a0, 0(t1)
    CHECK_ADDR(a0, vec_hits)        /* entry 0 taken */
    lw a0, 4(t1)
    CHECK(a0, 0)                    /* nothing else */
    TEST_START(49)
    li t0, 1 << CAUSE_USER_ECALL
    csrw medeleg, t0
    la t0, s_vectors + 1
    csrw stvec, t0
    csrr a0, stvec
    la t0, s_vectors + 1
    CHECK_REG(a0, t0)
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  ecall
    j fail
7:  ecall
    j fail
9:  csrw medeleg, zero
    la t0, s_trap_entry
    csrw stvec, t0
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_USER_ECALL)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    la t1, vec_hits
    lw a0, 8(t1)
    CHECK_ADDR(a0, vec_hits + 8)    /* S entry 0 taken */
    lw a0, 12(t1)
    CHECK(a0, 0)

    /* ---------------- mepc / sepc alignment ---------------- */
    TEST_START(50)
    li t0, 0x80001003
    csrw mepc, t0
    csrr a0, mepc
#if QUIRK_XEPC_BIT0_CLEARED
    CHECK(a0, 0x80001002)
#else
    CHECK(a0, 0x80001003)
#endif
    TEST_START(51)
    li t0, 0x80001003
    csrw sepc, t0
    csrr a0, sepc
#if QUIRK_XEPC_BIT0_CLEARED
    CHECK(a0, 0x80001002)
#else
    CHECK(a0, 0x80001003)
#endif
    TEST_START(52)                  /* bit 1 is writable (IALIGN = 16) */
    li t0, 0x80001006
    csrw mepc, t0
    csrr a0, mepc
    CHECK(a0, 0x80001006)
    TEST_START(53)                  /* mret to an odd mepc lands on the even address */
#if QUIRK_XEPC_BIT0_CLEARED
    la t0, 1f + 1
#else
    la t0, 1f                       /* QEMU 7.2 would jump to the odd address */
#endif
    csrw mepc, t0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    mret
    j fail
1:  li a0, 53
    CHECK(a0, 53)

    /* ---------------- ecall after other traps reports mtval 0 ---------------- */
    TEST_START(54)
    ARM_TRAP(1f)
    .word 0xdeadc06b
    j fail
1:  CHECK_TRAP_FIELD(TA_TVAL, 0xdeadc06b)
    ARM_TRAP(9f)
    ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_TVAL, 0)
    TEST_START(55)                  /* sret below M clears MPRV too */
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    li t0, SSTATUS_SPP
    csrc mstatus, t0
    la t0, 1f
    csrw sepc, t0
    ARM_TRAP(9f)
    sret                            /* from M-mode, to U */
    j fail
1:  ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_USER_ECALL)
#if QUIRK_XRET_CLEARS_MPRV
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPRV, 0)
#else
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPRV, MSTATUS_MPRV)
#endif
    li t0, 1 << CAUSE_USER_ECALL    /* delegated ecall from U: stval 0 */
    csrw medeleg, t0
    TEST_STRAP_IN(56, MPP_U, 0, CAUSE_USER_ECALL, 0, ecall)
    csrw medeleg, zero

    TEST_END

    /* ---------------- vector tables ---------------- */
    .text
    .balign 256
m_vectors:
    j m_vec0
    .rept 15
    j m_vec_bad
    .endr
m_vec0:
    csrw mscratch, t0
    la t0, vec_hits
    sw t0, 0(t0)
    csrr t0, mscratch
    j m_trap_entry
m_vec_bad:
    csrw mscratch, t0
    la t0, vec_hits + 4
    sw t0, 0(t0)
    csrr t0, mscratch
    j m_trap_entry

    .balign 256
s_vectors:
    j s_vec0
    .rept 15
    j s_vec_bad
    .endr
s_vec0:
    csrw sscratch, t0
    la t0, vec_hits + 8
    sw t0, 0(t0)
    csrr t0, sscratch
    j s_trap_entry
s_vec_bad:
    csrw sscratch, t0
    la t0, vec_hits + 12
    sw t0, 0(t0)
    csrr t0, sscratch
    j s_trap_entry

    .data
    .balign 16
vec_hits:
    .word 0, 0, 0, 0
