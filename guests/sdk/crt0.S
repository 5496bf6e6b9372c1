/* Roam guest SDK: process entry for a static Linux RV32 executable.
 *
 * The kernel (Roam's host, or qemu-riscv32) enters _start with
 *   sp -> argc
 *         argv[0..argc-1], NULL
 *         envp[...], NULL
 *         auxv pairs (type, value) ..., AT_NULL
 * and every other register unspecified (Linux zeroes them; we rely on
 * nothing). The loader has already zero-filled .bss and the TLS image is in
 * place (.tdata loaded, .tbss_space zero), so nothing is copied or zeroed
 * here: we point gp and tp at their areas and hand the stack to C. */

    .section .text.init.enter, "ax"
    .globl  _start
    .type   _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    /* one thread: its TLS block is the linked image itself (RISC-V TLS
     * variant I, no TCB before the block: tp points at the block) */
    la      tp, __tls_base
    mv      a0, sp              /* -> argc */
    andi    sp, sp, -16         /* the psABI wants 16-byte alignment */
    li      ra, 0               /* end of the call chain for debuggers */
    li      s0, 0
    call    __roam_start_c      /* does not return */
1:  unimp
    j       1b
    .size   _start, . - _start
