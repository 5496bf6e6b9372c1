/*
 * misaligned: misaligned scalar loads/stores and page-straddling instructions
 * (bare M-mode; Roam, like QEMU, performs misaligned lw/lh/lhu/sw/sh in
 * hardware instead of trapping).
 *
 * - lw/lh/lhu at every misaligned offset, inside a page (incl. across an
 *   8-byte boundary) and across a 4 KiB page boundary, sign/zero extension;
 * - sw/sh at misaligned offsets inside a page and across a page boundary,
 *   read back both misaligned and as the aligned words around them;
 * - 32-bit instructions starting at offset 0xFFE of a page (straddling into
 *   the next page): ALU, auipc, jal, a taken backward branch, load, store,
 *   ecall, an illegal instruction (mtval = all 32 bits), and entering such an
 *   instruction directly by jalr.
 *
 * Test cases: 1..57
 */
#include "test.h"

#define RVC(code...) .option rvc ; code ; .option norvc

/* Pad the straddle pages up to page offset `off` (the blocks below contain
 * only fixed-size instructions, so `.` is exact). */
#define PAD_TO(off) .skip ((off) - ((. - straddle_pages) & 0xfff))
/* Check (at run time) that label sits at page offset `off`. */
#define CHECK_PAGE_OFFSET(label, off) \
    la t0, label ; \
    slli t0, t0, 20 ; \
    srli t0, t0, 20 ; \
    CHECK(t0, off)

    TEST_BEGIN

    /* ---- misaligned loads inside a page (pattern 16-byte aligned; offsets 5..7 cross an 8-byte boundary) ---- */
    TEST_LD_OP(1, lw, 0x5534b392, 1, ld_in)
    TEST_LD_OP(2, lw, 0xd65534b3, 2, ld_in)
    TEST_LD_OP(3, lw, 0xf7d65534, 3, ld_in)
    TEST_LD_OP(4, lw, 0x9978f7d6, 5, ld_in)
    TEST_LD_OP(5, lw, 0x1a9978f7, 6, ld_in)
    TEST_LD_OP(6, lw, 0x3b1a9978, 7, ld_in)
    TEST_LD_OP(7, lh, 0xffffb392, 1, ld_in)
    TEST_LD_OP(8, lh, 0xfffff7d6, 5, ld_in)
    TEST_LD_OP(9, lh, 0xffff9978, 7, ld_in)
    TEST_LD_OP(10, lh, 0xffffddbc, 11, ld_in)
    TEST_LD_OP(11, lhu, 0x0000b392, 1, ld_in)
    TEST_LD_OP(12, lhu, 0x00009978, 7, ld_in)
    TEST_LD_OP(13, lhu, 0x00007f5e, 13, ld_in)
    TEST_LD_OP(14, lw, 0x3b1a9978, -2, ld_in + 9)   /* negative offset */
    TEST_CASE(15, a1, 0x1a9978f7, la a1, ld_in + 6 ; lw a1, 0(a1))   /* rd == rs1 */

    /* ---- misaligned loads across a 4 KiB page boundary (the boundary is at offset 8) ---- */
    TEST_START(16)
    CHECK_PAGE_OFFSET(ld_cross, 0xff8)
    CHECK_PAGE_OFFSET(st_cross, 0xff8)
    la a1, ld_cross
    lw a0, 1(a1)
    CHECK(a0, 0x5534b392)
    TEST_LD_OP(17, lw, 0xd65534b3, 2, ld_cross)
    TEST_LD_OP(18, lw, 0xf7d65534, 3, ld_cross)
    TEST_LD_OP(19, lw, 0x9978f7d6, 5, ld_cross)
    TEST_LD_OP(20, lw, 0x1a9978f7, 6, ld_cross)
    TEST_LD_OP(21, lw, 0x3b1a9978, 7, ld_cross)
    TEST_LD_OP(22, lh, 0xffffb392, 1, ld_cross)
    TEST_LD_OP(23, lh, 0xfffff7d6, 5, ld_cross)
    TEST_LD_OP(24, lh, 0xffff9978, 7, ld_cross)
    TEST_LD_OP(25, lh, 0xffffddbc, 11, ld_cross)
    TEST_LD_OP(26, lhu, 0x0000b392, 1, ld_cross)
    TEST_LD_OP(27, lhu, 0x00009978, 7, ld_cross)
    TEST_LD_OP(28, lhu, 0x00007f5e, 13, ld_cross)
    TEST_LD_OP(29, lw, 0x3b1a9978, -2, ld_cross + 9)   /* negative offset */
    TEST_CASE(30, a1, 0x1a9978f7, la a1, ld_cross + 6 ; lw a1, 0(a1))   /* rd == rs1 */

    /* ---- misaligned stores inside a page: read back misaligned and as aligned words ---- */
    TEST_START(31)                  /* sw 0xa1b2c3d4 at +5 */
    la a1, st_in
    li a2, 0xa1b2c3d4
    sw a2, 5(a1)
    lw a0, 5(a1)
    CHECK(a0, 0xa1b2c3d4)
    lw a0, 4(a1)
    CHECK(a0, 0xb2c3d455)
    lw a0, 8(a1)
    CHECK(a0, 0xbc3b1aa1)
    TEST_START(32)                  /* sh 0xe5f6 at +7 */
    la a1, st_in
    li a2, 0x0000e5f6
    sh a2, 7(a1)
    lhu a0, 7(a1)
    CHECK(a0, 0x0000e5f6)
    lw a0, 4(a1)
    CHECK(a0, 0xf6c3d455)
    lw a0, 8(a1)
    CHECK(a0, 0xbc3b1ae5)
    TEST_START(33)                  /* sw 0x1020304 at +1 */
    la a1, st_in
    li a2, 0x01020304
    sw a2, 1(a1)
    lw a0, 1(a1)
    CHECK(a0, 0x01020304)
    lw a0, 0(a1)
    CHECK(a0, 0x02030411)
    lw a0, 4(a1)
    CHECK(a0, 0xf6c3d401)
    TEST_START(34)                  /* sh 0xa0b at +3 */
    la a1, st_in
    li a2, 0x00000a0b
    sh a2, 3(a1)
    lhu a0, 3(a1)
    CHECK(a0, 0x00000a0b)
    lw a0, 0(a1)
    CHECK(a0, 0x0b030411)
    lw a0, 4(a1)
    CHECK(a0, 0xf6c3d40a)
    TEST_START(35)                  /* sw 0xcafef00d at +6 */
    la a1, st_in
    li a2, 0xcafef00d
    sw a2, 6(a1)
    lw a0, 6(a1)
    CHECK(a0, 0xcafef00d)
    lw a0, 4(a1)
    CHECK(a0, 0xf00dd40a)
    lw a0, 8(a1)
    CHECK(a0, 0xbc3bcafe)
    TEST_START(36)                  /* sw 0x89abcdef at +7 */
    la a1, st_in
    li a2, 0x89abcdef
    sw a2, 7(a1)
    lw a0, 7(a1)
    CHECK(a0, 0x89abcdef)
    lw a0, 4(a1)
    CHECK(a0, 0xef0dd40a)
    lw a0, 8(a1)
    CHECK(a0, 0xbc89abcd)
    TEST_START(37)                  /* sh 0x7788 at +11 */
    la a1, st_in
    li a2, 0x00007788
    sh a2, 11(a1)
    lhu a0, 11(a1)
    CHECK(a0, 0x00007788)
    lw a0, 8(a1)
    CHECK(a0, 0x8889abcd)
    lw a0, 12(a1)
    CHECK(a0, 0x807f5e77)
    TEST_START(38)                  /* sw 0x55aa55aa at +3 */
    la a1, st_in
    li a2, 0x55aa55aa
    sw a2, 3(a1)
    lw a0, 3(a1)
    CHECK(a0, 0x55aa55aa)
    lw a0, 0(a1)
    CHECK(a0, 0xaa030411)
    lw a0, 4(a1)
    CHECK(a0, 0xef55aa55)

    /* ---- misaligned stores across a 4 KiB page boundary (at offset 8): read back misaligned and as aligned words ---- */
    TEST_START(39)                  /* sw 0xa1b2c3d4 at +5 */
    la a1, st_cross
    li a2, 0xa1b2c3d4
    sw a2, 5(a1)
    lw a0, 5(a1)
    CHECK(a0, 0xa1b2c3d4)
    lw a0, 4(a1)
    CHECK(a0, 0xb2c3d455)
    lw a0, 8(a1)
    CHECK(a0, 0xbc3b1aa1)
    TEST_START(40)                  /* sh 0xe5f6 at +7 */
    la a1, st_cross
    li a2, 0x0000e5f6
    sh a2, 7(a1)
    lhu a0, 7(a1)
    CHECK(a0, 0x0000e5f6)
    lw a0, 4(a1)
    CHECK(a0, 0xf6c3d455)
    lw a0, 8(a1)
    CHECK(a0, 0xbc3b1ae5)
    TEST_START(41)                  /* sw 0x1020304 at +1 */
    la a1, st_cross
    li a2, 0x01020304
    sw a2, 1(a1)
    lw a0, 1(a1)
    CHECK(a0, 0x01020304)
    lw a0, 0(a1)
    CHECK(a0, 0x02030411)
    lw a0, 4(a1)
    CHECK(a0, 0xf6c3d401)
    TEST_START(42)                  /* sh 0xa0b at +3 */
    la a1, st_cross
    li a2, 0x00000a0b
    sh a2, 3(a1)
    lhu a0, 3(a1)
    CHECK(a0, 0x00000a0b)
    lw a0, 0(a1)
    CHECK(a0, 0x0b030411)
    lw a0, 4(a1)
    CHECK(a0, 0xf6c3d40a)
    TEST_START(43)                  /* sw 0xcafef00d at +6 */
    la a1, st_cross
    li a2, 0xcafef00d
    sw a2, 6(a1)
    lw a0, 6(a1)
    CHECK(a0, 0xcafef00d)
    lw a0, 4(a1)
    CHECK(a0, 0xf00dd40a)
    lw a0, 8(a1)
    CHECK(a0, 0xbc3bcafe)
    TEST_START(44)                  /* sw 0x89abcdef at +7 */
    la a1, st_cross
    li a2, 0x89abcdef
    sw a2, 7(a1)
    lw a0, 7(a1)
    CHECK(a0, 0x89abcdef)
    lw a0, 4(a1)
    CHECK(a0, 0xef0dd40a)
    lw a0, 8(a1)
    CHECK(a0, 0xbc89abcd)
    TEST_START(45)                  /* sh 0x7788 at +11 */
    la a1, st_cross
    li a2, 0x00007788
    sh a2, 11(a1)
    lhu a0, 11(a1)
    CHECK(a0, 0x00007788)
    lw a0, 8(a1)
    CHECK(a0, 0x8889abcd)
    lw a0, 12(a1)
    CHECK(a0, 0x807f5e77)
    TEST_START(46)                  /* sw 0x55aa55aa at +3 */
    la a1, st_cross
    li a2, 0x55aa55aa
    sw a2, 3(a1)
    lw a0, 3(a1)
    CHECK(a0, 0x55aa55aa)
    lw a0, 0(a1)
    CHECK(a0, 0xaa030411)
    lw a0, 4(a1)
    CHECK(a0, 0xef55aa55)

    /* ---- 32-bit instructions straddling a page boundary ---- */
    TEST_START(47)                  /* addi */
    CHECK_PAGE_OFFSET(sA_insn, 0xffe)
    li a0, 5
    jal ra, sA
    CHECK(a0, 12)
    TEST_START(48)                  /* auipc: a0 = its own address */
    CHECK_PAGE_OFFSET(sB_insn, 0xffe)
    jal ra, sB
    CHECK_ADDR(a0, sB_insn)
    TEST_START(49)                  /* jal: link = pc + 4 */
    CHECK_PAGE_OFFSET(sC_insn, 0xffe)
    li a1, 0
    jal ra, sC
    CHECK_ADDR(a1, sC_insn + 4)
    TEST_START(50)                  /* beq taken, backward into the first page */
    CHECK_PAGE_OFFSET(sD_insn, 0xffe)
    li a2, 3
    li a3, 3
    jal ra, sD
    CHECK(a2, 3)
    TEST_START(51)                  /* lw */
    CHECK_PAGE_OFFSET(sE_insn, 0xffe)
    la a1, ld_in
    li a0, 0
    jal ra, sE
    CHECK(a0, 0x34b39211)
    TEST_START(52)                  /* sw */
    CHECK_PAGE_OFFSET(sF_insn, 0xffe)
    la a1, st_in
    li a2, 0x5eed5eed
    jal ra, sF
    lw a0, 12(a1)
    CHECK(a0, 0x5eed5eed)
    TEST_START(53)                  /* entered directly by jalr */
    CHECK_PAGE_OFFSET(sG_insn, 0xffe)
    li a0, 100
    la t0, sG_insn
    jalr ra, 0(t0)
    CHECK(a0, 99)
    TEST_START(54)                  /* ecall: mepc = address of the ecall */
    CHECK_PAGE_OFFSET(sH_insn, 0xffe)
    ARM_TRAP(1f)
    jal ra, sH
    j fail
1:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_MACHINE_ECALL)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, sH_insn)
    TEST_START(55)                  /* illegal: mtval = all 32 bits */
    CHECK_PAGE_OFFSET(sI_insn, 0xffe)
    ARM_TRAP(1f)
    jal ra, sI
    j fail
1:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_ILLEGAL_INSTRUCTION)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, sI_insn)
    CHECK_TRAP_FIELD(TA_TVAL, 0xdeadc06b)
    TEST_START(56)                  /* 16-bit instruction in the last halfword */
    CHECK_PAGE_OFFSET(sJ_insn, 0xffe)
    li a0, 1
    jal ra, sJ
    CHECK(a0, 2)
    TEST_START(57)                  /* a 32-bit at 0xffa, then one at 0xffe */
    CHECK_PAGE_OFFSET(sK_insn, 0xffe)
    li a0, 0
    jal ra, sK
    CHECK(a0, 0x333)

    TEST_END

    /* ---- the straddle pages ---- */
    /* each block: entry at page offset 0xFFC (c.nop), the 32-bit instruction
     * at 0xFFE, the rest on the next page */
    .balign 4096
straddle_pages:
    PAD_TO(0xffc)
sA: RVC(c.nop)
sA_insn:
    addi a0, a0, 7
    ret

    PAD_TO(0xffc)
sB: RVC(c.nop)
sB_insn:
    auipc a0, 0
    ret

    PAD_TO(0xffc)
sC: RVC(c.nop)
sC_insn:
    jal a1, 1f
    ebreak                          /* not reached */
1:  ret

    PAD_TO(0xff8)
sD_back:
    RVC(c.jr ra)                    /* 0xff8: branch target */
    RVC(c.nop)                      /* 0xffa */
sD: RVC(c.nop)                      /* 0xffc */
sD_insn:
    beq a2, a3, sD_back
    ebreak                          /* not reached */

    PAD_TO(0xffc)
sE: RVC(c.nop)
sE_insn:
    lw a0, 0(a1)
    ret

    PAD_TO(0xffc)
sF: RVC(c.nop)
sF_insn:
    sw a2, 12(a1)
    ret

    PAD_TO(0xffc)
sG: RVC(c.nop)
sG_insn:
    addi a0, a0, -1
    ret

    PAD_TO(0xffc)
sH: RVC(c.nop)
sH_insn:
    ecall
    ebreak

    PAD_TO(0xffc)
sI: RVC(c.nop)
sI_insn:
    .word 0xdeadc06b                /* reserved major opcode 0x6b */
    ebreak

    PAD_TO(0xffc)
sJ: RVC(c.nop)
sJ_insn:
    RVC(c.addi a0, 1)               /* 0xffe, 16-bit */
    ret                             /* next page, offset 0 */

    PAD_TO(0xffa)
sK: addi a0, a0, 0x111              /* 0xffa: fits in the page */
sK_insn:
    addi a0, a0, 0x222              /* 0xffe: straddles */
    ret

    .data
    .balign 16
ld_in:
    .byte 0x11, 0x92, 0xb3, 0x34, 0x55, 0xd6, 0xf7, 0x78
    .byte 0x99, 0x1a, 0x3b, 0xbc, 0xdd, 0x5e, 0x7f, 0x80
st_in:
    .byte 0x11, 0x92, 0xb3, 0x34, 0x55, 0xd6, 0xf7, 0x78
    .byte 0x99, 0x1a, 0x3b, 0xbc, 0xdd, 0x5e, 0x7f, 0x80

    /* ld_cross and st_cross start 8 bytes before a page boundary */
    .balign 4096
cross_pages:
    .skip 4096 - 8
ld_cross:
    .byte 0x11, 0x92, 0xb3, 0x34, 0x55, 0xd6, 0xf7, 0x78
    .byte 0x99, 0x1a, 0x3b, 0xbc, 0xdd, 0x5e, 0x7f, 0x80
    .skip 4096 - 16
st_cross:
    .byte 0x11, 0x92, 0xb3, 0x34, 0x55, 0xd6, 0xf7, 0x78
    .byte 0x99, 0x1a, 0x3b, 0xbc, 0xdd, 0x5e, 0x7f, 0x80
