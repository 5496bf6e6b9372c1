/* What a portable C program expects of any Linux system: a shell for
 * system(3) and popen(3), programs found on $PATH, scripts with "#!", the
 * user and group databases, "localhost". Run it in an empty directory.
 *
 *   system          the output must be the same on roam and qemu-riscv32
 *                   (there the host's /bin/sh and programs; on roam the base
 *                   layer's BusyBox, src/kernel/base-layer.ts)
 *   system layer    roam only: the base layer beneath the root, read as one
 *                   tree with it, changed only through the root's own copies
 *                   (the test looks at what the root holds afterwards)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(what, expr) do { long r_ = (long)(expr); if (r_ < 0) printf("%s: -1 %s\n", what, strerror(errno)); else printf("%s: %ld\n", what, r_); } while (0)

static void show_status(const char *what, int status) {
    if (status == -1) printf("%s: -1 %s\n", what, strerror(errno));
    else if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf("%s: killed by %d\n", what, WTERMSIG(status));
    else printf("%s: status %#x\n", what, status);
    fflush(stdout);
}

static int shell(const char *command) {
    fflush(stdout); /* what was printed comes before what the shell prints */
    return system(command);
}

static void run(const char *what, char *const argv[]) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        printf("  execvp %s: %s\n", argv[0], strerror(errno));
        fflush(stdout);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    show_status(what, status);
}

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) { printf("write %s: %s\n", path, strerror(errno)); exit(1); }
    close(fd);
}

static int portable(void) {
    setenv("PATH", "/bin:/usr/bin", 1);
    printf("a shell is there: %s\n", system(NULL) ? "yes" : "no");
    show_status("system echo; exit 3", shell("echo from the shell; exit 3"));
    show_status("system a pipeline", shell("seq 1 5 | sort -rn | head -n 2"));
    show_status("system a missing program", shell("exec 2>/dev/null; no-such-program-anywhere"));
    show_status("system killed", shell("kill -TERM $$"));

    FILE *p = popen("echo one; echo two", "r");
    char line[128];
    while (p && fgets(line, sizeof line, p)) printf("popen r: %s", line);
    show_status("pclose r", pclose(p));
    p = popen("sort -r", "w");
    fputs("apple\ncherry\nbanana\n", p);
    fflush(stdout);
    show_status("pclose w", pclose(p));
    p = popen("printf abc | wc -c", "r");
    if (p && fgets(line, sizeof line, p)) printf("popen of a pipeline: %ld\n", strtol(line, NULL, 10));
    show_status("pclose", pclose(p));

    run("execvp echo (found on $PATH)", (char *const[]){"echo", "found", "on", "the", "path", NULL});
    run("execvp no-such", (char *const[]){"no-such-program-anywhere", NULL});
    write_file("script.sh", "#!/bin/sh\necho script: $0 $1\nexit 7\n", 0755);
    run("a #!/bin/sh script", (char *const[]){"./script.sh", "arg", NULL});
    write_file("env-script", "#!/usr/bin/env sh\necho through env: $1\n", 0755);
    run("a #!/usr/bin/env script", (char *const[]){"./env-script", "yes", NULL});

    struct passwd *pw = getpwuid(0);
    if (pw) printf("getpwuid(0): %s uid %d gid %d home %s\n", pw->pw_name, (int)pw->pw_uid, (int)pw->pw_gid, pw->pw_dir);
    else printf("getpwuid(0): none (%s)\n", strerror(errno));
    pw = getpwnam("root");
    printf("getpwnam(root): %s\n", pw ? "found" : "none");
    struct group *gr = getgrgid(0);
    printf("getgrgid(0): %s\n", gr ? gr->gr_name : "none");

    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    int e = getaddrinfo("localhost", "80", &hints, &ai);
    if (e) printf("getaddrinfo(localhost): %s\n", gai_strerror(e));
    else {
        struct sockaddr_in *in = (struct sockaddr_in *)ai->ai_addr;
        char text[INET_ADDRSTRLEN];
        printf("getaddrinfo(localhost): %s port %d\n", inet_ntop(AF_INET, &in->sin_addr, text, sizeof text), ntohs(in->sin_port));
        freeaddrinfo(ai);
    }
    return 0;
}

static int has_entry(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    if (!d) return -errno;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) if (strcmp(e->d_name, name) == 0) found = 1;
    closedir(d);
    return found;
}

static void show_file(const char *path) {
    char text[256] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (n < 0) printf("%s: %s\n", path, strerror(errno));
    else printf("%s: %zd bytes, first line %.*s\n", path, n, (int)strcspn(text, "\n"), text);
    if (fd >= 0) close(fd);
}

static int layer(void) {
    struct stat sh, ls, fst;
    CHECK("stat /bin/sh", stat("/bin/sh", &sh));
    CHECK("stat /bin/ls", stat("/bin/ls", &ls));
    printf("one file, many names: %s, %s\n", sh.st_ino == ls.st_ino ? "same inode" : "other inodes", sh.st_nlink > 40 ? "over 40 links" : "few links");
    int fd = open("/bin/sh", O_RDONLY);
    fstat(fd, &fst);
    printf("fstat is stat: %s\n", fst.st_ino == sh.st_ino && fst.st_dev == sh.st_dev && fst.st_size == sh.st_size ? "yes" : "no");
    CHECK("fchmod of the layer's file", fchmod(fd, 0700));
    close(fd);
    CHECK("access /bin/sh X_OK", access("/bin/sh", X_OK));
    CHECK("access /etc/passwd W_OK", access("/etc/passwd", W_OK));
    printf("/ lists bin %d etc %d usr %d dev %d\n", has_entry("/", "bin"), has_entry("/", "etc"), has_entry("/", "usr"), has_entry("/", "dev"));
    printf("/bin lists sh %d busybox %d, /usr/bin lists env %d\n", has_entry("/bin", "sh"), has_entry("/bin", "busybox"), has_entry("/usr/bin", "env"));
    CHECK("open /etc O_RDWR", open("/etc", O_RDWR));
    CHECK("open /etc/passwd O_CREAT|O_EXCL", open("/etc/passwd", O_WRONLY | O_CREAT | O_EXCL, 0644));
    CHECK("mkdir /etc", mkdir("/etc", 0755));
    CHECK("unlink /bin/sh", unlink("/bin/sh"));
    CHECK("rmdir /usr/bin", rmdir("/usr/bin"));
    CHECK("rename /etc/hosts /hosts", rename("/etc/hosts", "/hosts"));

    /* Changes go to the root's own copies. */
    fd = open("/etc/hosts", O_WRONLY | O_APPEND);
    CHECK("append to /etc/hosts", write(fd, "10.0.0.9\tdb\n", 12));
    close(fd);
    show_file("/etc/hosts");
    struct stat copy;
    CHECK("stat /etc/hosts", stat("/etc/hosts", &copy));
    printf("  its size %lld, its mode %o\n", (long long)copy.st_size, copy.st_mode & 0777);
    printf("/etc still lists passwd %d group %d\n", has_entry("/etc", "passwd"), has_entry("/etc", "group"));
    CHECK("mkdir /etc/app", mkdir("/etc/app", 0755));
    write_file("/usr/bin/tool", "#!/bin/sh\necho tool ran\n", 0755);
    run("a program made in /usr/bin", (char *const[]){"/usr/bin/tool", NULL});
    printf("/usr/bin lists env %d tool %d\n", has_entry("/usr/bin", "env"), has_entry("/usr/bin", "tool"));
    CHECK("chmod /etc/group 0600", chmod("/etc/group", 0600));
    CHECK("stat /etc/group", stat("/etc/group", &copy));
    printf("  its mode %o\n", copy.st_mode & 0777);
    write_file("my-passwd", "me:x:0:0:me:/home/me:/bin/sh\n", 0644);
    CHECK("rename my-passwd /etc/passwd", rename("my-passwd", "/etc/passwd"));
    struct passwd *pw = getpwuid(0);
    printf("getpwuid(0) now: %s\n", pw ? pw->pw_name : "none");
    CHECK("unlink /etc/passwd (the root's)", unlink("/etc/passwd"));
    pw = getpwuid(0);
    printf("getpwuid(0) after: %s\n", pw ? pw->pw_name : "none");
    CHECK("unlink /etc/passwd again (the layer's)", unlink("/etc/passwd"));

    /* The root's own names hide the layer's. */
    write_file("bin/sh", "#!/bin/busybox echo\n", 0755);
    show_status("system with the root's own /bin/sh", shell("ignored"));
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "layer") == 0) return layer();
    return portable();
}
