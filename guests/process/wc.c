/* wc: counts lines, words and bytes like GNU coreutils wc (9.x), in the
 * same output format:
 *   wc [-l] [-w] [-c] [FILE...]     (no FILE, or "-": stdin)
 * Counts are printed in the order lines, words, bytes (only the requested
 * ones; all three by default), right-aligned to a common width: 1 when one
 * count of one input is printed; otherwise the number of digits of the total
 * size of the regular files among the inputs, and at least 7 when any input
 * is not a regular file (a pipe, a terminal). A "total" line follows when
 * there is more than one input. A word is a maximal run of bytes that are
 * not white space (space, \t, \n, \v, \f, \r). Unreadable files are
 * reported on stderr ("wc: NAME: No such file or directory"); exit status
 * 1 if any failed, else 0. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int want_lines, want_words, want_bytes, width;
static char buf[4096];

struct counts {
    uint64_t lines, words, bytes;
};

static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int count_fd(int fd, struct counts *c)
{
    int in_word = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0)
            return 0;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->bytes += (uint64_t)r;
        for (ssize_t i = 0; i < r; i++) {
            unsigned char ch = (unsigned char)buf[i];
            if (ch == '\n')
                c->lines++;
            if (is_space(ch)) {
                in_word = 0;
            } else if (!in_word) {
                in_word = 1;
                c->words++;
            }
        }
    }
}

static void print_counts(const struct counts *c, const char *name)
{
    const char *sep = "";
    if (want_lines) {
        printf("%s%*" PRIu64, sep, width, c->lines);
        sep = " ";
    }
    if (want_words) {
        printf("%s%*" PRIu64, sep, width, c->words);
        sep = " ";
    }
    if (want_bytes)
        printf("%s%*" PRIu64, sep, width, c->bytes);
    if (name)
        printf(" %s", name);
    putchar('\n');
}

int main(int argc, char **argv)
{
    const char *names[64];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] != 0) {
            for (const char *p = a + 1; *p; p++) {
                if (*p == 'l')
                    want_lines = 1;
                else if (*p == 'w')
                    want_words = 1;
                else if (*p == 'c')
                    want_bytes = 1;
                else {
                    fprintf(stderr, "wc: invalid option -- '%c'\n", *p);
                    return 1;
                }
            }
        } else if (n < 64) {
            names[n++] = a;
        }
    }
    if (!want_lines && !want_words && !want_bytes)
        want_lines = want_words = want_bytes = 1;
    int stdin_only = n == 0;
    if (stdin_only)
        names[n++] = "-";

    /* the width, as coreutils computes it: from a stat of every input */
    if (n == 1 && want_lines + want_words + want_bytes == 1) {
        width = 1;
    } else {
        int min_width = 1;
        uint64_t regular_total = 0;
        for (int i = 0; i < n; i++) {
            struct stat st;
            int r = strcmp(names[i], "-") == 0 ? fstat(0, &st) : stat(names[i], &st);
            if (r < 0)
                continue;
            if (S_ISREG(st.st_mode))
                regular_total += (uint64_t)st.st_size;
            else
                min_width = 7;
        }
        width = 1;
        for (; regular_total >= 10; regular_total /= 10)
            width++;
        if (width < min_width)
            width = min_width;
    }

    int status = 0;
    struct counts total = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        int fd = 0;
        if (strcmp(names[i], "-") != 0) {
            fd = open(names[i], O_RDONLY);
            if (fd < 0) {
                fprintf(stderr, "wc: %s: %s\n", names[i], strerror(errno));
                status = 1;
                continue;
            }
        }
        struct counts c = { 0, 0, 0 };
        int r = count_fd(fd, &c);
        int e = errno;
        if (fd != 0)
            close(fd);
        if (r < 0) {
            fprintf(stderr, "wc: %s: %s\n", names[i], strerror(e));
            status = 1;
        }
        print_counts(&c, stdin_only ? NULL : names[i]);
        total.lines += c.lines;
        total.words += c.words;
        total.bytes += c.bytes;
    }
    if (n > 1)
        print_counts(&total, "total");
    return status;
}
