/* slowcat: copies a file to stdout slowly, CHUNK bytes at a time with a
 * pause after each - a long-running guest that holds an open file, for
 * checking that a file's position survives migration and checkpoints.
 *
 *   slowcat FILE CHUNK DELAY_MS
 *
 * Opens FILE, then loops: read up to CHUNK bytes (1..65536) with one read(),
 * write them all to stdout, sleep DELAY_MS milliseconds (clock_nanosleep on
 * CLOCK_MONOTONIC, resumed with the remaining time when interrupted), until
 * read() returns 0. Plain read/write, no stdio on the data path, so every
 * chunk reaches stdout as soon as it is read.
 *
 * Exit status: 0; 1 when FILE cannot be opened or read, or stdout cannot be
 * written ("slowcat: FILE: strerror" on stderr); 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <roam.h>

#define MAX_CHUNK 65536

static char buf[MAX_CHUNK];

static int usage(void)
{
    fprintf(stderr, "usage: slowcat FILE CHUNK DELAY_MS\n");
    return 2;
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    *out = strtoul(s, &end, 10);
    return (*end != 0 || *out > max) ? -1 : 0;
}

static int write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void pause_ms(unsigned long ms)
{
    struct timespec req = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L }, rem;
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem) == EINTR)
        req = rem; /* interrupted: sleep what is left */
}

int main(int argc, char **argv)
{
    unsigned long chunk, delay_ms;
    if (argc != 4 || number(argv[2], MAX_CHUNK, &chunk) || chunk == 0 || number(argv[3], 3600000, &delay_ms))
        return usage();
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "slowcat: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (;;) {
        ssize_t r = read(fd, buf, chunk);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "slowcat: %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (write_all(buf, (size_t)r) < 0) {
            fprintf(stderr, "slowcat: write error: %s\n", strerror(errno));
            return 1;
        }
        if (delay_ms)
            pause_ms(delay_ms);
    }
    close(fd);
    return 0;
}
