/* hello: the first process-mode guest. Greets, then shows what it was given:
 * argc, each argument, and the ROAM_NAME environment variable if set.
 * argv[0] is shown without its directory, so the output does not depend on
 * where the ELF is. Exit status 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *name = getenv("ROAM_NAME");
    printf("Hello from Roam! (process mode, RV32IMAC)\n");
    const char *prog = argc > 0 && argv[0] ? argv[0] : "";
    const char *slash = strrchr(prog, '/');
    printf("argc = %d\n", argc);
    printf("argv[0] = %s\n", slash ? slash + 1 : prog);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    if (name)
        printf("ROAM_NAME = %s: hello, %s!\n", name, name);
    else
        printf("ROAM_NAME is not set\n");
    return 0;
}
