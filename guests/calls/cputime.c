/* CPU time as musl reads it: clock(), clock_gettime(CLOCK_PROCESS_CPUTIME_ID),
 * times() and getrusage() all grow with work done and agree; prints only what
 * is true on any Linux (the figures themselves differ). */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned sink;

int main(void) {
    clock_t c0 = clock();
    struct timespec p0, p1, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0);
    for (unsigned i = 0; i < 300000000u; i++) sink += i * 7;
    clock_t c1 = clock();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    struct tms tms;
    clock_t ticks = times(&tms);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double clockSec = (double)(c1 - c0) / CLOCKS_PER_SEC;
    double cpuSec = (p1.tv_sec - p0.tv_sec) + (p1.tv_nsec - p0.tv_nsec) / 1e9;
    double ruSec = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("clock() grew: %d\n", c1 > c0);
    printf("cputime grew: %d\n", cpuSec > 0.05);
    printf("clock and cputime agree: %d\n", clockSec > cpuSec * 0.8 && clockSec < cpuSec * 1.2);
    printf("thread cputime >= process start: %d\n", t1.tv_sec > p0.tv_sec || (t1.tv_sec == p0.tv_sec && t1.tv_nsec > p0.tv_nsec));
    printf("times utime+stime > 0: %d; ticks ok: %d\n", tms.tms_utime + tms.tms_stime > 0, ticks != (clock_t)-1);
    printf("getrusage near clock: %d\n", ruSec > clockSec * 0.8 && ruSec < clockSec * 1.2 + 0.02);
    printf("getrusage maxrss > 0: %d\n", ru.ru_maxrss > 0);
    struct timespec res;
    printf("clock_getres cputime: %d\n", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) == 0);
    return 0;
}
