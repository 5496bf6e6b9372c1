/* What fds 0, 1 and 2 are: fstat's type (and size for a file), isatty, and
 * lseek. Writes "hello\n" to stdout first, then reports on stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type(mode_t m) {
    return S_ISREG(m) ? "file" : S_ISFIFO(m) ? "pipe" : S_ISCHR(m) ? "chr" : S_ISSOCK(m) ? "socket" : "other";
}

int main(void) {
    write(1, "hello\n", 6);
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        char line[160];
        if (fstat(fd, &st) != 0) { snprintf(line, sizeof line, "fd %d: fstat %s\n", fd, strerror(errno)); write(2, line, strlen(line)); continue; }
        off_t at = lseek(fd, 0, SEEK_CUR);
        int e = errno;
        int n = snprintf(line, sizeof line, "fd %d: %s", fd, type(st.st_mode));
        if (S_ISREG(st.st_mode)) n += snprintf(line + n, sizeof line - n, " size %lld", (long long)st.st_size);
        n += snprintf(line + n, sizeof line - n, " tty %d lseek %s\n", isatty(fd), at < 0 ? strerror(e) : (at == 6 ? "6" : at == 0 ? "0" : "?"));
        write(2, line, n);
    }
    return 0;
}
