#include "kernels.h"

static int32_t A[MAT_MAX * MAT_MAX], B[MAT_MAX * MAT_MAX], C[MAT_MAX * MAT_MAX];

uint32_t k_matmul(uint32_t n, uint32_t seed)
{
    if (n > MAT_MAX)
        n = MAT_MAX;
    uint32_t s = seed * 0x9e3779b9u + 7;
    for (uint32_t i = 0; i < n * n; i++) {
        A[i] = (int32_t)(xorshift32(&s) % 2001) - 1000;
        B[i] = (int32_t)(xorshift32(&s) % 2001) - 1000;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            int32_t acc = 0;
            for (uint32_t k = 0; k < n; k++)
                acc += A[i * n + k] * B[k * n + j];
            C[i * n + j] = acc;
        }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n * n; i++)
        sum = sum * 31u + (uint32_t)C[i];
    return sum;
}
