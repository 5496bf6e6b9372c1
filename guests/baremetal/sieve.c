/* sieve: primes below 200000 by the sieve of Eratosthenes. */
#include "kernels.h"

#ifndef EXPECT
#define EXPECT 0
#endif

int main(void)
{
    uint32_t count;
    uint32_t sum = k_sieve(200000, &count);
    printf("sieve: %u primes below 200000\n", count);
    int ok = count == 17984;
    ok &= k_verdict("sieve", sum, EXPECT);
    return ok ? 0 : 1;
}
