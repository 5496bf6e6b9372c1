#include "kernels.h"

int k_verdict(const char *what, uint32_t got, uint32_t want)
{
    if (want == 0) {
        printf("%s: checksum 0x%08x (no reference)\n", what, got);
        return 1;
    }
    if (got == want) {
        printf("%s: checksum 0x%08x ok\n", what, got);
        return 1;
    }
    printf("%s: checksum 0x%08x MISMATCH, expected 0x%08x\n", what, got, want);
    return 0;
}
