/* dhry: a Dhrystone-like integer mix, 20000 iterations. */
#include "kernels.h"

#ifndef EXPECT
#define EXPECT 0
#endif

int main(void)
{
    uint32_t c = k_dhry(20000);
    printf("dhry: 20000 iterations\n");
    return k_verdict("dhry", c, EXPECT) ? 0 : 1;
}
