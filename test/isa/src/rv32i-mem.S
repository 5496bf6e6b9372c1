/*
 * rv32i-mem: RV32I loads and stores, fence, fence.i.
 *
 * lb/lbu/lh/lhu/lw with sign and zero extension, positive/negative/extreme
 * (2047, -2048) offsets, rd == rs1, x0 destination; sb/sh/sw leaving
 * neighbouring bytes intact and using only the low bits of rs2, rs2 == rs1,
 * little-endian byte order between sizes; fence variants; fence.i after
 * rewriting an instruction (self-modifying code, twice).
 *
 * Test cases: 1..72
 */
#include "test.h"

/* Write init (a word) at base+off_w, store value with st at base+off,
 * then expect the word at base+off_w to be result. */
#define TEST_ST_MERGE(n, st, init, value, base, off, off_w, result) \
    TEST_CASE(n, a0, result, la a1, base ; li a2, init ; sw a2, off_w(a1) ; \
              li a3, value ; st a3, off(a1) ; lw a0, off_w(a1))

    TEST_BEGIN

    /* ---- lb ---- */
    TEST_LD_OP(1, lb, 0xffffffff, 0, b_data)
    TEST_LD_OP(2, lb, 0x00000000, 1, b_data)
    TEST_LD_OP(3, lb, 0xfffffff0, 2, b_data)
    TEST_LD_OP(4, lb, 0x0000000f, 3, b_data)
    TEST_LD_OP(5, lb, 0x0000007f, 4, b_data)
    TEST_LD_OP(6, lb, 0xffffff80, 5, b_data)
    TEST_LD_OP(7, lb, 0xffffffff, -3, b_data + 3)
    TEST_LD_OP(8, lb, 0x00000000, -2, b_data + 3)
    TEST_LD_OP(9, lb, 0xfffffff0, -1, b_data + 3)
    TEST_LD_OP(10, lb, 0xffffffff, 2047, b_data - 2047)
    TEST_LD_OP(11, lb, 0x0000000f, -2048, b_data + 3 + 2048)

    /* ---- lbu ---- */
    TEST_LD_OP(12, lbu, 0x000000ff, 0, b_data)
    TEST_LD_OP(13, lbu, 0x00000000, 1, b_data)
    TEST_LD_OP(14, lbu, 0x000000f0, 2, b_data)
    TEST_LD_OP(15, lbu, 0x0000000f, 3, b_data)
    TEST_LD_OP(16, lbu, 0x00000080, 5, b_data)
    TEST_LD_OP(17, lbu, 0x000000ff, -3, b_data + 3)
    TEST_LD_OP(18, lbu, 0x000000f0, 2047, b_data + 2 - 2047)
    TEST_LD_OP(19, lbu, 0x00000080, -2048, b_data + 5 + 2048)

    /* ---- lh ---- */
    TEST_LD_OP(20, lh, 0x000000ff, 0, h_data)
    TEST_LD_OP(21, lh, 0xffffff00, 2, h_data)
    TEST_LD_OP(22, lh, 0x00000ff0, 4, h_data)
    TEST_LD_OP(23, lh, 0xfffff00f, 6, h_data)
    TEST_LD_OP(24, lh, 0x00007fff, 8, h_data)
    TEST_LD_OP(25, lh, 0xffff8000, 10, h_data)
    TEST_LD_OP(26, lh, 0x000000ff, -6, h_data + 6)
    TEST_LD_OP(27, lh, 0xffffff00, -4, h_data + 6)
    TEST_LD_OP(28, lh, 0x00000ff0, -2, h_data + 6)
    TEST_LD_OP(29, lh, 0xffffff00, 2046, h_data + 2 - 2046)

    /* ---- lhu ---- */
    TEST_LD_OP(30, lhu, 0x000000ff, 0, h_data)
    TEST_LD_OP(31, lhu, 0x0000ff00, 2, h_data)
    TEST_LD_OP(32, lhu, 0x00000ff0, 4, h_data)
    TEST_LD_OP(33, lhu, 0x0000f00f, 6, h_data)
    TEST_LD_OP(34, lhu, 0x00008000, 10, h_data)
    TEST_LD_OP(35, lhu, 0x0000ff00, -4, h_data + 6)
    TEST_LD_OP(36, lhu, 0x0000f00f, -2048, h_data + 6 + 2048)

    /* ---- lw ---- */
    TEST_LD_OP(37, lw, 0x00ff00ff, 0, w_data)
    TEST_LD_OP(38, lw, 0xff00ff00, 4, w_data)
    TEST_LD_OP(39, lw, 0x0ff00ff0, 8, w_data)
    TEST_LD_OP(40, lw, 0xf00ff00f, 12, w_data)
    TEST_LD_OP(41, lw, 0x00ff00ff, -12, w_data + 12)
    TEST_LD_OP(42, lw, 0xff00ff00, -8, w_data + 12)
    TEST_LD_OP(43, lw, 0x0ff00ff0, -4, w_data + 12)
    TEST_LD_OP(44, lw, 0xff00ff00, 2044, w_data + 4 - 2044)
    TEST_LD_OP(45, lw, 0x0ff00ff0, -2048, w_data + 8 + 2048)
    TEST_CASE(46, a1, 0xf00ff00f, la a1, w_data + 12 ; lw a1, 0(a1))   /* rd == rs1 */
    TEST_CASE(47, x0, 0, la a1, w_data ; lw x0, 4(a1))                /* rd == x0 */
    TEST_CASE(48, x0, 0, la a1, b_data ; lb x0, 0(a1) ; lbu x0, 0(a1) ; lh x0, 2(a1) ; lhu x0, 2(a1))
    /* little endian: bytes 0xff 0x00 0xf0 0x0f form the word 0x0ff000ff */
    TEST_LD_OP(49, lw, 0x0ff000ff, 0, b_data)
    TEST_LD_OP(50, lhu, 0x00ff, 0, b_data)
    TEST_LD_OP(51, lh, 0x0ff0, 2, b_data)

    /* ---- sb ---- */
    TEST_ST_OP(52, lbu, sb, 0x000000aa, 0x000000aa, 0, st_area)
    TEST_ST_OP(53, lb, sb, 0xffffffa0, 0xffffffa0, 1, st_area)
    TEST_ST_OP(54, lb, sb, 0x12345678, 0x00000078, 2, st_area)    /* low 8 bits */
    TEST_ST_MERGE(55, sb, 0x11223344, 0xaa, st_area, 1, 0, 0x1122aa44)
    TEST_ST_MERGE(56, sb, 0x11223344, 0xffffffcc, st_area, 3, 0, 0xcc223344)
    TEST_ST_MERGE(57, sb, 0x11223344, 0x5a, st_area + 8, -4, -4, 0x1122335a)      /* negative offset */

    /* ---- sh ---- */
    TEST_ST_OP(58, lhu, sh, 0x0000beef, 0x0000beef, 0, st_area)
    TEST_ST_OP(59, lh, sh, 0xffffa00a, 0xffffa00a, 2, st_area)
    TEST_ST_OP(60, lh, sh, 0x12345678, 0x00005678, 4, st_area)    /* low 16 bits */
    TEST_ST_MERGE(61, sh, 0x11223344, 0xbeef, st_area, 2, 0, 0xbeef3344)
    TEST_ST_MERGE(62, sh, 0x11223344, 0xffffcafe, st_area, 0, 0, 0x1122cafe)
    TEST_ST_MERGE(63, sh, 0x11223344, 0x7777, st_area + 8, -2, -4, 0x77773344)

    /* ---- sw ---- */
    TEST_ST_OP(64, lw, sw, 0xaa00aa00, 0xaa00aa00, 0, st_area)
    TEST_ST_OP(65, lw, sw, 0x00aa00aa, 0x00aa00aa, -4, st_area + 8)
    TEST_ST_OP(66, lw, sw, 0x12345678, 0x12345678, 2044, st_area - 2044)
    TEST_ST_OP(67, lw, sw, 0x87654321, 0x87654321, -2048, st_area + 2048)
    TEST_CASE(68, a0, 0, la a1, st_area ; li a2, -1 ; sw a2, 0(a1) ; sw x0, 0(a1) ; lw a0, 0(a1))
    TEST_START(69)                      /* rs2 == rs1: stores the address */
    la a1, st_area
    sw a1, 0(a1)
    lw a0, 0(a1)
    CHECK_REG(a0, a1)
    /* a word written with sw, read back by bytes and halves */
    TEST_START(70)
    la a1, st_area
    li a2, 0x87654321
    sw a2, 0(a1)
    lb a0, 0(a1)
    CHECK(a0, 0x21)
    lb a0, 3(a1)
    CHECK(a0, 0xffffff87)
    lh a0, 2(a1)
    CHECK(a0, 0xffff8765)
    lhu a0, 0(a1)
    CHECK(a0, 0x4321)
    lbu a0, 1(a1)
    CHECK(a0, 0x43)

    /* ---- fence (incl. the fence.tso and pause encodings) ---- */
    TEST_START(71)
    la a1, st_area
    li a2, 0x13579bdf
    sw a2, 8(a1)
    fence
    fence rw, rw
    fence iorw, iorw
    fence w, r
    .word 0x8330000f            /* fence.tso */
    .word 0x0100000f            /* pause (fence w, 0) */
    lw a0, 8(a1)
    CHECK_REG(a0, a2)

    /* ---- fence.i: rewrite an instruction, then execute it ---- */
    TEST_START(72)
    la a1, smc_target
    li a2, 0x02a00513           /* addi a0, zero, 42 */
    sw a2, 0(a1)
    fence.i
    li a0, 0
    jalr ra, 0(a1)
    CHECK(a0, 42)
    li a2, 0x02b00513           /* addi a0, zero, 43 (same place again) */
    sw a2, 0(a1)
    fence.i
    jalr ra, 0(a1)
    CHECK(a0, 43)

    TEST_END

smc_target:
    addi a0, zero, 1
    ret

    .data
    .balign 16
b_data:
    .byte 0xff, 0x00, 0xf0, 0x0f, 0x7f, 0x80, 0x00, 0x00
    .balign 16
h_data:
    .half 0x00ff, 0xff00, 0x0ff0, 0xf00f, 0x7fff, 0x8000
    .balign 16
w_data:
    .word 0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f
    .balign 16
st_area:
    .skip 64
