/* Roam guest SDK: the C half of process start-up (crt0.S calls it). */
#include <stdint.h>
#include <stdlib.h>
#include "roam.h"

extern char **environ; /* picolibc's, used by getenv */
extern void __libc_init_array(void);
extern int main(int argc, char **argv, char **envp);

int roam_argc;
char **roam_argv;
char **roam_envp;
const uint32_t *roam_auxv;

__attribute__((noreturn, used)) void __roam_start_c(uintptr_t *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    char **e = envp;
    while (*e)
        e++;
    roam_argc = argc;
    roam_argv = argv;
    roam_envp = envp;
    roam_auxv = (const uint32_t *)(e + 1);
    environ = envp;
    /* constructors: among them the stdio set-up (stdio.c) */
    __libc_init_array();
    /* exit runs atexit handlers and destructors (which flush stdout and
     * stderr), then _exit -> exit_group */
    exit(main(argc, argv, envp));
}

unsigned long getauxval(unsigned long type)
{
    for (const uint32_t *a = roam_auxv; a && a[0] != LINUX_AT_NULL; a += 2)
        if (a[0] == type)
            return a[1];
    roam_ret(-LINUX_ENOENT);
    return 0;
}
