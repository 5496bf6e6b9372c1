/* Exit and the default trap handler. */
#include "rt.h"

void rt_exit(int code)
{
#ifdef RT_REPORT_INSTRET
    /* measurement builds only (not in guests/bin): under QEMU, run with
     * -icount shift=0 so that minstret counts instructions */
    uint32_t hi = read_csr(minstreth), lo = read_csr(minstret);
    uint64_t n = ((uint64_t)hi << 32) | lo;
    if (n >= 1000000000u)
        printf("[instret %u%09u]\n", (uint32_t)(n / 1000000000u), (uint32_t)(n % 1000000000u));
    else
        printf("[instret %u]\n", (uint32_t)n);
#endif
    volatile uint32_t *finisher = (volatile uint32_t *)FINISHER_BASE;
    *finisher = code == 0 ? FINISHER_PASS : (((uint32_t)code << 16) | FINISHER_FAIL);
    for (;;)
        __asm__ volatile("wfi");
}

__attribute__((weak)) void trap_handler(struct trap_frame *f)
{
    printf("\nunexpected trap: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n", f->mcause, f->mepc, f->mtval);
    rt_exit(0x7f);
}
