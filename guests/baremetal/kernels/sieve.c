#include "kernels.h"

static uint8_t composite[SIEVE_MAX];

uint32_t k_sieve(uint32_t n, uint32_t *count)
{
    if (n > SIEVE_MAX)
        n = SIEVE_MAX;
    memset(composite, 0, n);
    for (uint32_t i = 2; i * i < n; i++)
        if (!composite[i])
            for (uint32_t j = i * i; j < n; j += i)
                composite[j] = 1;
    uint32_t c = 0, sum = 0;
    for (uint32_t i = 2; i < n; i++)
        if (!composite[i]) {
            c++;
            sum = rotl32(sum, 3) ^ i;
        }
    *count = c;
    return sum;
}
