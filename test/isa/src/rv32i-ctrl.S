/*
 * rv32i-ctrl: RV32I control transfer: beq bne blt bge bltu bgeu, jal, jalr.
 *
 * Every branch is tried taken and not taken with signed/unsigned edge
 * operands; taken cases branch forward and then backward.  Also: rs1 == rs2,
 * x0 operands, branches/jumps over ~4 KiB, jal/jalr link values (pc + 4),
 * jalr offsets (positive, negative, +-2047/2048), jalr clearing bit 0 of the
 * target, jalr with rd == rs1, and rd = x0 never being written.
 *
 * Test cases: 1..97
 */
#include "test.h"

/* jal to a forward target; expect link == address after the jal */
#define TEST_JAL(n, rd) \
    TEST_START(n) ; \
    li rd, 0 ; \
    jal rd, 2f ; \
1:  j fail ; \
2:  CHECK_ADDR(rd, 1b)

/* jalr rd, off(rs) with rs = target - off (+ extra bits to be cleared) */
#define TEST_JALR(n, rd, rs, off, extra) \
    TEST_START(n) ; \
    la rs, 2f - (off) + (extra) ; \
    jalr rd, off(rs) ; \
1:  j fail ; \
    j fail ; \
2:  CHECK_ADDR(rd, 1b)

    TEST_BEGIN

    /* ---- beq ---- */
    TEST_BR_TAKEN(1, beq, 0x00000000, 0x00000000)
    TEST_BR_TAKEN(2, beq, 0x00000001, 0x00000001)
    TEST_BR_TAKEN(3, beq, 0xffffffff, 0xffffffff)
    TEST_BR_TAKEN(4, beq, 0x80000000, 0x80000000)
    TEST_BR_NOT_TAKEN(5, beq, 0x00000000, 0x00000001)
    TEST_BR_NOT_TAKEN(6, beq, 0x00000001, 0x00000000)
    TEST_BR_NOT_TAKEN(7, beq, 0xffffffff, 0x00000001)
    TEST_BR_NOT_TAKEN(8, beq, 0x00000001, 0xffffffff)
    TEST_BR_NOT_TAKEN(9, beq, 0x80000000, 0x00000000)
    TEST_BR_NOT_TAKEN(10, beq, 0x7fffffff, 0xffffffff)

    /* ---- bne ---- */
    TEST_BR_TAKEN(11, bne, 0x00000000, 0x00000001)
    TEST_BR_TAKEN(12, bne, 0x00000001, 0x00000000)
    TEST_BR_TAKEN(13, bne, 0xffffffff, 0x00000001)
    TEST_BR_TAKEN(14, bne, 0x00000001, 0xffffffff)
    TEST_BR_TAKEN(15, bne, 0x80000000, 0x00000000)
    TEST_BR_NOT_TAKEN(16, bne, 0x00000000, 0x00000000)
    TEST_BR_NOT_TAKEN(17, bne, 0x00000001, 0x00000001)
    TEST_BR_NOT_TAKEN(18, bne, 0xffffffff, 0xffffffff)
    TEST_BR_NOT_TAKEN(19, bne, 0x80000000, 0x80000000)

    /* ---- blt ---- */
    TEST_BR_TAKEN(20, blt, 0x00000000, 0x00000001)
    TEST_BR_TAKEN(21, blt, 0xffffffff, 0x00000001)
    TEST_BR_TAKEN(22, blt, 0xfffffffe, 0xffffffff)
    TEST_BR_TAKEN(23, blt, 0x80000000, 0x7fffffff)
    TEST_BR_TAKEN(24, blt, 0xffffffff, 0x00000000)
    TEST_BR_TAKEN(25, blt, 0x80000000, 0xffffffff)
    TEST_BR_NOT_TAKEN(26, blt, 0x00000001, 0x00000000)
    TEST_BR_NOT_TAKEN(27, blt, 0x00000001, 0xffffffff)
    TEST_BR_NOT_TAKEN(28, blt, 0xffffffff, 0xfffffffe)
    TEST_BR_NOT_TAKEN(29, blt, 0x00000001, 0xfffffffe)
    TEST_BR_NOT_TAKEN(30, blt, 0x7fffffff, 0x80000000)
    TEST_BR_NOT_TAKEN(31, blt, 0x00000005, 0x00000005)
    TEST_BR_NOT_TAKEN(32, blt, 0xffffffff, 0xffffffff)

    /* ---- bge ---- */
    TEST_BR_TAKEN(33, bge, 0x00000000, 0x00000000)
    TEST_BR_TAKEN(34, bge, 0x00000001, 0x00000001)
    TEST_BR_TAKEN(35, bge, 0xffffffff, 0xffffffff)
    TEST_BR_TAKEN(36, bge, 0x00000001, 0x00000000)
    TEST_BR_TAKEN(37, bge, 0x00000001, 0xffffffff)
    TEST_BR_TAKEN(38, bge, 0xffffffff, 0xfffffffe)
    TEST_BR_TAKEN(39, bge, 0x7fffffff, 0x80000000)
    TEST_BR_NOT_TAKEN(40, bge, 0x00000000, 0x00000001)
    TEST_BR_NOT_TAKEN(41, bge, 0xffffffff, 0x00000001)
    TEST_BR_NOT_TAKEN(42, bge, 0xfffffffe, 0xffffffff)
    TEST_BR_NOT_TAKEN(43, bge, 0xfffffffe, 0x00000001)
    TEST_BR_NOT_TAKEN(44, bge, 0x80000000, 0x7fffffff)
    TEST_BR_NOT_TAKEN(45, bge, 0x80000000, 0xffffffff)

    /* ---- bltu ---- */
    TEST_BR_TAKEN(46, bltu, 0x00000000, 0x00000001)
    TEST_BR_TAKEN(47, bltu, 0xfffffffe, 0xffffffff)
    TEST_BR_TAKEN(48, bltu, 0x00000000, 0xffffffff)
    TEST_BR_TAKEN(49, bltu, 0x7fffffff, 0x80000000)
    TEST_BR_NOT_TAKEN(50, bltu, 0x00000001, 0x00000000)
    TEST_BR_NOT_TAKEN(51, bltu, 0xffffffff, 0xfffffffe)
    TEST_BR_NOT_TAKEN(52, bltu, 0xffffffff, 0x00000000)
    TEST_BR_NOT_TAKEN(53, bltu, 0x80000000, 0x7fffffff)
    TEST_BR_NOT_TAKEN(54, bltu, 0x00000001, 0x00000001)
    TEST_BR_NOT_TAKEN(55, bltu, 0xffffffff, 0xffffffff)

    /* ---- bgeu ---- */
    TEST_BR_TAKEN(56, bgeu, 0x00000000, 0x00000000)
    TEST_BR_TAKEN(57, bgeu, 0x00000001, 0x00000001)
    TEST_BR_TAKEN(58, bgeu, 0xffffffff, 0xffffffff)
    TEST_BR_TAKEN(59, bgeu, 0x00000001, 0x00000000)
    TEST_BR_TAKEN(60, bgeu, 0xffffffff, 0xfffffffe)
    TEST_BR_TAKEN(61, bgeu, 0xffffffff, 0x00000000)
    TEST_BR_TAKEN(62, bgeu, 0x80000000, 0x7fffffff)
    TEST_BR_NOT_TAKEN(63, bgeu, 0x00000000, 0x00000001)
    TEST_BR_NOT_TAKEN(64, bgeu, 0xfffffffe, 0xffffffff)
    TEST_BR_NOT_TAKEN(65, bgeu, 0x00000000, 0xffffffff)
    TEST_BR_NOT_TAKEN(66, bgeu, 0x7fffffff, 0x80000000)

    /* ---- same register as both operands, x0 operands ---- */
    TEST_START(67)              /* beq a1, a1: taken */
    li a1, 0x5a5a5a5a
    BR_T(beq, a1, a1, 1f)
    j fail
1:  TEST_START(68)              /* bne a1, a1: not taken */
    BR_N(bne, a1, a1, fail)
    TEST_START(69)              /* blt a1, a1: not taken */
    li a1, -7
    BR_N(blt, a1, a1, fail)
    TEST_START(70)              /* bltu a1, a1: not taken */
    BR_N(bltu, a1, a1, fail)
    TEST_START(71)              /* bge a1, a1: taken */
    BR_T(bge, a1, a1, 1f)
    j fail
1:  TEST_START(72)              /* bgeu a1, a1: taken */
    BR_T(bgeu, a1, a1, 1f)
    j fail
1:  TEST_START(73)              /* blt -1, x0: taken */
    li a1, -1
    BR_T(blt, a1, x0, 1f)
    j fail
1:  TEST_START(74)              /* bltu x0, 0xffffffff: taken */
    BR_T(bltu, x0, a1, 1f)
    j fail
1:  TEST_START(75)              /* bgeu x0, 0xffffffff: not taken */
    BR_N(bgeu, x0, a1, fail)
    TEST_START(76)              /* bge x0, -1: taken */
    BR_T(bge, x0, a1, 1f)
    j fail
1:  TEST_START(77)              /* beq x0, x0: taken */
    BR_T(beq, x0, x0, 1f)
    j fail
1:

    /* ---- long branch offsets (close to the +-4 KiB limit) ---- */
    TEST_START(78)              /* forward, offset +4092 */
    li a1, 1
    BR_T(bne, a1, x0, 2f)
    j fail
    .skip 4084                  /* zeros: illegal if ever executed */
2:  TEST_START(79)              /* backward, offset -4088 */
    j 3f
2:  j 4f
    .skip 4084
3:  BR_T(beq, x0, x0, 2b)
    j fail
4:

    /* ---- jal ---- */
    TEST_JAL(80, ra)
    TEST_JAL(81, t3)
    TEST_JAL(82, s11)
    TEST_START(83)              /* jal x0: plain jump, x0 stays 0 */
    jal x0, 2f
    j fail
2:  CHECK(x0, 0)
    TEST_START(84)              /* backward jal with link */
    li a5, 0
    j 3f
2:  CHECK_ADDR(a5, 4f)
    j 5f
3:  jal a5, 2b
4:  j fail
5:  TEST_START(85)              /* jal over 8 KiB */
    jal a4, 2f
1:  j fail
    .skip 8192
2:  CHECK_ADDR(a4, 1b)

    /* ---- jalr ---- */
    TEST_JALR(86, ra, t0, 0, 0)
    TEST_JALR(87, a5, t0, 8, 0)
    TEST_JALR(88, a5, t0, -12, 0)
    TEST_JALR(89, a5, t0, 2047, 0)
    TEST_JALR(90, a5, t0, -2048, 0)
    TEST_JALR(91, a5, t0, 0, 1)         /* target bit 0 set: cleared */
    TEST_JALR(92, a5, t0, 1, 0)         /* odd base + 1: no clearing needed */
    TEST_JALR(93, a5, t0, 2047, 1)      /* offset added before bit 0 cleared */
    TEST_JALR(94, a5, a5, 4, 0)         /* rd == rs1: target uses old value */
    TEST_JALR(95, ra, ra, 0, 1)         /* rd == rs1 == ra, bit 0 cleared */
    TEST_START(96)                      /* jalr x0 (no link) */
    la t0, 2f
    jalr x0, 0(t0)
    j fail
2:  CHECK(x0, 0)
    TEST_START(97)                      /* call / ret */
    li a0, 0
    call 1f
    CHECK(a0, 0x77)
    j 2f
1:  li a0, 0x77
    ret
    j fail
2:

    TEST_END
