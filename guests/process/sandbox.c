/* sandbox: checks that file system access cannot leave the guest's sandbox.
 * ROAM-ONLY: this tests a Roam feature. qemu-riscv32 gives the guest the
 * host's whole file system, so there every check fails (which the QEMU test
 * uses to show that the checks really reach outside).
 *
 *   sandbox DIR      DIR: a scratch directory, relative to the working
 *                    directory, inside the sandbox
 *
 * Every attempt must fail with -ENOENT, -EACCES or -EPERM (which one is up
 * to the host: -ENOENT when the sandbox root acts as "/", -EACCES or -EPERM
 * when escapes are refused). Nothing is written anywhere; the attempts only
 * open and stat:
 *   - absolute paths to host files (/etc/passwd, /proc/self/status)
 *   - ../ chains from the working directory, from inside DIR, and relative
 *     to a directory fd for DIR
 *   - through DIR/escape: the test harness creates it as a symbolic link to
 *     /etc (a guest cannot make symlinks itself); without it those two
 *     checks pass trivially (-ENOENT)
 * Output is TAP-like ("ok N - ..." / "not ok N - ... (got X, want Y)"), the
 * same whichever denial the host chose; the exit status is the number of
 * escapes that succeeded (126 = bad usage). */
#include <stdio.h>
#include <string.h>
#include <roam.h>

static int n_checks, n_failed;

static void denied(const char *desc, long r, int fd_result)
{
    n_checks++;
    if (r == -LINUX_ENOENT || r == -LINUX_EACCES || r == -LINUX_EPERM) {
        printf("ok %d - %s: denied\n", n_checks, desc);
    } else {
        n_failed++;
        if (roam_is_err(r))
            printf("not ok %d - %s (got -errno %ld, want -ENOENT, -EACCES or -EPERM)\n", n_checks, desc, -r);
        else
            printf("not ok %d - %s (got %s %ld, want -ENOENT, -EACCES or -EPERM)\n", n_checks, desc,
                   fd_result ? "fd" : "result", r);
        if (fd_result && r >= 0)
            sys_close((int)r);
    }
    fflush(stdout);
}

static void try_open(const char *desc, int dirfd, const char *path)
{
    denied(desc, sys_openat(dirfd, path, LINUX_O_RDONLY, 0), 1);
}

static void try_stat(const char *desc, int dirfd, const char *path)
{
    struct linux_statx st;
    denied(desc, sys_statx(dirfd, path, 0, LINUX_STATX_BASIC_STATS, &st), 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sandbox SCRATCH_DIR\n");
        return 126;
    }
    const char *dir = argv[1];
    char p[512];
    static const char up[] = "../../../../../../../../../../../../../../../..";

    printf("# sandbox: escapes from the sandbox must fail (Roam only)\n");
    try_open("openat /etc/passwd", LINUX_AT_FDCWD, "/etc/passwd");
    try_stat("statx /etc/passwd", LINUX_AT_FDCWD, "/etc/passwd");
    try_open("openat /proc/self/status", LINUX_AT_FDCWD, "/proc/self/status");
    snprintf(p, sizeof p, "%s/etc/passwd", up);
    try_open("openat ../../(x16)/etc/passwd from the working directory", LINUX_AT_FDCWD, p);
    try_stat("statx ../../(x16)/etc/passwd from the working directory", LINUX_AT_FDCWD, p);
    snprintf(p, sizeof p, "%s/%s/etc/passwd", dir, up);
    try_open("openat DIR/../../(x16)/etc/passwd", LINUX_AT_FDCWD, p);
    long dfd = sys_openat(LINUX_AT_FDCWD, dir, LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0);
    if (dfd >= 0) {
        snprintf(p, sizeof p, "%s/etc/passwd", up);
        try_open("openat ../../(x16)/etc/passwd relative to a directory fd for DIR", (int)dfd, p);
        try_stat("statx ../../(x16)/etc/passwd relative to a directory fd for DIR", (int)dfd, p);
        try_open("openat /etc/passwd (absolute) with a directory fd", (int)dfd, "/etc/passwd");
        /* without the symlink these fail with -ENOENT, which is fine too */
        try_open("openat DIR/escape/passwd (escape -> /etc)", (int)dfd, "escape/passwd");
        try_stat("statx DIR/escape/passwd (escape -> /etc)", (int)dfd, "escape/passwd");
        sys_close((int)dfd);
    } else {
        printf("# cannot open DIR (%ld): skipping the directory fd checks\n", dfd);
        n_failed++;
    }
    printf("1..%d\n# %d checks, %d escapes\n", n_checks, n_checks, n_failed);
    return n_failed > 125 ? 125 : n_failed;
}
