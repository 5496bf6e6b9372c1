/* memwalk: a memory-dirtying guest for live-migration tests.
 *
 *   memwalk [--mib N] [--fraction F] [--rounds R] [--rate MIBPS] [--until FILE]
 *     --mib N        size of the region, in MiB (default 4); it is mmap'ed
 *                    (anonymous, private) and every page is written once
 *     --fraction F   share of the pages rewritten each round, a decimal in
 *                    [0, 1] (default 0.25); which pages is decided per round
 *                    by a hash, so they are scattered and vary by round
 *     --rounds R     rounds of rewriting (default 8; 0 = until killed)
 *     --rate MIBPS   cap on the rewrite speed in MiB/s, a decimal (default 0
 *                    = as fast as possible); enforced with clock_gettime and
 *                    nanosleep, checked every 64 KiB written
 *     --until FILE   also stop, after the round in progress, once FILE can
 *                    be opened (checked after each round): a test that must
 *                    find the guest still running says when it may end
 *
 * The content of every word is a function of (page, word, round that last
 * wrote the page), so the whole region's checksum after each round is
 * deterministic: the output has only counts and checksums, no timings. At
 * the end every page is verified against the content it should have.
 *
 *   memwalk: 4 MiB, 1024 pages, fraction 0.25, 8 rounds, rate 0 MiB/s
 *   touched 1024 pages, checksum 0x........
 *   round 1/8: rewrote 262 pages, checksum 0x........
 *   ...
 *   memwalk: final checksum 0x........, verify ok
 *
 * Content: word w of page p written in round v (0 = the first touch) is
 *   mix32((p * 1024 + w) ^ mix32(v + 0x9e3779b9))
 * page p is rewritten in round r (1, 2, ...) when
 *   mix32(p ^ mix32(r * 0x85ebca6b + 1)) % 1000000 < F * 1000000
 * and the checksum is FNV-1a over all words in address order:
 *   h = 0x811c9dc5; h = (h ^ word) * 16777619
 * with mix32 the "lowbias32" finalizer (x ^= x >> 16; x *= 0x7feb352d;
 * x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16). test/process-cases.ts has
 * a JavaScript version that predicts the output.
 *
 * Exit status: 0, 1 when verification fails, 2 on bad usage, 3 when the
 * memory cannot be mapped. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <roam.h>

#define PAGE 4096u
#define WORDS (PAGE / 4)

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static void fill_page(uint32_t *page, uint32_t p, uint32_t version)
{
    uint32_t k = mix32(version + 0x9e3779b9u);
    uint32_t base = p * WORDS;
    for (uint32_t w = 0; w < WORDS; w++)
        page[w] = mix32((base + w) ^ k);
}

static uint32_t checksum(const uint32_t *mem, uint32_t words)
{
    uint32_t h = 0x811c9dc5u;
    for (uint32_t i = 0; i < words; i++)
        h = (h ^ mem[i]) * 16777619u;
    return h;
}

/* a decimal "0.25", "1", ".5", "12.125" as millionths; -1 if malformed */
static int64_t parse_millionths(const char *s)
{
    int64_t whole = 0, frac = 0, scale = 100000;
    const char *p = s;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 1000000000)
            return -1;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p != 0 || digits == 0)
        return -1;
    return whole * 1000000 + frac;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int exists(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: memwalk [--mib N] [--fraction F] [--rounds R] [--rate MIBPS] [--until FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *mib_s = "4", *fraction_s = "0.25", *rounds_s = "8", *rate_s = "0", *until = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--mib") == 0)
            slot = &mib_s;
        else if (strcmp(argv[i], "--fraction") == 0)
            slot = &fraction_s;
        else if (strcmp(argv[i], "--rounds") == 0)
            slot = &rounds_s;
        else if (strcmp(argv[i], "--rate") == 0)
            slot = &rate_s;
        else if (strcmp(argv[i], "--until") == 0)
            slot = &until;
        if (!slot || i + 1 >= argc)
            return usage();
        *slot = argv[++i];
    }
    char *end;
    unsigned long mib = strtoul(mib_s, &end, 10);
    if (*mib_s == 0 || *end || mib == 0 || mib > 2048)
        return usage();
    unsigned long rounds = strtoul(rounds_s, &end, 10);
    if (*rounds_s == 0 || *end)
        return usage();
    int64_t ppm = parse_millionths(fraction_s);
    if (ppm < 0 || ppm > 1000000)
        return usage();
    int64_t rate_millionths = parse_millionths(rate_s); /* MiB/s * 1e6 */
    if (rate_millionths < 0)
        return usage();
    /* bytes per second; 0 = no limit */
    uint64_t rate = (uint64_t)rate_millionths * (1u << 20) / 1000000u;
    if (rate_millionths > 0 && rate == 0)
        rate = 1;

    uint32_t pages = (uint32_t)mib * (1u << 20) / PAGE;
    printf("memwalk: %lu MiB, %" PRIu32 " pages, fraction %s, %lu rounds, rate %s MiB/s\n", mib, pages,
           fraction_s, rounds, rate_s);
    fflush(stdout);

    uint32_t *mem = mmap(NULL, (size_t)pages * PAGE, LINUX_PROT_READ | LINUX_PROT_WRITE,
                         LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1, 0);
    /* which round last wrote each page: for the final verification */
    uint32_t *last = mmap(NULL, (size_t)pages * 4, LINUX_PROT_READ | LINUX_PROT_WRITE,
                          LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || last == MAP_FAILED) {
        printf("memwalk: cannot map %lu MiB\n", mib);
        return 3;
    }

    for (uint32_t p = 0; p < pages; p++) {
        fill_page(mem + p * WORDS, p, 0);
        last[p] = 0;
    }
    printf("touched %" PRIu32 " pages, checksum 0x%08" PRIx32 "\n", pages, checksum(mem, pages * WORDS));
    fflush(stdout);

    uint64_t start = now_ns(), written = 0;
    for (uint32_t r = 1; rounds == 0 || r <= rounds; r++) {
        uint32_t key = mix32(r * 0x85ebca6bu + 1), count = 0;
        for (uint32_t p = 0; p < pages; p++) {
            if (mix32(p ^ key) % 1000000u >= (uint32_t)ppm)
                continue;
            fill_page(mem + p * WORDS, p, r);
            last[p] = r;
            count++;
            written += PAGE;
            if (rate && written % (64u << 10) == 0) {
                /* where we are allowed to be, in ns since start */
                uint64_t due = written / rate * 1000000000u + written % rate * 1000000000u / rate;
                uint64_t elapsed = now_ns() - start;
                if (elapsed < due) {
                    uint64_t d = due - elapsed;
                    struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
                    nanosleep(&ts, NULL);
                }
            }
        }
        if (rounds)
            printf("round %" PRIu32 "/%lu: rewrote %" PRIu32 " pages, checksum 0x%08" PRIx32 "\n", r, rounds,
                   count, checksum(mem, pages * WORDS));
        else
            printf("round %" PRIu32 ": rewrote %" PRIu32 " pages, checksum 0x%08" PRIx32 "\n", r, count,
                   checksum(mem, pages * WORDS));
        fflush(stdout);
        if (until && exists(until))
            break;
    }

    uint32_t bad = 0;
    static uint32_t want[WORDS];
    for (uint32_t p = 0; p < pages; p++) {
        fill_page(want, p, last[p]);
        if (memcmp(want, mem + p * WORDS, PAGE) != 0)
            bad++;
    }
    uint32_t final = checksum(mem, pages * WORDS);
    if (bad)
        printf("memwalk: final checksum 0x%08" PRIx32 ", verify FAILED: %" PRIu32 " bad pages\n", final, bad);
    else
        printf("memwalk: final checksum 0x%08" PRIx32 ", verify ok\n", final);
    return bad ? 1 : 0;
}
