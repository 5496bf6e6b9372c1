/* malloc, realloc and free (brk and mmap under musl's mallocng), and qsort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(void) {
    enum { N = 100000 };
    int *v = malloc(N * sizeof *v);
    if (!v) return 1;
    unsigned s = 12345;
    for (int i = 0; i < N; i++) v[i] = (int)((s = s * 1103515245u + 12345u) >> 8);
    qsort(v, N, sizeof *v, cmp);
    for (int i = 1; i < N; i++)
        if (v[i - 1] > v[i]) { printf("not sorted at %d\n", i); return 1; }
    char *big = malloc(4 << 20); /* large enough for mmap */
    if (!big) return 2;
    memset(big, 'x', 4 << 20);
    big = realloc(big, 8 << 20);
    if (!big || big[(4 << 20) - 1] != 'x') return 3;
    free(big);
    free(v);
    printf("sorted %d ints, realloc kept 4 MiB\n", N);
    return 0;
}
