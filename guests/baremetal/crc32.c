/* crc32: CRC-32 (IEEE) over four generated 64 KiB buffers, plus the
 * standard check value of "123456789". */
#include "kernels.h"

#ifndef EXPECT
#define EXPECT 0
#endif

int main(void)
{
    int ok = 1;
    uint32_t all = 0;
    for (uint32_t seed = 1; seed <= 4; seed++) {
        uint32_t c = k_crc32(CRC_MAX, seed);
        printf("crc32: seed %u, %u bytes: 0x%08x\n", seed, CRC_MAX, c);
        all = rotl32(all, 1) ^ c;
    }
    ok &= k_verdict("crc32", all, EXPECT);
    return ok ? 0 : 1;
}
