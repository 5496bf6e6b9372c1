/* compute-mix: every kernel, MIX_ROUNDS times, with a per-round seed.
 * MIX_ROUNDS and MIX_EXPECT are set by guests/build.sh per variant. */
#include "kernels.h"

#ifndef MIX_ROUNDS
#define MIX_ROUNDS 2
#endif
#ifndef MIX_EXPECT
#define MIX_EXPECT 0
#endif

#define MIX_DHRY 10000u

int mix_main(const char *name)
{
    uint32_t sieve = 0, crc = 0, mat = 0, qs = 0, dh = 0;
    int ok = 1;
    printf("%s: %u rounds\n", name, (uint32_t)MIX_ROUNDS);
    for (uint32_t r = 0; r < MIX_ROUNDS; r++) {
        uint32_t count, sorted;
        sieve = rotl32(sieve, 5) ^ k_sieve(SIEVE_MAX - (r & 7) * 1024, &count) ^ count;
        crc = rotl32(crc, 5) ^ k_crc32(CRC_MAX, r + 1);
        mat = rotl32(mat, 5) ^ k_matmul(MAT_MAX, r + 1);
        qs = rotl32(qs, 5) ^ k_qsort(QSORT_MAX, r + 1, (int *)&sorted);
        ok &= sorted;
        dh = rotl32(dh, 5) ^ k_dhry(MIX_DHRY + r);
    }
    printf("  sieve     0x%08x\n  crc32     0x%08x\n  matmul    0x%08x\n  quicksort 0x%08x\n  dhry      0x%08x\n",
           sieve, crc, mat, qs, dh);
    uint32_t all = sieve ^ rotl32(crc, 7) ^ rotl32(mat, 13) ^ rotl32(qs, 19) ^ rotl32(dh, 25);
    if (!ok)
        printf("quicksort left an unsorted array\n");
    ok &= k_verdict(name, all, MIX_EXPECT);
    return ok ? 0 : 1;
}
