/* crash: a guest that misbehaves on purpose, one way per run, to check that
 * the kernel reports faults the way Linux does (the exit status a shell shows
 * is 128 + the signal) and survives bad system call arguments.
 *
 *   crash segv        store through a null pointer             SIGSEGV (139)
 *   crash segv-read   load from an unmapped address            SIGSEGV (139)
 *   crash segv-text   store into the program's own code        SIGSEGV (139)
 *   crash ill         an illegal instruction (.word 0)         SIGILL  (132)
 *   crash ebreak      a breakpoint (ebreak)                    SIGTRAP (133)
 *   crash jump        jump to an unmapped address              SIGSEGV (139)
 *   crash nx          call code placed in a data (not executable) page
 *                                                              SIGSEGV (139)
 *   crash csr         read mstatus from U-mode                 SIGILL  (132)
 *   crash amo         amoadd.w on a misaligned address         SIGBUS  (135)
 *   crash stack       unbounded recursion until the stack runs out
 *                                                              SIGSEGV (139)
 *   crash div         integer division by zero and overflow: no trap on RISC-V,
 *                     prints the defined results, exit 0
 *   crash misaligned  misaligned lw/sw/lhu: no trap (RISC-V Linux and qemu
 *                     carry them out), prints what they read; exit 0
 *   crash rdtime      the time CSR (rdtime/rdtimeh), readable from U-mode on
 *                     Linux: must not trap, and must advance across a 20 ms
 *                     sleep; exit status 1 if it does not advance
 *   crash efault      wild pointers to read/write/readv/writev: each must
 *                     give -EFAULT, then a normal write works. Reads into a
 *                     buffer that runs off the end of a mapping must fail
 *                     without consuming anything (stdin, or a file's
 *                     position), as on qemu-riscv32. Exit status = the number
 *                     of calls that did not behave. Give it some stdin.
 *   crash enosys      unknown system calls (999 three times, 500 once) must
 *                     give -ENOSYS; exit status = the number that did not
 *   crash unmapped    reads and writes two mapped pages in a hot loop, unmaps
 *                     the first, writes the second, then loads from the first
 *                                                              SIGSEGV (139)
 *   crash readonly    the same, then makes the first read-only: it still
 *                     reads, the second still takes writes; a store to the
 *                     first                                    SIGSEGV (139)
 *                     (the kernel drops just the changed pages from the hart's
 *                     TLBs: every other page's translation must stay right)
 *   crash exit N      exit(N): status N & 0xff
 *
 * Before faulting it prints (and flushes) one line saying what it is about to
 * do, with the faulting address and the pc of the faulting instruction where
 * it knows them, so a test can check the kernel's report against it:
 *   crash: segv: store to 0x00000000 at pc 0x000101a2
 * Reaching the line after a fault is a bug: it prints "crash: survived" and
 * exits 100. Bad usage: exit 2. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <roam.h>

/* Labels on the faulting instructions (defined in the asm below). */
extern const char crash_segv_pc[], crash_segv_read_pc[], crash_segv_text_pc[], crash_ill_pc[], crash_ebreak_pc[],
    crash_csr_pc[], crash_amo_pc[];

#define UNMAPPED_DATA 0xdead0000u /* above the stack on Roam; not mapped under qemu-riscv32 either */
#define UNMAPPED_CODE 0x0badc0deu /* between the heap and the mmap area: nothing there */
#define HOT_PAGES 0x30000000u /* two pages mapped there: free on Roam and under qemu-riscv32 */

static void announce(const char *what, const char *action, uint32_t address, const void *pc)
{
    printf("crash: %s: %s 0x%08" PRIx32 " at pc 0x%08" PRIx32 "\n", what, action, address, (uint32_t)(uintptr_t)pc);
    fflush(stdout);
}

__attribute__((noipa)) static void store_to(uintptr_t address)
{
    __asm__ volatile(".globl crash_segv_pc\ncrash_segv_pc:\n\tsw zero, 0(%0)" : : "r"(address) : "memory");
}

__attribute__((noipa)) static uint32_t load_from(uintptr_t address)
{
    uint32_t v;
    __asm__ volatile(".globl crash_segv_read_pc\ncrash_segv_read_pc:\n\tlw %0, 0(%1)" : "=r"(v) : "r"(address) : "memory");
    return v;
}

__attribute__((noipa)) static void store_to_text(uintptr_t address)
{
    __asm__ volatile(".globl crash_segv_text_pc\ncrash_segv_text_pc:\n\tsw zero, 0(%0)" : : "r"(address) : "memory");
}

__attribute__((noipa)) static void illegal(void)
{
    __asm__ volatile(".globl crash_ill_pc\ncrash_ill_pc:\n\t.word 0" ::: "memory");
}

__attribute__((noipa)) static void breakpoint(void)
{
    /* spelled out: the assembler would compress a plain "ebreak" to c.ebreak */
    __asm__ volatile(".globl crash_ebreak_pc\ncrash_ebreak_pc:\n\t.word 0x00100073" ::: "memory");
}

__attribute__((noipa)) static uint32_t read_mstatus(void)
{
    uint32_t v;
    __asm__ volatile(".globl crash_csr_pc\ncrash_csr_pc:\n\tcsrr %0, mstatus" : "=r"(v));
    return v;
}

__attribute__((noipa)) static uint32_t amo_add(uintptr_t address)
{
    uint32_t v;
    __asm__ volatile(".globl crash_amo_pc\ncrash_amo_pc:\n\tamoadd.w %0, %2, (%1)" : "=r"(v) : "r"(address), "r"(1) : "memory");
    return v;
}

/* "ret" (jalr x0, 0(ra)), in .data: readable and writable, not executable */
static uint32_t data_code[2] __attribute__((aligned(8))) = { 0x00008067u, 0 };

static uint32_t words[4] __attribute__((aligned(16))) = { 0x04030201u, 0x08070605u, 0x0c0b0a09u, 0x100f0e0du };

static int misaligned(void)
{
    uintptr_t p = (uintptr_t)words;
    uint32_t w;
    uint16_t h;
    /* asm, so the compiler cannot split them into byte accesses */
    __asm__ volatile("lw %0, 0(%1)" : "=r"(w) : "r"(p + 1) : "memory");
    printf("crash: misaligned: lw at +1: 0x%08" PRIx32 "\n", w);
    __asm__ volatile("lhu %0, 0(%1)" : "=r"(h) : "r"(p + 3) : "memory");
    printf("crash: misaligned: lhu at +3: 0x%04x\n", h);
    __asm__ volatile("sw %0, 0(%1)" : : "r"(0xa1b2c3d4u), "r"(p + 6) : "memory");
    printf("crash: misaligned: after sw 0xa1b2c3d4 at +6: 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 "\n", words[1], words[2],
           words[3]);
    return 0;
}

static uint64_t rdtime64(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("rdtimeh %0" : "=r"(hi));
        __asm__ volatile("rdtime %0" : "=r"(lo));
        __asm__ volatile("rdtimeh %0" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

static int time_csr(void)
{
    printf("crash: rdtime: reading the time CSR\n");
    fflush(stdout);
    uint64_t before = rdtime64();
    struct timespec nap = { 0, 20 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    uint64_t after = rdtime64();
    /* the rate is the platform's (10 MHz on qemu's virt board, the host's TSC under qemu-riscv32) */
    printf("crash: rdtime: advances across a 20 ms sleep: %s\n", after > before ? "yes" : "no");
    return after > before ? 0 : 1;
}

/* Each frame is > 1 KiB and touched at both ends, so no guard page is skipped. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noipa)) static int recurse(volatile int depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    return recurse(depth + 1) + frame[0] + frame[sizeof frame - 1];
}

static int division(void)
{
    /* volatile: the compiler must not see the zeros and fold or trap */
    volatile int32_t seven = 7, zero = 0, min = INT32_MIN, minus_one = -1;
    volatile uint32_t useven = 7, uzero = 0;
    printf("crash: div: 7 / 0 = %" PRId32 ", 7 %% 0 = %" PRId32 "\n", seven / zero, seven % zero);
    printf("crash: div: 7u / 0 = %" PRIu32 ", 7u %% 0 = %" PRIu32 "\n", useven / uzero, useven % uzero);
    printf("crash: div: INT32_MIN / -1 = %" PRId32 ", INT32_MIN %% -1 = %" PRId32 "\n", min / minus_one,
           min % minus_one);
    printf("crash: div: no trap\n");
    return 0;
}

static int n_bad;

static void want(const char *what, long got, long wanted)
{
    if (got == wanted) {
        printf("crash: %s: %ld ok\n", what, got);
    } else {
        printf("crash: %s: got %ld, want %ld\n", what, got, wanted);
        n_bad++;
    }
    fflush(stdout);
}

static int wild_pointers(void)
{
    static char buf[64];
    const long efault = -LINUX_EFAULT;
    want("efault: write(1, 0xdead0000, 16)", sys_write(1, (const void *)UNMAPPED_DATA, 16), efault);
    want("efault: write(1, NULL, 16)", sys_write(1, NULL, 16), efault);
    want("efault: write(2, 0xfffffff8, 16) (wraps)", sys_write(2, (const void *)0xfffffff8u, 16), efault);
    want("efault: read(0, 0xdead0000, 16)", sys_read(0, (void *)UNMAPPED_DATA, 16), efault);
    want("efault: read(0, code, 16) (read-only)", sys_read(0, (void *)(uintptr_t)crash_segv_pc, 16), efault);
    struct linux_iovec bad_base = { (void *)UNMAPPED_DATA, 16 };
    want("efault: writev(1, {0xdead0000, 16}, 1)", sys_writev(1, &bad_base, 1), efault);
    want("efault: writev(1, 0xdead0000, 1)", sys_writev(1, (const struct linux_iovec *)UNMAPPED_DATA, 1), efault);
    want("efault: readv(0, {0xdead0000, 16}, 1)", sys_readv(0, &bad_base, 1), efault);
    /* a buffer that runs off the end of a mapping: nothing may be consumed */
    char *two = mmap(NULL, 8192, LINUX_PROT_READ | LINUX_PROT_WRITE, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED || munmap(two + 4096, 4096) != 0) {
        printf("crash: efault: mmap/munmap failed\n");
        n_bad++;
    } else {
        char *edge = two + 4096 - 8;
        want("efault: read(0, 8 bytes before an unmapped page, 16)", sys_read(0, edge, 16), efault);
        char line[64];
        long n = sys_read(0, line, sizeof line - 1);
        line[n > 0 ? n : 0] = 0;
        printf("crash: efault: then stdin gives %ld bytes: %s", n, line);
        long fd = sys_openat(LINUX_AT_FDCWD, "efault.txt", LINUX_O_RDWR | LINUX_O_CREAT | LINUX_O_TRUNC, 0644);
        want("efault: write 36 bytes to efault.txt", sys_write((int)fd, "0123456789abcdefghijklmnopqrstuvwxyz", 36), 36);
        int64_t pos = -1;
        sys_llseek((int)fd, 0, &pos, 0);
        want("efault: read(file, 8 bytes before an unmapped page, 16)", sys_read((int)fd, edge, 16), efault);
        sys_llseek((int)fd, 0, &pos, 1);
        want("efault: ... the file position is still", (long)pos, 0);
        sys_close((int)fd);
        sys_unlinkat(LINUX_AT_FDCWD, "efault.txt", 0);
    }
    /* the process is still fine */
    strcpy(buf, "crash: efault: still running\n");
    want("efault: write(1, buf, 29)", sys_write(1, buf, strlen(buf)), (long)strlen(buf));
    return n_bad;
}

static int unknown_syscalls(void)
{
    const long enosys = -LINUX_ENOSYS;
    want("enosys: syscall 999", roam_syscall0(999), enosys);
    want("enosys: syscall 999 again", roam_syscall0(999), enosys);
    want("enosys: syscall 500", roam_syscall0(500), enosys);
    want("enosys: syscall 999 a third time", roam_syscall1(999, 1), enosys);
    return n_bad;
}

/* Two fresh pages, each read and written many times in a loop (hot enough to be translated, with both pages in
 * the TLBs), then the second written once more after the first was changed by `change`. Returns the first page. */
static volatile uint32_t *two_hot_pages(const char *what, int (*change)(void *))
{
    /* At a fixed address, the same under qemu-riscv32, so that both print the same lines. */
    volatile uint32_t *p = mmap((void *)HOT_PAGES, 2 * 4096, LINUX_PROT_READ | LINUX_PROT_WRITE,
                                LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        printf("crash: %s: mmap failed\n", what);
        exit(3);
    }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        p[i & 1023] += i;
        p[1024 + (i & 1023)] += sum;
        sum += p[(i * 7) & 1023] + p[1024 + ((i * 5) & 1023)];
    }
    if (change((void *)p) != 0) {
        printf("crash: %s: the change failed\n", what);
        exit(3);
    }
    p[1024] = sum;
    printf("crash: %s: the second page still takes writes: %s\n", what, p[1024] == sum ? "ok" : "no");
    return p;
}

static int unmap_first(void *p) { return munmap(p, 4096); }
static int protect_first(void *p) { return mprotect(p, 4096, LINUX_PROT_READ); }

static int usage(void)
{
    fprintf(stderr, "usage: crash segv|segv-read|segv-text|ill|ebreak|jump|nx|csr|amo|stack|div|misaligned|rdtime|efault|enosys|"
                    "unmapped|readonly|"
                    "exit N\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *how = argv[1];
    if (strcmp(how, "segv") == 0) {
        volatile uintptr_t null = 0;
        announce("segv", "store to", null, crash_segv_pc);
        store_to(null);
    } else if (strcmp(how, "segv-read") == 0) {
        announce("segv-read", "load from", UNMAPPED_DATA, crash_segv_read_pc);
        printf("loaded %" PRIu32 "\n", load_from(UNMAPPED_DATA));
    } else if (strcmp(how, "segv-text") == 0) {
        uintptr_t target = (uintptr_t)crash_segv_text_pc;
        announce("segv-text", "store to", target, crash_segv_text_pc);
        store_to_text(target);
    } else if (strcmp(how, "ill") == 0) {
        announce("ill", "illegal instruction", 0, crash_ill_pc);
        illegal();
    } else if (strcmp(how, "ebreak") == 0) {
        announce("ebreak", "breakpoint", 0x00100073u, crash_ebreak_pc);
        breakpoint();
    } else if (strcmp(how, "jump") == 0) {
        volatile uintptr_t target = UNMAPPED_CODE;
        announce("jump", "jump to", target, (const void *)target);
        ((void (*)(void))target)();
    } else if (strcmp(how, "nx") == 0) {
        uintptr_t target = (uintptr_t)data_code;
        announce("nx", "call data at", target, (const void *)target);
        ((void (*)(void))target)();
    } else if (strcmp(how, "csr") == 0) {
        announce("csr", "csrr mstatus", 0x300, crash_csr_pc);
        printf("mstatus 0x%08" PRIx32 "\n", read_mstatus());
    } else if (strcmp(how, "amo") == 0) {
        uintptr_t target = (uintptr_t)words + 2;
        announce("amo", "amoadd.w at", target, crash_amo_pc);
        printf("old 0x%08" PRIx32 "\n", amo_add(target));
    } else if (strcmp(how, "unmapped") == 0) {
        volatile uint32_t *p = two_hot_pages("unmapped", unmap_first);
        announce("unmapped", "load from", (uint32_t)(uintptr_t)p, crash_segv_read_pc);
        printf("loaded %" PRIu32 "\n", load_from((uintptr_t)p));
    } else if (strcmp(how, "readonly") == 0) {
        volatile uint32_t *p = two_hot_pages("readonly", protect_first);
        printf("crash: readonly: the first page still reads: %s\n", p[1] != 0 ? "ok" : "no");
        announce("readonly", "store to", (uint32_t)(uintptr_t)p, crash_segv_pc);
        store_to((uintptr_t)p);
    } else if (strcmp(how, "misaligned") == 0) {
        return misaligned();
    } else if (strcmp(how, "rdtime") == 0) {
        return time_csr();
    } else if (strcmp(how, "stack") == 0) {
        printf("crash: stack: recursing from 0x%08" PRIx32 "\n", (uint32_t)(uintptr_t)&recurse);
        fflush(stdout);
        printf("depth %d\n", recurse(0));
    } else if (strcmp(how, "div") == 0) {
        return division();
    } else if (strcmp(how, "efault") == 0) {
        return wild_pointers();
    } else if (strcmp(how, "enosys") == 0) {
        return unknown_syscalls();
    } else if (strcmp(how, "exit") == 0 && argc == 3) {
        printf("crash: exit %s\n", argv[2]);
        exit(atoi(argv[2]));
    } else {
        return usage();
    }
    printf("crash: survived\n");
    return 100;
}
