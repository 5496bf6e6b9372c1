/* Allocates and touches 256 KiB blocks until malloc returns NULL, then says
 * how far it got, frees them and allocates again: a program that runs out of
 * memory must be able to notice and carry on (roam run --ram 8M). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (256 * 1024)
static void *blocks[100000];

static int fill(void) {
    int n = 0;
    while (n < 100000) {
        void *p = malloc(BLOCK);
        if (!p) break;
        memset(p, n + 1, BLOCK);
        blocks[n++] = p;
    }
    return n;
}

int main(void) {
    int n = fill();
    printf("malloc returned NULL after %d KiB\n", n * (BLOCK / 1024));
    for (int i = 0; i < n; i++) free(blocks[i]);
    int again = fill();
    printf("after freeing: %d KiB again\n", again * (BLOCK / 1024));
    return 0;
}
