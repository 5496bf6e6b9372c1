# Micro-benchmark of control transfers (bench/micro.ts): 50 M passes of a loop that
#   INLINE  does two additions itself,
#   NEAR    calls a function on its own page that does them (a call and a return a pass),
#   FAR     calls one on the next page (so translated code goes from one page's region to another's).
# Linux RV32, no libc: exits with a byte folded from the sum (checked against qemu-riscv32: test/micro.test.ts).
#include "exit.h"

    .text
    .globl _start
_start:
    li s0, 50000000
    li s1, 0
1:
#ifdef INLINE
    addi s1, s1, 1
    addi s1, s1, 2
#else
    call callee
#endif
    addi s0, s0, -1
    bnez s0, 1b
    EXIT_WITH_SUM
#ifdef NEAR
callee:
    addi s1, s1, 1
    addi s1, s1, 2
    ret
#endif
#ifdef FAR
    .balign 4096
callee:
    addi s1, s1, 1
    addi s1, s1, 2
    ret
#endif
