/* appender: appends numbered lines to a file it keeps open, one write each,
 * with a pause after each - a long-running guest that writes through an open
 * file, for checking that a file on another host (the guest's home) gets
 * each line exactly once across moves and failovers.
 *
 *   appender FILE N SLEEP_MS
 *
 * Opens FILE (O_WRONLY | O_APPEND | O_CREAT, 0644) once, then for i = 1..N
 * writes "line i\n" to it with one write() and "wrote i\n" to stdout, then
 * sleeps SLEEP_MS milliseconds (clock_nanosleep on CLOCK_MONOTONIC, resumed
 * with the remaining time when interrupted). Prints "done: N lines" last.
 *
 * Exit status: 0; 1 when FILE cannot be opened or written ("appender: FILE:
 * strerror" on stderr); 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <roam.h>

static int number(const char *s, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    *out = strtoul(s, &end, 10);
    return *end != 0 ? -1 : 0;
}

static void pause_ms(unsigned long ms)
{
    struct timespec req = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L }, rem;
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem) == EINTR)
        req = rem; /* interrupted: sleep what is left */
}

int main(int argc, char **argv)
{
    unsigned long n, sleep_ms;
    if (argc != 4 || number(argv[2], &n) || number(argv[3], &sleep_ms)) {
        fprintf(stderr, "usage: appender FILE N SLEEP_MS\n");
        return 2;
    }
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) {
        fprintf(stderr, "appender: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (unsigned long i = 1; i <= n; i++) {
        char line[32];
        int len = snprintf(line, sizeof line, "line %lu\n", i);
        ssize_t w;
        while ((w = write(fd, line, (size_t)len)) < 0 && errno == EINTR)
            ;
        if (w != len) {
            fprintf(stderr, "appender: %s: %s\n", argv[1], w < 0 ? strerror(errno) : "short write");
            return 1;
        }
        printf("wrote %lu\n", i);
        fflush(stdout);
        if (sleep_ms && i < n)
            pause_ms(sleep_ms);
    }
    printf("done: %lu lines\n", n);
    return 0;
}
