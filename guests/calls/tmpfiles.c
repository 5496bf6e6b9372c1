/* /tmp as programs use it: mkstemp makes a file there, which is written, read
 * back, renamed within /tmp and removed; tmpfile() too; /tmp is a sticky,
 * world-writable directory. Prints nothing that differs between runs (the
 * names mkstemp picks), so the output is qemu-riscv32's byte for byte.
 *
 * With the argument "mount", it checks what a /tmp mounted over a root that
 * has none shows (roam run gives one): "/tmp/.." is the root, the root lists
 * tmp, an absolute link in /tmp starts at the root, and rename and link
 * between /tmp and the root fail with EXDEV, rmdir("/tmp") with EBUSY, as
 * across a Linux mount. (Not for qemu-riscv32: its /tmp is the host's own.) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what) {
    printf("%s: %s\n", what, strerror(errno));
    return 1;
}

static int common(void) {
    struct stat st;
    if (stat("/tmp", &st) != 0) return fail("stat /tmp");
    printf("/tmp is a directory: %d, sticky and world-writable: %d\n", S_ISDIR(st.st_mode), (st.st_mode & 01777) == 01777);

    char name[] = "/tmp/roam-tmpfiles-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) return fail("mkstemp");
    printf("mkstemp: a file in /tmp: %d\n", strncmp(name, "/tmp/roam-tmpfiles-", 19) == 0);
    const char text[] = "written to /tmp\n";
    printf("write: %zd\n", write(fd, text, sizeof text - 1));
    char back[64] = {0};
    lseek(fd, 0, SEEK_SET);
    printf("read back: %zd %s", read(fd, back, sizeof back), back);
    close(fd);

    char renamed[sizeof name + 8];
    snprintf(renamed, sizeof renamed, "%s.moved", name);
    printf("rename within /tmp: %d\n", rename(name, renamed));
    printf("old name gone: %d\n", access(name, F_OK) != 0 && errno == ENOENT);
    FILE *f = fopen(renamed, "r");
    if (!f) return fail("fopen renamed");
    memset(back, 0, sizeof back);
    printf("renamed file holds: %s", fgets(back, sizeof back, f));
    fclose(f);
    printf("unlink: %d\n", unlink(renamed));

    FILE *t = tmpfile();
    if (!t) return fail("tmpfile");
    fputs("tmpfile line\n", t);
    rewind(t);
    memset(back, 0, sizeof back);
    printf("tmpfile reads: %s", fgets(back, sizeof back, t));
    fclose(t);

    if (chdir("/tmp") != 0) return fail("chdir /tmp");
    char cwd[64];
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
    if (mkdir("roam-tmpfiles-dir", 0755) != 0) return fail("mkdir");
    printf("relative mkdir in /tmp: %d\n", stat("/tmp/roam-tmpfiles-dir", &st) == 0 && S_ISDIR(st.st_mode));
    printf("rmdir: %d\n", rmdir("roam-tmpfiles-dir"));
    return chdir("/");
}

static int mount(void) {
    struct stat root, up, tmp;
    stat("/", &root);
    stat("/tmp/..", &up);
    stat("/tmp", &tmp);
    printf("/tmp/.. is the root: %d\n", root.st_ino == up.st_ino && root.st_dev == up.st_dev);
    int listed = 0;
    DIR *d = opendir("/");
    for (struct dirent *e; d && (e = readdir(d));) listed |= strcmp(e->d_name, "tmp") == 0;
    if (d) closedir(d);
    printf("the root lists tmp: %d\n", listed);

    int fd = open("/tmp/in-tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fail("open /tmp/in-tmp");
    write(fd, "tmp\n", 4);
    close(fd);
    fd = open("/in-root", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fail("open /in-root");
    write(fd, "root\n", 5);
    close(fd);
    printf("symlink in /tmp to /in-root: %d\n", symlink("/in-root", "/tmp/link"));
    char back[16] = {0};
    fd = open("/tmp/link", O_RDONLY);
    printf("it leads to the root's file: %zd %s", read(fd, back, sizeof back), back);
    close(fd);
    printf("symlink in /tmp to ../in-root: %d\n", symlink("../in-root", "/tmp/uplink"));
    fd = open("/tmp/uplink", O_RDONLY);
    memset(back, 0, sizeof back);
    printf("it leads there too: %zd %s", read(fd, back, sizeof back), back);
    close(fd);

    errno = 0;
    printf("rename /tmp -> root: %d %s\n", rename("/tmp/in-tmp", "/moved"), strerror(errno));
    errno = 0;
    printf("rename root -> /tmp: %d %s\n", rename("/in-root", "/tmp/moved"), strerror(errno));
    errno = 0;
    printf("link /tmp -> root: %d %s\n", link("/tmp/in-tmp", "/linked"), strerror(errno));
    errno = 0;
    printf("rename of a missing file: %d %s\n", rename("/tmp/missing", "/moved"), strerror(errno));
    errno = 0;
    printf("rmdir /tmp: %d %s\n", rmdir("/tmp"), strerror(errno));
    errno = 0;
    printf("rename /tmp: %d %s\n", rename("/tmp", "/tmp2"), strerror(errno));
    printf("/tmp still there: %d\n", stat("/tmp", &tmp) == 0 && S_ISDIR(tmp.st_mode));
    unlink("/tmp/link");
    unlink("/tmp/uplink");
    unlink("/tmp/in-tmp");
    return unlink("/in-root");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "mount") == 0) return mount();
    return common();
}
