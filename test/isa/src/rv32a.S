/*
 * rv32a: lr.w / sc.w and the amo*.w instructions.
 *
 * LR/SC: success (rd = 0, memory written), failure when no reservation is
 * held (rd != 0, memory untouched), a second SC after an SC fails, SC to a
 * different address fails and also drops the reservation, rd == rs2,
 * aq/rl variants, an LR/SC increment loop.
 * AMOs: every op returns the old value and writes op(old, rs2), with signed
 * and unsigned min/max edges, rd == rs2, rd == rs1, rd == x0, aq/rl.
 * Misaligned AMOs raise store/AMO address-misaligned (cause 6, mtval = the
 * address) and leave memory and rd untouched; misaligned lr.w raises
 * load address-misaligned (cause 4).
 *
 * Test cases: 1..70
 */
#include "test.h"

/* inst a0, rs2=a3(src), (amo_data) with memory = init:
 * expect a0 = init, memory = newmem, a3 unchanged */
#define TEST_AMO(n, inst, init, src, newmem) \
    TEST_START(n) ; \
    la a1, amo_data ; \
    li a2, init ; \
    sw a2, 0(a1) ; \
    li a3, src ; \
    inst a0, a3, (a1) ; \
    CHECK(a0, init) ; \
    lw a4, 0(a1) ; \
    CHECK(a4, newmem) ; \
    CHECK(a3, src)

/* misaligned AMO at amo_data + off: cause 6, tval = address, no effects */
#define TEST_AMO_MISALIGNED(n, inst, off) \
    TEST_START(n) ; \
    la a1, amo_data ; \
    li a2, 0x11223344 ; \
    sw a2, 0(a1) ; \
    sw a2, 4(a1) ; \
    addi a4, a1, off ; \
    li a0, 0x5555 ; \
    li a3, 0x0f0f0f0f ; \
    ARM_TRAP(9f) ; \
8:  inst a0, a3, (a4) ; \
    j fail ; \
9:  CHECK_TRAP_FIELD(TA_CAUSE, QUIRK_AMO_MISALIGNED_CAUSE) ; \
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b) ; \
    LOAD_TRAP_FIELD(t0, TA_TVAL) ; \
    CHECK_REG(t0, a4) ; \
    CHECK(a0, 0x5555) ; \
    lw a5, 0(a1) ; \
    CHECK(a5, 0x11223344) ; \
    lw a5, 4(a1) ; \
    CHECK(a5, 0x11223344)

    TEST_BEGIN

    /* ---------------- LR / SC ---------------- */
    TEST_START(1)                   /* lr.w reads memory */
    la a1, amo_data
    li a2, 0x12345678
    sw a2, 0(a1)
    lr.w a0, (a1)
    CHECK(a0, 0x12345678)
    TEST_START(2)                   /* sc.w after lr.w succeeds */
    li a2, 0x0badf00d
    sc.w a0, a2, (a1)
    CHECK(a0, 0)
    lw a0, 0(a1)
    CHECK(a0, 0x0badf00d)
    TEST_START(3)                   /* a second sc.w fails: reservation gone */
    li a2, 0x55555555
    li a0, 0
    sc.w a0, a2, (a1)
    beqz a0, fail
    lw a0, 0(a1)
    CHECK(a0, 0x0badf00d)
    TEST_START(4)                   /* sc.w with no lr.w before it fails */
    la a1, amo_data + 8
    li a2, 0x600d600d
    sw a2, 0(a1)
    li a3, 0x66666666
    sc.w a0, a3, (a1)
    beqz a0, fail
    lw a0, 0(a1)
    CHECK(a0, 0x600d600d)
    TEST_START(5)                   /* lr.w A, sc.w B fails, B untouched */
    la a1, amo_data
    la a4, amo_data + 4
    li a2, 0x0a0a0a0a
    sw a2, 0(a4)
    lr.w a0, (a1)
    li a3, 0x77777777
    sc.w a0, a3, (a4)
    beqz a0, fail
    lw a0, 0(a4)
    CHECK(a0, 0x0a0a0a0a)
    TEST_START(6)                   /* ... and that sc.w dropped A's reservation */
    lw a2, 0(a1)
    sc.w a0, a3, (a1)
    beqz a0, fail
    lw a0, 0(a1)
    CHECK_REG(a0, a2)
    TEST_START(7)                   /* lr.w with rd == rs1 */
    la a1, amo_data
    li a2, 0x31415926
    sw a2, 0(a1)
    mv a5, a1
    lr.w a1, (a1)
    CHECK(a1, 0x31415926)
    TEST_START(8)                   /* sc.w with rd == rs2 */
    sc.w a2, a2, (a5)
    CHECK(a2, 0)
    lw a0, 0(a5)
    CHECK(a0, 0x31415926)
    TEST_START(9)                   /* aq/rl encodings */
    la a1, amo_data
    sw zero, 0(a1)
    lr.w.aq a0, (a1)
    addi a0, a0, 5
    sc.w.rl a2, a0, (a1)
    CHECK(a2, 0)
    lr.w.aqrl a0, (a1)
    addi a0, a0, 6
    sc.w.aqrl a2, a0, (a1)
    CHECK(a2, 0)
    lw a0, 0(a1)
    CHECK(a0, 11)
    TEST_START(10)                  /* lr/sc increment loop, 100 times */
    la a1, amo_data
    sw zero, 0(a1)
    li a4, 100
1:  lr.w a0, (a1)
    addi a0, a0, 3
    sc.w a2, a0, (a1)
    bnez a2, 1b
    addi a4, a4, -1
    bnez a4, 1b
    lw a0, 0(a1)
    CHECK(a0, 300)
    TEST_START(11)                  /* lr.w then sc.w succeeds for a new lr.w */
    la a1, amo_data + 12
    sw zero, 0(a1)
    lr.w a0, (a1)
    li a3, -1
    sc.w a0, a3, (a1)
    CHECK(a0, 0)
    lw a0, 0(a1)
    CHECK(a0, -1)

    /* ---------------- AMOs ---------------- */
    TEST_AMO(12, amoswap.w, 0x12345678, 0x87654321, 0x87654321)
    TEST_AMO(13, amoswap.w, 0xffffffff, 0x00000000, 0x00000000)
    TEST_AMO(14, amoadd.w, 0x00000003, 0x00000004, 0x00000007)
    TEST_AMO(15, amoadd.w, 0x7fffffff, 0x00000001, 0x80000000)
    TEST_AMO(16, amoadd.w, 0xffffffff, 0x00000001, 0x00000000)
    TEST_AMO(17, amoadd.w, 0x80000000, 0x80000000, 0x00000000)
    TEST_AMO(18, amoxor.w, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0)
    TEST_AMO(19, amoxor.w, 0x12345678, 0xffffffff, 0xedcba987)
    TEST_AMO(20, amoand.w, 0xff00ff00, 0x0ff00ff0, 0x0f000f00)
    TEST_AMO(21, amoand.w, 0x12345678, 0x00000000, 0x00000000)
    TEST_AMO(22, amoor.w, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0)
    TEST_AMO(23, amoor.w, 0x00000000, 0x80000001, 0x80000001)
    TEST_AMO(24, amomin.w, 0x00000001, 0xffffffff, 0xffffffff)
    TEST_AMO(25, amomin.w, 0xffffffff, 0x00000001, 0xffffffff)
    TEST_AMO(26, amomin.w, 0x80000000, 0x7fffffff, 0x80000000)
    TEST_AMO(27, amomin.w, 0x7fffffff, 0x80000000, 0x80000000)
    TEST_AMO(28, amomin.w, 0x00000005, 0x00000005, 0x00000005)
    TEST_AMO(29, amomin.w, 0xfffffffe, 0xffffffff, 0xfffffffe)
    TEST_AMO(30, amomax.w, 0x00000001, 0xffffffff, 0x00000001)
    TEST_AMO(31, amomax.w, 0xffffffff, 0x00000001, 0x00000001)
    TEST_AMO(32, amomax.w, 0x80000000, 0x7fffffff, 0x7fffffff)
    TEST_AMO(33, amomax.w, 0x7fffffff, 0x80000000, 0x7fffffff)
    TEST_AMO(34, amomax.w, 0xfffffffe, 0xffffffff, 0xffffffff)
    TEST_AMO(35, amominu.w, 0x00000001, 0xffffffff, 0x00000001)
    TEST_AMO(36, amominu.w, 0xffffffff, 0x00000001, 0x00000001)
    TEST_AMO(37, amominu.w, 0x80000000, 0x7fffffff, 0x7fffffff)
    TEST_AMO(38, amominu.w, 0x00000000, 0xffffffff, 0x00000000)
    TEST_AMO(39, amominu.w, 0xfffffffe, 0xffffffff, 0xfffffffe)
    TEST_AMO(40, amomaxu.w, 0x00000001, 0xffffffff, 0xffffffff)
    TEST_AMO(41, amomaxu.w, 0xffffffff, 0x00000001, 0xffffffff)
    TEST_AMO(42, amomaxu.w, 0x80000000, 0x7fffffff, 0x80000000)
    TEST_AMO(43, amomaxu.w, 0x7fffffff, 0x80000000, 0x80000000)
    TEST_AMO(44, amomaxu.w, 0x00000000, 0x00000000, 0x00000000)
    TEST_AMO(45, amoadd.w.aq, 0x00000010, 0x00000020, 0x00000030)
    TEST_AMO(46, amoor.w.rl, 0x00000010, 0x00000020, 0x00000030)
    TEST_AMO(47, amomaxu.w.aqrl, 0x00000010, 0x00000020, 0x00000020)

    TEST_START(48)                  /* rd == rs2: rd gets old, memory new */
    la a1, amo_data
    li a2, 100
    sw a2, 0(a1)
    li a3, 23
    amoadd.w a3, a3, (a1)
    CHECK(a3, 100)
    lw a0, 0(a1)
    CHECK(a0, 123)
    TEST_START(49)                  /* amoswap rd == rs2 */
    li a3, 0x5a5a5a5a
    amoswap.w a3, a3, (a1)
    CHECK(a3, 123)
    lw a0, 0(a1)
    CHECK(a0, 0x5a5a5a5a)
    TEST_START(50)                  /* rd == rs1 */
    la a1, amo_data
    mv a5, a1
    li a3, 0x1234
    amoswap.w a1, a3, (a1)
    CHECK(a1, 0x5a5a5a5a)
    lw a0, 0(a5)
    CHECK(a0, 0x1234)
    TEST_START(51)                  /* rd == x0: memory still updated */
    la a1, amo_data
    li a3, 0x10
    amoadd.w x0, a3, (a1)
    CHECK(x0, 0)
    lw a0, 0(a1)
    CHECK(a0, 0x1244)
    TEST_START(52)                  /* rs2 == x0: amoswap stores zero */
    amoswap.w a0, x0, (a1)
    CHECK(a0, 0x1244)
    lw a0, 0(a1)
    CHECK(a0, 0)
    TEST_START(53)                  /* an AMO to a word other than the first */
    la a1, amo_data
    li a2, 0x100
    sw a2, 12(a1)
    sw zero, 8(a1)
    addi a4, a1, 12
    li a3, -1
    amoadd.w a0, a3, (a4)
    CHECK(a0, 0x100)
    lw a0, 12(a1)
    CHECK(a0, 0xff)
    lw a0, 8(a1)
    CHECK(a0, 0)

    /* ---------------- misaligned ---------------- */
    TEST_AMO_MISALIGNED(54, amoswap.w, 1)
    TEST_AMO_MISALIGNED(55, amoswap.w, 2)
    TEST_AMO_MISALIGNED(56, amoswap.w, 3)
    TEST_AMO_MISALIGNED(57, amoadd.w, 2)
    TEST_AMO_MISALIGNED(58, amoxor.w, 1)
    TEST_AMO_MISALIGNED(59, amoand.w, 3)
    TEST_AMO_MISALIGNED(60, amoor.w, 2)
    TEST_AMO_MISALIGNED(61, amomin.w, 2)
    TEST_AMO_MISALIGNED(62, amomax.w, 1)
    TEST_AMO_MISALIGNED(63, amominu.w, 3)
    TEST_AMO_MISALIGNED(64, amomaxu.w, 2)
    TEST_START(65)                  /* lr.w misaligned: load misaligned (4) */
    la a1, amo_data
    addi a4, a1, 2
    li a0, 0x5555
    ARM_TRAP(9f)
8:  lr.w a0, (a4)
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_MISALIGNED_LOAD)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    LOAD_TRAP_FIELD(t0, TA_TVAL)
    CHECK_REG(t0, a4)
    CHECK(a0, 0x5555)

    /* ---------------- counting with AMOs ---------------- */
    TEST_START(66)                  /* 64 x amoadd.w of 3 */
    la a1, amo_data
    sw zero, 0(a1)
    li a4, 64
    li a3, 3
1:  amoadd.w x0, a3, (a1)
    addi a4, a4, -1
    bnez a4, 1b
    lw a0, 0(a1)
    CHECK(a0, 192)
    TEST_START(67)                  /* running max with amomax.w */
    li a2, 0x80000000
    sw a2, 0(a1)
    li a3, -5
    amomax.w x0, a3, (a1)
    li a3, -9
    amomax.w x0, a3, (a1)
    lw a0, 0(a1)
    CHECK(a0, -5)
    TEST_START(68)                  /* running min with amominu.w */
    li a2, -1
    sw a2, 0(a1)
    li a3, 0x80000000
    amominu.w x0, a3, (a1)
    li a3, 0x80000001
    amominu.w a0, a3, (a1)
    CHECK(a0, 0x80000000)
    lw a0, 0(a1)
    CHECK(a0, 0x80000000)
    TEST_START(69)                  /* an AMO between lr.w and sc.w to another word */
    la a1, amo_data
    sw zero, 0(a1)
    sw zero, 4(a1)
    lr.w a0, (a1)
    addi a4, a1, 4
    li a3, 9
    amoadd.w x0, a3, (a4)
    li a3, 7
    sc.w a0, a3, (a1)
    CHECK(a0, 0)
    lw a0, 0(a1)
    CHECK(a0, 7)
    lw a0, 4(a1)
    CHECK(a0, 9)
    TEST_START(70)                  /* lr.w returns the value written by an AMO */
    li a3, 0x70
    amoswap.w x0, a3, (a1)
    lr.w a0, (a1)
    CHECK(a0, 0x70)
    sc.w a2, a0, (a1)
    CHECK(a2, 0)

    TEST_END

    .data
    .balign 16
amo_data:
    .word 0, 0, 0, 0
