/* hello: the README demo. Greets, decodes misa, prints a small computed
 * table and a few M/A-extension corner cases, exits 0. */
#include "rt.h"

static uint32_t fib(uint32_t n)
{
    uint32_t a = 0, b = 1;
    while (n--) {
        uint32_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static uint32_t collatz_steps(uint32_t n)
{
    uint32_t steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static int is_prime(uint32_t n)
{
    if (n < 2)
        return 0;
    for (uint32_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static volatile int32_t vzero = 0, vseven = 7, vmin = (int32_t)0x80000000, vminus1 = -1;
static volatile uint32_t counter;

int main(void)
{
    printf("Hello from a bare-metal RISC-V guest!\n");

    uint32_t misa = read_csr(misa);
    /* extension letters in the canonical ISA-string order, then the rest */
    static const char order[] = "IEMAFDQCBVHSUNGJKLOPRTWXYZ";
    char ext[27];
    int n = 0;
    for (int i = 0; order[i]; i++)
        if (misa & (1u << (order[i] - 'A')))
            ext[n++] = order[i];
    ext[n] = 0;
    printf("hart %u, misa 0x%08x: RV%u%s\n", read_csr(mhartid), misa, 16u << (misa >> 30), ext);

    printf("\n  n  n^2    n^3        fib(n)  collatz  prime\n");
    for (uint32_t i = 1; i <= 12; i++)
        printf("%3u %4u %6u %13u %8u  %s\n", i, i * i, i * i * i, fib(i * 3), collatz_steps(i * 7),
               is_prime(i * 2 + 1) ? "yes" : "no");

    /* M extension corner cases, defined by the ISA */
    int32_t q0 = vseven / vzero, r0 = vseven % vzero;
    int32_t qo = vmin / vminus1, ro = vmin % vminus1;
    int32_t hi;
    __asm__("mulh %0, %1, %2" : "=r"(hi) : "r"(vmin), "r"(vmin));
    printf("\n7/0=%d 7%%0=%d min/-1=%d min%%-1=%d mulh(min,min)=0x%08x\n", q0, r0, qo, ro, (uint32_t)hi);

    /* A extension: amoadd and an lr/sc pair */
    uint32_t old, fail;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(&counter), "r"(5) : "memory");
    __asm__ volatile("1: lr.w %0, (%2)\n"
                     "   addi %0, %0, 10\n"
                     "   sc.w %1, %0, (%2)\n"
                     "   bnez %1, 1b"
                     : "=&r"(old), "=&r"(fail)
                     : "r"(&counter)
                     : "memory");
    printf("amoadd+lr/sc counter=%u\n", counter);

    printf("\nGoodbye.\n");
    return 0;
}
