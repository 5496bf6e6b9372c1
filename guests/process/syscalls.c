/* syscalls: a self-checking test of the Linux riscv32 system calls a Roam
 * process-mode guest uses, success and error paths, plus the SDK's POSIX
 * layer on top of them.
 *
 *   syscalls DIR      DIR: an existing, empty scratch directory, relative to
 *                     the working directory; everything is created in it
 *                     and removed again
 *
 * One line per check, TAP style:
 *   ok 7 - openat of a missing file: -ENOENT
 *   not ok 8 - ... (got X, want Y)
 * then the plan "1..N" and a summary comment. The exit status is the number
 * of failed checks (capped at 125; 126 = bad usage), and the last system
 * call is exit (93) rather than exit_group (94), so that both are used.
 *
 * The checks call the kernel directly (sys_* from <roam/linux.h>) so the
 * exact -errno is visible, except for the "libc:" checks at the end, which go
 * through picolibc and guests/sdk/posix.c. Nothing in the output depends on
 * timing, pids or the host: it is the same on qemu-riscv32 and on Roam when
 * both are right. The checks that need a particular Linux behaviour say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <roam.h>

extern char _end[];
extern void _start(void);

static int n_checks, n_failed;
static const char *dir;

static const char *errname(long e)
{
    switch (e) {
    case LINUX_EPERM: return "EPERM";
    case LINUX_ENOENT: return "ENOENT";
    case LINUX_EINTR: return "EINTR";
    case LINUX_EIO: return "EIO";
    case LINUX_EBADF: return "EBADF";
    case LINUX_EAGAIN: return "EAGAIN";
    case LINUX_ENOMEM: return "ENOMEM";
    case LINUX_EACCES: return "EACCES";
    case LINUX_EFAULT: return "EFAULT";
    case LINUX_EBUSY: return "EBUSY";
    case LINUX_EEXIST: return "EEXIST";
    case LINUX_EXDEV: return "EXDEV";
    case LINUX_ENOTDIR: return "ENOTDIR";
    case LINUX_EISDIR: return "EISDIR";
    case LINUX_EINVAL: return "EINVAL";
    case LINUX_EMFILE: return "EMFILE";
    case LINUX_ENOTTY: return "ENOTTY";
    case LINUX_ENOSPC: return "ENOSPC";
    case LINUX_ESPIPE: return "ESPIPE";
    case LINUX_EROFS: return "EROFS";
    case LINUX_EPIPE: return "EPIPE";
    case LINUX_ERANGE: return "ERANGE";
    case LINUX_ENAMETOOLONG: return "ENAMETOOLONG";
    case LINUX_ENOSYS: return "ENOSYS";
    case LINUX_ENOTEMPTY: return "ENOTEMPTY";
    case LINUX_ELOOP: return "ELOOP";
    case LINUX_EOVERFLOW: return "EOVERFLOW";
    default: return NULL;
    }
}

/* a raw result as text: "-ENOENT" for errors, else the number */
static const char *fmt(char *buf, size_t n, long v)
{
    const char *e = roam_is_err(v) ? errname(-v) : NULL;
    if (e)
        snprintf(buf, n, "-%s", e);
    else
        snprintf(buf, n, "%ld", v);
    return buf;
}

static void report(int ok, const char *desc, const char *got, const char *want)
{
    n_checks++;
    if (ok) {
        printf("ok %d - %s\n", n_checks, desc);
    } else {
        n_failed++;
        printf("not ok %d - %s (got %s, want %s)\n", n_checks, desc, got, want);
    }
    fflush(stdout);
}

/* got must equal want */
static void expect(const char *desc, long got, long want)
{
    char g[48], w[48];
    report(got == want, desc, fmt(g, sizeof g, got), fmt(w, sizeof w, want));
}

/* got must be a success (not -errno) */
static void expect_ok(const char *desc, long got)
{
    char g[48];
    report(!roam_is_err(got), desc, fmt(g, sizeof g, got), "success");
}

/* a condition; got/want describe it when it fails */
static void expect_that(const char *desc, int ok, long got, const char *want)
{
    char g[48];
    report(ok, desc, fmt(g, sizeof g, got), want);
}

static const char *path(const char *name)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static struct linux_timespec64 mono(void)
{
    struct linux_timespec64 t = { 0, 0 };
    sys_clock_gettime64(LINUX_CLOCK_MONOTONIC, &t);
    return t;
}

static int64_t ns_between(struct linux_timespec64 a, struct linux_timespec64 b)
{
    return (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

static uint8_t pattern[4096];
static uint8_t buf[8192];

/* ---- what the kernel left on the initial stack -------------------------- */
static void startup(int argc, char **argv)
{
    expect_that("start: argc is 2 and argv[2] is NULL", argc == 2 && argv[2] == NULL, argc, "2, NULL");
    expect_that("start: the initial sp (&argc) is 16-byte aligned", ((uintptr_t)(roam_argv - 1) & 15) == 0,
                (long)((uintptr_t)(roam_argv - 1) & 15), "0");
    expect_that("start: AT_PAGESZ is 4096", getauxval(LINUX_AT_PAGESZ) == 4096, (long)getauxval(LINUX_AT_PAGESZ),
                "4096");
    expect_that("start: AT_ENTRY is _start", getauxval(LINUX_AT_ENTRY) == (unsigned long)_start,
                (long)getauxval(LINUX_AT_ENTRY), "_start");
    /* the first PT_LOAD holds the ELF header and the program headers */
    const uint32_t *ph = (const uint32_t *)getauxval(LINUX_AT_PHDR);
    unsigned long phnum = getauxval(LINUX_AT_PHNUM), phent = getauxval(LINUX_AT_PHENT);
    int load_at_0x10000 = 0;
    if (ph && phent == 32)
        for (unsigned long i = 0; i < phnum; i++)
            load_at_0x10000 |= ph[i * 8] == 1 /* PT_LOAD */ && ph[i * 8 + 2] == 0x10000;
    expect_that("start: AT_PHDR/AT_PHENT/AT_PHNUM show the program headers", load_at_0x10000, (long)phnum,
                "a PT_LOAD at 0x10000");
    const uint8_t *rnd = (const uint8_t *)getauxval(LINUX_AT_RANDOM);
    int any = 0;
    for (int i = 0; rnd && i < 16; i++)
        any |= rnd[i];
    expect_that("start: AT_RANDOM points at 16 bytes, not all zero", rnd && any, (long)(uintptr_t)rnd, "random");
    uint32_t tp;
    __asm__("mv %0, tp" : "=r"(tp));
    extern char __tls_base[];
    expect_that("start: tp is the TLS block, and errno lives there", tp == (uint32_t)(uintptr_t)__tls_base &&
                (uintptr_t)&errno >= tp && (uintptr_t)&errno < tp + 64, (long)tp, "__tls_base");
}

/* ---- file descriptors and plain files ---------------------------------- */
static void files(void)
{
    long r;
    int64_t off;

    expect("write of 0 bytes to stdout: 0", sys_write(1, "", 0), 0);
    expect("write to a closed fd (1000): -EBADF", sys_write(1000, "x", 1), -LINUX_EBADF);
    expect("write to fd -1: -EBADF", sys_write(-1, "x", 1), -LINUX_EBADF);
    expect("read from a closed fd (1000): -EBADF", sys_read(1000, buf, 1), -LINUX_EBADF);
    expect("close of a closed fd (1000): -EBADF", sys_close(1000), -LINUX_EBADF);
    expect("openat of a missing file: -ENOENT", sys_openat(LINUX_AT_FDCWD, path("missing"), LINUX_O_RDONLY, 0),
           -LINUX_ENOENT);
    expect("openat O_CREAT in a missing directory: -ENOENT",
           sys_openat(LINUX_AT_FDCWD, path("no/such/file"), LINUX_O_CREAT | LINUX_O_WRONLY, 0644), -LINUX_ENOENT);
    expect("openat with a bad path pointer: -EFAULT", sys_openat(LINUX_AT_FDCWD, (const char *)1, LINUX_O_RDONLY, 0),
           -LINUX_EFAULT);

    for (unsigned i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i * 7 + (i >> 8));

    long fd = sys_openat(LINUX_AT_FDCWD, path("data.bin"), LINUX_O_CREAT | LINUX_O_RDWR | LINUX_O_TRUNC, 0644);
    expect_ok("openat O_CREAT|O_RDWR|O_TRUNC: a new fd", fd);
    expect_that("the new fd is the lowest free one (3)", fd == 3, fd, "3");
    expect("write 4096 bytes: 4096", sys_write((int)fd, pattern, 4096), 4096);
    expect("write from a bad pointer: -EFAULT", sys_write((int)fd, (const void *)1, 10), -LINUX_EFAULT);
    off = -1;
    r = sys_llseek((int)fd, 0, &off, LINUX_SEEK_CUR);
    expect("llseek SEEK_CUR 0: 0", r, 0);
    expect("... the offset is 4096", (long)off, 4096);

    struct linux_iovec wv[3] = { { pattern, 10 }, { pattern + 10, 0 }, { pattern + 10, 20 } };
    expect("writev of 10 + 0 + 20 bytes: 30", sys_writev((int)fd, wv, 3), 30);
    struct linux_iovec badv[1] = { { (void *)1, 8 } };
    expect("writev from a bad buffer: -EFAULT", sys_writev((int)fd, badv, 1), -LINUX_EFAULT);
    expect("writev with a bad iovec pointer: -EFAULT", sys_writev((int)fd, (const struct linux_iovec *)1, 1),
           -LINUX_EFAULT);
    r = sys_llseek((int)fd, 0, &off, LINUX_SEEK_END);
    expect("llseek SEEK_END 0: the size, 4126", r == 0 ? (long)off : r, 4126);
    r = sys_llseek((int)fd, 100, &off, LINUX_SEEK_SET);
    expect("llseek SEEK_SET 100: 100", r == 0 ? (long)off : r, 100);
    memset(buf, 0, 16);
    r = sys_read((int)fd, buf, 16);
    expect("read 16 bytes at 100: 16", r, 16);
    expect("... they are the bytes written", memcmp(buf, pattern + 100, 16), 0);
    r = sys_llseek((int)fd, -16, &off, LINUX_SEEK_CUR);
    expect("llseek SEEK_CUR -16: back to 100", r == 0 ? (long)off : r, 100);
    uint8_t a[8], b[8];
    struct linux_iovec rv[2] = { { a, 8 }, { b, 8 } };
    expect("readv of 8 + 8 bytes: 16", sys_readv((int)fd, rv, 2), 16);
    expect("... they are the bytes written", memcmp(a, pattern + 100, 8) | memcmp(b, pattern + 108, 8), 0);
    expect("read into a bad pointer: -EFAULT", sys_read((int)fd, (void *)1, 10), -LINUX_EFAULT);
    expect("llseek with whence 7: -EINVAL", sys_llseek((int)fd, 0, &off, 7), -LINUX_EINVAL);
    expect("llseek to offset -1: -EINVAL", sys_llseek((int)fd, -1, &off, LINUX_SEEK_SET), -LINUX_EINVAL);
    r = sys_llseek((int)fd, 0x100000010LL, &off, LINUX_SEEK_SET);
    expect("llseek to 4 GiB + 16 (both offset halves): 0", r, 0);
    expect_that("... the offset is 4 GiB + 16", off == 0x100000010LL, (long)(off >> 32), "0x100000010");
    expect("llseek on a closed fd: -EBADF", sys_llseek(1000, 0, &off, LINUX_SEEK_SET), -LINUX_EBADF);

    /* a hole: seek past the end and write */
    r = sys_llseek((int)fd, 8192, &off, LINUX_SEEK_SET);
    expect("llseek past the end, to 8192: 0", r, 0);
    expect("write 4 bytes at 8192: 4", sys_write((int)fd, "tail", 4), 4);
    sys_llseek((int)fd, 4126, &off, LINUX_SEEK_SET);
    memset(buf, 0xff, 8192);
    r = sys_read((int)fd, buf, 8192);
    expect("read from 4126 to the end: 4070 bytes", r, 4070);
    int zeros = 1;
    for (int i = 0; i < 4066; i++)
        zeros &= buf[i] == 0;
    expect_that("... the hole reads as zeros, then the tail", zeros && memcmp(buf + 4066, "tail", 4) == 0, r,
                "zeros + \"tail\"");
    expect("read at the end of the file: 0", sys_read((int)fd, buf, 16), 0);

    struct linux_statx st;
    memset(&st, 0, sizeof st);
    r = sys_statx(LINUX_AT_FDCWD, path("data.bin"), 0, LINUX_STATX_BASIC_STATS, &st);
    expect("statx of the file: 0", r, 0);
    expect("... stx_size is 8196", (long)st.stx_size, 8196);
    expect_that("... it is a regular file, mode 0644", (st.stx_mode & LINUX_S_IFMT) == LINUX_S_IFREG,
                st.stx_mode, "S_IFREG");
    expect_that("... stx_mask has TYPE, MODE and SIZE",
                (st.stx_mask & (LINUX_STATX_TYPE | LINUX_STATX_MODE | LINUX_STATX_SIZE)) ==
                    (LINUX_STATX_TYPE | LINUX_STATX_MODE | LINUX_STATX_SIZE),
                (long)st.stx_mask, "TYPE|MODE|SIZE");
    memset(&st, 0, sizeof st);
    r = sys_statx((int)fd, "", LINUX_AT_EMPTY_PATH, LINUX_STATX_BASIC_STATS, &st);
    expect("statx of the fd (AT_EMPTY_PATH): 0", r, 0);
    expect("... stx_size is 8196", (long)st.stx_size, 8196);
    expect("statx of a missing file: -ENOENT",
           sys_statx(LINUX_AT_FDCWD, path("missing"), 0, LINUX_STATX_BASIC_STATS, &st), -LINUX_ENOENT);
    expect("statx into a bad pointer: -EFAULT",
           sys_statx(LINUX_AT_FDCWD, path("data.bin"), 0, LINUX_STATX_BASIC_STATS, (struct linux_statx *)1),
           -LINUX_EFAULT);
    expect("statx of a bad path pointer: -EFAULT",
           sys_statx(LINUX_AT_FDCWD, (const char *)1, 0, LINUX_STATX_BASIC_STATS, &st), -LINUX_EFAULT);
    memset(&st, 0, sizeof st);
    r = sys_statx(LINUX_AT_FDCWD, dir, 0, LINUX_STATX_BASIC_STATS, &st);
    expect_that("statx of the scratch directory: S_IFDIR", r == 0 && (st.stx_mode & LINUX_S_IFMT) == LINUX_S_IFDIR,
                r ? r : (long)st.stx_mode, "0 and S_IFDIR");

    expect("ioctl TCGETS on a regular file: -ENOTTY", sys_ioctl((int)fd, LINUX_TCGETS, buf), -LINUX_ENOTTY);
    expect("ioctl TCGETS on a closed fd: -EBADF", sys_ioctl(1000, LINUX_TCGETS, buf), -LINUX_EBADF);
    expect("close: 0", sys_close((int)fd), 0);
    expect("close again: -EBADF", sys_close((int)fd), -LINUX_EBADF);

    /* access modes */
    fd = sys_openat(LINUX_AT_FDCWD, path("data.bin"), LINUX_O_RDONLY, 0);
    expect_ok("openat O_RDONLY", fd);
    expect("write to an O_RDONLY fd: -EBADF", sys_write((int)fd, "x", 1), -LINUX_EBADF);
    sys_close((int)fd);
    fd = sys_openat(LINUX_AT_FDCWD, path("data.bin"), LINUX_O_WRONLY | LINUX_O_APPEND, 0);
    expect_ok("openat O_WRONLY|O_APPEND", fd);
    expect("read from an O_WRONLY fd: -EBADF", sys_read((int)fd, buf, 1), -LINUX_EBADF);
    sys_llseek((int)fd, 0, &off, LINUX_SEEK_SET);
    expect("write with O_APPEND after seeking to 0: 3", sys_write((int)fd, "end", 3), 3);
    sys_close((int)fd);
    sys_statx(LINUX_AT_FDCWD, path("data.bin"), 0, LINUX_STATX_BASIC_STATS, &st);
    expect("... it went to the end: size 8199", (long)st.stx_size, 8199);
    expect("openat O_CREAT|O_EXCL of an existing file: -EEXIST",
           sys_openat(LINUX_AT_FDCWD, path("data.bin"), LINUX_O_CREAT | LINUX_O_EXCL | LINUX_O_WRONLY, 0644),
           -LINUX_EEXIST);
    expect("openat O_DIRECTORY of a regular file: -ENOTDIR",
           sys_openat(LINUX_AT_FDCWD, path("data.bin"), LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0), -LINUX_ENOTDIR);
    fd = sys_openat(LINUX_AT_FDCWD, path("data.bin"), LINUX_O_RDWR | LINUX_O_TRUNC, 0);
    expect_ok("openat O_TRUNC", fd);
    sys_statx((int)fd, "", LINUX_AT_EMPTY_PATH, LINUX_STATX_BASIC_STATS, &st);
    expect("... size 0", (long)st.stx_size, 0);
    expect("getdents64 on a regular file: -ENOTDIR", sys_getdents64((int)fd, buf, sizeof buf), -LINUX_ENOTDIR);
    sys_close((int)fd);
    expect("unlinkat of the file: 0", sys_unlinkat(LINUX_AT_FDCWD, path("data.bin"), 0), 0);
    expect("unlinkat again: -ENOENT", sys_unlinkat(LINUX_AT_FDCWD, path("data.bin"), 0), -LINUX_ENOENT);
}

/* ---- directories ---------------------------------------------------------- */
static int listed(const char *want[], int nwant, uint8_t *types, long dfd)
{
    /* returns the number of entries, or -errno; marks which names were seen */
    int seen = 0;
    for (;;) {
        long n = sys_getdents64((int)dfd, buf, sizeof buf);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return seen;
        for (long pos = 0; pos < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
            for (int i = 0; i < nwant; i++)
                if (strcmp(d->d_name, want[i]) == 0)
                    types[i] = d->d_type ? d->d_type : 0xff;
            seen++;
            pos += d->d_reclen;
        }
    }
}

static void directories(void)
{
    long r;
    expect("mkdirat: 0", sys_mkdirat(LINUX_AT_FDCWD, path("sub"), 0755), 0);
    expect("mkdirat of an existing directory: -EEXIST", sys_mkdirat(LINUX_AT_FDCWD, path("sub"), 0755),
           -LINUX_EEXIST);
    expect("mkdirat in a missing directory: -ENOENT", sys_mkdirat(LINUX_AT_FDCWD, path("no/sub"), 0755),
           -LINUX_ENOENT);
    expect("mkdirat with a bad path pointer: -EFAULT", sys_mkdirat(LINUX_AT_FDCWD, (const char *)1, 0755),
           -LINUX_EFAULT);

    long dfd = sys_openat(LINUX_AT_FDCWD, path("sub"), LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0);
    expect_ok("openat O_DIRECTORY of the new directory", dfd);
    int made = 0;
    static const char *names[] = { "alpha", "beta", "gamma" };
    for (int i = 0; i < 3; i++) {
        /* relative to the directory fd */
        long fd = sys_openat((int)dfd, names[i], LINUX_O_CREAT | LINUX_O_WRONLY, 0644);
        if (fd >= 0) {
            made += sys_write((int)fd, names[i], strlen(names[i])) == (long)strlen(names[i]);
            sys_close((int)fd);
        }
    }
    expect("openat relative to a directory fd: 3 files made", made, 3);
    expect("read from a directory fd: -EISDIR", sys_read((int)dfd, buf, 16), -LINUX_EISDIR);

    const char *want[] = { ".", "..", "alpha", "beta", "gamma" };
    uint8_t types[5] = { 0, 0, 0, 0, 0 };
    int n = listed(want, 5, types, dfd);
    expect("getdents64 lists 5 entries", n, 5);
    expect_that("... \".\", \"..\", alpha, beta and gamma",
                types[0] && types[1] && types[2] && types[3] && types[4], n, "all five names");
    expect_that("... alpha is DT_REG, \".\" is DT_DIR", types[2] == LINUX_DT_REG && types[0] == LINUX_DT_DIR,
                types[2], "DT_REG, DT_DIR");
    expect("getdents64 at the end: 0", sys_getdents64((int)dfd, buf, sizeof buf), 0);
    int64_t off = -1;
    expect("llseek of a directory fd back to 0: 0", sys_llseek((int)dfd, 0, &off, LINUX_SEEK_SET), 0);
    expect("getdents64 into a 4-byte buffer: -EINVAL", sys_getdents64((int)dfd, buf, 4), -LINUX_EINVAL);
    expect("getdents64 into a bad pointer: -EFAULT", sys_getdents64((int)dfd, (void *)1, 4096), -LINUX_EFAULT);
    expect("getdents64 on a closed fd: -EBADF", sys_getdents64(1000, buf, sizeof buf), -LINUX_EBADF);

    expect("unlinkat of a directory without AT_REMOVEDIR: -EISDIR", sys_unlinkat(LINUX_AT_FDCWD, path("sub"), 0),
           -LINUX_EISDIR);
    expect("unlinkat AT_REMOVEDIR of a non-empty directory: -ENOTEMPTY",
           sys_unlinkat(LINUX_AT_FDCWD, path("sub"), LINUX_AT_REMOVEDIR), -LINUX_ENOTEMPTY);
    expect("unlinkat AT_REMOVEDIR of a regular file: -ENOTDIR",
           sys_unlinkat((int)dfd, "alpha", LINUX_AT_REMOVEDIR), -LINUX_ENOTDIR);

    expect("renameat2 alpha -> delta (AT_FDCWD paths): 0",
           sys_renameat2(LINUX_AT_FDCWD, path("sub/alpha"), LINUX_AT_FDCWD, path("sub/delta"), 0), 0);
    struct linux_statx st;
    expect("... alpha is gone: -ENOENT", sys_statx((int)dfd, "alpha", 0, LINUX_STATX_BASIC_STATS, &st),
           -LINUX_ENOENT);
    r = sys_statx((int)dfd, "delta", 0, LINUX_STATX_BASIC_STATS, &st);
    expect_that("... delta has alpha's 5 bytes", r == 0 && st.stx_size == 5, r ? r : (long)st.stx_size, "5");
    expect("renameat2 of a missing file: -ENOENT",
           sys_renameat2((int)dfd, "alpha", (int)dfd, "epsilon", 0), -LINUX_ENOENT);
    expect("renameat2 RENAME_NOREPLACE onto an existing file: -EEXIST",
           sys_renameat2((int)dfd, "beta", (int)dfd, "gamma", LINUX_RENAME_NOREPLACE), -LINUX_EEXIST);
    expect("renameat2 beta -> gamma (dir fd, replacing): 0", sys_renameat2((int)dfd, "beta", (int)dfd, "gamma", 0),
           0);
    r = sys_statx((int)dfd, "gamma", 0, LINUX_STATX_BASIC_STATS, &st);
    expect_that("... gamma now has beta's 4 bytes", r == 0 && st.stx_size == 4, r ? r : (long)st.stx_size, "4");
    expect("renameat2 into a missing directory: -ENOENT",
           sys_renameat2((int)dfd, "gamma", LINUX_AT_FDCWD, path("no/gamma"), 0), -LINUX_ENOENT);

    expect("unlinkat delta (dir fd): 0", sys_unlinkat((int)dfd, "delta", 0), 0);
    expect("unlinkat gamma (dir fd): 0", sys_unlinkat((int)dfd, "gamma", 0), 0);
    expect("unlinkat with a bad path pointer: -EFAULT", sys_unlinkat(LINUX_AT_FDCWD, (const char *)1, 0),
           -LINUX_EFAULT);
    expect("close the directory fd: 0", sys_close((int)dfd), 0);
    expect("unlinkat AT_REMOVEDIR of the empty directory: 0",
           sys_unlinkat(LINUX_AT_FDCWD, path("sub"), LINUX_AT_REMOVEDIR), 0);
    expect("... statx says it is gone: -ENOENT",
           sys_statx(LINUX_AT_FDCWD, path("sub"), 0, LINUX_STATX_BASIC_STATS, &st), -LINUX_ENOENT);
}

/* ---- memory --------------------------------------------------------------- */
static void memory(void)
{
    long start = sys_brk(0);
    expect_that("brk(0): the break, at or above _end", (uintptr_t)start >= (uintptr_t)_end, start, ">= _end");
    long want = start + 65536 + 123;
    long got = sys_brk((void *)want);
    expect_that("brk grows by 64 KiB + 123: the new break exactly", got == want, got - start, "65659");
    if (got == want) {
        memset((void *)start, 0xa5, 65536 + 123);
        int same = 1;
        for (long i = 0; i < 65536 + 123; i += 97)
            same &= ((uint8_t *)start)[i] == 0xa5;
        expect_that("... the new memory can be written and read back", same, 0, "0xa5 everywhere");
    }
    got = sys_brk((void *)start);
    expect_that("brk shrinks back: the old break", got == start, got - start, "0");
    got = sys_brk((void *)(start + 3 * 4096));
    long page = (start + 4095) & ~4095L;
    int zero = 1;
    for (long p = page; p < start + 3 * 4096; p++)
        zero &= *(uint8_t *)p == 0;
    expect_that("brk grows again: pages released by the shrink come back zeroed", got == start + 3 * 4096 && zero,
                got - start, "12288, zeros");
    sys_brk((void *)start);
    got = sys_brk((void *)0xf0000000);
    expect_that("brk to 0xf0000000 fails: the break is unchanged", got == start, got, "the old break");
    got = sys_brk((void *)0x1000);
    expect_that("brk below the program fails: the break is unchanged", got == start, got, "the old break");

    long m = sys_mmap(NULL, 3 * 4096, LINUX_PROT_READ | LINUX_PROT_WRITE,
                      LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1, 0);
    expect_that("mmap 3 anonymous pages: a page-aligned address", !roam_is_err(m) && (m & 4095) == 0, m,
                "page-aligned");
    if (!roam_is_err(m)) {
        uint8_t *p = (uint8_t *)m;
        int z = 1;
        for (int i = 0; i < 3 * 4096; i++)
            z &= p[i] == 0;
        expect_that("... zero-filled", z, 0, "zeros");
        memset(p, 0x5a, 3 * 4096);
        expect_that("... writable", p[0] == 0x5a && p[3 * 4096 - 1] == 0x5a, p[0], "0x5a");
        expect("mprotect of the first page to PROT_READ: 0", sys_mprotect(p, 4096, LINUX_PROT_READ), 0);
        expect_that("... it still reads", p[100] == 0x5a, p[100], "0x5a");
        expect("mprotect of an unaligned address: -EINVAL", sys_mprotect(p + 1, 4096, LINUX_PROT_READ),
               -LINUX_EINVAL);
        expect("munmap of the middle page: 0", sys_munmap(p + 4096, 4096), 0);
        long f = sys_mmap(p + 4096, 4096, LINUX_PROT_READ | LINUX_PROT_WRITE,
                          LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED, -1, 0);
        expect_that("mmap MAP_FIXED into the hole: exactly there", f == (long)(p + 4096), f - m, "4096");
        expect_that("... a fresh zero page", p[4096] == 0 && p[8191] == 0, p[4096], "0");
        expect("munmap of an unaligned address: -EINVAL", sys_munmap(p + 1, 4096), -LINUX_EINVAL);
        expect("munmap of all 3 pages: 0", sys_munmap(p, 3 * 4096), 0);
    }
    expect("mmap of 0 bytes: -EINVAL",
           sys_mmap(NULL, 0, LINUX_PROT_READ, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1, 0), -LINUX_EINVAL);
    expect("mmap without MAP_PRIVATE or MAP_SHARED: -EINVAL",
           sys_mmap(NULL, 4096, LINUX_PROT_READ, LINUX_MAP_ANONYMOUS, -1, 0), -LINUX_EINVAL);
    expect("mmap of a closed fd: -EBADF", sys_mmap(NULL, 4096, LINUX_PROT_READ, LINUX_MAP_PRIVATE, 1000, 0),
           -LINUX_EBADF);
    m = sys_mmap(NULL, 16 << 20, LINUX_PROT_READ | LINUX_PROT_WRITE, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1,
                 0);
    expect_ok("mmap of 16 MiB", m);
    if (!roam_is_err(m)) {
        uint8_t *p = (uint8_t *)m;
        p[0] = 1;
        p[(16 << 20) - 1] = 2;
        expect_that("... its first and last bytes are usable", p[0] == 1 && p[(16 << 20) - 1] == 2, p[0], "1, 2");
        expect("munmap of the 16 MiB: 0", sys_munmap(p, 16 << 20), 0);
    }
}

/* ---- time ----------------------------------------------------------------- */
static void timing(void)
{
    struct linux_timespec64 t1 = { -1, -1 }, t2 = { -1, -1 }, rt = { 0, 0 };
    expect("clock_gettime64 CLOCK_MONOTONIC: 0", sys_clock_gettime64(LINUX_CLOCK_MONOTONIC, &t1), 0);
    sys_clock_gettime64(LINUX_CLOCK_MONOTONIC, &t2);
    expect_that("... it does not go backwards", ns_between(t1, t2) >= 0, (long)ns_between(t1, t2), ">= 0");
    expect_that("... tv_nsec is below 1e9", t1.tv_nsec >= 0 && t1.tv_nsec < 1000000000, (long)t1.tv_nsec,
                "0..999999999");
    expect("clock_gettime64 CLOCK_REALTIME: 0", sys_clock_gettime64(LINUX_CLOCK_REALTIME, &rt), 0);
    expect_that("... after 2020", rt.tv_sec > 1577836800, (long)rt.tv_sec, "> 1577836800");
    expect("clock_gettime64 of clock 100: -EINVAL", sys_clock_gettime64(100, &t1), -LINUX_EINVAL);
    expect("clock_gettime64 into a bad pointer: -EFAULT",
           sys_clock_gettime64(LINUX_CLOCK_MONOTONIC, (struct linux_timespec64 *)1), -LINUX_EFAULT);

    struct linux_timespec64 req = { 0, 20000000 }, rem = { 0, 0 };
    t1 = mono();
    expect("clock_nanosleep_time64 20 ms: 0", sys_clock_nanosleep64(LINUX_CLOCK_MONOTONIC, 0, &req, &rem), 0);
    t2 = mono();
    expect_that("... at least 20 ms passed", ns_between(t1, t2) >= 20000000, (long)(ns_between(t1, t2) / 1000),
                ">= 20000 us");
    struct linux_timespec64 until = mono();
    until.tv_nsec += 10000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    expect("clock_nanosleep_time64 TIMER_ABSTIME now + 10 ms: 0",
           sys_clock_nanosleep64(LINUX_CLOCK_MONOTONIC, LINUX_TIMER_ABSTIME, &until, NULL), 0);
    t2 = mono();
    expect_that("... woke at or after the deadline", ns_between(until, t2) >= 0, (long)ns_between(until, t2),
                ">= 0");
    expect("clock_nanosleep_time64 TIMER_ABSTIME in the past: 0 at once",
           sys_clock_nanosleep64(LINUX_CLOCK_MONOTONIC, LINUX_TIMER_ABSTIME, &t1, NULL), 0);
    struct linux_timespec64 bad = { 0, 1000000000 };
    expect("clock_nanosleep_time64 with tv_nsec = 1e9: -EINVAL",
           sys_clock_nanosleep64(LINUX_CLOCK_MONOTONIC, 0, &bad, NULL), -LINUX_EINVAL);
    expect("clock_nanosleep_time64 with a bad pointer: -EFAULT",
           sys_clock_nanosleep64(LINUX_CLOCK_MONOTONIC, 0, (struct linux_timespec64 *)1, NULL), -LINUX_EFAULT);
    /* riscv32 Linux has only the 64-bit-time calls, so 169 gives -ENOSYS there (and on
       qemu-riscv32); Roam also serves it, for programs built against the older ABI. Either
       way it must not crash, and when it answers, the time must be sane. */
    struct linux_timeval tv;
    long r169 = sys_gettimeofday(&tv, NULL);
    expect_that("gettimeofday (169, time32): -ENOSYS, or 0 with a time after 2020",
                r169 == -LINUX_ENOSYS || (r169 == 0 && tv.tv_sec > 1577836800L && tv.tv_usec >= 0 && tv.tv_usec < 1000000),
                r169, "-ENOSYS or 0");
}

/* ---- process and system --------------------------------------------------- */
static void process(void)
{
    long pid = sys_getpid(), tid = sys_gettid(), ppid = sys_getppid();
    expect_that("getpid: positive", pid > 0, pid, "> 0");
    expect_that("gettid: the pid (one thread)", tid == pid, tid - pid, "0");
    expect_that("getppid: not negative", ppid >= 0, ppid, ">= 0");
    static int tid_word;
    long r = sys_set_tid_address(&tid_word);
    expect_that("set_tid_address: returns the tid", r == tid, r - tid, "0");

    struct linux_utsname u;
    memset(&u, 0, sizeof u);
    expect("uname: 0", sys_uname(&u), 0);
    expect_that("... sysname is \"Linux\"", strcmp(u.sysname, "Linux") == 0, 0, "Linux");
    expect_that("... machine is \"riscv32\"", strcmp(u.machine, "riscv32") == 0, 0, "riscv32");
    expect_that("... release is not empty", u.release[0] != 0, 0, "non-empty");
    expect("uname into a bad pointer: -EFAULT", sys_uname((struct linux_utsname *)1), -LINUX_EFAULT);

    uint8_t r1[64], r2[64];
    memset(r1, 0, sizeof r1);
    memset(r2, 0, sizeof r2);
    expect("getrandom 64 bytes: 64", sys_getrandom(r1, 64, 0), 64);
    sys_getrandom(r2, 64, 0);
    int nonzero = 0;
    for (int i = 0; i < 64; i++)
        nonzero |= r1[i];
    expect_that("... not all zero, and a second call differs", nonzero && memcmp(r1, r2, 64) != 0, 0,
                "random bytes");
    expect("getrandom GRND_NONBLOCK 16 bytes: 16", sys_getrandom(r1, 16, LINUX_GRND_NONBLOCK), 16);
    expect("getrandom with unknown flags: -EINVAL", sys_getrandom(r1, 16, 0x100), -LINUX_EINVAL);
    expect("getrandom into a bad pointer: -EFAULT", sys_getrandom((void *)1, 16, 0), -LINUX_EFAULT);

    expect("system call 999: -ENOSYS", roam_syscall0(999), -LINUX_ENOSYS);
    expect("system call 500: -ENOSYS", roam_syscall0(500), -LINUX_ENOSYS);
}

/* ---- the same services through picolibc and the SDK ----------------------- */
static void libc(void)
{
    const char *f = path("stdio.txt");
    FILE *fp = fopen(f, "w");
    expect_that("libc: fopen for writing", fp != NULL, errno, "a FILE");
    if (fp) {
        for (int i = 1; i <= 100; i++)
            fprintf(fp, "line %d of %d\n", i, 100);
        expect("libc: fclose: 0", fclose(fp), 0);
    }
    struct stat st;
    int r = stat(f, &st);
    expect_that("libc: stat: a 1492-byte regular file", r == 0 && S_ISREG(st.st_mode) && st.st_size == 1492,
                r ? r : (long)st.st_size, "1492");
    fp = fopen(f, "r");
    expect_that("libc: fopen for reading", fp != NULL, errno, "a FILE");
    if (fp) {
        char line[64];
        int lines = 0, right = 1;
        while (fgets(line, sizeof line, fp)) {
            char want[64];
            lines++;
            snprintf(want, sizeof want, "line %d of %d\n", lines, 100);
            right &= strcmp(line, want) == 0;
        }
        expect_that("libc: fgets reads the 100 lines back", lines == 100 && right, lines, "100 matching lines");
        expect("libc: fseek to 8: 0", fseek(fp, 8, SEEK_SET), 0);
        expect("libc: ftell: 8", ftell(fp), 8);
        expect("libc: fgetc at 8: 'f'", fgetc(fp), 'f');
        int fd = fileno(fp);
        expect("libc: isatty of a file: 0", isatty(fd), 0);
        expect("libc: ... errno ENOTTY", errno, ENOTTY);
        r = fstat(fd, &st);
        expect_that("libc: fstat: 1492 bytes", r == 0 && st.st_size == 1492, r ? r : (long)st.st_size, "1492");
        fclose(fp);
    }
    errno = 0;
    expect("libc: open of a missing file: -1", open(path("missing"), O_RDONLY), -1);
    expect("libc: ... errno ENOENT", errno, ENOENT);
    int fd = open(f, O_RDONLY);
    expect_that("libc: open", fd >= 0, fd, ">= 0");
    expect("libc: lseek SEEK_END: 1492", lseek(fd, 0, SEEK_END), 1492);
    expect("libc: close: 0", close(fd), 0);
    errno = 0;
    expect("libc: open O_CREAT|O_EXCL of an existing file: -1", open(f, O_CREAT | O_EXCL | O_WRONLY, 0644), -1);
    expect("libc: ... errno EEXIST", errno, EEXIST);
    expect("libc: mkdir: 0", mkdir(path("libdir"), 0755), 0);
    expect("libc: rename: 0", rename(f, path("libdir/moved.txt")), 0);
    errno = 0;
    expect("libc: rmdir of a non-empty directory: -1", rmdir(path("libdir")), -1);
    expect("libc: ... errno ENOTEMPTY (Linux 39 mapped)", errno, ENOTEMPTY);
    expect("libc: unlink: 0", unlink(path("libdir/moved.txt")), 0);
    expect("libc: rmdir: 0", rmdir(path("libdir")), 0);

    char *big = malloc(1 << 20);
    expect_that("libc: malloc of 1 MiB (sbrk -> brk)", big != NULL, 0, "non-NULL");
    if (big) {
        memset(big, 1, 1 << 20);
        free(big);
    }
    int small_ok = 1;
    void *ptrs[100];
    for (int i = 0; i < 100; i++) {
        ptrs[i] = malloc((size_t)(16 + i * 8));
        small_ok &= ptrs[i] != NULL;
    }
    for (int i = 0; i < 100; i++)
        free(ptrs[i]);
    expect_that("libc: 100 small mallocs", small_ok, 0, "all non-NULL");
    expect_that("libc: time() is after 2020", time(NULL) > 1577836800, 0, "> 1577836800");
    uint8_t e[32];
    expect("libc: getentropy 32 bytes: 0", getentropy(e, sizeof e), 0);
    struct timespec a, b, nap = { 0, 1000000 };
    expect("libc: clock_gettime CLOCK_MONOTONIC: 0", clock_gettime(CLOCK_MONOTONIC, &a), 0);
    expect("libc: nanosleep 1 ms: 0", nanosleep(&nap, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t d = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
    expect_that("libc: ... at least 1 ms passed", d >= 1000000, (long)(d / 1000), ">= 1000 us");
    expect("libc: getpid is the raw getpid", getpid(), sys_getpid());
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: syscalls SCRATCH_DIR\n");
        return 126;
    }
    dir = argv[1];
    printf("# syscalls: Linux riscv32 system calls, in %s\n", "the scratch directory");
    startup(argc, argv);
    files();
    directories();
    memory();
    timing();
    process();
    libc();
    printf("1..%d\n# %d checks, %d failed\n", n_checks, n_checks, n_failed);
    fflush(stdout);
    fflush(stderr);
    sys_exit(n_failed > 125 ? 125 : n_failed); /* exit (93), not exit_group */
}
