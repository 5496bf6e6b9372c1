/* trap: takes synchronous exceptions in M-mode and reports what the hart
 * recorded: an illegal 16-bit instruction (c.unimp), an illegal 32-bit one
 * (a write to the read-only cycle CSR), ecall, ebreak and a load from an
 * address with no device behind it. The handler skips the faulting
 * instruction and execution continues. Exits 0 when every trap matched. */
#include "rt.h"

static volatile uint32_t traps_taken;
static volatile struct {
    uint32_t mcause, mepc, mtval, len, mpp;
} last;

void trap_handler(struct trap_frame *f)
{
    uint16_t lo = *(volatile uint16_t *)f->mepc;
    uint32_t len = (lo & 3) == 3 ? 4 : 2;
    last.mcause = f->mcause;
    last.mepc = f->mepc;
    last.mtval = f->mtval;
    last.len = len;
    last.mpp = (f->mstatus >> 11) & 3;
    if (f->mcause & 0x80000000u) {
        printf("unexpected interrupt, mcause=0x%08x\n", f->mcause);
        rt_exit(0x7e);
    }
    traps_taken++;
    f->mepc += len; /* skip the instruction */
    /* ecall returns a value in a0, like a tiny syscall */
    if (f->mcause == 11)
        f->x[10] = f->x[10] * 2 + f->x[17];
}

/* Each probe is a naked instruction at a global label so the report can
 * print mepc relative to it. */
extern char probe_cunimp[], probe_csr_ro[], probe_ecall[], probe_ebreak[], probe_load[];

static int check(const char *name, const char *where, uint32_t want_cause, uint32_t want_len, uint32_t before)
{
    int ok = traps_taken == before + 1 && last.mcause == want_cause && last.mepc == (uint32_t)where &&
             last.len == want_len && last.mpp == 3;
    printf("%-8s mcause=%2u mepc=label%+d len=%u mtval=0x%08x mpp=%u  %s\n", name, last.mcause,
           (int)(last.mepc - (uint32_t)where), last.len, last.mtval, last.mpp, ok ? "ok" : "MISMATCH");
    return ok;
}

int main(void)
{
    int ok = 1;
    uint32_t n;
    printf("trap demo: machine-mode exceptions\n");

    n = traps_taken;
    __asm__ volatile(".globl probe_cunimp\nprobe_cunimp: .2byte 0x0000" ::: "memory");
    ok &= check("c.unimp", probe_cunimp, 2, 2, n);

    n = traps_taken;
    __asm__ volatile(".globl probe_csr_ro\nprobe_csr_ro: csrw cycle, zero" ::: "memory");
    ok &= check("csrw ro", probe_csr_ro, 2, 4, n);

    n = traps_taken;
    register uint32_t a0 __asm__("a0") = 20;
    register uint32_t a7 __asm__("a7") = 2;
    __asm__ volatile(".globl probe_ecall\nprobe_ecall: ecall" : "+r"(a0) : "r"(a7) : "memory");
    uint32_t ret = a0; /* copy out before any call clobbers a0 */
    ok &= check("ecall", probe_ecall, 11, 4, n);
    printf("         ecall returned %u\n", ret);
    ok &= ret == 42;

    n = traps_taken;
    __asm__ volatile(".globl probe_ebreak\nprobe_ebreak: c.ebreak" ::: "memory");
    ok &= check("ebreak", probe_ebreak, 3, 2, n);

    n = traps_taken;
    uint32_t v = 0x1234;
    __asm__ volatile(".globl probe_load\nprobe_load: lw %0, 0(%1)" : "+r"(v) : "r"(0x00200000u) : "memory");
    ok &= check("load", probe_load, 5, 4, n);
    ok &= v == 0x1234;

    printf("%u traps taken, %s\n", traps_taken, ok ? "all as expected" : "SOME MISMATCHED");
    return ok ? 0 : 1;
}
