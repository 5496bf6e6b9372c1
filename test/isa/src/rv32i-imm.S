/*
 * rv32i-imm: RV32I register-immediate ALU instructions
 * (addi slti sltiu xori ori andi slli srli srai), lui and auipc.
 *
 * Covers the 12-bit immediate's sign extension (-2048 / 2047 / -1, also for
 * sltiu, which compares against the sign-extended immediate as unsigned),
 * shift amounts 0 and 31, rd == rs1, x0 as source, and x0 as destination.
 *
 * Test cases: 1..116
 */
#include "test.h"

    TEST_BEGIN

    /* ---- immediate ALU ops ---- */
    TEST_IMM_OP(1, addi, 0x00000000, 0x00000000, 0)
    TEST_IMM_OP(2, addi, 0x00000002, 0x00000001, 1)
    TEST_IMM_OP(3, addi, 0x0000000a, 0x00000003, 7)
    TEST_IMM_OP(4, addi, 0xfffff800, 0x00000000, -2048)
    TEST_IMM_OP(5, addi, 0x80000000, 0x80000000, 0)
    TEST_IMM_OP(6, addi, 0x7ffff800, 0x80000000, -2048)
    TEST_IMM_OP(7, addi, 0x000007ff, 0x00000000, 2047)
    TEST_IMM_OP(8, addi, 0x7fffffff, 0x7fffffff, 0)
    TEST_IMM_OP(9, addi, 0x800007fe, 0x7fffffff, 2047)
    TEST_IMM_OP(10, addi, 0x800007ff, 0x80000000, 2047)
    TEST_IMM_OP(11, addi, 0x7ffff7ff, 0x7fffffff, -2048)
    TEST_IMM_OP(12, addi, 0xffffffff, 0x00000000, -1)
    TEST_IMM_OP(13, addi, 0x00000000, 0xffffffff, 1)
    TEST_IMM_OP(14, addi, 0xfffffffe, 0xffffffff, -1)
    TEST_IMM_OP(15, addi, 0x80000000, 0x7fffffff, 1)
    TEST_IMM_OP(16, slti, 0x00000000, 0x00000000, 0)
    TEST_IMM_OP(17, slti, 0x00000000, 0x00000001, 1)
    TEST_IMM_OP(18, slti, 0x00000001, 0x00000003, 7)
    TEST_IMM_OP(19, slti, 0x00000000, 0x00000007, 3)
    TEST_IMM_OP(20, slti, 0x00000000, 0x00000000, -2048)
    TEST_IMM_OP(21, slti, 0x00000001, 0x80000000, 0)
    TEST_IMM_OP(22, slti, 0x00000001, 0x80000000, -2048)
    TEST_IMM_OP(23, slti, 0x00000001, 0x00000000, 2047)
    TEST_IMM_OP(24, slti, 0x00000000, 0x7fffffff, 2047)
    TEST_IMM_OP(25, slti, 0x00000001, 0x80000000, 2047)
    TEST_IMM_OP(26, slti, 0x00000000, 0x00000000, -1)
    TEST_IMM_OP(27, slti, 0x00000000, 0xffffffff, -1)
    TEST_IMM_OP(28, slti, 0x00000001, 0xfffffffe, -1)
    TEST_IMM_OP(29, slti, 0x00000001, 0xffffffff, 0)
    TEST_IMM_OP(30, sltiu, 0x00000000, 0x00000000, 0)
    TEST_IMM_OP(31, sltiu, 0x00000000, 0x00000001, 1)
    TEST_IMM_OP(32, sltiu, 0x00000001, 0x00000003, 7)
    TEST_IMM_OP(33, sltiu, 0x00000000, 0x00000007, 3)
    TEST_IMM_OP(34, sltiu, 0x00000001, 0x00000000, -2048)
    TEST_IMM_OP(35, sltiu, 0x00000001, 0x80000000, -2048)
    TEST_IMM_OP(36, sltiu, 0x00000000, 0xfffff800, -2048)
    TEST_IMM_OP(37, sltiu, 0x00000001, 0xfffff7ff, -2048)
    TEST_IMM_OP(38, sltiu, 0x00000001, 0x00000000, 2047)
    TEST_IMM_OP(39, sltiu, 0x00000000, 0x7fffffff, 2047)
    TEST_IMM_OP(40, sltiu, 0x00000001, 0x00000000, -1)
    TEST_IMM_OP(41, sltiu, 0x00000000, 0xffffffff, -1)
    TEST_IMM_OP(42, sltiu, 0x00000001, 0xfffffffe, -1)
    TEST_IMM_OP(43, sltiu, 0x00000001, 0x00000000, 1)
    TEST_IMM_OP(44, sltiu, 0x00000000, 0x00000001, 1)
    TEST_IMM_OP(45, xori, 0xff00f00f, 0x00ff0f00, -241)
    TEST_IMM_OP(46, xori, 0x0ff00f00, 0x0ff00ff0, 240)
    TEST_IMM_OP(47, xori, 0x00ff0ff0, 0x00ff08ff, 1807)
    TEST_IMM_OP(48, xori, 0xf00ff0ff, 0xf00ff00f, 240)
    TEST_IMM_OP(49, xori, 0xedcba987, 0x12345678, -1)
    TEST_IMM_OP(50, ori, 0xffffff0f, 0xff00ff00, -241)
    TEST_IMM_OP(51, ori, 0x0ff00ff0, 0x0ff00ff0, 240)
    TEST_IMM_OP(52, ori, 0x00ff07ff, 0x00ff00ff, 1807)
    TEST_IMM_OP(53, ori, 0xf00ff0ff, 0xf00ff00f, 240)
    TEST_IMM_OP(54, ori, 0xfffff800, 0x00000000, -2048)
    TEST_IMM_OP(55, andi, 0xff00ff00, 0xff00ff00, -241)
    TEST_IMM_OP(56, andi, 0x000000f0, 0x0ff00ff0, 240)
    TEST_IMM_OP(57, andi, 0x0000000f, 0x00ff00ff, 1807)
    TEST_IMM_OP(58, andi, 0x00000000, 0xf00ff00f, 240)
    TEST_IMM_OP(59, andi, 0x12345000, 0x12345678, -2048)
    TEST_IMM_OP(60, slli, 0x00000001, 0x00000001, 0)
    TEST_IMM_OP(61, slli, 0x00000002, 0x00000001, 1)
    TEST_IMM_OP(62, slli, 0x00000080, 0x00000001, 7)
    TEST_IMM_OP(63, slli, 0x00004000, 0x00000001, 14)
    TEST_IMM_OP(64, slli, 0x80000000, 0x00000001, 31)
    TEST_IMM_OP(65, slli, 0x80000000, 0xffffffff, 31)
    TEST_IMM_OP(66, slli, 0x90909080, 0x21212121, 7)
    TEST_IMM_OP(67, slli, 0x80000000, 0x21212121, 31)
    TEST_IMM_OP(68, srli, 0x80000000, 0x80000000, 0)
    TEST_IMM_OP(69, srli, 0x40000000, 0x80000000, 1)
    TEST_IMM_OP(70, srli, 0x01000000, 0x80000000, 7)
    TEST_IMM_OP(71, srli, 0x00000001, 0x80000000, 31)
    TEST_IMM_OP(72, srli, 0x7fffffff, 0xffffffff, 1)
    TEST_IMM_OP(73, srli, 0x00000001, 0xffffffff, 31)
    TEST_IMM_OP(74, srli, 0x00424242, 0x21212121, 7)
    TEST_IMM_OP(75, srli, 0x00008484, 0x21212121, 14)
    TEST_IMM_OP(76, srai, 0x80000000, 0x80000000, 0)
    TEST_IMM_OP(77, srai, 0xc0000000, 0x80000000, 1)
    TEST_IMM_OP(78, srai, 0xff000000, 0x80000000, 7)
    TEST_IMM_OP(79, srai, 0xffffffff, 0x80000000, 31)
    TEST_IMM_OP(80, srai, 0x3fffffff, 0x7fffffff, 1)
    TEST_IMM_OP(81, srai, 0x00000000, 0x7fffffff, 31)
    TEST_IMM_OP(82, srai, 0xff030303, 0x81818181, 7)
    TEST_IMM_OP(83, srai, 0xffffffff, 0x81818181, 31)
    TEST_IMM_SRC1_EQ_DEST(84, addi, 0x00000018, 0x0000000d, 11)
    TEST_IMM_SRC1_EQ_DEST(85, slti, 0x00000001, 0x0000000b, 13)
    TEST_IMM_SRC1_EQ_DEST(86, sltiu, 0x00000000, 0xffffffff, -1)
    TEST_IMM_SRC1_EQ_DEST(87, srai, 0xff000000, 0x80000000, 7)

    /* ---- x0 as source and destination ---- */
    TEST_IMM_ZEROSRC1(88, addi, 0x000007ff, 2047)
    TEST_IMM_ZEROSRC1(89, slti, 0x00000000, -1)
    TEST_IMM_ZEROSRC1(90, sltiu, 0x00000001, -1)
    TEST_IMM_ZEROSRC1(91, xori, 0x000007ff, 2047)
    TEST_IMM_ZEROSRC1(92, ori, 0x000007ff, 2047)
    TEST_IMM_ZEROSRC1(93, andi, 0x00000000, 2047)
    TEST_IMM_ZEROSRC1(94, slli, 0x00000000, 1)
    TEST_IMM_ZEROSRC1(95, srli, 0x00000000, 1)
    TEST_IMM_ZEROSRC1(96, srai, 0x00000000, 1)
    TEST_IMM_ZERODEST(97, addi, 0x80000001, 1)
    TEST_IMM_ZERODEST(98, slti, 0x80000001, 1)
    TEST_IMM_ZERODEST(99, sltiu, 0x80000001, 1)
    TEST_IMM_ZERODEST(100, xori, 0x80000001, 1)
    TEST_IMM_ZERODEST(101, ori, 0x80000001, 1)
    TEST_IMM_ZERODEST(102, andi, 0x80000001, 1)
    TEST_IMM_ZERODEST(103, slli, 0x80000001, 1)
    TEST_IMM_ZERODEST(104, srli, 0x80000001, 1)
    TEST_IMM_ZERODEST(105, srai, 0x80000001, 1)

    /* ---- lui ---- */
    TEST_CASE(106, a0, 0x00000000, li a0, -1 ; lui a0, 0)
    TEST_CASE(107, a0, 0xfffff000, li a0, -1 ; lui a0, 0xfffff)
    TEST_CASE(108, a0, 0x7ffff000, li a0, -1 ; lui a0, 0x7ffff)
    TEST_CASE(109, a0, 0x80000000, lui a0, 0x80000)
    TEST_CASE(110, a0, 0x12345000, li a0, 0x00000fff ; lui a0, 0x12345)
    TEST_CASE(111, x0, 0, lui x0, 0x80000)

    /* ---- auipc: pc-relative, upper immediate, wraps around ---- */
    TEST_START(112)
1:  auipc a0, 0
    CHECK_ADDR(a0, 1b)
    TEST_START(113)
1:  auipc a0, 1
    la t2, 1b + 0x1000
    CHECK_REG(a0, t2)
    TEST_START(114)
1:  auipc a0, 0xfffff
    la t2, 1b - 0x1000
    CHECK_REG(a0, t2)
    TEST_START(115)
1:  auipc a0, 0x80000
    la t2, 1b
    li t1, 0x80000000
    add t2, t2, t1
    CHECK_REG(a0, t2)
    TEST_START(116)
    auipc x0, 0x12345
    CHECK(x0, 0)

    TEST_END
