/*
 * Roam bare-metal ISA tests: shared definitions, startup code, trap handlers
 * and test-case macros.
 *
 * Usage (every test/isa/src/*.S):
 *
 *     #include "test.h"
 *         TEST_BEGIN              // _start at 0x80000000, init, handlers
 *         TEST_RR_OP(1, add, 3, 1, 2)
 *         ...
 *         TEST_END                // reached only if every case passed
 *
 * Reporting (HTIF, as riscv-tests and QEMU's spike board do): the 64-bit
 * `tohost` word gets 1 on PASS and (N << 1) | 1 when test case N fails.  The
 * low word is written first, then the high word (0); the high-word write is
 * what the host acts on.  The program then keeps writing forever.
 *
 * Test numbers must be 1..254 and unique within a program (an assembler
 * check enforces both): process exit statuses are 8 bits, so a number of 256
 * would read as a pass.  255 is reserved for "failed before the first test
 * case" (gp == 0 at the time of failure).
 *
 * Register conventions inside test cases:
 *   gp (x3)      current test number (TESTNUM); never touch it in a case
 *   t0, t1       scratch for the macros below and the trap handlers' callers
 *   t2           expected value in checks
 *   a0..a7, s*   free for the case itself
 *   sp           points at a 4 KiB stack in .bss
 *
 * Trap handling.  mtvec points at m_trap_entry, which records mcause, mepc,
 * mtval, mstatus (as they were at trap entry) and a trap counter in
 * `trap_area`, then:
 *   - interrupt (mcause < 0): clears mie (one shot) and mrets to mepc;
 *   - exception with an armed resume address (ARM_TRAP): disarms it and
 *     resumes there in M-mode, with mstatus.MPRV and mstatus.MIE cleared;
 *   - exception with nothing armed: the current test fails.
 * s_trap_entry (install with `la t0, s_trap_entry; csrw stvec, t0`) does the
 * same for traps delegated to S-mode (resuming in S-mode; arm with
 * ARM_STRAP).  Both handlers clobber nothing but mscratch / sscratch.
 */
#ifndef ROAM_ISA_TEST_H
#define ROAM_ISA_TEST_H

/* ------------------------------------------------------------------ */
/* Architectural constants                                             */
/* ------------------------------------------------------------------ */

#define MSTATUS_SIE   0x00000002
#define MSTATUS_MIE   0x00000008
#define MSTATUS_SPIE  0x00000020
#define MSTATUS_MPIE  0x00000080
#define MSTATUS_SPP   0x00000100
#define MSTATUS_MPP   0x00001800
#define MSTATUS_MPRV  0x00020000
#define MSTATUS_SUM   0x00040000
#define MSTATUS_MXR   0x00080000
#define MSTATUS_TVM   0x00100000
#define MSTATUS_TW    0x00200000
#define MSTATUS_TSR   0x00400000

#define SSTATUS_SIE   MSTATUS_SIE
#define SSTATUS_SPIE  MSTATUS_SPIE
#define SSTATUS_SPP   MSTATUS_SPP
#define SSTATUS_SUM   MSTATUS_SUM
#define SSTATUS_MXR   MSTATUS_MXR

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3
#define MPP_U 0x00000000
#define MPP_S 0x00000800
#define MPP_M 0x00001800

#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

#define CAUSE_MISALIGNED_FETCH    0
#define CAUSE_FETCH_ACCESS        1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT          3
#define CAUSE_MISALIGNED_LOAD     4
#define CAUSE_LOAD_ACCESS         5
#define CAUSE_MISALIGNED_STORE    6
#define CAUSE_STORE_ACCESS        7
#define CAUSE_USER_ECALL          8
#define CAUSE_SUPERVISOR_ECALL    9
#define CAUSE_MACHINE_ECALL       11
#define CAUSE_FETCH_PAGE_FAULT    12
#define CAUSE_LOAD_PAGE_FAULT     13
#define CAUSE_STORE_PAGE_FAULT    15

#define CAUSE_INTERRUPT  0x80000000
#define IRQ_S_SOFT  1
#define IRQ_M_SOFT  3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7

#define PTE_V 0x001
#define PTE_R 0x002
#define PTE_W 0x004
#define PTE_X 0x008
#define PTE_U 0x010
#define PTE_G 0x020
#define PTE_A 0x040
#define PTE_D 0x080

#define SATP_MODE_SV32 0x80000000

/* CLINT, as laid out on QEMU's spike and virt boards (and Roam's). */
#define CLINT_BASE      0x02000000
#define CLINT_MSIP      0x02000000
#define CLINT_MTIMECMP  0x02004000
#define CLINT_MTIME     0x0200bff8

/* ------------------------------------------------------------------ */
/* Known QEMU 7.2 deviations                                           */
/* ------------------------------------------------------------------ */
/*
 * The committed binaries (build.sh) check the architecturally intended
 * behaviour that Roam implements.  QEMU 7.2 (our oracle) differs in a few
 * places; test/isa/qemu.sh also builds every program with -DQEMU_QUIRKS,
 * which swaps in QEMU's behaviour for exactly these checks, so everything
 * else is still validated against QEMU.
 *
 *  QUIRK_AMO_MISALIGNED_CAUSE  misaligned AMO: Store/AMO address misaligned
 *                              (6); QEMU 7.2 raises Load address misaligned (4).
 *  QUIRK_HAS_TIME_CSR          the time/timeh CSRs read CLINT mtime; on QEMU's
 *                              spike board they are illegal instructions.
 *  QUIRK_EXACT_INSTRET         minstret/instret advance by exactly one per
 *                              retired instruction; QEMU (without -icount)
 *                              advances them with host time.
 *  QUIRK_XEPC_BIT0_CLEARED     mepc/sepc bit 0 reads as zero after writing
 *                              an odd value; QEMU 7.2 keeps bit 0 (it only
 *                              drops it on xRET).
 *  QUIRK_XRET_CLEARS_MPRV      mret/sret to a mode below M clear
 *                              mstatus.MPRV (priv spec 1.12); QEMU 7.2 keeps it.
 */
#ifdef QEMU_QUIRKS
#define QUIRK_AMO_MISALIGNED_CAUSE CAUSE_MISALIGNED_LOAD
#define QUIRK_HAS_TIME_CSR 0
#define QUIRK_EXACT_INSTRET 0
#define QUIRK_XEPC_BIT0_CLEARED 0
#define QUIRK_XRET_CLEARS_MPRV 0
#else
#define QUIRK_AMO_MISALIGNED_CAUSE CAUSE_MISALIGNED_STORE
#define QUIRK_HAS_TIME_CSR 1
#define QUIRK_EXACT_INSTRET 1
#define QUIRK_XEPC_BIT0_CLEARED 1
#define QUIRK_XRET_CLEARS_MPRV 1
#endif

/* ------------------------------------------------------------------ */
/* trap_area layout (word offsets from the trap_area symbol)           */
/* ------------------------------------------------------------------ */

#define TA_RESUME   0   /* M: resume address for the next exception (0 = none) */
#define TA_CAUSE    4   /* M: mcause of the last trap                          */
#define TA_EPC      8   /* M: mepc                                             */
#define TA_TVAL    12   /* M: mtval                                            */
#define TA_STATUS  16   /* M: mstatus at trap entry                            */
#define TA_COUNT   20   /* M: number of traps taken by m_trap_entry            */
#define TA_SAVE    24   /* M: t1 save slot                                     */
#define ST_RESUME  32   /* S: same, for s_trap_entry                           */
#define ST_CAUSE   36
#define ST_EPC     40
#define ST_TVAL    44
#define ST_STATUS  48
#define ST_COUNT   52
#define ST_SAVE    56
#define TA_SIZE    64

/* ------------------------------------------------------------------ */
/* Test-case helpers                                                   */
/* ------------------------------------------------------------------ */

#define TESTNUM gp

/*
 * Mutation testing (test/isa/qemu.sh --mutate): building with -DBREAK_TEST=N
 * inverts every CHECK* of test case N, which must then make the program
 * report failure N.  This proves each case's checks can fail.
 */
#ifndef BREAK_TEST
#define BREAK_TEST 0
#endif
    .set cur_test, 0

/* Start test case n: range/uniqueness check (label test_n) and gp = n. */
#define TEST_START(n) \
test_ ## n: ; \
    .if ((n) < 1) || ((n) > 254) ; .error "test number must be 1..254" ; .endif ; \
    .set cur_test, n ; \
    li TESTNUM, n

/* Fail the current test unless reg == expected (uses t2). */
#define CHECK(reg, expected) \
    .if cur_test == BREAK_TEST ; \
    li t2, (expected) ^ 1 ; \
    .else ; \
    li t2, expected ; \
    .endif ; \
    bne reg, t2, fail

/* Fail the current test unless reg == address of label (uses t2). */
#define CHECK_ADDR(reg, label) \
    la t2, label ; \
    .if cur_test == BREAK_TEST ; \
    addi t2, t2, 4 ; \
    .endif ; \
    bne reg, t2, fail

/* Fail the current test unless reg > 0 (signed). */
#define CHECK_GT0(reg) \
    .if cur_test == BREAK_TEST ; \
    bgtz reg, fail ; \
    .else ; \
    blez reg, fail ; \
    .endif

/* Mark test case n as having no check in the -DQEMU_QUIRKS build (its
 * checks exist only in the strict build); qemu.sh --mutate skips it. */
#define QEMU_UNCHECKED(n) .set qemu_unchecked_ ## n, 1

/* Fail the current test unless reg1 == reg2. */
#define CHECK_REG(reg1, reg2) \
    .if cur_test == BREAK_TEST ; \
    xori t2, reg2, 1 ; \
    .else ; \
    mv t2, reg2 ; \
    .endif ; \
    bne reg1, t2, fail

/* Generic case: run `code...`, then expect reg == expected. */
#define TEST_CASE(n, reg, expected, code...) \
    TEST_START(n) ; \
    code ; \
    CHECK(reg, expected)

/* ---- register-register / register-immediate ALU ops ---- */

#define TEST_RR_OP(n, inst, result, v1, v2) \
    TEST_CASE(n, a0, result, li a1, v1 ; li a2, v2 ; inst a0, a1, a2 ; \
              CHECK(a1, v1) ; CHECK(a2, v2))

#define TEST_RR_SRC1_EQ_DEST(n, inst, result, v1, v2) \
    TEST_CASE(n, a1, result, li a1, v1 ; li a2, v2 ; inst a1, a1, a2)

#define TEST_RR_SRC2_EQ_DEST(n, inst, result, v1, v2) \
    TEST_CASE(n, a2, result, li a1, v1 ; li a2, v2 ; inst a2, a1, a2)

#define TEST_RR_SRC12_EQ_DEST(n, inst, result, v1) \
    TEST_CASE(n, a1, result, li a1, v1 ; inst a1, a1, a1)

#define TEST_RR_ZEROSRC1(n, inst, result, v2) \
    TEST_CASE(n, a0, result, li a2, v2 ; inst a0, x0, a2)

#define TEST_RR_ZEROSRC2(n, inst, result, v1) \
    TEST_CASE(n, a0, result, li a1, v1 ; inst a0, a1, x0)

#define TEST_RR_ZERODEST(n, inst, v1, v2) \
    TEST_CASE(n, x0, 0, li a1, v1 ; li a2, v2 ; inst x0, a1, a2)

#define TEST_IMM_OP(n, inst, result, v1, imm) \
    TEST_CASE(n, a0, result, li a1, v1 ; inst a0, a1, imm ; CHECK(a1, v1))

#define TEST_IMM_SRC1_EQ_DEST(n, inst, result, v1, imm) \
    TEST_CASE(n, a1, result, li a1, v1 ; inst a1, a1, imm)

#define TEST_IMM_ZEROSRC1(n, inst, result, imm) \
    TEST_CASE(n, a0, result, inst a0, x0, imm)

#define TEST_IMM_ZERODEST(n, inst, v1, imm) \
    TEST_CASE(n, x0, 0, li a1, v1 ; inst x0, a1, imm)

/* ---- branches: taken cases go forward then backward ---- */

/* A branch expected to be taken / not taken.  Under mutation testing
 * (BREAK_TEST == current test) it becomes never / always taken. */
#define BR_T(inst, r1, r2, target) \
    .if cur_test == BREAK_TEST ; \
    bne x0, x0, target ; \
    .else ; \
    inst r1, r2, target ; \
    .endif

#define BR_N(inst, r1, r2, target) \
    .if cur_test == BREAK_TEST ; \
    beq x0, x0, target ; \
    .else ; \
    inst r1, r2, target ; \
    .endif

#define TEST_BR_TAKEN(n, inst, v1, v2) \
    TEST_START(n) ; \
    li a1, v1 ; li a2, v2 ; \
    BR_T(inst, a1, a2, 2f) ; \
    j fail ; \
1:  j 3f ; \
    j fail ; \
2:  BR_T(inst, a1, a2, 1b) ; \
    j fail ; \
3:

#define TEST_BR_NOT_TAKEN(n, inst, v1, v2) \
    TEST_START(n) ; \
    li a1, v1 ; li a2, v2 ; \
    BR_N(inst, a1, a2, 1f) ; \
    j 2f ; \
1:  j fail ; \
2:  BR_N(inst, a1, a2, 1b) ; \
    nop

/* ---- loads and stores (base label, byte offset) ---- */

#define TEST_LD_OP(n, inst, result, offset, base) \
    TEST_CASE(n, a0, result, la a1, base ; inst a0, offset(a1))

/* store `value`, read it back with `ld`, expect `result` */
#define TEST_ST_OP(n, ld, st, value, result, offset, base) \
    TEST_CASE(n, a0, result, la a1, base ; li a2, value ; \
              st a2, offset(a1) ; ld a0, offset(a1))

/* ------------------------------------------------------------------ */
/* Trap helpers                                                        */
/* ------------------------------------------------------------------ */

/* Resume at `label` (in M-mode) after the next exception. Clobbers t0, t1. */
#define ARM_TRAP(label) \
    la t0, label ; \
    la t1, trap_area ; \
    sw t0, TA_RESUME(t1)

/* Same for the S-mode handler (resumes in S-mode). Clobbers t0, t1. */
#define ARM_STRAP(label) \
    la t0, label ; \
    la t1, trap_area ; \
    sw t0, ST_RESUME(t1)

/* Disarm both resume addresses (after a case where no trap happened). */
#define DISARM_TRAPS \
    la t1, trap_area ; \
    sw zero, TA_RESUME(t1) ; \
    sw zero, ST_RESUME(t1)

/* Load a trap_area field into reg (uses t1). */
#define LOAD_TRAP_FIELD(reg, off) \
    la t1, trap_area ; \
    lw reg, off(t1)

/* Expect trap_area field == value / == address of label. Uses t0, t1, t2. */
#define CHECK_TRAP_FIELD(off, value) \
    LOAD_TRAP_FIELD(t0, off) ; \
    CHECK(t0, value)

#define CHECK_TRAP_FIELD_ADDR(off, label) \
    LOAD_TRAP_FIELD(t0, off) ; \
    CHECK_ADDR(t0, label)

/* Expect (trap_area field & mask) == value. Uses t0, t1, t2. */
#define CHECK_TRAP_FIELD_MASK(off, mask, value) \
    LOAD_TRAP_FIELD(t0, off) ; \
    li t1, mask ; \
    and t0, t0, t1 ; \
    CHECK(t0, value)

/* Expect (reg & mask) == value. Uses t1, t2. */
#define CHECK_MASK(reg, mask, value) \
    li t1, mask ; \
    and t1, reg, t1 ; \
    CHECK(t1, value)

/* Expect the trap_area field to be 0 or the address of label (mtval of an
 * ebreak: the spec lets it be either; QEMU 7.2 and Roam write 0, Spike the
 * pc). Uses t0, t1, t2. */
#define CHECK_TRAP_FIELD_ZERO_OR_ADDR(off, label) \
    LOAD_TRAP_FIELD(t0, off) ; \
    la t2, label ; \
    .if cur_test == BREAK_TEST ; \
    beqz t0, fail ; \
    beq t0, t2, fail ; \
    .else ; \
    beqz t0, 1f ; \
    bne t0, t2, fail ; \
1:  ; \
    .endif

/* Zero the M and S trap counters. */
#define RESET_TRAP_COUNTS \
    la t1, trap_area ; \
    sw zero, TA_COUNT(t1) ; \
    sw zero, ST_COUNT(t1)

/*
 * TEST_EXC(n, cause, tval, code...): `code` must raise an exception (taken in
 * M-mode) at an instruction labelled 8:, with the given mcause and mtval;
 * mepc must be the address of 8:.  Example:
 *     TEST_EXC(5, CAUSE_BREAKPOINT, 0, 8: ebreak)
 * (use TEST_EXC_TVAL_PC when mtval should equal the faulting pc).
 */
#define TEST_EXC(n, cause, tval, code...) \
    TEST_START(n) ; \
    ARM_TRAP(9f) ; \
    code ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, cause) ; \
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b) ; \
    CHECK_TRAP_FIELD(TA_TVAL, tval)

#define TEST_EXC_TVAL_PC(n, cause, code...) \
    TEST_START(n) ; \
    ARM_TRAP(9f) ; \
    code ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, cause) ; \
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b) ; \
    CHECK_TRAP_FIELD_ADDR(TA_TVAL, 8b)

/*
 * Switch to privilege `mpp` (MPP_U / MPP_S / MPP_M) and continue at `label`
 * via mret.  MPIE is left as it is.  Clobbers t0.
 */
#define GOTO_MODE(mpp, label) \
    li t0, MSTATUS_MPP ; \
    csrc mstatus, t0 ; \
    li t0, mpp ; \
    csrs mstatus, t0 ; \
    la t0, label ; \
    csrw mepc, t0 ; \
    mret

/* Same with an absolute (e.g. virtual) target address. */
#define GOTO_MODE_ADDR(mpp, addr) \
    li t0, MSTATUS_MPP ; \
    csrc mstatus, t0 ; \
    li t0, mpp ; \
    csrs mstatus, t0 ; \
    li t0, addr ; \
    csrw mepc, t0 ; \
    mret

/* Write the 64-bit CLINT mtimecmp (hart 0) = hi:lo without a spurious
 * intermediate compare match. Clobbers t0, t1. */
#define SET_MTIMECMP(hi_reg, lo_reg) \
    li t0, CLINT_MTIMECMP ; \
    li t1, -1 ; \
    sw t1, 4(t0) ; \
    sw lo_reg, 0(t0) ; \
    sw hi_reg, 4(t0)

/* Read the 64-bit CLINT mtime into hi:lo consistently. Clobbers t0, t1. */
#define READ_MTIME(hi_reg, lo_reg) \
    li t0, CLINT_MTIME ; \
1:  lw hi_reg, 4(t0) ; \
    lw lo_reg, 0(t0) ; \
    lw t1, 4(t0) ; \
    bne hi_reg, t1, 1b

/* ------------------------------------------------------------------ */
/* Program skeleton                                                    */
/* ------------------------------------------------------------------ */

#define TEST_PASS j pass
#define TEST_FAIL j fail

/* Every program assembles with uncompressed encodings unless it says
 * `.option rvc` itself, and without linker relaxation. */
    .option norvc
    .option norelax

.macro TEST_BEGIN
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    /* Clear the integer registers. */
    li x1, 0
    li x2, 0
    li x3, 0
    li x4, 0
    li x5, 0
    li x6, 0
    li x7, 0
    li x8, 0
    li x9, 0
    li x10, 0
    li x11, 0
    li x12, 0
    li x13, 0
    li x14, 0
    li x15, 0
    li x16, 0
    li x17, 0
    li x18, 0
    li x19, 0
    li x20, 0
    li x21, 0
    li x22, 0
    li x23, 0
    li x24, 0
    li x25, 0
    li x26, 0
    li x27, 0
    li x28, 0
    li x29, 0
    li x30, 0
    li x31, 0

    /* PMP: let S and U access everything (QEMU denies S/U accesses when no
     * PMP entry matches).  Skipped silently on a hart without PMP CSRs. */
    la t0, 1f
    csrw mtvec, t0
    li t0, 0x7fffffff
    csrw pmpaddr0, t0
    li t0, 0x1f                 /* NAPOT | X | W | R */
    csrw pmpcfg0, t0
    .balign 4
1:
    /* Bare translation, nothing delegated, no interrupts enabled. */
    la t0, 1f
    csrw mtvec, t0
    csrwi satp, 0
    .balign 4
1:
    la t0, m_trap_entry
    csrw mtvec, t0
    csrwi medeleg, 0
    csrwi mideleg, 0
    csrwi mie, 0
    csrwi mip, 0
    csrwi mstatus, 0
    csrwi mcounteren, 0
    csrwi scounteren, 0
    sfence.vma

    /* Stack, and a clean trap area. */
    la sp, test_stack_top
    la t0, trap_area
    li t1, TA_SIZE
2:  sw zero, 0(t0)
    addi t0, t0, 4
    addi t1, t1, -4
    bnez t1, 2b
    li TESTNUM, 0
    j test_main

    /* ---------------- M-mode trap handler ---------------- */
    .balign 64
    .globl m_trap_entry
m_trap_entry:
    csrw mscratch, t0
    la t0, trap_area
    sw t1, TA_SAVE(t0)
    csrr t1, mcause
    sw t1, TA_CAUSE(t0)
    csrr t1, mepc
    sw t1, TA_EPC(t0)
    csrr t1, mtval
    sw t1, TA_TVAL(t0)
    csrr t1, mstatus
    sw t1, TA_STATUS(t0)
    lw t1, TA_COUNT(t0)
    addi t1, t1, 1
    sw t1, TA_COUNT(t0)
    csrr t1, mcause
    bltz t1, 3f
    lw t1, TA_RESUME(t0)
    beqz t1, fail               /* unexpected exception: fail current test */
    sw zero, TA_RESUME(t0)
    csrw mepc, t1
    li t1, MSTATUS_MPP
    csrs mstatus, t1            /* resume in M-mode ... */
    li t1, MSTATUS_MPRV | MSTATUS_MPIE
    csrc mstatus, t1            /* ... with MPRV and MIE off */
    lw t1, TA_SAVE(t0)
    csrr t0, mscratch
    .globl m_trap_resume_mret
m_trap_resume_mret:     /* priv-csr counts the instructions from m_trap_entry
                         * to here: keep this path straight-line */
    mret
3:  /* interrupt: disable all sources (one shot), return to mepc */
    csrw mie, zero
    lw t1, TA_SAVE(t0)
    csrr t0, mscratch
    mret

    /* ---------------- S-mode trap handler ---------------- */
    .balign 64
    .globl s_trap_entry
s_trap_entry:
    csrw sscratch, t0
    la t0, trap_area
    sw t1, ST_SAVE(t0)
    csrr t1, scause
    sw t1, ST_CAUSE(t0)
    csrr t1, sepc
    sw t1, ST_EPC(t0)
    csrr t1, stval
    sw t1, ST_TVAL(t0)
    csrr t1, sstatus
    sw t1, ST_STATUS(t0)
    lw t1, ST_COUNT(t0)
    addi t1, t1, 1
    sw t1, ST_COUNT(t0)
    csrr t1, scause
    bltz t1, 3f
    lw t1, ST_RESUME(t0)
    beqz t1, fail
    sw zero, ST_RESUME(t0)
    csrw sepc, t1
    li t1, SSTATUS_SPP
    csrs sstatus, t1            /* resume in S-mode */
    lw t1, ST_SAVE(t0)
    csrr t0, sscratch
    sret
3:  csrw sie, zero
    lw t1, ST_SAVE(t0)
    csrr t0, sscratch
    sret

    /* ---------------- PASS / FAIL ---------------- */
    .balign 4
    .globl pass
pass:
    fence
    li t0, 1
    j 5f
    .globl fail
fail:
    fence
    bnez TESTNUM, 4f
    li TESTNUM, 255
4:  slli t0, TESTNUM, 1
    ori t0, t0, 1
5:  la t1, tohost
6:  sw t0, 0(t1)                /* low word first ...         */
    sw zero, 4(t1)              /* ... the high word triggers */
    j 6b

    /* ---------------- HTIF ---------------- */
    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost:
    .dword 0
    .balign 64
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost:
    .dword 0

    .data
    .balign 64
    .globl trap_area
trap_area:
    .skip TA_SIZE

    .bss
    .balign 16
test_stack:
    .skip 4096
test_stack_top:

    .text
    .globl test_main
test_main:
.endm

.macro TEST_END
    TEST_PASS
.endm

#endif /* ROAM_ISA_TEST_H */
