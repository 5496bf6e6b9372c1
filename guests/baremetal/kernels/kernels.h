/* Integer compute kernels shared by the single-kernel guests and compute-mix.
 * Each returns a deterministic checksum of its result. */
#ifndef KERNELS_H
#define KERNELS_H
#include "rt.h"

#define SIEVE_MAX 262144u /* bytes of sieve */
#define CRC_MAX 65536u    /* bytes of crc32 input */
#define MAT_MAX 64u       /* matrix side */
#define QSORT_MAX 16384u  /* elements */

uint32_t k_sieve(uint32_t n, uint32_t *count);         /* primes below n */
uint32_t k_crc32(uint32_t len, uint32_t seed);         /* crc32 of a generated buffer */
uint32_t k_matmul(uint32_t n, uint32_t seed);          /* n x n integer matrix product */
uint32_t k_qsort(uint32_t n, uint32_t seed, int *sorted); /* quicksort of generated ints */
uint32_t k_dhry(uint32_t iterations);                  /* Dhrystone-like integer mix */

static inline uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static inline uint32_t rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32 - r));
}

/* Compares got with want; prints the verdict. Returns 1 when they match
 * (want == 0 means "no reference value": always passes). */
int k_verdict(const char *what, uint32_t got, uint32_t want);

#endif
