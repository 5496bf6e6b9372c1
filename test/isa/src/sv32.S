/*
 * sv32: Sv32 address translation, built by the program itself.
 *
 * Address space (satp.MODE = Sv32, root table `root_table`):
 *   0x80000000  4 MiB superpage, identity, R W X (no U): the image; S code
 *               and the S trap handler run here
 *   0xc0000000  4 MiB superpage -> 0x80000000, U R W X: U-mode code runs at
 *               this alias (label + 0x40000000)
 *   0x40000000  4 KiB pages through `l0_table`, page k at VA(k), see below
 *   0x40400000  4 MiB superpage -> 0x80000000, R (read-only)
 *   0x40800000  "superpage" with a misaligned PPN (PPN[0] != 0): faults
 *   0x40c00000  4 MiB superpage -> 0x80000000, U R W
 *   0x41000000  invalid root entry
 *   0x41400000  4 MiB superpage -> 0x80000000, R W without A/D
 *
 * Checked: loads/stores/fetches through 4 KiB pages and superpages; R/W/X/U
 * permissions with causes 12/13/15 and mtval/stval = the faulting VA;
 * invalid PTEs (V = 0, W without R, a pointer at the last level, misaligned
 * superpage); SUM (S loads/stores of U pages only with SUM; S fetches from U
 * pages never); MXR (loads from execute-only pages only with MXR); hardware
 * A/D updates (A on load/fetch, D on store, superpages too); sfence.vma
 * (global and by address) after changing PTEs; MPRV with MPP = S / U from
 * M-mode, M-mode itself untranslated; page faults delegated to S; a
 * misaligned load across two virtually adjacent, physically distant pages;
 * a 32-bit instruction straddling two such pages.
 *
 * Test cases: 1..81
 */
#include "test.h"

#define VA(k)   (0x40000000 + (k) * 0x1000)
#define VA_SUPER_R      0x40400000
#define VA_SUPER_BAD    0x40800000
#define VA_SUPER_U      0x40c00000
#define VA_ROOT_INVALID 0x41000000
#define VA_SUPER_NOAD   0x41400000
#define U_ALIAS_OFFSET  0x40000000      /* 0xc0000000 - 0x80000000 */
/* VA of `label` in a superpage mapping 0x80000000 at `base` */
#define SUPER_VA(base, label) (label - 0x80000000 + base)

/* pages of the l0 table */
#define K_RW        0   /* pg_a  R W          */
#define K_RO        1   /* pg_b  R            */
#define K_XO        2   /* pg_c  X            */
#define K_URW       3   /* pg_a  U R W        */
#define K_WO        4   /* pg_a  W (reserved) */
#define K_INVALID   5   /* V = 0              */
#define K_NOAD      6   /* pg_d  R W, no A/D  */
#define K_NOD       7   /* pg_d  R W A, no D  */
#define K_CODE_X    8   /* vcode R X          */
#define K_CODE_RO   9   /* vcode R            */
#define K_CODE_UX  10   /* vcode U R X        */
#define K_REMAP    11   /* pg_a / pg_b, rewritten by the sfence tests */
#define K_POINTER  12   /* V only: a non-leaf PTE at the last level */
#define K_URO      13   /* pg_a  U R          */
#define K_STRAD1   14   /* strad1 R X (first half of a straddling insn) */
#define K_STRAD2   15   /* strad2 R X (second half), not strad1 + 4 KiB */
#define K_STRAD1B  23   /* strad1 R X, followed by K_STRAD_NX */
#define K_STRAD_NX 24   /* strad2 R (not executable) */
#define K_MIS1     17   /* pg_a R W: first page of a misaligned access */
#define K_MIS2     18   /* pg_b R W: second page, physically elsewhere */
#define K_CODE_NOA 19   /* vcode R X, no A */
#define K_UXO      20   /* pg_c U X (execute-only user page) */
#define K_MIS3     21   /* pg_e R W, followed by K_MIS4 (invalid) */
#define K_MIS4     22   /* V = 0 */

#define PTE_AD (PTE_A | PTE_D)

/* reg = x, where x may involve symbols (absolute relocation) */
#define LA_ABS(reg, x) \
    lui reg, %hi(x) ; \
    addi reg, reg, %lo(x)

/* Fail unless reg == x (x may involve symbols). Uses t2. */
#define CHECK_ABS(reg, x) \
    LA_ABS(t2, x) ; \
    .if cur_test == BREAK_TEST ; \
    addi t2, t2, 4 ; \
    .endif ; \
    bne reg, t2, fail

#define CHECK_TRAP_FIELD_ABS(off, x) \
    LOAD_TRAP_FIELD(t0, off) ; \
    CHECK_ABS(t0, x)

/* l0_table[k] = PTE(pa_label, flags). Uses t0, t1. */
#define L0_SET(k, pa_label, flags) \
    la t0, pa_label ; \
    srli t0, t0, 12 ; \
    slli t0, t0, 10 ; \
    ori t0, t0, flags ; \
    la t1, l0_table ; \
    sw t0, 4 * (k)(t1)

#define L0_RAW(k, value) \
    li t0, value ; \
    la t1, l0_table ; \
    sw t0, 4 * (k)(t1)

/* root_table[va >> 22] = value. Uses t0, t1. */
#define ROOT_SET(va, value) \
    li t0, value ; \
    la t1, root_table ; \
    li t2, ((va) >> 22) * 4 ; \
    add t1, t1, t2 ; \
    sw t0, 0(t1)

/* reg = l0_table[k] */
#define L0_GET(reg, k) \
    la t1, l0_table ; \
    lw reg, 4 * (k)(t1)

#define ROOT_GET(reg, va) \
    la t1, root_table ; \
    li t2, ((va) >> 22) * 4 ; \
    add t1, t1, t2 ; \
    lw reg, 0(t1)

/* Data accesses from M-mode translated as mode mpp (MPRV), plus extra
 * mstatus bits (SUM / MXR). Uses t0. */
#define MPRV_ON(mpp, bits) \
    li t0, MSTATUS_MPP ; \
    csrc mstatus, t0 ; \
    li t0, MSTATUS_MPRV | (mpp) | (bits) ; \
    csrs mstatus, t0
#define MPRV_OFF \
    li t0, MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MPP ; \
    csrc mstatus, t0

/* lw through translation as mpp must give expected */
#define TEST_VLOAD(n, mpp, bits, va, expected) \
    TEST_START(n) ; \
    LA_ABS(a1, va) ; \
    li a0, 0 ; \
    MPRV_ON(mpp, bits) ; \
    lw a0, 0(a1) ; \
    MPRV_OFF ; \
    CHECK(a0, expected)

/* sw through translation as mpp must land in physical word pa_label */
#define TEST_VSTORE(n, mpp, bits, va, value, pa_label) \
    TEST_START(n) ; \
    LA_ABS(a1, va) ; \
    li a2, value ; \
    MPRV_ON(mpp, bits) ; \
    sw a2, 0(a1) ; \
    MPRV_OFF ; \
    la t1, pa_label ; \
    lw a0, 0(t1) ; \
    CHECK(a0, value)

/* `insn` (using a1 = va, a2 = 0x0badbad0) translated as mpp must fault */
#define TEST_VFAULT(n, mpp, bits, cause, va, insn...) \
    TEST_START(n) ; \
    LA_ABS(a1, va) ; \
    li a2, 0x0badbad0 ; \
    ARM_TRAP(9f) ; \
    MPRV_ON(mpp, bits) ; \
8:  insn ; \
    MPRV_OFF ; \
    j fail ; \
9:  MPRV_OFF ; \
    CHECK_TRAP_FIELD(TA_CAUSE, cause) ; \
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b) ; \
    CHECK_TRAP_FIELD_ABS(TA_TVAL, va)

/* Jump to virtual address va in mode mpp; the code there must raise an
 * instruction page fault at va (mepc = mtval = va). */
#define TEST_FETCH_FAULT(n, mpp, bits, va) \
    TEST_START(n) ; \
    li t0, bits ; \
    csrs mstatus, t0 ; \
    ARM_TRAP(9f) ; \
    GOTO_MODE_ADDR(mpp, va) ; \
9:  MPRV_OFF ; \
    CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_FETCH_PAGE_FAULT) ; \
    CHECK_TRAP_FIELD(TA_EPC, va) ; \
    CHECK_TRAP_FIELD(TA_TVAL, va)

/* Jump to va (vcode: li a0, 0x5a; ecall) in mode mpp: must run and ecall */
#define TEST_FETCH_OK(n, mpp, bits, va, ecall_cause) \
    TEST_START(n) ; \
    li a0, 0 ; \
    li t0, bits ; \
    csrs mstatus, t0 ; \
    ARM_TRAP(9f) ; \
    GOTO_MODE_ADDR(mpp, va) ; \
9:  MPRV_OFF ; \
    CHECK_TRAP_FIELD(TA_CAUSE, ecall_cause) ; \
    CHECK_TRAP_FIELD(TA_EPC, (va) + 4) ; \
    CHECK(a0, 0x5a)

/* Continue at the U-mode alias of `label`. Uses t0, t1. */
#define GOTO_U_ALIAS(label) \
    li t0, MSTATUS_MPP ; \
    csrc mstatus, t0 ; \
    la t0, label ; \
    li t1, U_ALIAS_OFFSET ; \
    add t0, t0, t1 ; \
    csrw mepc, t0 ; \
    mret

    TEST_BEGIN
    la t0, s_trap_entry
    csrw stvec, t0
    call build_tables
    la t0, root_table
    srli t0, t0, 12
    li t1, SATP_MODE_SV32
    or t0, t0, t1
    csrw satp, t0
    sfence.vma

    /* ---------------- satp, M-mode ---------------- */
    TEST_START(1)                   /* satp reads back; M-mode is untranslated */
    csrr a0, satp
    la t1, root_table
    srli t1, t1, 12
    li t2, SATP_MODE_SV32
    or t1, t1, t2
    CHECK_REG(a0, t1)
    la a1, pg_b
    lw a0, 0(a1)                    /* a physical address, no translation */
    CHECK(a0, 0xbbbb0002)
    TEST_START(2)                   /* MPRV with MPP = M: still untranslated */
    la a1, pg_c
    MPRV_ON(MPP_M, 0)
    lw a0, 0(a1)
    MPRV_OFF
    CHECK(a0, 0xcccc0003)

    /* ---------------- 4 KiB pages, S-mode data (via MPRV) ---------------- */
    TEST_VLOAD(3, MPP_S, 0, VA(K_RW), 0xaaaa0001)
    TEST_VLOAD(4, MPP_S, 0, VA(K_RW) + 0x10, 0xaaaa0011)
    TEST_VLOAD(5, MPP_S, 0, VA(K_RO), 0xbbbb0002)
    TEST_VSTORE(6, MPP_S, 0, VA(K_RW) + 0x20, 0x12345678, pg_a + 0x20)
    TEST_VFAULT(7, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, VA(K_RO) + 0x20, sw a2, 0(a1))
    TEST_START(8)                   /* the faulting store wrote nothing */
    la t1, pg_b
    lw a0, 0x20(t1)
    CHECK(a0, 0)
    TEST_VFAULT(9, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_XO), lw a0, 0(a1))
    TEST_VFAULT(10, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, VA(K_XO), sw a2, 0(a1))
    TEST_VFAULT(11, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_WO), lw a0, 0(a1))
    TEST_VFAULT(12, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, VA(K_WO) + 4, sw a2, 0(a1))
    TEST_VFAULT(13, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_INVALID) + 0x123, lbu a0, 0(a1))
    TEST_VFAULT(14, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, VA(K_INVALID) + 0x122, sh a2, 0(a1))
    TEST_VFAULT(15, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_POINTER), lw a0, 0(a1))
    TEST_VFAULT(16, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA_ROOT_INVALID + 0x1000, lw a0, 0(a1))
    TEST_VFAULT(17, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA(40), lw a0, 0(a1))   /* zero PTE */
    TEST_START(18)                  /* byte/halfword accesses translate the same way */
    li a1, VA(K_RW) + 0x31
    li a2, 0xa5
    MPRV_ON(MPP_S, 0)
    sb a2, 0(a1)
    lbu a3, 0(a1)
    lh a4, -1(a1)
    MPRV_OFF
    CHECK(a3, 0xa5)
    la t1, pg_a
    lbu a0, 0x31(t1)
    CHECK(a0, 0xa5)
    lh a0, 0x30(t1)
    CHECK_REG(a0, a4)

    /* ---------------- U pages and SUM ---------------- */
    TEST_VLOAD(19, MPP_U, 0, VA(K_URW), 0xaaaa0001)
    TEST_VSTORE(20, MPP_U, 0, VA(K_URW) + 0x40, 0x0badf00d, pg_a + 0x40)
    TEST_VFAULT(21, MPP_U, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_RW), lw a0, 0(a1))
    TEST_VFAULT(22, MPP_U, 0, CAUSE_STORE_PAGE_FAULT, VA(K_RW), sw a2, 0(a1))
    TEST_VFAULT(23, MPP_U, 0, CAUSE_STORE_PAGE_FAULT, VA(K_URO) + 8, sw a2, 0(a1))
    TEST_VLOAD(24, MPP_U, 0, VA(K_URO), 0xaaaa0001)
    TEST_VFAULT(25, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_URW), lw a0, 0(a1))
    TEST_VFAULT(26, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, VA(K_URW), sw a2, 0(a1))
    TEST_VLOAD(27, MPP_S, MSTATUS_SUM, VA(K_URW), 0xaaaa0001)
    TEST_VSTORE(28, MPP_S, MSTATUS_SUM, VA(K_URW) + 0x44, 0x5117c0de, pg_a + 0x44)
    TEST_VFAULT(29, MPP_S, MSTATUS_SUM, CAUSE_STORE_PAGE_FAULT, VA(K_URO), sw a2, 0(a1))

    /* ---------------- MXR ---------------- */
    TEST_VLOAD(30, MPP_S, MSTATUS_MXR, VA(K_XO), 0xcccc0003)
    TEST_VFAULT(31, MPP_S, MSTATUS_MXR, CAUSE_STORE_PAGE_FAULT, VA(K_XO), sw a2, 0(a1))
    TEST_VFAULT(32, MPP_U, 0, CAUSE_LOAD_PAGE_FAULT, VA(K_UXO), lw a0, 0(a1))
    TEST_VLOAD(33, MPP_U, MSTATUS_MXR, VA(K_UXO), 0xcccc0003)
    TEST_VFAULT(34, MPP_S, MSTATUS_MXR, CAUSE_LOAD_PAGE_FAULT, VA(K_UXO), lw a0, 0(a1))  /* U page, no SUM */
    TEST_VLOAD(35, MPP_S, MSTATUS_MXR | MSTATUS_SUM, VA(K_UXO), 0xcccc0003)

    /* ---------------- superpages ---------------- */
    TEST_VLOAD(36, MPP_S, 0, SUPER_VA(VA_SUPER_R, pg_d), 0xdddd0004)
    TEST_VLOAD(37, MPP_S, 0, SUPER_VA(VA_SUPER_R, pg_e) + 4, 0xeeee0015)
    TEST_VFAULT(38, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, SUPER_VA(VA_SUPER_R, pg_e), sw a2, 0(a1))
    TEST_VFAULT(39, MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, VA_SUPER_BAD + 0x2000, lw a0, 0(a1))
    TEST_VFAULT(40, MPP_S, 0, CAUSE_STORE_PAGE_FAULT, VA_SUPER_BAD + 0x3004, sw a2, 0(a1))
    TEST_VLOAD(41, MPP_U, 0, SUPER_VA(VA_SUPER_U, pg_b), 0xbbbb0002)
    TEST_VFAULT(42, MPP_U, 0, CAUSE_LOAD_PAGE_FAULT, SUPER_VA(VA_SUPER_R, pg_b), lw a0, 0(a1))
    TEST_VSTORE(43, MPP_S, MSTATUS_SUM, SUPER_VA(VA_SUPER_U, pg_e) + 0x80, 0x00c0ffee, pg_e + 0x80)

    /* ---------------- A and D set by the hardware walk ---------------- */
    TEST_START(44)                  /* load sets A, not D */
    L0_GET(a0, K_NOAD)
    CHECK_MASK(a0, PTE_A | PTE_D, 0)
    li a1, VA(K_NOAD)
    MPRV_ON(MPP_S, 0)
    lw a2, 0(a1)
    MPRV_OFF
    CHECK(a2, 0xdddd0004)
    L0_GET(a0, K_NOAD)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A)
    TEST_START(45)                  /* store sets D */
    li a1, VA(K_NOAD) + 0x10
    li a2, 0x0d0d0d0d
    MPRV_ON(MPP_S, 0)
    sw a2, 0(a1)
    MPRV_OFF
    L0_GET(a0, K_NOAD)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A | PTE_D)
    la t1, pg_d
    lw a0, 0x10(t1)
    CHECK(a0, 0x0d0d0d0d)
    TEST_START(46)                  /* store to a page with A but not D sets D */
    L0_GET(a0, K_NOD)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A)
    li a1, VA(K_NOD) + 0x14
    li a2, 0x0e0e0e0e
    MPRV_ON(MPP_S, 0)
    sw a2, 0(a1)
    MPRV_OFF
    L0_GET(a0, K_NOD)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A | PTE_D)
    TEST_START(47)                  /* the rest of the PTE is left alone */
    la t0, pg_d
    srli t0, t0, 12
    slli t0, t0, 10
    ori t0, t0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    CHECK_REG(a0, t0)
    TEST_START(48)                  /* instruction fetch sets A */
    L0_GET(a0, K_CODE_NOA)
    CHECK_MASK(a0, PTE_A, 0)
    li a0, 0
    ARM_TRAP(1f)
    GOTO_MODE_ADDR(MPP_S, VA(K_CODE_NOA))
1:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK(a0, 0x5a)
    L0_GET(a0, K_CODE_NOA)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A)
    TEST_START(49)                  /* superpage: A on load, then D on store */
    ROOT_GET(a0, VA_SUPER_NOAD)
    CHECK_MASK(a0, PTE_A | PTE_D, 0)
    LA_ABS(a1, SUPER_VA(VA_SUPER_NOAD, pg_e))
    MPRV_ON(MPP_S, 0)
    lw a2, 0(a1)
    MPRV_OFF
    CHECK(a2, 0xeeee0005)
    ROOT_GET(a0, VA_SUPER_NOAD)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A)
    TEST_START(50)
    LA_ABS(a1, SUPER_VA(VA_SUPER_NOAD, pg_e) + 0x84)
    li a2, 0x50d0d0d0
    MPRV_ON(MPP_S, 0)
    sw a2, 0(a1)
    MPRV_OFF
    ROOT_GET(a0, VA_SUPER_NOAD)
    CHECK_MASK(a0, PTE_A | PTE_D, PTE_A | PTE_D)
    la t1, pg_e
    lw a0, 0x84(t1)
    CHECK(a0, 0x50d0d0d0)
    TEST_START(51)                  /* a faulting store does not set D */
    L0_GET(a0, K_RO)
    CHECK_MASK(a0, PTE_D, 0)

    /* ---------------- sfence.vma ---------------- */
    TEST_VLOAD(52, MPP_S, 0, VA(K_REMAP), 0xaaaa0001)
    TEST_START(53)                  /* remap, sfence.vma (all) */
    L0_SET(K_REMAP, pg_b, PTE_V | PTE_R | PTE_W | PTE_AD)
    sfence.vma
    li a1, VA(K_REMAP)
    MPRV_ON(MPP_S, 0)
    lw a0, 0(a1)
    MPRV_OFF
    CHECK(a0, 0xbbbb0002)
    TEST_START(54)                  /* remap back, sfence.vma by address */
    L0_SET(K_REMAP, pg_a, PTE_V | PTE_R | PTE_W | PTE_AD)
    li a1, VA(K_REMAP)
    sfence.vma a1, x0
    MPRV_ON(MPP_S, 0)
    lw a0, 4(a1)
    MPRV_OFF
    CHECK(a0, 0xaaaa0005)
    TEST_START(55)                  /* invalidate, sfence.vma: now faults */
    L0_RAW(K_REMAP, 0)
    li a1, VA(K_REMAP)
    sfence.vma a1, x0
    ARM_TRAP(9f)
    MPRV_ON(MPP_S, 0)
8:  lw a0, 0(a1)
    MPRV_OFF
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_REMAP))
    TEST_START(56)                  /* make it valid again: works after sfence */
    L0_SET(K_REMAP, pg_c, PTE_V | PTE_R | PTE_AD)
    sfence.vma
    li a1, VA(K_REMAP)
    MPRV_ON(MPP_S, 0)
    lw a0, 0(a1)
    MPRV_OFF
    CHECK(a0, 0xcccc0003)
    TEST_START(57)                  /* a page-table change reached by S-mode sfence.vma */
    L0_SET(K_REMAP, pg_d, PTE_V | PTE_R | PTE_AD)
    li a1, VA(K_REMAP)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  sfence.vma
    lw a0, 0(a1)
    ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK(a0, 0xdddd0004)

    /* ---------------- real S-mode and U-mode code ---------------- */
    TEST_START(58)                  /* S-mode loads and stores through pages */
    li a1, VA(K_RW)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  lw a3, 0(a1)
    li a4, 0x77665544
    sw a4, 0x48(a1)
    ecall
    j fail
9:  CHECK(a3, 0xaaaa0001)
    la t1, pg_a
    lw a0, 0x48(t1)
    CHECK(a0, 0x77665544)
    TEST_START(59)                  /* S-mode load of a U page without SUM faults */
    li a1, VA(K_URW)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  lw a0, 0(a1)
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_URW))
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP, MPP_S)
    TEST_START(60)                  /* U-mode code (at the U alias) */
    li a1, VA(K_URW)
    li a3, 0
    ARM_TRAP(9f)
    GOTO_U_ALIAS(1f)
1:  lw a3, 0(a1)
    auipc a4, 0                     /* proves we run at the alias */
    ecall
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_USER_ECALL)
    CHECK(a3, 0xaaaa0001)
    la t1, 1b + U_ALIAS_OFFSET + 4
    CHECK_REG(a4, t1)
    TEST_START(61)                  /* U-mode store to a non-U page faults */
    li a1, VA(K_RW)
    li a2, 0x0badbad0
    ARM_TRAP(9f)
    GOTO_U_ALIAS(8f)
8:  sw a2, 0(a1)
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_STORE_PAGE_FAULT)
    LOAD_TRAP_FIELD(a0, TA_EPC)
    la t1, 8b + U_ALIAS_OFFSET
    CHECK_REG(a0, t1)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_RW))
    CHECK_TRAP_FIELD_MASK(TA_STATUS, MSTATUS_MPP, MPP_U)

    /* ---------------- instruction fetch ---------------- */
    TEST_FETCH_OK(62, MPP_S, 0, VA(K_CODE_X), CAUSE_SUPERVISOR_ECALL)
    TEST_FETCH_FAULT(63, MPP_S, 0, VA(K_CODE_RO))
    TEST_FETCH_OK(64, MPP_U, 0, VA(K_CODE_UX), CAUSE_USER_ECALL)
    TEST_FETCH_FAULT(65, MPP_U, 0, VA(K_CODE_X))
    TEST_FETCH_FAULT(66, MPP_S, 0, VA(K_CODE_UX))
    TEST_FETCH_FAULT(67, MPP_S, MSTATUS_SUM, VA(K_CODE_UX))
    TEST_FETCH_FAULT(68, MPP_S, 0, VA(K_INVALID))
    TEST_FETCH_FAULT(69, MPP_S, 0, VA(K_WO))
    TEST_FETCH_FAULT(70, MPP_S, MSTATUS_MXR, VA(K_RW))
    TEST_FETCH_FAULT(71, MPP_S, 0, VA_SUPER_BAD)

    /* ---------------- page faults delegated to S ---------------- */
    li t0, (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT)
    csrw medeleg, t0
    TEST_START(72)                  /* U load fault -> S handler */
    RESET_TRAP_COUNTS
    li a1, VA(K_RW) + 0x8
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_U_ALIAS(8f)
8:  lw a0, 0(a1)
    j fail
7:  ecall                           /* S: back to M */
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK_TRAP_FIELD(TA_COUNT, 1)
    CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_TRAP_FIELD(ST_TVAL, VA(K_RW) + 0x8)
    LOAD_TRAP_FIELD(a0, ST_EPC)
    la t1, 8b + U_ALIAS_OFFSET
    CHECK_REG(a0, t1)
    CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP, 0)
    TEST_START(73)                  /* S store fault -> S handler */
    RESET_TRAP_COUNTS
    li a1, VA(K_RO) + 0xc
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 8f)
8:  sw a1, 0(a1)
    j fail
7:  ecall
    j fail
9:  CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_STORE_PAGE_FAULT)
    CHECK_TRAP_FIELD(ST_TVAL, VA(K_RO) + 0xc)
    CHECK_TRAP_FIELD_ADDR(ST_EPC, 8b)
    CHECK_TRAP_FIELD_MASK(ST_STATUS, SSTATUS_SPP, SSTATUS_SPP)
    TEST_START(74)                  /* S fetch fault -> S handler */
    RESET_TRAP_COUNTS
    ARM_STRAP(7f)
    ARM_TRAP(9f)
    GOTO_MODE(MPP_S, 1f)
1:  li t0, VA(K_CODE_RO)
    jalr ra, 0(t0)
    j fail
7:  ecall
    j fail
9:  CHECK_TRAP_FIELD(ST_CAUSE, CAUSE_FETCH_PAGE_FAULT)
    CHECK_TRAP_FIELD(ST_TVAL, VA(K_CODE_RO))
    CHECK_TRAP_FIELD(ST_EPC, VA(K_CODE_RO))
    csrw medeleg, zero

    /* ---------------- pages that are virtually adjacent only ---------------- */
    TEST_START(75)                  /* misaligned load across two such pages */
    li a1, VA(K_MIS1) + 0xffe
    MPRV_ON(MPP_S, 0)
    lw a0, 0(a1)
    MPRV_OFF
    CHECK(a0, 0x0002a1a0)           /* pg_a[0xffe..0xfff] = a0 a1, pg_b[0..1] = 02 00 */
    TEST_START(76)                  /* misaligned store across them */
    li a1, VA(K_MIS1) + 0xfff
    li a2, 0x44332211
    MPRV_ON(MPP_S, 0)
    sw a2, 0(a1)
    MPRV_OFF
    la t1, pg_a + 0xfff
    lbu a0, 0(t1)
    CHECK(a0, 0x11)
    la t1, pg_b
    lhu a0, 0(t1)
    CHECK(a0, 0x3322)
    lbu a0, 2(t1)
    CHECK(a0, 0x44)
    la t1, pg_gap
    lw a0, 0(t1)
    CHECK(a0, 0x6a6a6a6a)           /* the physically next page is untouched */
    TEST_START(77)                  /* straddling instruction, 2nd half elsewhere */
    li a0, 5
    ARM_TRAP(9f)
    GOTO_MODE_ADDR(MPP_S, VA(K_STRAD1) + 0xffc)
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_SUPERVISOR_ECALL)
    CHECK_TRAP_FIELD(TA_EPC, VA(K_STRAD2) + 2)
    CHECK(a0, 12)
    TEST_START(78)                  /* straddling into a non-executable page */
    li a0, 5
    ARM_TRAP(9f)
    GOTO_MODE_ADDR(MPP_S, VA(K_STRAD1B) + 0xffc)
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_FETCH_PAGE_FAULT)
    CHECK_TRAP_FIELD(TA_EPC, VA(K_STRAD_NX) - 2)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_STRAD_NX))
    CHECK(a0, 5)
    TEST_START(79)                  /* misaligned load into an invalid page faults */
    li a1, VA(K_MIS4) - 2
    li a0, 0x1234
    ARM_TRAP(9f)
    MPRV_ON(MPP_S, 0)
8:  lw a0, 0(a1)
    MPRV_OFF
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_MIS4))   /* the part that faulted */
    CHECK(a0, 0x1234)
    TEST_START(80)                  /* misaligned load from an invalid page into a valid one */
    li a1, VA(K_NOAD) - 2
    li a0, 0x1234
    ARM_TRAP(9f)
    MPRV_ON(MPP_S, 0)
8:  lw a0, 0(a1)
    MPRV_OFF
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_NOAD) - 2)
    CHECK(a0, 0x1234)
    TEST_START(81)                  /* misaligned store into an invalid page */
    li a1, VA(K_MIS4) - 1
    li a2, 0x55667788
    ARM_TRAP(9f)
    MPRV_ON(MPP_S, 0)
8:  sw a2, 0(a1)
    MPRV_OFF
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_STORE_PAGE_FAULT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD(TA_TVAL, VA(K_MIS4))

    csrw satp, zero
    sfence.vma
    TEST_END

/* ------------------------------------------------------------------ */
/* Page tables                                                         */
/* ------------------------------------------------------------------ */
build_tables:
    /* zero both tables */
    la t0, root_table
    li t1, 2 * 4096 / 4
1:  sw zero, 0(t0)
    addi t0, t0, 4
    addi t1, t1, -1
    bnez t1, 1b
    /* root: superpages and the l0 pointer */
    ROOT_SET(0x80000000, 0x20000000 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD)
    ROOT_SET(0xc0000000, 0x20000000 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_AD)
    ROOT_SET(VA_SUPER_R, 0x20000000 | PTE_V | PTE_R | PTE_A)
    ROOT_SET(VA_SUPER_BAD, 0x20000400 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD)
    ROOT_SET(VA_SUPER_U, 0x20000000 | PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD)
    ROOT_SET(VA_SUPER_NOAD, 0x20000000 | PTE_V | PTE_R | PTE_W)
    la t0, l0_table
    srli t0, t0, 12
    slli t0, t0, 10
    ori t0, t0, PTE_V
    la t1, root_table
    li t2, (0x40000000 >> 22) * 4
    add t1, t1, t2
    sw t0, 0(t1)
    /* l0 */
    L0_SET(K_RW, pg_a, PTE_V | PTE_R | PTE_W | PTE_AD)
    L0_SET(K_RO, pg_b, PTE_V | PTE_R | PTE_A)
    L0_SET(K_XO, pg_c, PTE_V | PTE_X | PTE_A)
    L0_SET(K_URW, pg_a, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD)
    L0_SET(K_WO, pg_a, PTE_V | PTE_W | PTE_X | PTE_AD)
    L0_SET(K_INVALID, pg_a, PTE_R | PTE_W | PTE_X | PTE_AD)
    L0_SET(K_NOAD, pg_d, PTE_V | PTE_R | PTE_W)
    L0_SET(K_NOD, pg_d, PTE_V | PTE_R | PTE_W | PTE_A)
    L0_SET(K_CODE_X, vcode, PTE_V | PTE_R | PTE_X | PTE_A)
    L0_SET(K_CODE_RO, vcode, PTE_V | PTE_R | PTE_A)
    L0_SET(K_CODE_UX, vcode, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
    L0_SET(K_REMAP, pg_a, PTE_V | PTE_R | PTE_W | PTE_AD)
    L0_SET(K_POINTER, pg_e, PTE_V)
    L0_SET(K_URO, pg_a, PTE_V | PTE_R | PTE_U | PTE_A)
    L0_SET(K_STRAD1, strad1, PTE_V | PTE_R | PTE_X | PTE_A)
    L0_SET(K_STRAD2, strad2, PTE_V | PTE_R | PTE_X | PTE_A)
    L0_SET(K_STRAD_NX, strad2, PTE_V | PTE_R | PTE_A)
    L0_SET(K_MIS1, pg_a, PTE_V | PTE_R | PTE_W | PTE_AD)
    L0_SET(K_MIS2, pg_b, PTE_V | PTE_R | PTE_W | PTE_AD)
    L0_SET(K_CODE_NOA, vcode, PTE_V | PTE_R | PTE_X)
    L0_SET(K_UXO, pg_c, PTE_V | PTE_X | PTE_U | PTE_A)
    L0_SET(K_MIS3, pg_e, PTE_V | PTE_R | PTE_W | PTE_AD)
    L0_SET(K_STRAD1B, strad1, PTE_V | PTE_R | PTE_X | PTE_A)
    ret

/* ------------------------------------------------------------------ */
/* Code pages                                                          */
/* ------------------------------------------------------------------ */
    .balign 4096
vcode:                              /* mapped at several VAs */
    li a0, 0x5a
    ecall
    ebreak

    /* strad1: the last halfword holds the low half of `addi a0, a0, 7`
     * (0x00750513); its high half is at the start of strad2, which is NOT
     * the page physically after strad1 (that one starts with zeros, which
     * would make it `addi a0, zero, 0`). */
    .balign 4096
strad1:
    .skip 0xffc
    .half 0x0001                    /* 0xffc: c.nop (entry) */
    .half 0x0513                    /* 0xffe: addi a0, a0, 7 (low half) */
strad_gap:
    .skip 4096
strad2:
    .half 0x0075                    /* 0x000: addi a0, a0, 7 (high half) */
    ecall                           /* 0x002 */
    ebreak

/* ------------------------------------------------------------------ */
/* Data pages                                                          */
/* ------------------------------------------------------------------ */
    .data
    .balign 4096
pg_a:
    .word 0xaaaa0001, 0xaaaa0005, 0, 0, 0xaaaa0011
    .skip 4096 - 20 - 2
    .byte 0xa0, 0xa1                /* last two bytes */
pg_gap:
    .word 0x6a6a6a6a
    .skip 4096 - 4
pg_b:
    .word 0xbbbb0002
    .skip 4096 - 4
pg_c:
    .word 0xcccc0003
    .skip 4096 - 4
pg_d:
    .word 0xdddd0004
    .skip 4096 - 4
pg_e:
    .word 0xeeee0005, 0xeeee0015
    .skip 4096 - 8

    .bss
    .balign 4096
root_table:
    .skip 4096
l0_table:
    .skip 4096
