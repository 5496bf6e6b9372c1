/*
 * priv-irq: interrupts from the CLINT (QEMU virt/spike layout: msip at
 * 0x02000000, mtimecmp at 0x02004000, mtime at 0x0200bff8) and from mip.
 *
 * - mtime advances; mtimecmp read/write; MTIP follows mtime >= mtimecmp and
 *   is read-only in mip; msip drives MSIP (only bit 0 writable);
 * - machine timer interrupt (mcause 0x80000007) and machine software
 *   interrupt (0x80000003): gated by mie and mstatus.MIE in M-mode, always
 *   taken in S/U-mode, taken precisely right after the enabling instruction,
 *   MSI before MTI when both are pending;
 * - wfi: resumes when an enabled interrupt is pending even with MIE = 0
 *   (no trap), and with MIE = 1 traps with mepc = the instruction after wfi;
 * - S-mode interrupts: STIP/SSIP set by M software, delegated with mideleg
 *   (scause 0x80000005 / 0x80000001, sepc, SPP), gated by SIE only in
 *   S-mode, never taken in M-mode when delegated, taken in M when not;
 * - vectored mtvec/stvec: interrupt cause c enters at base + 4*c;
 * - the interrupted code's registers survive.
 *
 * Test cases: 1..40
 */
#include "test.h"

#define SPIN_LIMIT 4000000

/* Spin until trap_area.TA_COUNT (or ST_COUNT) becomes nonzero; fail (with
 * the current test number) after SPIN_LIMIT iterations. Uses a5, t0, t1. */
#define WAIT_FOR_TRAP(off) \
    li a5, SPIN_LIMIT ; \
1:  la t1, trap_area ; \
    lw t0, off(t1) ; \
    bnez t0, 2f ; \
    addi a5, a5, -1 ; \
    bnez a5, 1b ; \
    j fail ; \
2:

/* mtimecmp = mtime + delta (delta < 2^31). Uses a0-a3, t0, t1. */
#define TIMER_IN(delta) \
    li a2, delta ; \
    TIMER_IN_REG(a2)
/* The same with the delta in a register other than a0-a3, t0, t1. */
#define TIMER_IN_REG(reg) \
    READ_MTIME(a1, a0) ; \
    add a2, a0, reg ; \
    sltu a3, a2, a0 ; \
    add a3, a1, a3 ; \
    SET_MTIMECMP(a3, a2)

/* mtimecmp = 0 (MTIP pending) / all ones (MTIP clear). */
#define TIMER_NOW \
    li a2, 0 ; \
    SET_MTIMECMP(a2, a2)
#define TIMER_NEVER \
    li a2, -1 ; \
    SET_MTIMECMP(a2, a2)

/* spin n iterations (uses a5) */
#define DELAY(n) \
    li a5, n ; \
1:  addi a5, a5, -1 ; \
    bnez a5, 1b

    TEST_BEGIN
    la t0, s_trap_entry
    csrw stvec, t0
    TIMER_NEVER
    li t0, CLINT_MSIP
    sw zero, 0(t0)

    /* ---------------- CLINT registers ---------------- */
    TEST_START(1)                   /* mtime advances */
    READ_MTIME(s1, s0)
    DELAY(20000)
    READ_MTIME(a1, a0)
    sub a2, a0, s0
    CHECK_GT0(a2)
    TEST_START(2)                   /* mtimecmp reads back */
    li a2, 0x89abcdef
    li a3, 0x00000123
    SET_MTIMECMP(a3, a2)
    li t0, CLINT_MTIMECMP
    lw a0, 0(t0)
    lw a1, 4(t0)
    CHECK(a0, 0x89abcdef)
    CHECK(a1, 0x00000123)
    TEST_START(3)                   /* mtimecmp = 0: MTIP set */
    TIMER_NOW
    csrr a0, mip
    CHECK_MASK(a0, MIP_MTIP, MIP_MTIP)
    TEST_START(4)                   /* mtimecmp = max: MTIP clear */
    TIMER_NEVER
    csrr a0, mip
    CHECK_MASK(a0, MIP_MTIP, 0)
    TEST_START(5)                   /* MTIP is read-only in mip */
    li t0, MIP_MTIP
    csrs mip, t0
    csrr a0, mip
    CHECK_MASK(a0, MIP_MTIP, 0)
    TIMER_NOW
    li t0, MIP_MTIP
    csrc mip, t0
    csrr a0, mip
    CHECK_MASK(a0, MIP_MTIP, MIP_MTIP)
    TEST_START(6)                   /* MTIP rises once mtime passes mtimecmp */
    /* mtime is the host's clock: a host that deschedules us for longer than
     * the delay makes MTIP rise before we look. Then try again with ten
     * times the delay (up to 10 s), so the outcome does not hang on luck. */
    li s4, 100000
6:  TIMER_IN_REG(s4)
    csrr a0, mip
    andi t2, a0, MIP_MTIP
    beqz t2, 7f
    li t2, 100000000
    bgeu s4, t2, 7f
    li t2, 10
    mul s4, s4, t2
    j 6b
7:  CHECK_MASK(a0, MIP_MTIP, 0)
    li a5, SPIN_LIMIT
1:  csrr a0, mip
    andi a0, a0, MIP_MTIP
    bnez a0, 2f
    addi a5, a5, -1
    bnez a5, 1b
    j fail
2:  TIMER_NEVER
    TEST_START(7)                   /* msip drives MSIP, only bit 0 */
    li t0, CLINT_MSIP
    li t1, -1
    sw t1, 0(t0)
    lw a0, 0(t0)
    csrr a1, mip
    sw zero, 0(t0)
    lw a2, 0(t0)
    csrr a3, mip
    CHECK(a0, 1)
    CHECK_MASK(a1, MIP_MSIP, MIP_MSIP)
    CHECK(a2, 0)
    CHECK_MASK(a3, MIP_MSIP, 0)
    TEST_START(8)                   /* MSIP is read-only in mip */
    li t0, MIP_MSIP
    csrs mip, t0
    csrr a0, mip
    CHECK_MASK(a0, MIP_MSIP, 0)

    /* ---------------- gating in M-mode ---------------- */
    RESET_TRAP_COUNTS
    TEST_START(9)                   /* pending, MIE = 1, but mie.MTIE = 0 */
    TIMER_NOW
    csrw mie, zero
    csrsi mstatus, MSTATUS_MIE
    DELAY(1000)
    csrci mstatus, MSTATUS_MIE
    CHECK_TRAP_FIELD(TA_COUNT, 0)
    TEST_START(10)                  /* pending, MTIE = 1, but MIE = 0 */
    li t0, MIP_MTIP
    csrw mie, t0
    DELAY(1000)
    csrw mie, zero
    CHECK_TRAP_FIELD(TA_COUNT, 0)

    /* ---------------- machine timer interrupt ---------------- */
    TEST_START(11)                  /* taken right after MIE is set */
    TIMER_NOW
    li t0, MIP_MTIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
8:  nop
    csrci mstatus, MSTATUS_MIE
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_TIMER)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    TEST_START(12)                  /* trap entry: MPIE = 1, MIE = 0, MPP = M; tval 0 */
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MPP_M | MSTATUS_MPIE)
    CHECK_TRAP_FIELD(TA_TVAL, 0)
    TEST_START(13)                  /* taken right after mie.MTIE is set */
    RESET_TRAP_COUNTS
    csrsi mstatus, MSTATUS_MIE
    li t0, MIP_MTIP
    csrs mie, t0
8:  nop
    csrci mstatus, MSTATUS_MIE
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    TEST_START(14)                  /* a future deadline: spin until it fires */
    RESET_TRAP_COUNTS
    TIMER_IN(500)
    li t0, MIP_MTIP
    csrw mie, t0
    li s2, 0x5eed0001
    li s3, 0x5eed0002
    csrsi mstatus, MSTATUS_MIE
    WAIT_FOR_TRAP(TA_COUNT)
    csrci mstatus, MSTATUS_MIE
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_TIMER)
    CHECK(s2, 0x5eed0001)           /* interrupted code's registers intact */
    CHECK(s3, 0x5eed0002)
    csrr a0, mie
    CHECK(a0, 0)                    /* (the handler disabled it) */
    TEST_START(15)                  /* moving mtimecmp ahead clears MTIP */
    TIMER_NEVER
    csrr a0, mip
    CHECK_MASK(a0, MIP_MTIP, 0)

    /* ---------------- wfi ---------------- */
    TEST_START(16)                  /* wfi with MIE = 0 wakes up, no trap */
    RESET_TRAP_COUNTS
    TIMER_IN(500)
    li t0, MIP_MTIP
    csrw mie, t0
    wfi
    csrr a0, mip
    csrw mie, zero
    TIMER_NEVER
    CHECK_TRAP_FIELD(TA_COUNT, 0)
    TEST_START(17)                  /* (it woke because MTIP was pending) */
    CHECK_MASK(a0, MIP_MTIP, MIP_MTIP)
    TEST_START(18)                  /* wfi with MIE = 1: trap, mepc after wfi */
    /* mtime is the host's clock. If the host deschedules us between arming
     * the timer and the wfi, the interrupt is (rightly) taken before the wfi,
     * with mepc = the wfi, and returning there would wait for ever (the
     * handler cleared mie). wfi_race_entry catches that case and starts the
     * case again with ten times the delay (up to 0.5 s), so the outcome does
     * not hang on luck. */
    la t0, wfi_race_entry
    csrw mtvec, t0
    li s4, 50
wfi_retry:
    csrci mstatus, MSTATUS_MIE
    li t2, 5000000
    bgeu s4, t2, fail               /* lost the race at every delay */
    li t2, 10
    mul s4, s4, t2
    RESET_TRAP_COUNTS
    TIMER_IN_REG(s4)
    li t0, MIP_MTIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
wfi_armed:
    wfi
8:  csrci mstatus, MSTATUS_MIE
    la t0, m_trap_entry
    csrw mtvec, t0
    TIMER_NEVER
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_TIMER)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    TEST_START(19)                  /* wfi with an interrupt already pending */
    RESET_TRAP_COUNTS
    TIMER_NOW
    li t0, MIP_MTIP
    csrw mie, t0
    wfi
    wfi
    csrw mie, zero
    TIMER_NEVER
    CHECK_TRAP_FIELD(TA_COUNT, 0)

    /* ---------------- machine software interrupt ---------------- */
    TEST_START(20)
    RESET_TRAP_COUNTS
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
8:  nop
    csrci mstatus, MSTATUS_MIE
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_SOFT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    TEST_START(21)                  /* MSIP cleared by writing msip = 0 */
    csrr a0, mip
    CHECK_MASK(a0, MIP_MSIP, 0)
    TEST_START(22)                  /* MSI has priority over MTI */
    RESET_TRAP_COUNTS
    TIMER_NOW
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP | MIP_MTIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    TIMER_NEVER
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_SOFT)

    /* ---------------- M interrupts in lower modes ---------------- */
    TEST_START(23)                  /* U-mode (MIE = 0): MTI taken at once */
    RESET_TRAP_COUNTS
    TIMER_NOW
    li t0, MIP_MTIP
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  la t1, trap_area                /* (U-mode, after the interrupt) */
    lw s4, TA_CAUSE(t1)
    lw s5, TA_EPC(t1)
    lw s6, TA_STATUS(t1)
    ecall
    j fail
9:  TIMER_NEVER
    CHECK_TRAP_FIELD(TA_COUNT, 2)   /* the interrupt, then the ecall */
    CHECK(s4, CAUSE_INTERRUPT | IRQ_M_TIMER)
    CHECK_ADDR(s5, 8b)
    CHECK_MASK(s6, MSTATUS_MPP, MPP_U)
    TEST_START(24)                  /* S-mode (MIE = 0): MSI taken at once */
    RESET_TRAP_COUNTS
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  la t1, trap_area
    lw s4, TA_CAUSE(t1)
    lw s5, TA_EPC(t1)
    lw s6, TA_STATUS(t1)
    ecall
    j fail
9:  li t0, CLINT_MSIP
    sw zero, 0(t0)
    CHECK_TRAP_FIELD(TA_COUNT, 2)
    CHECK(s4, CAUSE_INTERRUPT | IRQ_M_SOFT)
    CHECK_ADDR(s5, 8b)
    CHECK_MASK(s6, MSTATUS_MPP, MPP_S)
    TEST_START(25)                  /* U-mode: mie still gates */
    RESET_TRAP_COUNTS
    TIMER_NOW
    csrw mie, zero
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  nop
    nop
    ecall
    j fail
9:  TIMER_NEVER
    CHECK_TRAP_FIELD(TA_COUNT, 1)

    /* ---------------- S-mode interrupts ---------------- */
    TEST_START(26)                  /* delegated STI in S-mode with SIE = 1 */
    RESET_TRAP_COUNTS
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mip, t0
    csrw mie, t0
    csrsi mstatus, MSTATUS_SIE
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  nop
    ecall
    j fail
9:  li t0, MIP_STIP
    csrc mip, t0
    csrci mstatus, MSTATUS_SIE
    CHECK_TRAP_FIELD(ST_COUNT, 1)
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_INTERRUPT | IRQ_S_TIMER)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE, SSTATUS_SPP | SSTATUS_SPIE)
    CHECK_TRAP_FIELD(ST_TVAL, 0)
    CHECK_TRAP_FIELD(TA_COUNT, 1)   /* M saw only the ecall */
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    TEST_START(27)                  /* delegated STI in S-mode with SIE = 0: not taken */
    RESET_TRAP_COUNTS
    li t0, MIP_STIP
    csrs mip, t0
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  nop
    nop
    ecall
    j fail
9:  CHECK_TRAP_FIELD(ST_COUNT, 0)
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    TEST_START(28)                  /* delegated STI in U-mode: taken regardless of SIE */
    RESET_TRAP_COUNTS
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  nop
    ecall
    j fail
9:  CHECK_TRAP_FIELD(ST_COUNT, 1)
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_INTERRUPT | IRQ_S_TIMER)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP, 0)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_USER_ECALL)
    TEST_START(29)                  /* delegated STI never taken in M-mode */
    RESET_TRAP_COUNTS
    li t0, MIP_STIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    DELAY(100)
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    CHECK_TRAP_FIELD(TA_COUNT, 0)
    CHECK_TRAP_FIELD(ST_COUNT, 0)
    TEST_START(30)                  /* STI not delegated: taken in M-mode */
    csrw mideleg, zero
    csrsi mstatus, MSTATUS_MIE
8:  nop
    csrci mstatus, MSTATUS_MIE
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_S_TIMER)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    TEST_START(31)                  /* STI not delegated, S-mode, MIE = 0: to M */
    RESET_TRAP_COUNTS
    li t0, MIP_STIP
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  la t1, trap_area
    lw s4, TA_CAUSE(t1)
    lw s6, TA_STATUS(t1)
    ecall
    j fail
9:  li t0, MIP_STIP
    csrc mip, t0
    CHECK_TRAP_FIELD(ST_COUNT, 0)
    CHECK_TRAP_FIELD(TA_COUNT, 2)
    CHECK(s4, CAUSE_INTERRUPT | IRQ_S_TIMER)
    CHECK_MASK(s6, MSTATUS_MPP, MPP_S)
    TEST_START(32)                  /* delegated SSI set by M, S-mode, SIE = 1 */
    RESET_TRAP_COUNTS
    li t0, MIP_SSIP
    csrw mideleg, t0
    csrs mip, t0
    csrw mie, t0
    csrsi mstatus, MSTATUS_SIE
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  csrci sip, MIP_SSIP             /* S clears its own software interrupt */
    csrr a0, sip
    ecall
    j fail
9:  csrci mstatus, MSTATUS_SIE
    csrw mideleg, zero
    CHECK_TRAP_FIELD(ST_COUNT, 1)
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_INTERRUPT | IRQ_S_SOFT)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    CHECK_MASK(a0, MIP_SSIP, 0)
    csrr a1, mip
    CHECK_MASK(a1, MIP_SSIP, 0)
    TEST_START(33)                  /* SSI before STI */
    RESET_TRAP_COUNTS
    li t0, MIP_SSIP | MIP_STIP
    csrw mideleg, t0
    csrs mip, t0
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  ecall
    j fail
9:  li t0, MIP_SSIP | MIP_STIP
    csrc mip, t0
    csrw mideleg, zero
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_INTERRUPT | IRQ_S_SOFT)
    TEST_START(34)                  /* M-level interrupt before a delegated one */
    RESET_TRAP_COUNTS
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mip, t0
    TIMER_NOW
    li t0, MIP_STIP | MIP_MTIP
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  la t1, trap_area
    lw s4, TA_CAUSE(t1)
    lw s5, TA_COUNT(t1)
    ecall
    j fail
9:  TIMER_NEVER
    li t0, MIP_STIP
    csrc mip, t0
    csrw mideleg, zero
    CHECK(s4, CAUSE_INTERRUPT | IRQ_M_TIMER)
    CHECK(s5, 1)
    TEST_START(35)                  /* wfi in S (TW = 0) with a masked pending STI */
    RESET_TRAP_COUNTS
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mip, t0
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  wfi
    ecall
    j fail
9:  li t0, MIP_STIP
    csrc mip, t0
    csrw mideleg, zero
    csrw mie, zero
    CHECK_TRAP_FIELD(ST_COUNT, 0)
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)

    /* ---------------- vectored mtvec / stvec ---------------- */
    TEST_START(36)                  /* MTI enters at base + 4*7 */
    RESET_TRAP_COUNTS
    call clear_hits
    la t0, m_vectors + 1
    csrw mtvec, t0
    TIMER_NOW
    li t0, MIP_MTIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    TIMER_NEVER
    la t0, m_trap_entry
    csrw mtvec, t0
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_TIMER)
    call count_hits
    CHECK(a0, 1)
    la t1, vec_hits
    lw a0, 4 * IRQ_M_TIMER(t1)
    CHECK_ADDR(a0, vec_hits + 4 * IRQ_M_TIMER)
    TEST_START(37)                  /* MSI enters at base + 4*3 */
    RESET_TRAP_COUNTS
    call clear_hits
    la t0, m_vectors + 1
    csrw mtvec, t0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    la t0, m_trap_entry
    csrw mtvec, t0
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_INTERRUPT | IRQ_M_SOFT)
    call count_hits
    CHECK(a0, 1)
    la t1, vec_hits
    lw a0, 4 * IRQ_M_SOFT(t1)
    CHECK_ADDR(a0, vec_hits + 4 * IRQ_M_SOFT)
    TEST_START(38)                  /* delegated STI enters stvec base + 4*5 */
    RESET_TRAP_COUNTS
    call clear_hits
    la t0, s_vectors + 1
    csrw stvec, t0
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mip, t0
    csrw mie, t0
    ARM_TRAP(9f)
    GOTO_MODE(MPP_U, 8f)
8:  ecall
    j fail
9:  li t0, MIP_STIP
    csrc mip, t0
    csrw mideleg, zero
    la t0, s_trap_entry
    csrw stvec, t0
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_INTERRUPT | IRQ_S_TIMER)
    call count_hits
    CHECK(a0, 1)
    la t1, vec_hits
    lw a0, 64 + 4 * IRQ_S_TIMER(t1)
    CHECK_ADDR(a0, vec_hits + 64 + 4 * IRQ_S_TIMER)
    TEST_START(39)                  /* vectored mtvec, exception: base */
    RESET_TRAP_COUNTS
    call clear_hits
    la t0, m_vectors + 1
    csrw mtvec, t0
    ARM_TRAP(1f)
    ecall
    j fail
1:  la t0, m_trap_entry
    csrw mtvec, t0
    call count_hits
    CHECK(a0, 1)
    la t1, vec_hits
    lw a0, 0(t1)
    CHECK_ADDR(a0, vec_hits)
    TEST_START(40)                  /* no interrupt left pending/enabled */
    csrr a0, mie
    CHECK(a0, 0)
    csrr a0, mip
    CHECK_MASK(a0, MIP_MSIP | MIP_MTIP | MIP_SSIP | MIP_STIP, 0)

    TEST_END

/* zero vec_hits (32 words); count_hits returns the number of nonzero words
 * in a0. Use t0, t1. */
clear_hits:
    la t0, vec_hits
    li t1, 32
1:  sw zero, 0(t0)
    addi t0, t0, 4
    addi t1, t1, -1
    bnez t1, 1b
    ret
count_hits:
    la t0, vec_hits
    li t1, 32
    li a0, 0
1:  lw t2, 0(t0)
    snez t2, t2
    add a0, a0, t2
    addi t0, t0, 4
    addi t1, t1, -1
    bnez t1, 1b
    ret

    /* vector tables: entry k marks vec_hits[k] (M) / vec_hits[16 + k] (S)
     * with its own address, then enters the normal handler */
    .balign 256
m_vectors:
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    j m_vec_\k
    .endr
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
m_vec_\k:
    csrw mscratch, t0
    la t0, vec_hits + 4 * \k
    sw t0, 0(t0)
    csrr t0, mscratch
    j m_trap_entry
    .endr

    /* Test 18's trap entry: an interrupt taken at the wfi itself (before it
     * ran) restarts the case; anything else goes to m_trap_entry. */
    .balign 4
wfi_race_entry:
    csrw mscratch, t0
    csrw sscratch, t1
    csrr t0, mepc
    la t1, wfi_armed
    bne t0, t1, 1f
    csrw mie, zero
    la t0, wfi_retry
    csrw mepc, t0
    csrr t1, sscratch
    csrr t0, mscratch
    mret
1:  csrr t1, sscratch
    csrr t0, mscratch
    j m_trap_entry

    .balign 256
s_vectors:
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    j s_vec_\k
    .endr
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
s_vec_\k:
    csrw sscratch, t0
    la t0, vec_hits + 64 + 4 * \k
    sw t0, 0(t0)
    csrr t0, sscratch
    j s_trap_entry
    .endr

    .data
    .balign 16
vec_hits:
    .skip 128
