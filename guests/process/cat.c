/* cat: copies the files named in argv ("-" = stdin), or stdin when there
 * are none, to stdout byte for byte. Plain read/write on 4 KiB buffers (no
 * stdio on the data path). A file that cannot be opened or read is reported
 * on stderr as coreutils does ("cat: NAME: No such file or directory") and
 * the others are still copied; exit status 1 if any failed, else 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[4096];

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

/* 0 ok, -1 read error (errno set), -2 write error */
static int copy(int fd)
{
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0)
            return 0;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (write_all(buf, (size_t)r) < 0)
            return -2;
    }
}

static int cat_one(const char *name)
{
    int fd = 0;
    if (strcmp(name, "-") != 0) {
        fd = open(name, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "cat: %s: %s\n", name, strerror(errno));
            return 1;
        }
    }
    int r = copy(fd);
    int e = errno;
    if (fd != 0)
        close(fd);
    if (r == -1) {
        fprintf(stderr, "cat: %s: %s\n", name, strerror(e));
        return 1;
    }
    if (r == -2) {
        fprintf(stderr, "cat: write error: %s\n", strerror(e));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cat_one("-");
    int status = 0;
    for (int i = 1; i < argc; i++)
        status |= cat_one(argv[i]);
    return status;
}
