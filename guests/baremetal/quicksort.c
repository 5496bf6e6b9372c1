/* quicksort: sorts 16384 generated integers, twice, and checks the order. */
#include "kernels.h"

#ifndef EXPECT
#define EXPECT 0
#endif

int main(void)
{
    int s1, s2;
    uint32_t a = k_qsort(QSORT_MAX, 1, &s1);
    uint32_t b = k_qsort(QSORT_MAX, 2, &s2);
    printf("quicksort: %u elements, sorted: %s, %s\n", QSORT_MAX, s1 ? "yes" : "NO", s2 ? "yes" : "NO");
    int ok = s1 && s2;
    ok &= k_verdict("quicksort", a ^ rotl32(b, 11), EXPECT);
    return ok ? 0 : 1;
}
