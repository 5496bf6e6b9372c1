/* Roam guest SDK: the Linux RISC-V 32-bit system call ABI, raw.
 *
 * A process-mode guest is a static RV32 ELF that talks to its "kernel" (the
 * Roam host, or qemu-riscv32) with `ecall`: a7 = system call number, a0..a5 =
 * arguments, result in a0. A result in [-4095, -1] is -errno; anything else
 * is success. The numbers are the generic table (asm-generic/unistd.h) as
 * riscv32 builds it: only the 64-bit-time and 64-bit-offset variants exist
 * (no fstat, no lseek, no nanosleep, no gettimeofday on real rv32 Linux).
 *
 * The sys_* functions below return exactly what the kernel returned, so the
 * errno of a failing call is visible (-LINUX_EBADF etc.). The POSIX layer
 * (open, read, stat, ...: guests/sdk/posix.c) is built on them and sets
 * picolibc's errno instead. Linux's errno numbers and flag bits are NOT
 * picolibc's: use the LINUX_* names with sys_*, and the <errno.h>/<fcntl.h>
 * names with the POSIX functions.
 */
#ifndef ROAM_LINUX_H
#define ROAM_LINUX_H

#include <stddef.h>
#include <stdint.h>

/* ---- system call numbers (riscv32) ------------------------------------- */
#define SYS_ioctl 29
#define SYS_mkdirat 34
#define SYS_unlinkat 35
#define SYS_openat 56
#define SYS_close 57
#define SYS_getdents64 61
#define SYS_llseek 62 /* __NR3264_lseek: _llseek on 32-bit */
#define SYS_read 63
#define SYS_write 64
#define SYS_readv 65
#define SYS_writev 66
#define SYS_exit 93
#define SYS_exit_group 94
#define SYS_set_tid_address 96
#define SYS_kill 129
#define SYS_rt_sigprocmask 135
#define SYS_times 153
#define SYS_uname 160
#define SYS_gettimeofday 169 /* time32: absent on riscv32 Linux (-ENOSYS) */
#define SYS_getpid 172
#define SYS_getppid 173
#define SYS_gettid 178
#define SYS_brk 214
#define SYS_munmap 215
#define SYS_mmap 222 /* __NR3264_mmap: mmap2 on 32-bit (offset in 4 KiB pages) */
#define SYS_mprotect 226
#define SYS_renameat2 276
#define SYS_getrandom 278
#define SYS_statx 291
#define SYS_clock_gettime64 403
#define SYS_clock_nanosleep_time64 407

/* ---- errno values (Linux, asm-generic/errno*.h) ------------------------ */
#define LINUX_EPERM 1
#define LINUX_ENOENT 2
#define LINUX_ESRCH 3
#define LINUX_EINTR 4
#define LINUX_EIO 5
#define LINUX_ENXIO 6
#define LINUX_E2BIG 7
#define LINUX_ENOEXEC 8
#define LINUX_EBADF 9
#define LINUX_ECHILD 10
#define LINUX_EAGAIN 11
#define LINUX_ENOMEM 12
#define LINUX_EACCES 13
#define LINUX_EFAULT 14
#define LINUX_EBUSY 16
#define LINUX_EEXIST 17
#define LINUX_EXDEV 18
#define LINUX_ENODEV 19
#define LINUX_ENOTDIR 20
#define LINUX_EISDIR 21
#define LINUX_EINVAL 22
#define LINUX_ENFILE 23
#define LINUX_EMFILE 24
#define LINUX_ENOTTY 25
#define LINUX_EFBIG 27
#define LINUX_ENOSPC 28
#define LINUX_ESPIPE 29
#define LINUX_EROFS 30
#define LINUX_EMLINK 31
#define LINUX_EPIPE 32
#define LINUX_EDOM 33
#define LINUX_ERANGE 34
#define LINUX_EDEADLK 35
#define LINUX_ENAMETOOLONG 36
#define LINUX_ENOLCK 37
#define LINUX_ENOSYS 38
#define LINUX_ENOTEMPTY 39
#define LINUX_ELOOP 40
#define LINUX_ENODATA 61
#define LINUX_EOVERFLOW 75
#define LINUX_EILSEQ 84
#define LINUX_EOPNOTSUPP 95
#define LINUX_ETIMEDOUT 110

/* ---- flags ------------------------------------------------------------- */
#define LINUX_AT_FDCWD (-100)
#define LINUX_AT_SYMLINK_NOFOLLOW 0x100
#define LINUX_AT_REMOVEDIR 0x200
#define LINUX_AT_EMPTY_PATH 0x1000

#define LINUX_O_RDONLY 0
#define LINUX_O_WRONLY 1
#define LINUX_O_RDWR 2
#define LINUX_O_CREAT 0100
#define LINUX_O_EXCL 0200
#define LINUX_O_NOCTTY 0400
#define LINUX_O_TRUNC 01000
#define LINUX_O_APPEND 02000
#define LINUX_O_NONBLOCK 04000
#define LINUX_O_DSYNC 010000
#define LINUX_O_DIRECTORY 0200000
#define LINUX_O_NOFOLLOW 0400000
#define LINUX_O_CLOEXEC 02000000
#define LINUX_O_SYNC 04010000
#define LINUX_O_LARGEFILE 0100000 /* the 32-bit kernel sets it for us */

#define LINUX_SEEK_SET 0
#define LINUX_SEEK_CUR 1
#define LINUX_SEEK_END 2

#define LINUX_RENAME_NOREPLACE 1

#define LINUX_PROT_NONE 0
#define LINUX_PROT_READ 1
#define LINUX_PROT_WRITE 2
#define LINUX_PROT_EXEC 4
#define LINUX_MAP_SHARED 0x01
#define LINUX_MAP_PRIVATE 0x02
#define LINUX_MAP_FIXED 0x10
#define LINUX_MAP_ANONYMOUS 0x20

#define LINUX_CLOCK_REALTIME 0
#define LINUX_CLOCK_MONOTONIC 1
#define LINUX_CLOCK_PROCESS_CPUTIME_ID 2
#define LINUX_CLOCK_THREAD_CPUTIME_ID 3
#define LINUX_CLOCK_MONOTONIC_RAW 4
#define LINUX_CLOCK_REALTIME_COARSE 5
#define LINUX_CLOCK_MONOTONIC_COARSE 6
#define LINUX_CLOCK_BOOTTIME 7
#define LINUX_TIMER_ABSTIME 1

#define LINUX_TCGETS 0x5401

#define LINUX_SIG_BLOCK 0
#define LINUX_SIG_UNBLOCK 1
#define LINUX_SIG_SETMASK 2

#define LINUX_GRND_NONBLOCK 1
#define LINUX_GRND_RANDOM 2

#define LINUX_STATX_TYPE 0x001
#define LINUX_STATX_MODE 0x002
#define LINUX_STATX_NLINK 0x004
#define LINUX_STATX_UID 0x008
#define LINUX_STATX_GID 0x010
#define LINUX_STATX_ATIME 0x020
#define LINUX_STATX_MTIME 0x040
#define LINUX_STATX_CTIME 0x080
#define LINUX_STATX_INO 0x100
#define LINUX_STATX_SIZE 0x200
#define LINUX_STATX_BLOCKS 0x400
#define LINUX_STATX_BASIC_STATS 0x7ff

#define LINUX_S_IFMT 0170000
#define LINUX_S_IFDIR 0040000
#define LINUX_S_IFREG 0100000
#define LINUX_S_IFCHR 0020000
#define LINUX_S_IFIFO 0010000
#define LINUX_S_IFLNK 0120000

#define LINUX_DT_DIR 4
#define LINUX_DT_REG 8

/* auxv types (elf.h) */
#define LINUX_AT_NULL 0
#define LINUX_AT_PHDR 3
#define LINUX_AT_PHENT 4
#define LINUX_AT_PHNUM 5
#define LINUX_AT_PAGESZ 6
#define LINUX_AT_BASE 7
#define LINUX_AT_FLAGS 8
#define LINUX_AT_ENTRY 9
#define LINUX_AT_UID 11
#define LINUX_AT_EUID 12
#define LINUX_AT_GID 13
#define LINUX_AT_EGID 14
#define LINUX_AT_HWCAP 16
#define LINUX_AT_CLKTCK 17
#define LINUX_AT_SECURE 23
#define LINUX_AT_RANDOM 25
#define LINUX_AT_EXECFN 31

/* ---- structures (the kernel's layout on riscv32) ----------------------- */
struct linux_timespec64 { /* __kernel_timespec */
    int64_t tv_sec;
    int64_t tv_nsec;
};

struct linux_timeval { /* __kernel_old_timeval: only for SYS_gettimeofday */
    int32_t tv_sec;
    int32_t tv_usec;
};

struct linux_iovec {
    void *iov_base;
    uint32_t iov_len;
};

struct linux_statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t __reserved;
};

struct linux_statx { /* 256 bytes */
    uint32_t stx_mask;
    uint32_t stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink;
    uint32_t stx_uid;
    uint32_t stx_gid;
    uint16_t stx_mode;
    uint16_t __spare0;
    uint64_t stx_ino;
    uint64_t stx_size;
    uint64_t stx_blocks;
    uint64_t stx_attributes_mask;
    struct linux_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor;
    uint32_t stx_dev_major, stx_dev_minor;
    uint64_t __spare2[14];
};

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[]; /* NUL-terminated */
};

struct linux_utsname {
    char sysname[65];
    char nodename[65];
    char release[65];
    char version[65];
    char machine[65];
    char domainname[65];
};

/* ---- the ecall ----------------------------------------------------------- */
static inline long roam_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long a7 __asm__("a7") = n;
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a5 __asm__("a5") = f;
    __asm__ volatile("ecall"
                     : "+r"(a0)
                     : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
                     : "memory");
    return a0;
}
#define roam_syscall0(n) roam_syscall6((n), 0, 0, 0, 0, 0, 0)
#define roam_syscall1(n, a) roam_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define roam_syscall2(n, a, b) roam_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define roam_syscall3(n, a, b, c) roam_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define roam_syscall4(n, a, b, c, d) roam_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define roam_syscall5(n, a, b, c, d, e) \
    roam_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* true when a raw result is an error (-4095..-1) */
static inline int roam_is_err(long r)
{
    return (unsigned long)r >= (unsigned long)-4095;
}

/* ---- raw wrappers: return the kernel's result (-errno on failure) ------- */
static inline long sys_read(int fd, void *buf, size_t n) { return roam_syscall3(SYS_read, fd, buf, n); }
static inline long sys_write(int fd, const void *buf, size_t n) { return roam_syscall3(SYS_write, fd, buf, n); }
static inline long sys_readv(int fd, const struct linux_iovec *iov, int cnt)
{
    return roam_syscall3(SYS_readv, fd, iov, cnt);
}
static inline long sys_writev(int fd, const struct linux_iovec *iov, int cnt)
{
    return roam_syscall3(SYS_writev, fd, iov, cnt);
}
static inline long sys_openat(int dirfd, const char *path, int flags, int mode)
{
    return roam_syscall4(SYS_openat, dirfd, path, flags, mode);
}
static inline long sys_close(int fd) { return roam_syscall1(SYS_close, fd); }
/* _llseek: the 64-bit offset goes in as two halves, the new offset comes
 * back through *result; the return value is 0 or -errno. */
static inline long sys_llseek(int fd, int64_t off, int64_t *result, int whence)
{
    return roam_syscall5(SYS_llseek, fd, (uint32_t)((uint64_t)off >> 32), (uint32_t)off, result, whence);
}
static inline long sys_statx(int dirfd, const char *path, int flags, unsigned mask, struct linux_statx *st)
{
    return roam_syscall5(SYS_statx, dirfd, path, flags, mask, st);
}
static inline long sys_getdents64(int fd, void *buf, size_t n) { return roam_syscall3(SYS_getdents64, fd, buf, n); }
static inline long sys_unlinkat(int dirfd, const char *path, int flags)
{
    return roam_syscall3(SYS_unlinkat, dirfd, path, flags);
}
static inline long sys_mkdirat(int dirfd, const char *path, int mode)
{
    return roam_syscall3(SYS_mkdirat, dirfd, path, mode);
}
static inline long sys_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned flags)
{
    return roam_syscall5(SYS_renameat2, olddir, oldpath, newdir, newpath, flags);
}
/* brk(0) returns the current break; brk(x) returns the new break, which is
 * the old one unchanged when the request fails (never -errno). */
static inline long sys_brk(void *addr) { return roam_syscall1(SYS_brk, addr); }
/* mmap2: offset in 4096-byte units */
static inline long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, uint32_t pgoff)
{
    return roam_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)pgoff);
}
static inline long sys_munmap(void *addr, size_t len) { return roam_syscall2(SYS_munmap, addr, len); }
static inline long sys_mprotect(void *addr, size_t len, int prot)
{
    return roam_syscall3(SYS_mprotect, addr, len, prot);
}
__attribute__((noreturn)) static inline void sys_exit_group(int status)
{
    roam_syscall1(SYS_exit_group, status);
    __builtin_unreachable();
}
__attribute__((noreturn)) static inline void sys_exit(int status)
{
    roam_syscall1(SYS_exit, status);
    __builtin_unreachable();
}
static inline long sys_clock_gettime64(int clk, struct linux_timespec64 *ts)
{
    return roam_syscall2(SYS_clock_gettime64, clk, ts);
}
static inline long sys_clock_nanosleep64(int clk, int flags, const struct linux_timespec64 *req,
                                         struct linux_timespec64 *rem)
{
    return roam_syscall4(SYS_clock_nanosleep_time64, clk, flags, req, rem);
}
static inline long sys_gettimeofday(struct linux_timeval *tv, void *tz)
{
    return roam_syscall2(SYS_gettimeofday, tv, tz);
}
static inline long sys_getpid(void) { return roam_syscall0(SYS_getpid); }
static inline long sys_getppid(void) { return roam_syscall0(SYS_getppid); }
static inline long sys_gettid(void) { return roam_syscall0(SYS_gettid); }
static inline long sys_set_tid_address(int *tidptr) { return roam_syscall1(SYS_set_tid_address, tidptr); }
static inline long sys_uname(struct linux_utsname *u) { return roam_syscall1(SYS_uname, u); }
static inline long sys_getrandom(void *buf, size_t n, unsigned flags)
{
    return roam_syscall3(SYS_getrandom, buf, n, flags);
}
static inline long sys_ioctl(int fd, unsigned long req, void *arg) { return roam_syscall3(SYS_ioctl, fd, req, arg); }

#endif
