/* sandbox: checks that file system access cannot leave the guest's sandbox.
 * ROAM-ONLY: this tests a Roam feature. qemu-riscv32 gives the guest the
 * host's whole file system, so there every check fails (which the QEMU test
 * uses to show that the checks really reach outside).
 *
 *   sandbox DIR          DIR: a scratch directory, relative to the working
 *                        directory, inside the sandbox
 *   sandbox --links DIR  DIR holds symbolic links the test harness made (see
 *                        links_main): creating, renaming, removing and
 *                        reading through them must stay inside the sandbox
 *
 * Every attempt must fail with -ENOENT, -EACCES or -EPERM (which one is up
 * to the host: -ENOENT when the sandbox root acts as "/", -EACCES or -EPERM
 * when escapes are refused). Nothing is written anywhere; the attempts only
 * open and stat:
 *   - absolute paths to host files (/etc/os-release, /sys/devices/system/cpu/online; /proc is the guest's own)
 *   - ../ chains from the working directory, from inside DIR, and relative
 *     to a directory fd for DIR
 *   - through DIR/escape: the test harness creates it as a symbolic link to
 *     /etc (a guest cannot make symlinks itself); without it those two
 *     checks pass trivially (-ENOENT)
 * Output is TAP-like ("ok N - ..." / "not ok N - ... (got X, want Y)"), the
 * same whichever denial the host chose; the exit status is the number of
 * escapes that succeeded (126 = bad usage).
 *
 * --links writes: it creates DIR/mine.txt (and removes it again), and the
 * attempts through the links would create files outside on a host without a
 * sandbox, which is why no QEMU test runs it. */
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

/* system calls the SDK has no wrapper for (asm-generic numbers) */
static long sandbox_chdir(const char *path) { return roam_syscall1(49, path); }
static long sandbox_linkat(const char *from, const char *to) { return roam_syscall5(37, LINUX_AT_FDCWD, from, LINUX_AT_FDCWD, to, 0); }
static long sandbox_truncate(const char *path) { return roam_syscall3(45, path, 0, 0); }
static long sandbox_chmod(const char *path, int mode) { return roam_syscall3(53, LINUX_AT_FDCWD, path, mode); }
/* utimensat_time64 with times NULL: both times become now */
static long sandbox_touch(const char *path) { return roam_syscall4(412, LINUX_AT_FDCWD, path, 0, 0); }

/* one check that wants exactly -want */
static void fails_with(const char *desc, long r, long want, int fd_result)
{
    n_checks++;
    if (r == -want) {
        printf("ok %d - %s: -errno %ld\n", n_checks, desc, want);
    } else {
        n_failed++;
        printf("not ok %d - %s (got %ld, want -errno %ld)\n", n_checks, desc, r, want);
        if (fd_result && r >= 0)
            sys_close((int)r);
    }
    fflush(stdout);
}

/* DIR/NAME into p */
static const char *in(char *p, size_t size, const char *dir, const char *name)
{
    snprintf(p, size, "%s/%s", dir, name);
    return p;
}

/* The harness made, in DIR:
 *   dangling-abs -> OUTSIDE/new-abs.txt    (absolute host path; missing)
 *   dangling-rel -> ../../outside/new-rel.txt (relative, up out of the root)
 *   out-abs -> OUTSIDE, out-rel -> ../../outside (directories, with secret.txt)
 *   loop -> loop
 *   in-link -> ../inside.txt                (inside the sandbox: must work)
 * where OUTSIDE is a directory next to the sandbox root. Its secret.txt must
 * keep its bytes, mode and times: the harness checks that afterwards. */
static int links_main(const char *dir)
{
    char p[512], q[512];
    const int create = LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_TRUNC;

    printf("# sandbox --links: nothing made, moved or read through links outside (Roam only)\n");
    denied("openat O_CREAT through dangling-abs (-> an absolute host path)", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "dangling-abs"), create, 0644), 1);
    denied("openat O_CREAT through dangling-rel (-> ../../outside/...)", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "dangling-rel"), create, 0644), 1);
    fails_with("openat O_CREAT|O_EXCL on dangling-rel: the link exists", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "dangling-rel"), create | LINUX_O_EXCL, 0644), LINUX_EEXIST, 1);
    denied("openat O_CREAT in out-abs/", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-abs/new.txt"), create, 0644), 1);
    denied("openat O_CREAT in out-rel/", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-rel/new.txt"), create, 0644), 1);
    denied("mkdirat in out-abs/", sys_mkdirat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-abs/newdir"), 0755), 0);
    denied("mkdirat in out-rel/", sys_mkdirat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-rel/newdir"), 0755), 0);
    fails_with("mkdirat on dangling-rel: the link exists", sys_mkdirat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "dangling-rel"), 0755), LINUX_EEXIST, 0);
    denied("openat out-rel/secret.txt", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-rel/secret.txt"), LINUX_O_RDONLY, 0), 1);
    struct linux_statx st;
    denied("statx out-abs/secret.txt", sys_statx(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-abs/secret.txt"), 0, LINUX_STATX_BASIC_STATS, &st), 0);
    denied("unlinkat out-rel/secret.txt", sys_unlinkat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-rel/secret.txt"), 0), 0);
    denied("renameat2 out-abs/secret.txt to DIR/stolen.txt",
           sys_renameat2(LINUX_AT_FDCWD, in(p, sizeof p, dir, "out-abs/secret.txt"), LINUX_AT_FDCWD, in(q, sizeof q, dir, "stolen.txt"), 0), 0);
    long fd = sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "mine.txt"), create, 0644);
    if (fd >= 0)
        sys_close((int)fd);
    denied("renameat2 DIR/mine.txt into out-rel/",
           sys_renameat2(LINUX_AT_FDCWD, in(p, sizeof p, dir, "mine.txt"), LINUX_AT_FDCWD, in(q, sizeof q, dir, "out-rel/moved.txt"), 0), 0);
    denied("linkat DIR/mine.txt into out-abs/", sandbox_linkat(in(p, sizeof p, dir, "mine.txt"), in(q, sizeof q, dir, "out-abs/linked.txt")), 0);
    sys_unlinkat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "mine.txt"), 0);
    denied("linkat out-rel/secret.txt to DIR/hard.txt", sandbox_linkat(in(p, sizeof p, dir, "out-rel/secret.txt"), in(q, sizeof q, dir, "hard.txt")), 0);
    denied("truncate64 out-rel/secret.txt", sandbox_truncate(in(p, sizeof p, dir, "out-rel/secret.txt")), 0);
    denied("fchmodat out-abs/secret.txt", sandbox_chmod(in(p, sizeof p, dir, "out-abs/secret.txt"), 0777), 0);
    denied("utimensat out-rel/secret.txt", sandbox_touch(in(p, sizeof p, dir, "out-rel/secret.txt")), 0);
    denied("chdir out-rel", sandbox_chdir(in(p, sizeof p, dir, "out-rel")), 0);
    fails_with("openat loop (-> loop)", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "loop"), LINUX_O_RDONLY, 0), LINUX_ELOOP, 1);
    fails_with("openat O_NOFOLLOW in-link", sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "in-link"), LINUX_O_RDONLY | LINUX_O_NOFOLLOW, 0), LINUX_ELOOP, 1);

    /* a link that stays inside works */
    n_checks++;
    fd = sys_openat(LINUX_AT_FDCWD, in(p, sizeof p, dir, "in-link"), LINUX_O_RDONLY, 0);
    char buf[64] = {0};
    long n = fd >= 0 ? sys_read((int)fd, buf, sizeof buf - 1) : fd;
    if (n > 0) {
        printf("ok %d - openat in-link (-> ../inside.txt) reads %ld bytes\n", n_checks, n);
    } else {
        n_failed++;
        printf("not ok %d - openat in-link (-> ../inside.txt) (got %ld, want bytes)\n", n_checks, n);
    }
    if (fd >= 0)
        sys_close((int)fd);
    printf("1..%d\n# %d checks, %d escapes\n", n_checks, n_checks, n_failed);
    return n_failed > 125 ? 125 : n_failed;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--links") == 0)
        return links_main(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: sandbox SCRATCH_DIR | sandbox --links DIR\n");
        return 126;
    }
    const char *dir = argv[1];
    char p[512];
    static const char up[] = "../../../../../../../../../../../../../../../..";

    printf("# sandbox: escapes from the sandbox must fail (Roam only)\n");
    try_open("openat /etc/os-release", LINUX_AT_FDCWD, "/etc/os-release");
    try_stat("statx /etc/os-release", LINUX_AT_FDCWD, "/etc/os-release");
    try_open("openat /sys/devices/system/cpu/online", LINUX_AT_FDCWD, "/sys/devices/system/cpu/online");
    snprintf(p, sizeof p, "%s/etc/os-release", up);
    try_open("openat ../../(x16)/etc/os-release from the working directory", LINUX_AT_FDCWD, p);
    try_stat("statx ../../(x16)/etc/os-release from the working directory", LINUX_AT_FDCWD, p);
    snprintf(p, sizeof p, "%s/%s/etc/os-release", dir, up);
    try_open("openat DIR/../../(x16)/etc/os-release", LINUX_AT_FDCWD, p);
    long dfd = sys_openat(LINUX_AT_FDCWD, dir, LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0);
    if (dfd >= 0) {
        snprintf(p, sizeof p, "%s/etc/os-release", up);
        try_open("openat ../../(x16)/etc/os-release relative to a directory fd for DIR", (int)dfd, p);
        try_stat("statx ../../(x16)/etc/os-release relative to a directory fd for DIR", (int)dfd, p);
        try_open("openat /etc/os-release (absolute) with a directory fd", (int)dfd, "/etc/os-release");
        /* without the symlink these fail with -ENOENT, which is fine too */
        try_open("openat DIR/escape/os-release (escape -> /etc)", (int)dfd, "escape/os-release");
        try_stat("statx DIR/escape/os-release (escape -> /etc)", (int)dfd, "escape/os-release");
        sys_close((int)dfd);
    } else {
        printf("# cannot open DIR (%ld): skipping the directory fd checks\n", dfd);
        n_failed++;
    }
    printf("1..%d\n# %d checks, %d escapes\n", n_checks, n_checks, n_failed);
    return n_failed > 125 ? 125 : n_failed;
}
