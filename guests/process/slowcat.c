/* slowcat: copies a file to stdout slowly, CHUNK bytes at a time with a
 * pause after each - a long-running guest that holds an open file, for
 * checking that a file's position survives migration and checkpoints.
 *
 *   slowcat FILE CHUNK DELAY_MS [GATE]
 *
 * Opens FILE, then loops: read up to CHUNK bytes (1..65536) with one read(),
 * write them all to stdout, sleep DELAY_MS milliseconds (clock_nanosleep on
 * CLOCK_MONOTONIC, resumed with the remaining time when interrupted), until
 * read() returns 0. Plain read/write, no stdio on the data path, so every
 * chunk reaches stdout as soon as it is read.
 *
 * With GATE, a file holding a byte count (missing: 0), it copies no further
 * than that count: there it sleeps (DELAY_MS, at least 10 ms) and reads GATE
 * again, until the count grows (past the file's size to let it finish). A
 * test that must find it mid-file, reading or sleeping, holds it there
 * instead of hoping it is not done yet.
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
    fprintf(stderr, "usage: slowcat FILE CHUNK DELAY_MS [GATE]\n");
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

/* how far GATE lets us copy: the number in it, 0 while it is missing or unreadable */
static unsigned long gate_limit(const char *gate)
{
    char text[32];
    int fd = open(gate, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    unsigned long limit;
    if (n <= 0)
        return 0;
    text[n] = 0;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = 0;
    return number(text, (unsigned long)-1, &limit) ? 0 : limit;
}

int main(int argc, char **argv)
{
    unsigned long chunk, delay_ms, copied = 0;
    if ((argc != 4 && argc != 5) || number(argv[2], MAX_CHUNK, &chunk) || chunk == 0 ||
        number(argv[3], 3600000, &delay_ms))
        return usage();
    const char *gate = argc == 5 ? argv[4] : NULL;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "slowcat: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (;;) {
        size_t want = chunk;
        if (gate) {
            unsigned long limit;
            while ((limit = gate_limit(gate)) <= copied)
                pause_ms(delay_ms > 10 ? delay_ms : 10);
            if (limit - copied < want)
                want = limit - copied;
        }
        ssize_t r = read(fd, buf, want);
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
        copied += (unsigned long)r;
        if (delay_ms)
            pause_ms(delay_ms);
    }
    close(fd);
    return 0;
}
