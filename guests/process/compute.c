/* compute: integer compute kernels (sieve, crc32, matrix multiply, quicksort,
 * a Dhrystone-like mix), each printing a checksum that is checked against a
 * reference value.
 *
 *   compute [small]   the five single-kernel runs of the bare-metal guests
 *                     (guests/baremetal/{sieve,crc32,...}.c), then 2 rounds
 *                     of compute-mix: about 60 million instructions
 *   compute bench     the single-kernel runs, then 100 rounds of compute-mix:
 *                     about 1.6 billion instructions
 *   compute N         ... N rounds of compute-mix (no reference checksum
 *                     unless N is 2 or 100)
 *
 * The kernels are the bare-metal guests' own (guests/baremetal/kernels,
 * compiled unchanged), and the reference checksums are the ones the
 * bare-metal guests check on QEMU's system emulator (guests/build.sh), so a
 * process-mode run agreeing with them is an independent check.
 * Exit status: 0 when every checksum matches, 1 otherwise, 2 on bad usage. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

#define MIX_DHRY 10000u

static int failures;

static void verdict(const char *what, uint32_t got, uint32_t want)
{
    if (want == 0) {
        printf("%s: checksum 0x%08" PRIx32 " (no reference)\n", what, got);
    } else if (got == want) {
        printf("%s: checksum 0x%08" PRIx32 " ok\n", what, got);
    } else {
        printf("%s: checksum 0x%08" PRIx32 " MISMATCH, expected 0x%08" PRIx32 "\n", what, got, want);
        failures++;
    }
}

/* the bare-metal single-kernel guests, one by one */
static void singles(void)
{
    uint32_t count;
    uint32_t sum = k_sieve(200000, &count);
    printf("sieve: %" PRIu32 " primes below 200000\n", count);
    if (count != 17984) {
        printf("sieve: expected 17984 primes\n");
        failures++;
    }
    verdict("sieve", sum, 0xabdfbb03u);

    uint32_t all = 0;
    for (uint32_t seed = 1; seed <= 4; seed++) {
        uint32_t c = k_crc32(CRC_MAX, seed);
        printf("crc32: seed %" PRIu32 ", %u bytes: 0x%08" PRIx32 "\n", seed, CRC_MAX, c);
        all = rotl32(all, 1) ^ c;
    }
    verdict("crc32", all, 0x8de1154du);

    uint32_t a = k_matmul(48, 1);
    uint32_t b = k_matmul(64, 2);
    printf("matmul: 48x48 0x%08" PRIx32 ", 64x64 0x%08" PRIx32 "\n", a, b);
    verdict("matmul", a ^ rotl32(b, 16), 0x313c15cbu);

    int s1, s2;
    a = k_qsort(QSORT_MAX, 1, &s1);
    b = k_qsort(QSORT_MAX, 2, &s2);
    printf("quicksort: %u elements, sorted: %s, %s\n", QSORT_MAX, s1 ? "yes" : "NO", s2 ? "yes" : "NO");
    if (!s1 || !s2)
        failures++;
    verdict("quicksort", a ^ rotl32(b, 11), 0x599986fbu);

    uint32_t c = k_dhry(20000);
    printf("dhry: 20000 iterations\n");
    verdict("dhry", c, 0x20423180u);
}

/* compute-mix (guests/baremetal/kernels/mix.c) with a run-time round count */
static void mix(uint32_t rounds)
{
    uint32_t sieve = 0, crc = 0, mat = 0, qs = 0, dh = 0;
    int ok = 1;
    printf("compute-mix: %" PRIu32 " rounds\n", rounds);
    fflush(stdout);
    for (uint32_t r = 0; r < rounds; r++) {
        uint32_t count, sorted;
        sieve = rotl32(sieve, 5) ^ k_sieve(SIEVE_MAX - (r & 7) * 1024, &count) ^ count;
        crc = rotl32(crc, 5) ^ k_crc32(CRC_MAX, r + 1);
        mat = rotl32(mat, 5) ^ k_matmul(MAT_MAX, r + 1);
        qs = rotl32(qs, 5) ^ k_qsort(QSORT_MAX, r + 1, (int *)&sorted);
        ok &= sorted;
        dh = rotl32(dh, 5) ^ k_dhry(MIX_DHRY + r);
    }
    printf("  sieve     0x%08" PRIx32 "\n  crc32     0x%08" PRIx32 "\n  matmul    0x%08" PRIx32
           "\n  quicksort 0x%08" PRIx32 "\n  dhry      0x%08" PRIx32 "\n",
           sieve, crc, mat, qs, dh);
    uint32_t all = sieve ^ rotl32(crc, 7) ^ rotl32(mat, 13) ^ rotl32(qs, 19) ^ rotl32(dh, 25);
    if (!ok) {
        printf("quicksort left an unsorted array\n");
        failures++;
    }
    verdict("compute-mix", all, rounds == 2 ? 0xc02c7b84u : rounds == 100 ? 0x211e8c97u : 0);
}

int main(int argc, char **argv)
{
    uint32_t rounds = 2;
    const char *size = argc > 1 ? argv[1] : "small";
    if (strcmp(size, "small") == 0) {
        rounds = 2;
    } else if (strcmp(size, "bench") == 0) {
        rounds = 100;
    } else {
        char *end;
        unsigned long n = strtoul(size, &end, 10);
        if (*size == 0 || *end != 0 || n == 0 || n > 1000000) {
            fprintf(stderr, "usage: compute [small|bench|ROUNDS]\n");
            return 2;
        }
        rounds = (uint32_t)n;
    }
    printf("compute: %s\n", size);
    singles();
    fflush(stdout);
    mix(rounds);
    printf("compute: %s\n", failures ? "FAILED" : "all checksums ok");
    return failures ? 1 : 0;
}
