#include "kernels.h"

static int32_t arr[QSORT_MAX];

static void insertion(int32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, int n)
{
    while (n > 16) {
        /* median of three */
        int m = n / 2;
        if (a[m] < a[0]) { int32_t t = a[m]; a[m] = a[0]; a[0] = t; }
        if (a[n - 1] < a[0]) { int32_t t = a[n - 1]; a[n - 1] = a[0]; a[0] = t; }
        if (a[n - 1] < a[m]) { int32_t t = a[n - 1]; a[n - 1] = a[m]; a[m] = t; }
        int32_t pivot = a[m];
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            int32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* recurse on the smaller part, loop on the larger */
        int left = j + 1;
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion(a, n);
}

uint32_t k_qsort(uint32_t n, uint32_t seed, int *sorted)
{
    if (n > QSORT_MAX)
        n = QSORT_MAX;
    uint32_t s = seed * 0x85ebca6bu + 11;
    for (uint32_t i = 0; i < n; i++)
        arr[i] = (int32_t)xorshift32(&s);
    quicksort(arr, (int)n);
    int ok = 1;
    uint32_t h = 0x811c9dc5u;
    for (uint32_t i = 0; i < n; i++) {
        if (i && arr[i - 1] > arr[i])
            ok = 0;
        h = (h ^ (uint32_t)arr[i]) * 16777619u;
    }
    *sorted = ok;
    return h;
}
