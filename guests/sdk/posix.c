/* Roam guest SDK: the POSIX functions picolibc expects from its "OS"
 * (read, write, open, ... _exit, sbrk), on Linux riscv32 system calls.
 *
 * picolibc's own numbering differs from Linux's in places - errno values
 * above 34, O_ flags other than O_CREAT/O_TRUNC/O_APPEND, AT_FDCWD, clock
 * ids, TIMER_ABSTIME, SIG_* - so every value crossing the boundary is
 * translated here. Results follow POSIX: -1 with errno set on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include "roam.h"

/* ---- errno ----------------------------------------------------------- */
int roam_errno_from_linux(int e)
{
    if (e >= 1 && e <= 34) /* the classic Unix values agree */
        return e;
    switch (e) {
    case LINUX_EDEADLK: return EDEADLK;
    case LINUX_ENAMETOOLONG: return ENAMETOOLONG;
    case LINUX_ENOLCK: return ENOLCK;
    case LINUX_ENOSYS: return ENOSYS;
    case LINUX_ENOTEMPTY: return ENOTEMPTY;
    case LINUX_ELOOP: return ELOOP;
    case LINUX_ENODATA: return ENODATA;
    case LINUX_EOVERFLOW: return EOVERFLOW;
    case LINUX_EILSEQ: return EILSEQ;
    case LINUX_EOPNOTSUPP: return EOPNOTSUPP;
    case LINUX_ETIMEDOUT: return ETIMEDOUT;
    default: return EIO;
    }
}

long roam_ret(long r)
{
    if (roam_is_err(r)) {
        errno = roam_errno_from_linux((int)-r);
        return -1;
    }
    return r;
}

/* ---- flags --------------------------------------------------------------- */
static int linux_open_flags(int f)
{
    int l = f & O_ACCMODE; /* 0, 1, 2 in both */
    if (f & O_CREAT) l |= LINUX_O_CREAT;
    if (f & O_EXCL) l |= LINUX_O_EXCL;
    if (f & O_NOCTTY) l |= LINUX_O_NOCTTY;
    if (f & O_TRUNC) l |= LINUX_O_TRUNC;
    if (f & O_APPEND) l |= LINUX_O_APPEND;
    if (f & O_NONBLOCK) l |= LINUX_O_NONBLOCK;
    if (f & O_SYNC) l |= LINUX_O_SYNC;
    if (f & O_DIRECTORY) l |= LINUX_O_DIRECTORY;
    if (f & O_NOFOLLOW) l |= LINUX_O_NOFOLLOW;
    if (f & O_CLOEXEC) l |= LINUX_O_CLOEXEC;
    return l | LINUX_O_LARGEFILE;
}

static int linux_dirfd(int fd)
{
    return fd == AT_FDCWD ? LINUX_AT_FDCWD : fd;
}

static int linux_clock(clockid_t c)
{
    switch (c) {
    case CLOCK_REALTIME: return LINUX_CLOCK_REALTIME;
    case CLOCK_MONOTONIC: return LINUX_CLOCK_MONOTONIC;
    case CLOCK_PROCESS_CPUTIME_ID: return LINUX_CLOCK_PROCESS_CPUTIME_ID;
    case CLOCK_THREAD_CPUTIME_ID: return LINUX_CLOCK_THREAD_CPUTIME_ID;
    case CLOCK_MONOTONIC_RAW: return LINUX_CLOCK_MONOTONIC_RAW;
    case CLOCK_REALTIME_COARSE: return LINUX_CLOCK_REALTIME_COARSE;
    case CLOCK_MONOTONIC_COARSE: return LINUX_CLOCK_MONOTONIC_COARSE;
    case CLOCK_BOOTTIME: return LINUX_CLOCK_BOOTTIME;
    default: return -1;
    }
}

/* ---- files ----------------------------------------------------------------- */
ssize_t read(int fd, void *buf, size_t n)
{
    return roam_ret(sys_read(fd, buf, n));
}

ssize_t write(int fd, const void *buf, size_t n)
{
    return roam_ret(sys_write(fd, buf, n));
}

int openat(int dirfd, const char *path, int flags, ...)
{
    int mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    return (int)roam_ret(sys_openat(linux_dirfd(dirfd), path, linux_open_flags(flags), mode));
}

int open(const char *path, int flags, ...)
{
    int mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    return (int)roam_ret(sys_openat(LINUX_AT_FDCWD, path, linux_open_flags(flags), mode));
}

int close(int fd)
{
    return (int)roam_ret(sys_close(fd));
}

int64_t lseek64(int fd, int64_t offset, int whence)
{
    int64_t result;
    long r = sys_llseek(fd, offset, &result, whence);
    if (roam_is_err(r))
        return roam_ret(r);
    return result;
}

off_t lseek(int fd, off_t offset, int whence)
{
    int64_t result;
    long r = sys_llseek(fd, offset, &result, whence);
    if (roam_is_err(r))
        return (off_t)roam_ret(r);
    if (result > INT32_MAX)
        return (off_t)roam_ret(-LINUX_EOVERFLOW);
    return (off_t)result;
}

static void stat_from_statx(struct stat *st, const struct linux_statx *x)
{
    memset(st, 0, sizeof *st);
    st->st_dev = (dev_t)((x->stx_dev_major << 8) | (x->stx_dev_minor & 0xff));
    st->st_ino = (ino_t)x->stx_ino;
    st->st_mode = x->stx_mode;
    st->st_nlink = (nlink_t)x->stx_nlink;
    st->st_uid = (uid_t)x->stx_uid;
    st->st_gid = (gid_t)x->stx_gid;
    st->st_rdev = (dev_t)((x->stx_rdev_major << 8) | (x->stx_rdev_minor & 0xff));
    st->st_size = (off_t)x->stx_size;
    st->st_blksize = (blksize_t)x->stx_blksize;
    st->st_blocks = (blkcnt_t)x->stx_blocks;
    st->st_atim.tv_sec = x->stx_atime.tv_sec;
    st->st_atim.tv_nsec = x->stx_atime.tv_nsec;
    st->st_mtim.tv_sec = x->stx_mtime.tv_sec;
    st->st_mtim.tv_nsec = x->stx_mtime.tv_nsec;
    st->st_ctim.tv_sec = x->stx_ctime.tv_sec;
    st->st_ctim.tv_nsec = x->stx_ctime.tv_nsec;
}

static int do_statx(int dirfd, const char *path, int flags, struct stat *st)
{
    struct linux_statx x;
    long r = sys_statx(dirfd, path, flags, LINUX_STATX_BASIC_STATS, &x);
    if (roam_is_err(r))
        return (int)roam_ret(r);
    if (x.stx_size > INT32_MAX && (x.stx_mode & LINUX_S_IFMT) == LINUX_S_IFREG)
        return (int)roam_ret(-LINUX_EOVERFLOW);
    stat_from_statx(st, &x);
    return 0;
}

int fstat(int fd, struct stat *st)
{
    return do_statx(fd, "", LINUX_AT_EMPTY_PATH, st);
}

int stat(const char *path, struct stat *st)
{
    return do_statx(LINUX_AT_FDCWD, path, 0, st);
}

int lstat(const char *path, struct stat *st)
{
    return do_statx(LINUX_AT_FDCWD, path, LINUX_AT_SYMLINK_NOFOLLOW, st);
}

int isatty(int fd)
{
    uint32_t termios[16]; /* struct termios is 36 bytes on riscv */
    long r = sys_ioctl(fd, LINUX_TCGETS, termios);
    if (roam_is_err(r)) {
        roam_ret(r);
        return 0;
    }
    return 1;
}

int unlink(const char *path)
{
    return (int)roam_ret(sys_unlinkat(LINUX_AT_FDCWD, path, 0));
}

int rmdir(const char *path)
{
    return (int)roam_ret(sys_unlinkat(LINUX_AT_FDCWD, path, LINUX_AT_REMOVEDIR));
}

int mkdir(const char *path, mode_t mode)
{
    return (int)roam_ret(sys_mkdirat(LINUX_AT_FDCWD, path, (int)mode));
}

int rename(const char *from, const char *to)
{
    return (int)roam_ret(sys_renameat2(LINUX_AT_FDCWD, from, LINUX_AT_FDCWD, to, 0));
}

/* ---- memory ------------------------------------------------------------- */
static uintptr_t cur_brk;

void *sbrk(ptrdiff_t incr)
{
    if (!cur_brk)
        cur_brk = (uintptr_t)sys_brk(0);
    uintptr_t old = cur_brk;
    if (incr == 0)
        return (void *)old;
    uintptr_t want = old + (uintptr_t)incr;
    if ((incr > 0 && want < old) || (incr < 0 && want > old)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    /* brk returns the new break on success, the old one on failure */
    uintptr_t got = (uintptr_t)sys_brk((void *)want);
    if (got != want) {
        errno = ENOMEM;
        return (void *)-1;
    }
    cur_brk = got;
    return (void *)old;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
    if (offset & 4095) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    long r = sys_mmap(addr, len, prot, flags, fd, (uint32_t)offset >> 12);
    if (roam_is_err(r)) {
        roam_ret(r);
        return MAP_FAILED;
    }
    return (void *)r;
}

int munmap(void *addr, size_t len)
{
    return (int)roam_ret(sys_munmap(addr, len));
}

int mprotect(void *addr, size_t len, int prot)
{
    return (int)roam_ret(sys_mprotect(addr, len, prot));
}

/* ---- process -------------------------------------------------------------- */
void _exit(int status)
{
    sys_exit_group(status);
}

pid_t getpid(void)
{
    return (pid_t)sys_getpid();
}

pid_t getppid(void)
{
    return (pid_t)sys_getppid();
}

int kill(pid_t pid, int sig)
{
    return (int)roam_ret(roam_syscall2(SYS_kill, pid, sig)); /* signal numbers agree */
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    int lhow;
    switch (how) {
    case SIG_BLOCK: lhow = LINUX_SIG_BLOCK; break;
    case SIG_UNBLOCK: lhow = LINUX_SIG_UNBLOCK; break;
    case SIG_SETMASK: lhow = LINUX_SIG_SETMASK; break;
    default: errno = EINVAL; return -1;
    }
    uint64_t kset = set ? (uint64_t)*set : 0, kold = 0;
    long r = roam_syscall4(SYS_rt_sigprocmask, lhow, set ? &kset : NULL, old ? &kold : NULL, 8);
    if (roam_is_err(r))
        return (int)roam_ret(r);
    if (old)
        *old = (sigset_t)kold;
    return 0;
}

clock_t times(struct tms *t)
{
    return (clock_t)roam_ret(roam_syscall1(SYS_times, t));
}

/* ---- time --------------------------------------------------------------- */
int clock_gettime(clockid_t clk, struct timespec *ts)
{
    int lc = linux_clock(clk);
    if (lc < 0) {
        errno = EINVAL;
        return -1;
    }
    struct linux_timespec64 k;
    long r = sys_clock_gettime64(lc, &k);
    if (roam_is_err(r))
        return (int)roam_ret(r);
    ts->tv_sec = (time_t)k.tv_sec;
    ts->tv_nsec = (long)k.tv_nsec;
    return 0;
}

/* riscv32 Linux has no gettimeofday system call: use CLOCK_REALTIME */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct linux_timespec64 k;
    long r = sys_clock_gettime64(LINUX_CLOCK_REALTIME, &k);
    if (roam_is_err(r))
        return (int)roam_ret(r);
    if (tv) {
        tv->tv_sec = (time_t)k.tv_sec;
        tv->tv_usec = (suseconds_t)(k.tv_nsec / 1000);
    }
    return 0;
}

/* returns 0 or a (picolibc) errno value, as POSIX says */
int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
    int lc = linux_clock(clk);
    if (lc < 0)
        return EINVAL;
    struct linux_timespec64 kreq = { req->tv_sec, req->tv_nsec }, krem = { 0, 0 };
    long r = sys_clock_nanosleep64(lc, (flags & TIMER_ABSTIME) ? LINUX_TIMER_ABSTIME : 0, &kreq,
                                   rem ? &krem : NULL);
    if (roam_is_err(r)) {
        if (r == -LINUX_EINTR && rem) {
            rem->tv_sec = (time_t)krem.tv_sec;
            rem->tv_nsec = (long)krem.tv_nsec;
        }
        return roam_errno_from_linux((int)-r);
    }
    return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    int e = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

int usleep(useconds_t us)
{
    struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
    return nanosleep(&ts, NULL);
}

unsigned sleep(unsigned seconds)
{
    struct timespec ts = { (time_t)seconds, 0 }, rem = { 0, 0 };
    if (nanosleep(&ts, &rem) < 0)
        return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
    return 0;
}

/* ---- randomness ----------------------------------------------------------- */
int getentropy(void *buf, size_t n)
{
    if (n > 256) {
        errno = EIO;
        return -1;
    }
    uint8_t *p = buf;
    while (n) {
        long r = sys_getrandom(p, n, 0);
        if (r == -LINUX_EINTR)
            continue;
        if (roam_is_err(r))
            return (int)roam_ret(r);
        p += r;
        n -= (size_t)r;
    }
    return 0;
}
