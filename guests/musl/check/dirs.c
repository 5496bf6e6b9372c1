/* opendir/readdir (getdents64) on a directory the program makes itself. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    const char *d = argc > 1 ? argv[1] : "dirs.tmp";
    char p[256];
    mkdir(d, 0755);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/f%d", d, i);
        int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) { perror(p); return 1; }
        close(fd);
    }
    DIR *dir = opendir(d);
    if (!dir) { perror(d); return 1; }
    char *names[16];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 16)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        printf("%s\n", names[i]);
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        unlink(p);
    }
    rmdir(d);
    return 0;
}
