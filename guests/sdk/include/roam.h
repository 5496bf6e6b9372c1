/* Roam guest SDK for process-mode guests (static Linux RV32 executables).
 *
 * Link with guests/sdk (crt0.S, start.c, posix.c, stdio.c, process.ld) and
 * picolibc. Ordinary picolibc headers give the usual C library; what
 * picolibc has no header for is declared here. <roam/linux.h> has the raw
 * system calls (sys_read etc., returning -errno).
 */
#ifndef ROAM_H
#define ROAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "roam/linux.h"

/* picolibc's <time.h> only defines these for RTEMS and Cygwin (or with
 * _GNU_SOURCE); these are its numbers, which clock_gettime() etc. map to
 * Linux's. */
#ifndef CLOCK_PROCESS_CPUTIME_ID
#define CLOCK_PROCESS_CPUTIME_ID ((clockid_t)2)
#endif
#ifndef CLOCK_THREAD_CPUTIME_ID
#define CLOCK_THREAD_CPUTIME_ID ((clockid_t)3)
#endif
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC ((clockid_t)4)
#endif
#ifndef CLOCK_REALTIME_COARSE
#define CLOCK_REALTIME_COARSE ((clockid_t)0)
#endif
#ifndef CLOCK_MONOTONIC_RAW
#define CLOCK_MONOTONIC_RAW ((clockid_t)5)
#endif
#ifndef CLOCK_MONOTONIC_COARSE
#define CLOCK_MONOTONIC_COARSE ((clockid_t)6)
#endif
#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME ((clockid_t)7)
#endif
/* ... and declares these only under _POSIX_TIMERS / _POSIX_CLOCK_SELECTION,
 * which it leaves undefined; guests/sdk/posix.c implements them. */
int clock_gettime(clockid_t clock_id, struct timespec *tp);
int nanosleep(const struct timespec *rqtp, struct timespec *rmtp);
int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *rqtp, struct timespec *rmtp);

/* The initial stack as the kernel left it (valid for the whole run). */
extern int roam_argc;
extern char **roam_argv;
extern char **roam_envp;
extern const uint32_t *roam_auxv; /* (type, value) pairs up to AT_NULL */

/* auxv lookup: 0 (errno = ENOENT) when the type is absent */
unsigned long getauxval(unsigned long type);

/* memory mapping (Linux PROT_ and MAP_ values: use LINUX_PROT_*, LINUX_MAP_*) */
#define MAP_FAILED ((void *)-1)
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);

/* 64-bit file offsets (off_t is 32 bits in picolibc) */
int64_t lseek64(int fd, int64_t offset, int whence);

/* Translate a raw result: >= 0 is returned as is; -errno sets picolibc's
 * errno (Linux numbers mapped to picolibc's) and returns -1. */
long roam_ret(long r);
/* a Linux errno number as picolibc's errno number */
int roam_errno_from_linux(int e);

#endif
