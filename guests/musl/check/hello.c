/* The smallest program: stdout through musl's stdio, the exit code. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("hello from musl, argc=%d argv[1]=%s\n", argc, argc > 1 ? argv[1] : "(none)");
    return 0;
}
