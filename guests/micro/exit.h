/* The micro-benchmarks' exit (guests/micro/*.S): the status is a byte folded from the sum in s1 (its four bytes
   xored, so every bit of it counts), checked against qemu-riscv32 by test/micro.test.ts. */
.macro EXIT_WITH_SUM
    srli t4, s1, 16
    xor t4, t4, s1
    srli a0, t4, 8
    xor a0, a0, t4
    andi a0, a0, 0xff
    li a7, 93                # exit
    ecall
.endm
