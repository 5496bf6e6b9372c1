/*
 * rv32c: every RV32C instruction, written with explicit c.* mnemonics between
 * `.option rvc` / `.option norvc` so the encodings are exactly these.
 *
 * c.addi4spn c.lw c.sw c.nop (and a c.nop HINT) c.addi c.jal c.li c.addi16sp
 * c.lui c.srli c.srai c.andi c.sub c.xor c.or c.and c.j c.beqz c.bnez c.slli
 * c.lwsp c.jr c.mv c.ebreak c.jalr c.add c.swsp, with immediate/offset
 * extremes, link values (c.jal/c.jalr: ra = pc + 2), taken/not-taken
 * compressed branches both ways, 32-bit instructions at 2 mod 4 addresses,
 * jumps/branches to halfword-aligned targets, and reserved compressed
 * encodings raising illegal instruction with mtval = the 16-bit encoding.
 *
 * Test cases: 1..91
 */
#include "test.h"

#define RVC(code...) .option rvc ; code ; .option norvc

/* compressed branch expected taken / not taken (inverted under mutation) */
#define CBR_T(inst, reg, target) \
    .if cur_test == BREAK_TEST ; bne x0, x0, target ; \
    .else ; RVC(inst reg, target) ; .endif
#define CBR_N(inst, reg, target) \
    .if cur_test == BREAK_TEST ; beq x0, x0, target ; \
    .else ; RVC(inst reg, target) ; .endif

/* reg = init; code; expect reg == result */
#define TEST_C(n, reg, result, init, code...) \
    TEST_CASE(n, reg, result, li reg, init ; RVC(code))

/* a reserved 16-bit encoding must raise illegal instruction, tval = enc */
#define TEST_C_ILLEGAL(n, enc) \
    TEST_EXC(n, CAUSE_ILLEGAL_INSTRUCTION, enc, RVC(.balign 4) ; 8: .half enc ; .half 0)

    TEST_BEGIN

    /* ---- c.li ---- */
    TEST_C(1, a0, 0x00000000, -1, c.li a0, 0)
    TEST_C(2, a0, 0x0000001f, 0, c.li a0, 31)
    TEST_C(3, a0, 0xffffffe0, 0, c.li a0, -32)
    TEST_C(4, a5, 0xffffffff, 0, c.li a5, -1)
    TEST_C(5, t6, 0x00000011, 0, c.li t6, 17)
    TEST_C(6, ra, 0x00000005, 0, c.li ra, 5)

    /* ---- c.lui ---- */
    TEST_C(7, a0, 0x00001000, -1, c.lui a0, 1)
    TEST_C(8, a0, 0x0001f000, -1, c.lui a0, 31)
    TEST_C(9, a0, 0xfffe0000, 0, c.lui a0, 0xfffe0)
    TEST_C(10, a0, 0xfffff000, 0, c.lui a0, 0xfffff)
    TEST_C(11, s11, 0x00010000, 0, c.lui s11, 0x10)

    /* ---- c.addi ---- */
    TEST_C(12, a0, 0x80000000, 0x7fffffff, c.addi a0, 1)
    TEST_C(13, a0, 0xffffffe0, 0, c.addi a0, -32)
    TEST_C(14, a0, 0x0000002f, 16, c.addi a0, 31)
    TEST_C(15, t6, 0xffffffff, 0, c.addi t6, -1)
    TEST_C(16, s0, 0x00000000, -3, c.addi s0, 3)

    /* ---- c.nop, and a c.nop HINT (nonzero immediate) ---- */
    TEST_C(17, a0, 0x00000055, 0x55, c.nop ; c.nop ; c.nop)
    TEST_C(18, a0, 0x00000066, 0x66, .half 0x0005 ; .half 0x107d) /* c.nop 1, c.nop -1 */

    /* ---- c.addi16sp (sp saved in s10) ---- */
    TEST_START(19)
    mv s10, sp
    RVC(c.addi16sp sp, 16)
    addi t0, s10, 16
    CHECK_REG(sp, t0)
    TEST_START(20)
    RVC(c.addi16sp sp, -512)
    addi t0, s10, 16 - 512
    CHECK_REG(sp, t0)
    TEST_START(21)
    RVC(c.addi16sp sp, 496)
    addi t0, s10, 16 - 512 + 496
    CHECK_REG(sp, t0)
    mv sp, s10

    /* ---- c.addi4spn ---- */
    TEST_START(22)
    RVC(c.addi4spn a0, sp, 4)
    addi t0, sp, 4
    CHECK_REG(a0, t0)
    TEST_START(23)
    RVC(c.addi4spn s1, sp, 1020)
    addi t0, sp, 1020
    CHECK_REG(s1, t0)
    TEST_START(24)
    RVC(c.addi4spn a5, sp, 8)
    addi t0, sp, 8
    CHECK_REG(a5, t0)

    /* ---- c.slli / c.srli / c.srai ---- */
    TEST_C(25, a0, 0x00000002, 1, c.slli a0, 1)
    TEST_C(26, a0, 0x80000000, 1, c.slli a0, 31)
    TEST_C(27, t6, 0x23456780, 0x12345678, c.slli t6, 4)
    TEST_C(28, s0, 0x56780000, 0x12345678, c.slli s0, 16)
    TEST_C(29, s0, 0x00000001, 0x80000000, c.srli s0, 31)
    TEST_C(30, a5, 0x40000000, 0x80000000, c.srli a5, 1)
    TEST_C(31, a0, 0x00123456, 0x12345678, c.srli a0, 8)
    TEST_C(32, s1, 0xffffffff, 0x80000000, c.srai s1, 31)
    TEST_C(33, a0, 0xc0000000, 0x80000000, c.srai a0, 1)
    TEST_C(34, a4, 0x07ffffff, 0x7fffffff, c.srai a4, 4)
    TEST_C(35, a3, 0xfff81234, 0x81234567, c.srai a3, 12)

    /* ---- c.andi ---- */
    TEST_C(36, a0, 0xffffffe0, 0xffffffff, c.andi a0, -32)
    TEST_C(37, s1, 0x00000018, 0x12345678, c.andi s1, 31)
    TEST_C(38, a2, 0x00000000, 0x12345678, c.andi a2, 0)
    TEST_C(39, a3, 0x12345678, 0x12345678, c.andi a3, -1)

    /* ---- c.mv / c.add ---- */
    TEST_C(40, a0, 0x89abcdef, 0, li a1, 0x89abcdef ; c.mv a0, a1)
    TEST_C(41, t6, 0x00000007, 0, li s0, 7 ; c.mv t6, s0)
    TEST_C(42, ra, 0xfffffffe, 0, li t5, -2 ; c.mv ra, t5)
    TEST_C(43, a0, 0x00000003, 1, li a1, 2 ; c.add a0, a1)
    TEST_C(44, t6, 0x80000000, 0x40000000, c.add t6, t6)
    TEST_C(45, a0, 0x7fffffff, 0x80000000, li a1, -1 ; c.add a0, a1)
    TEST_C(46, s2, 0x00000000, 0xffffffff, li t3, 1 ; c.add s2, t3)

    /* ---- c.sub / c.xor / c.or / c.and (x8..x15 only) ---- */
    TEST_C(47, a0, 0xfffffffc, 3, li a1, 7 ; c.sub a0, a1)
    TEST_C(48, s0, 0x7fffffff, 0x80000000, li a5, 1 ; c.sub s0, a5)
    TEST_C(49, s1, 0x00000000, 0x1234, c.sub s1, s1)
    TEST_C(50, a0, 0xf0f0f0f0, 0xff00ff00, li a1, 0x0ff00ff0 ; c.xor a0, a1)
    TEST_C(51, a5, 0x00000000, 0x5a5a5a5a, c.xor a5, a5)
    TEST_C(52, a0, 0xfff0fff0, 0xff00ff00, li a1, 0x0ff00ff0 ; c.or a0, a1)
    TEST_C(53, s0, 0x80000001, 0x80000000, li a4, 1 ; c.or s0, a4)
    TEST_C(54, a0, 0x0f000f00, 0xff00ff00, li a1, 0x0ff00ff0 ; c.and a0, a1)
    TEST_C(55, a3, 0x00000000, 0xaaaaaaaa, li a2, 0x55555555 ; c.and a3, a2)

    /* ---- c.lw / c.sw ---- */
    TEST_START(56)
    la a0, c_data
    li a1, 0x11223344
    RVC(c.sw a1, 0(a0) ; c.lw s1, 0(a0))
    CHECK(s1, 0x11223344)
    TEST_START(57)
    li a2, 0xcafebabe
    RVC(c.sw a2, 124(a0) ; c.lw a3, 124(a0))
    CHECK(a3, 0xcafebabe)
    lw a4, 124(a0)
    CHECK(a4, 0xcafebabe)
    TEST_START(58)
    la s0, c_data
    li a5, 0x0000abcd
    sw a5, 64(s0)
    RVC(c.lw a4, 64(s0))
    CHECK(a4, 0x0000abcd)
    TEST_START(59)                  /* c.lw rd == rs1 */
    la a0, c_data
    li a1, 0x600dc0de
    sw a1, 8(a0)
    RVC(c.lw a0, 8(a0))
    CHECK(a0, 0x600dc0de)
    TEST_START(60)                  /* c.sw rs2 == rs1 */
    la a0, c_data
    RVC(c.sw a0, 12(a0))
    lw a1, 12(a0)
    CHECK_REG(a1, a0)

    /* ---- c.lwsp / c.swsp (sp = c_data) ---- */
    TEST_START(61)
    mv s10, sp
    la sp, c_data
    li t6, 0x13572468
    RVC(c.swsp t6, 252(sp) ; c.lwsp t5, 252(sp))
    CHECK(t5, 0x13572468)
    la a0, c_data
    lw a1, 252(a0)
    CHECK(a1, 0x13572468)
    TEST_START(62)
    li ra, 0x0a0b0c0d
    RVC(c.swsp ra, 0(sp) ; c.lwsp s11, 0(sp))
    CHECK(s11, 0x0a0b0c0d)
    TEST_START(63)
    li a0, 0x7e7e7e7e
    sw a0, 100(sp)
    RVC(c.lwsp gp, 100(sp))
    mv a1, gp
    li gp, 63
    CHECK(a1, 0x7e7e7e7e)
    TEST_START(64)                  /* c.swsp of sp itself */
    RVC(c.swsp sp, 40(sp))
    lw a1, 40(sp)
    CHECK_REG(a1, sp)
    mv sp, s10

    /* ---- c.j ---- */
    TEST_START(65)
    li a0, 0
    RVC(c.j 2f)
    j fail
1:  li a0, 0x65
    RVC(c.j 3f)
    j fail
2:  RVC(c.j 1b)
    j fail
3:  CHECK(a0, 0x65)

    /* ---- c.jal: ra = pc + 2 ---- */
    TEST_START(66)
    li ra, 0
    RVC(c.jal 2f)
1:  j fail
2:  CHECK_ADDR(ra, 1b)
    TEST_START(67)                  /* backward c.jal */
    j 3f
2:  CHECK_ADDR(ra, 4f)
    j 5f
3:  RVC(c.jal 2b)
4:  j fail
5:

    /* ---- c.jr / c.jalr ---- */
    TEST_START(68)
    la a0, 2f
    li ra, 0
    RVC(c.jr a0)
    j fail
2:  CHECK(ra, 0)
    TEST_START(69)
    la t1, 2f
    RVC(c.jalr t1)
1:  j fail
2:  CHECK_ADDR(ra, 1b)
    TEST_START(70)                  /* c.jalr ra: target from old ra */
    la ra, 2f
    RVC(c.jalr ra)
1:  j fail
2:  CHECK_ADDR(ra, 1b)
    TEST_START(71)                  /* c.jr to a halfword-aligned target */
    la a0, 2f
    RVC(c.jr a0)
    j fail
    RVC(.balign 4)
    RVC(c.nop)
2:  andi t0, a0, 3
    CHECK(t0, 2)
    TEST_START(72)                  /* c.jalr to a target with bit 0 set */
    la a0, 2f + 1
    RVC(c.jalr a0)
1:  j fail
2:  CHECK_ADDR(ra, 1b)

    /* ---- c.beqz / c.bnez ---- */
    TEST_START(73)                  /* c.beqz taken, forward then backward */
    li s0, 0
    CBR_T(c.beqz, s0, 2f)
    j fail
1:  RVC(c.j 3f)
    j fail
2:  CBR_T(c.beqz, s0, 1b)
    j fail
3:  TEST_START(74)                  /* c.beqz not taken */
    li s1, 1
    CBR_N(c.beqz, s1, 1f)
    j 2f
1:  j fail
2:  li a5, 0x80000000
    CBR_N(c.beqz, a5, 1b)
    TEST_START(75)                  /* c.bnez taken, forward then backward */
    li a0, -1
    CBR_T(c.bnez, a0, 2f)
    j fail
1:  RVC(c.j 3f)
    j fail
2:  CBR_T(c.bnez, a0, 1b)
    j fail
3:  TEST_START(76)                  /* c.bnez not taken */
    li a1, 0
    CBR_N(c.bnez, a1, 1f)
    j 2f
1:  j fail
2:  CBR_N(c.bnez, a1, 1b)
    TEST_START(77)                  /* c.bnez taken with only bit 31 set */
    li a2, 0x80000000
    CBR_T(c.bnez, a2, 1f)
    j fail
1:  TEST_START(78)                  /* c.beqz near its +254 byte limit (+250) */
    li a3, 0
    CBR_T(c.beqz, a3, 2f)
    j fail
    .skip 244
2:  TEST_START(79)                  /* c.bnez at its -256 byte limit */
    j 3f
2:  j 4f
    .skip 248
3:  li a4, 1
    CBR_T(c.bnez, a4, 2b)
    j fail
4:

    /* ---- c.ebreak ---- */
    TEST_START(80)
    ARM_TRAP(9f)
8:  RVC(c.ebreak)
    j fail
9:  CHECK_TRAP_FIELD(TA_CAUSE, CAUSE_BREAKPOINT)
    CHECK_TRAP_FIELD_ADDR(TA_EPC, 8b)
    CHECK_TRAP_FIELD_ZERO_OR_ADDR(TA_TVAL, 8b)

    /* ---- 32-bit instructions at 2 mod 4 addresses ---- */
    TEST_START(81)
    RVC(.balign 4)
    RVC(c.li a0, 1)
1:  addi a0, a0, 0x100          /* 32-bit, at 2 mod 4 */
    la t0, 1b
    andi t0, t0, 3
    CHECK(t0, 2)
    CHECK(a0, 0x101)
    TEST_START(82)                  /* 32-bit jalr to a halfword-aligned target */
    la a0, 2f
    jalr ra, 0(a0)
1:  j fail
    RVC(.balign 4)
    RVC(c.nop)
2:  CHECK_ADDR(ra, 1b)
    TEST_START(83)                  /* 32-bit branch to a halfword-aligned target */
    li a1, 5
    li a2, 5
    beq a1, a2, 2f
    j fail
    RVC(.balign 4)
    RVC(c.nop)
2:  la t0, 2b
    andi t0, t0, 3
    CHECK(t0, 2)
    TEST_START(84)                  /* 32-bit jal at 2 mod 4: link = pc + 4 */
    RVC(.balign 4)
    RVC(c.nop)
    jal ra, 2f
1:  j fail
2:  CHECK_ADDR(ra, 1b)
    TEST_START(85)                  /* auipc at 2 mod 4 */
    RVC(.balign 4)
    RVC(c.nop)
1:  auipc a0, 0
    CHECK_ADDR(a0, 1b)

    /* ---- reserved compressed encodings ---- */
    TEST_C_ILLEGAL(86, 0x0000)      /* all zeros (c.addi4spn, imm 0) */
    TEST_C_ILLEGAL(87, 0x6101)      /* c.addi16sp, imm 0 */
    TEST_C_ILLEGAL(88, 0x6501)      /* c.lui a0, imm 0 */
    TEST_C_ILLEGAL(89, 0x8002)      /* c.jr x0 */
    TEST_C_ILLEGAL(90, 0x4002)      /* c.lwsp x0 */

    /* ---- a compressed loop: sum 1..10 ---- */
    TEST_START(91)
    li s0, 10
    li s1, 0
1:  RVC(c.add s1, s0 ; c.addi s0, -1 ; c.bnez s0, 1b)
    CHECK(s1, 55)
    CHECK(s0, 0)

    TEST_END

    .data
    .balign 16
c_data:
    .skip 256
