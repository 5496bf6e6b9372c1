/* counter: counts from 1 to N, printing progress every K steps, optionally
 * sleeping between steps - a long-running guest whose output says exactly
 * how far it got (for pausing, snapshotting and migrating it mid-run).
 *
 *   counter [N [K [SLEEP_MS]]]     defaults: N = 10, K = 1, SLEEP_MS = 0
 *
 * Each step also folds the step number into a running hash, so the printed
 * state depends on every step having run:
 *   counter: N=10 K=1 sleep=0ms
 *   count 1/10 hash 0x........
 *   ...
 *   done: 10 steps, hash 0x........
 * Output is flushed after every line, so it streams through a pipe.
 * Exit status 0 (2 on bad usage). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <roam.h>

static int arg(int argc, char **argv, int i, unsigned long dflt, unsigned long *out)
{
    if (i >= argc) {
        *out = dflt;
        return 0;
    }
    char *end;
    *out = strtoul(argv[i], &end, 10);
    return (*argv[i] == 0 || *end != 0) ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned long n, k, sleep_ms;
    if (arg(argc, argv, 1, 10, &n) || arg(argc, argv, 2, 1, &k) || arg(argc, argv, 3, 0, &sleep_ms) || k == 0) {
        fprintf(stderr, "usage: counter [N [K [SLEEP_MS]]]\n");
        return 2;
    }
    printf("counter: N=%lu K=%lu sleep=%lums\n", n, k, sleep_ms);
    fflush(stdout);
    uint32_t hash = 0x811c9dc5u;
    struct timespec nap = { (time_t)(sleep_ms / 1000), (long)(sleep_ms % 1000) * 1000000L };
    for (unsigned long i = 1; i <= n; i++) {
        hash = (hash ^ (uint32_t)i) * 16777619u;
        if (i % k == 0 || i == n) {
            printf("count %lu/%lu hash 0x%08" PRIx32 "\n", i, n, hash);
            fflush(stdout);
        }
        if (sleep_ms && i < n)
            nanosleep(&nap, NULL);
    }
    printf("done: %lu steps, hash 0x%08" PRIx32 "\n", n, hash);
    return 0;
}
