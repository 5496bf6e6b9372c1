/* matmul: 48x48 and 64x64 integer matrix products. */
#include "kernels.h"

#ifndef EXPECT
#define EXPECT 0
#endif

int main(void)
{
    uint32_t a = k_matmul(48, 1);
    uint32_t b = k_matmul(64, 2);
    printf("matmul: 48x48 0x%08x, 64x64 0x%08x\n", a, b);
    return k_verdict("matmul", a ^ rotl32(b, 16), EXPECT) ? 0 : 1;
}
