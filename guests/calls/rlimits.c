/* Resource limits are the process's own: a fork inherits them and an execve
 * keeps them (getrlimit(2): "A child process created via fork(2) inherits its
 * parent's resource limits. Resource limits are preserved across execve(2)").
 * RLIMIT_NOFILE bounds new descriptors (EMFILE, dup2's EBADF, F_DUPFD's
 * EINVAL), RLIMIT_AS bounds mappings (malloc returns NULL), RLIMIT_STACK
 * sizes the stack of a program execve starts. Runs itself again through
 * /proc/self/exe, so qemu-riscv32 cannot run it (it cannot exec a RISC-V
 * program); the output is what Linux gives. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The highest fd open() gives before it fails, and how it fails. */
static void fillDescriptors(const char *who) {
    int fds[64], n = 0, fd;
    while (n < 64 && (fd = open("/dev/null", O_RDONLY)) >= 0) fds[n++] = fd;
    printf("%s: opened up to fd %d, then %s\n", who, n ? fds[n - 1] : -1, fd < 0 ? strerror(errno) : "no error");
    while (n > 0) close(fds[--n]);
}

static void showLimit(const char *who, int resource, const char *name) {
    struct rlimit r;
    getrlimit(resource, &r);
    printf("%s: %s soft %lld\n", who, name, r.rlim_cur == RLIM_INFINITY ? -1LL : (long long)r.rlim_cur);
}

static void bigMalloc(const char *who) {
    void *big = malloc(48 << 20), *small = malloc(1 << 20);
    printf("%s: malloc 48 MiB %s, 1 MiB %s\n", who, big ? "ok" : "NULL", small ? "ok" : "NULL");
    free(big);
    free(small);
}

/* Uses about `kib` KiB of stack. */
static int deep(int kib) {
    volatile char frame[1024];
    frame[0] = (char)kib;
    return kib <= 1 ? frame[0] : deep(kib - 1) + frame[0];
}

/* In a child: recursion through 1 MiB of stack; says how the child ended. */
static void stackChild(const char *who) {
    pid_t pid = fork();
    if (pid == 0) { deep(1024); _exit(0); }
    int status;
    waitpid(pid, &status, 0);
    printf("%s: 1 MiB of stack %s\n", who, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : WIFEXITED(status) ? "fits" : "other");
}

static void waitFor(pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) printf("child failed: status %#x\n", status);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "execed") == 0) {
        showLimit("after execve", RLIMIT_NOFILE, "NOFILE");
        showLimit("after execve", RLIMIT_STACK, "STACK");
        fillDescriptors("after execve");
        bigMalloc("after execve");
        stackChild("after execve");
        return 0;
    }
    stackChild("default");
    struct rlimit nofile = { 10, 10 };
    printf("setrlimit NOFILE 10: %d\n", setrlimit(RLIMIT_NOFILE, &nofile));
    fillDescriptors("parent");
    printf("dup2 to fd 10: %s\n", dup2(0, 10) < 0 ? strerror(errno) : "ok");
    printf("F_DUPFD from 10: %s\n", fcntl(0, F_DUPFD, 10) < 0 ? strerror(errno) : "ok");
    bigMalloc("no RLIMIT_AS");
    struct rlimit as = { 32 << 20, 32 << 20 };
    printf("setrlimit AS 32 MiB: %d\n", setrlimit(RLIMIT_AS, &as));
    bigMalloc("parent");
    struct rlimit stack = { 256 << 10, RLIM_INFINITY };
    printf("setrlimit STACK 256 KiB: %d\n", setrlimit(RLIMIT_STACK, &stack));
    stackChild("parent"); /* Linux checks a stack's growth against the limit of the moment */
    fflush(stdout);

    pid_t pid = fork();
    if (pid == 0) {
        showLimit("forked", RLIMIT_NOFILE, "NOFILE");
        fillDescriptors("forked");
        bigMalloc("forked");
        fflush(stdout);
        _exit(0);
    }
    waitFor(pid);
    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "execed", (char *)0);
        printf("execl: %s\n", strerror(errno));
        _exit(1);
    }
    waitFor(pid);
    return 0;
}
