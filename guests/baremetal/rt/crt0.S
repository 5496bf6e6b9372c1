/* Roam bare-metal runtime: entry and M-mode trap entry.
 * QEMU virt with -bios none jumps here (0x80000000) in M-mode with
 * a0 = hartid, a1 = device tree address. Only hart 0 runs the program. */

    .section .text.init, "ax"
    .globl _start
_start:
    csrw    mie, zero
    csrw    mideleg, zero
    csrw    medeleg, zero
    la      t0, trap_entry
    csrw    mtvec, t0
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    /* any other hart parks itself */
    bnez    a0, park
    la      sp, __stack_top
    la      t0, __trap_stack_top
    csrw    mscratch, t0
    /* zero .bss */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  call    main
    /* main's return value is the exit status */
    call    rt_exit
park:
    wfi
    j       park

/* M-mode trap entry. mscratch holds the top of the M trap stack; the stack
 * pointer of the interrupted code is swapped out and saved in the frame. */
    .section .text.trap, "ax"
    .globl trap_entry
    .align 4
trap_entry:
    csrrw   sp, mscratch, sp
    addi    sp, sp, -36*4
    sw      x1, 1*4(sp)
    sw      x3, 3*4(sp)
    sw      x4, 4*4(sp)
    sw      x5, 5*4(sp)
    sw      x6, 6*4(sp)
    sw      x7, 7*4(sp)
    sw      x8, 8*4(sp)
    sw      x9, 9*4(sp)
    sw      x10, 10*4(sp)
    sw      x11, 11*4(sp)
    sw      x12, 12*4(sp)
    sw      x13, 13*4(sp)
    sw      x14, 14*4(sp)
    sw      x15, 15*4(sp)
    sw      x16, 16*4(sp)
    sw      x17, 17*4(sp)
    sw      x18, 18*4(sp)
    sw      x19, 19*4(sp)
    sw      x20, 20*4(sp)
    sw      x21, 21*4(sp)
    sw      x22, 22*4(sp)
    sw      x23, 23*4(sp)
    sw      x24, 24*4(sp)
    sw      x25, 25*4(sp)
    sw      x26, 26*4(sp)
    sw      x27, 27*4(sp)
    sw      x28, 28*4(sp)
    sw      x29, 29*4(sp)
    sw      x30, 30*4(sp)
    sw      x31, 31*4(sp)
    csrr    t0, mscratch        /* interrupted sp */
    sw      t0, 2*4(sp)
    sw      zero, 0*4(sp)
    csrr    t0, mepc
    sw      t0, 32*4(sp)
    csrr    t0, mcause
    sw      t0, 33*4(sp)
    csrr    t0, mtval
    sw      t0, 34*4(sp)
    csrr    t0, mstatus
    sw      t0, 35*4(sp)
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    mv      a0, sp
    call    trap_handler
    lw      t0, 32*4(sp)
    csrw    mepc, t0
    lw      t0, 35*4(sp)
    csrw    mstatus, t0
    addi    t0, sp, 36*4        /* restore mscratch = trap stack top */
    csrw    mscratch, t0
    lw      x1, 1*4(sp)
    lw      x3, 3*4(sp)
    lw      x4, 4*4(sp)
    lw      x5, 5*4(sp)
    lw      x6, 6*4(sp)
    lw      x7, 7*4(sp)
    lw      x8, 8*4(sp)
    lw      x9, 9*4(sp)
    lw      x10, 10*4(sp)
    lw      x11, 11*4(sp)
    lw      x12, 12*4(sp)
    lw      x13, 13*4(sp)
    lw      x14, 14*4(sp)
    lw      x15, 15*4(sp)
    lw      x16, 16*4(sp)
    lw      x17, 17*4(sp)
    lw      x18, 18*4(sp)
    lw      x19, 19*4(sp)
    lw      x20, 20*4(sp)
    lw      x21, 21*4(sp)
    lw      x22, 22*4(sp)
    lw      x23, 23*4(sp)
    lw      x24, 24*4(sp)
    lw      x25, 25*4(sp)
    lw      x26, 26*4(sp)
    lw      x27, 27*4(sp)
    lw      x28, 28*4(sp)
    lw      x29, 29*4(sp)
    lw      x30, 30*4(sp)
    lw      x31, 31*4(sp)
    lw      sp, 2*4(sp)
    mret
