/* compute-mix-sv32: the compute-mix kernels in supervisor mode with Sv32
 * paging on. Machine mode builds identity-mapped 4 KiB page tables (text
 * r-x, rodata r--, data/bss/stack rw-, plus the UART and the test finisher
 * rw-), opens PMP and enters S-mode with mret (MPP=S, satp.MODE=Sv32).
 * S-mode first checks that the permissions hold (a store to text, a store to
 * rodata, a load from an unmapped page and a fetch from a data page must each
 * page-fault into M, which skips them), then runs the kernels and returns to
 * M through ecall, only to exit. */
#include "kernels.h"

int mix_main(const char *name);

#define PTE_V 0x001u
#define PTE_R 0x002u
#define PTE_W 0x004u
#define PTE_X 0x008u
#define PTE_A 0x040u
#define PTE_D 0x080u

#define PAGE 4096u
#define PT_POOL 8

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __rw_end[];

static uint32_t page_tables[1 + PT_POOL][1024] __attribute__((section(".pagetables"), aligned(4096)));
static uint32_t tables_used;

static uint32_t *leaf_table(uint32_t va)
{
    uint32_t *root = page_tables[0];
    uint32_t vpn1 = va >> 22;
    if (!(root[vpn1] & PTE_V)) {
        if (tables_used == PT_POOL) {
            printf("sv32: page-table pool exhausted\n");
            rt_exit(0x7d);
        }
        uint32_t *t = page_tables[1 + tables_used++];
        root[vpn1] = (((uint32_t)t >> 12) << 10) | PTE_V; /* pointer to next level */
    }
    return (uint32_t *)((root[vpn1] >> 10) << 12);
}

static uint32_t map_range(uint32_t start, uint32_t end, uint32_t perm)
{
    uint32_t n = 0;
    for (uint32_t va = start & ~(PAGE - 1); va < end; va += PAGE, n++) {
        uint32_t *t = leaf_table(va);
        /* identity map; A (and D for writable pages) preset so that the
         * hardware never needs to update them */
        t[(va >> 12) & 0x3ff] = ((va >> 12) << 10) | perm | PTE_A | ((perm & PTE_W) ? PTE_D : 0) | PTE_V;
    }
    return n;
}

static __attribute__((noreturn)) void s_exit(int code)
{
    register uint32_t a0 __asm__("a0") = (uint32_t)code;
    __asm__ volatile("ecall" ::"r"(a0) : "memory");
    for (;;)
        ;
}

/* Page faults expected by the S-mode probes: recorded, then skipped. */
static volatile uint32_t probing, fault_cause, fault_tval, fault_mpp;

/* a "ret" (c.jr ra) on a data page, which is not executable */
static uint16_t data_page_code[2] __attribute__((aligned(4))) = {0x8082, 0x8082};

/* M-mode: ecall from S (cause 9) exits with a0; page faults during a probe
 * are recorded and skipped; anything else is a failure. */
void trap_handler(struct trap_frame *f)
{
    uint32_t mpp = (f->mstatus >> 11) & 3;
    if (f->mcause == 9)
        rt_exit((int)f->x[10]);
    if (probing && (f->mcause == 12 || f->mcause == 13 || f->mcause == 15)) {
        fault_cause = f->mcause;
        fault_tval = f->mtval;
        fault_mpp = mpp;
        probing = 0;
        if (f->mcause == 12) /* the fetch probe jumped with jalr ra: return to ra */
            f->mepc = f->x[1];
        else /* skip the load or store (identity mapped: mepc is physical too) */
            f->mepc += (*(volatile uint16_t *)f->mepc & 3) == 3 ? 4 : 2;
        return;
    }
    printf("\nunexpected trap: mcause=0x%08x mepc=0x%08x mtval=0x%08x mpp=%u\n", f->mcause, f->mepc, f->mtval, mpp);
    rt_exit(0x7f);
}

static int expect_fault(const char *what, uint32_t cause, uint32_t tval)
{
    int ok = probing == 0 && fault_cause == cause && fault_tval == tval && fault_mpp == 1;
    printf("  %-22s mcause=%2u mtval=%s mpp=%u  %s\n", what, fault_cause,
           fault_tval == tval ? "address" : "other  ", fault_mpp, ok ? "ok" : "MISMATCH");
    fault_cause = fault_tval = fault_mpp = 0xffffffffu;
    return ok;
}

static int probe_permissions(void)
{
    int ok = 1;
    uint32_t text = (uint32_t)__text_start + 64, rodata = (uint32_t)__rodata_start;
    uint32_t unmapped = 0x40000000u, code = (uint32_t)data_page_code;

    probing = 1;
    __asm__ volatile("sw zero, 0(%0)" ::"r"(text) : "memory");
    ok &= expect_fault("store to text (r-x)", 15, text);

    probing = 1;
    __asm__ volatile("sw zero, 0(%0)" ::"r"(rodata) : "memory");
    ok &= expect_fault("store to rodata (r--)", 15, rodata);

    probing = 1;
    uint32_t v = 0;
    __asm__ volatile("lw %0, 0(%1)" : "+r"(v) : "r"(unmapped) : "memory");
    ok &= expect_fault("load from unmapped", 13, unmapped);

    probing = 1;
    __asm__ volatile("jalr ra, 0(%0)" ::"r"(code) : "ra", "memory");
    ok &= expect_fault("fetch from data (rw-)", 12, code);
    return ok;
}

static __attribute__((noreturn)) void s_main(void)
{
    uint32_t satp;
    __asm__ volatile("csrr %0, satp" : "=r"(satp));
    printf("running in S-mode, satp=0x%08x; permission checks:\n", satp);
    if (!probe_permissions()) {
        printf("Sv32 permissions are not enforced as mapped\n");
        s_exit(2);
    }
    s_exit(mix_main("compute-mix-sv32"));
}

int main(void)
{
    uint32_t text = map_range((uint32_t)__text_start, (uint32_t)__text_end, PTE_R | PTE_X);
    uint32_t ro = map_range((uint32_t)__rodata_start, (uint32_t)__rodata_end, PTE_R);
    uint32_t rw = map_range((uint32_t)__data_start, (uint32_t)__rw_end, PTE_R | PTE_W);
    uint32_t dev = map_range(UART0_BASE, UART0_BASE + 1, PTE_R | PTE_W);
    dev += map_range(FINISHER_BASE, FINISHER_BASE + 1, PTE_R | PTE_W);
    printf("sv32: %u text pages r-x, %u rodata pages r--, %u data pages rw-, %u device pages rw-, %u tables\n",
           text, ro, rw, dev, tables_used + 1);

    /* PMP: one NAPOT region covering everything, RWX, so S-mode may access memory */
    write_csr(pmpaddr0, 0xffffffffu);
    write_csr(pmpcfg0, 0x1fu);

    uint32_t satp = 0x80000000u | ((uint32_t)page_tables[0] >> 12);
    write_csr(satp, satp);
    __asm__ volatile("sfence.vma" ::: "memory");

    /* mret into S-mode at s_main, on the current stack */
    uint32_t mstatus = read_csr(mstatus);
    mstatus = (mstatus & ~(3u << 11)) | (1u << 11); /* MPP = S */
    mstatus &= ~(1u << 17);                          /* MPRV = 0 */
    write_csr(mstatus, mstatus);
    write_csr(mepc, (uint32_t)s_main);
    __asm__ volatile("mret");
    __builtin_unreachable();
}
