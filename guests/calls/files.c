/* Files, devices, umask and /proc/self/exe as musl programs use them; the
 * output must be the same on roam and qemu-riscv32 (run it with an absolute
 * path, in an empty directory). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CHECK(what, expr) do { long r_ = (long)(expr); if (r_ < 0) printf("%s: -1 %s\n", what, strerror(errno)); else printf("%s: %ld\n", what, r_); } while (0)

static void device(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { printf("%s: %s\n", path, strerror(errno)); return; }
    printf("%s: %s %u,%u\n", path, S_ISCHR(st.st_mode) ? "chr" : "not chr", major(st.st_rdev), minor(st.st_rdev));
}

int main(int argc, char **argv) {
    char buf[64];
    (void)argc;
    int fd = open("f.txt", O_RDWR | O_CREAT | O_TRUNC, 0666);
    CHECK("write", write(fd, "0123456789", 10));
    CHECK("pread 4 at 3", pread(fd, buf, 4, 3));
    printf("  got %.4s\n", buf);
    CHECK("pwrite 2 at 8", pwrite(fd, "ab", 2, 8));
    CHECK("offset after", lseek(fd, 0, SEEK_CUR));
    CHECK("pread negative", pread(fd, buf, 4, -1));
    CHECK("ftruncate 4", ftruncate(fd, 4));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld\n", (long long)st.st_size);
    CHECK("fsync", fsync(fd));
    CHECK("fdatasync", fdatasync(fd));
    CHECK("fchmod 0640", fchmod(fd, 0640));
    fstat(fd, &st);
    printf("mode %o\n", st.st_mode & 0777);
    CHECK("fchown", fchown(fd, 0, 0));
    CHECK("chown missing", chown("missing", 0, 0));
    CHECK("fsync stdout pipe", fsync(1) == 0 ? 0 : (errno == EINVAL ? 0 : -1));
    close(fd);

    CHECK("umask 077", umask(077));
    CHECK("umask 027", umask(027));
    mkdir("d", 0777);
    stat("d", &st);
    printf("mkdir mode %o\n", st.st_mode & 0777);
    int g = open("g", O_WRONLY | O_CREAT, 0666);
    fstat(g, &st);
    printf("open mode %o\n", st.st_mode & 0777);
    close(g);

    struct statfs fs;
    CHECK("statfs", statfs(".", &fs));
    printf("statfs bsize>0 %d namelen %ld\n", fs.f_bsize > 0, (long)fs.f_namelen);

    device("/dev/null"); device("/dev/zero"); device("/dev/full"); device("/dev/random"); device("/dev/urandom"); device("/dev/tty");
    int n = open("/dev/null", O_RDWR);
    CHECK("write /dev/null", write(n, "x", 1));
    CHECK("write /dev/null from a bad pointer", write(n, (void *)16, 4096)); /* EFAULT under qemu-riscv32 (Linux's own does not look) */
    CHECK("read /dev/null", read(n, buf, sizeof buf));
    close(n);
    int z = open("/dev/zero", O_RDONLY);
    memset(buf, 7, sizeof buf);
    CHECK("read /dev/zero", read(z, buf, 16));
    printf("  zeros %d\n", buf[0] == 0 && buf[15] == 0 && buf[16] == 7);
    close(z);
    int f = open("/dev/full", O_WRONLY);
    CHECK("write /dev/full", write(f, "x", 1));
    close(f);
    int w = open("/dev/urandom", O_WRONLY);
    CHECK("write /dev/urandom from a bad pointer", write(w, (void *)16, 8)); /* it reads the buffer into its pool */
    close(w);
    int u = open("/dev/urandom", O_RDONLY);
    memset(buf, 0, sizeof buf);
    CHECK("read /dev/urandom", read(u, buf, 32));
    int nonzero = 0;
    for (int i = 0; i < 32; i++) nonzero |= buf[i];
    printf("  random %d\n", nonzero != 0);
    close(u);
    FILE *out = fopen("/dev/stdout", "w");
    fprintf(out, "through /dev/stdout\n");
    fclose(out);

    char exe[256];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[len < 0 ? 0 : len] = 0;
    printf("exe is argv[0]: %d\n", strcmp(exe, argv[0]) == 0);
    return 0;
}
