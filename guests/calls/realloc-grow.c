/* musl's realloc of large blocks goes through mremap: grow one block to
 * 24 MiB, checking its contents at each step; then mremap itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
    size_t size = 256 * 1024;
    unsigned char *p = malloc(size);
    for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(i * 31);
    while (size < 24u << 20) {
        size_t grown = size * 3 / 2;
        p = realloc(p, grown);
        if (!p) { printf("realloc to %zu failed\n", grown); return 1; }
        for (size_t i = 0; i < size; i++) if (p[i] != (unsigned char)(i * 31)) { printf("byte %zu lost at %zu\n", i, grown); return 1; }
        for (size_t i = size; i < grown; i++) p[i] = (unsigned char)(i * 31);
        size = grown;
    }
    printf("grew to %zu bytes intact\n", size);
    free(p);

    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(m, "kept");
    strcpy(m + 4096, "second");
    char *moved = mremap(m, 8192, 1 << 20, MREMAP_MAYMOVE);
    printf("mremap maymove: %s %s %s\n", moved == MAP_FAILED ? "failed" : "ok", moved, moved + 4096);
    moved[(1 << 20) - 1] = 1;
    char *shrunk = mremap(moved, 1 << 20, 4096, 0);
    printf("shrink in place: %d\n", shrunk == moved);
    errno = 0;
    printf("bad flags: %s\n", mremap(shrunk, 4096, 8192, 99) == MAP_FAILED ? strerror(errno) : "ok");
    return 0;
}
