/* Children's CPU time: a parent reaps a child that burned a loop (and reaped
 * a grandchild that burned one too); wait4's rusage, getrusage(RUSAGE_CHILDREN)
 * and times()'s tms_cutime then count it. Prints only what is true on any
 * Linux (the figures themselves differ). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned sink;

static void burn(unsigned n) {
    for (unsigned i = 0; i < n; i++) sink += i * 7;
}

static double seconds(struct timeval tv) {
    return tv.tv_sec + tv.tv_usec / 1e6;
}

static double childrenSeconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) { perror("getrusage"); exit(1); }
    return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

static double selfSeconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) { perror("getrusage"); exit(1); }
    return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

/* Forks a child that burns `n` iterations (and, if `grandchild`, first reaps a
 * grandchild burning as many); returns the reaped child's rusage time. A child
 * with a grandchild sends back, just before it exits, its own time so far and
 * its reaped grandchild's: what wait4 reports must hold at least both, however
 * long each burn took on a loaded machine. */
static double reapBurner(unsigned n, int grandchild, double told[2]) {
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); exit(1); }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        close(fds[0]);
        if (grandchild) reapBurner(n, 0, NULL);
        burn(n);
        double mine[2] = { selfSeconds(), childrenSeconds() };
        if (write(fds[1], mine, sizeof mine) != sizeof mine) _exit(1);
        _exit(0);
    }
    close(fds[1]);
    double mine[2];
    if (read(fds[0], mine, sizeof mine) != sizeof mine) { perror("read"); exit(1); }
    close(fds[0]);
    if (told) { told[0] = mine[0]; told[1] = mine[1]; }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) { perror("wait4"); exit(1); }
    return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

int main(void) {
    printf("no children yet: %d\n", childrenSeconds() == 0);
    struct tms before;
    times(&before);
    printf("tms_cutime starts at 0: %d\n", before.tms_cutime == 0 && before.tms_cstime == 0);

    double first = reapBurner(200000000u, 0, NULL);
    double afterFirst = childrenSeconds();
    printf("wait4 rusage of a busy child > 0: %d\n", first > 0.05);
    printf("RUSAGE_CHILDREN > 0 after reaping it: %d\n", afterFirst > 0.05);
    printf("RUSAGE_CHILDREN >= the child's own: %d\n", afterFirst >= first - 0.001);

    /* A child that reaped a busy grandchild: its reaped time includes the grandchild's. */
    double told[2];
    double second = reapBurner(200000000u, 1, told);
    double afterSecond = childrenSeconds();
    printf("child with a grandchild counts both: %d\n", told[1] > 0.05 && second >= told[0] + told[1] - 0.002);
    printf("RUSAGE_CHILDREN grows: %d\n", afterSecond > afterFirst + second * 0.9);

    struct tms after;
    times(&after);
    long ticks = sysconf(_SC_CLK_TCK);
    double cutime = (double)(after.tms_cutime + after.tms_cstime) / ticks;
    printf("times tms_cutime near RUSAGE_CHILDREN: %d\n", cutime > afterSecond * 0.8 && cutime <= afterSecond + 0.02);

    /* An unreaped (zombie) child counts for nothing yet. */
    pid_t zombie = fork();
    if (zombie == 0) { burn(100000000u); _exit(0); }
    siginfo_t info;
    waitid(P_PID, zombie, &info, WEXITED | WNOWAIT);
    printf("a zombie not yet reaped is not counted: %d\n", childrenSeconds() == afterSecond);
    waitpid(zombie, NULL, 0);
    printf("counted once reaped: %d\n", childrenSeconds() > afterSecond);
    return 0;
}
