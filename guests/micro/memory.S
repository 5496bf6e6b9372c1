# Micro-benchmark of loads and stores (bench/micro.ts): 20 k passes over a 64 KiB buffer, a word a step:
#   LOAD   sums the words (lw),
#   STORE  writes them (sw),
#   BYTES  sums two bytes of each (two lbu through one base register),
#   STACK  pushes two words, reads them back and pops (sw, sw, lw, lw on sp).
# Linux RV32, no libc: exits with a byte folded from the sum (checked against qemu-riscv32: test/micro.test.ts).
#include "exit.h"

    .text
    .globl _start
_start:
    li s0, 20000
    li s1, 0
    la s2, buffer
2:
    mv t0, s2
    li t1, 16384
1:
#ifdef LOAD
    lw t2, 0(t0)
    add s1, s1, t2
#endif
#ifdef STORE
    sw s1, 0(t0)
    addi s1, s1, 1
#endif
#ifdef BYTES
    lbu t2, 0(t0)
    lbu t3, 1(t0)
    add s1, s1, t2
    add s1, s1, t3
#endif
#ifdef STACK
    addi sp, sp, -16
    sw s1, 12(sp)
    sw t0, 8(sp)
    lw t2, 12(sp)
    lw t3, 8(sp)
    addi sp, sp, 16
    add s1, t2, t3
#endif
    addi t0, t0, 4
    addi t1, t1, -1
    bnez t1, 1b
    addi s0, s0, -1
    bnez s0, 2b
    EXIT_WITH_SUM
    .data
    .balign 4096
buffer:
    .set i, 0
    .rept 16384
    .word (i * 2654435761) & 0xffffffff
    .set i, i + 1
    .endr
