# Micro-benchmark of the shapes interpreters and call-heavy code have (bench/micro.ts), 20 M passes of a loop that
#   FRAME   calls a function on the next page with a stack frame (saves ra, s0, s1; restores them),
#   SWITCH  jumps through a table to one of eight handlers (four on the loop's page, four on the next), each of
#           which jumps back: a bytecode interpreter's dispatch.
# Linux RV32, no libc: exits with a byte folded from the sum (checked against qemu-riscv32: test/micro.test.ts).
#include "exit.h"

    .text
    .globl _start
_start:
    li s0, 20000000
    li s1, 0
    la s2, table
1:
#ifdef FRAME
    call framed
#endif
#ifdef SWITCH
    andi t0, s0, 7
    slli t0, t0, 2
    add t0, t0, s2
    lw t0, 0(t0)
    jr t0
back:
#endif
    addi s0, s0, -1
    bnez s0, 1b
    EXIT_WITH_SUM
#ifdef SWITCH
h0: addi s1, s1, 1
    j back
h1: addi s1, s1, 2
    j back
h2: addi s1, s1, 3
    j back
h3: xori s1, s1, 4
    j back
    .balign 4096
h4: addi s1, s1, 5
    j back
h5: addi s1, s1, 6
    j back
h6: addi s1, s1, 7
    j back
h7: slli s1, s1, 1
    j back
#endif
#ifdef FRAME
    .balign 4096
framed:
    addi sp, sp, -32
    sw ra, 28(sp)
    sw s0, 24(sp)
    sw s1, 20(sp)
    addi s1, s1, 3
    mv a0, s1
    lw s1, 20(sp)
    add s1, s1, a0
    lw s0, 24(sp)
    lw ra, 28(sp)
    addi sp, sp, 32
    ret
#endif
    .data
table:
#ifdef SWITCH
    .word h0, h1, h2, h3, h4, h5, h6, h7
#else
    .word 0
#endif
