/* /proc as programs read it, checked against what the same process learns by
 * system calls (getpid, getppid, sysinfo, its own argv and descriptors).
 * Prints "ok N - what" or "not ok N - what (why)" per check, then "1..N"; the
 * exit status is the number of failed checks. On roam (src/kernel/procfs.ts);
 * qemu-riscv32 shows the host's /proc, whose machine files say other things.
 *
 *   procfs ARG...   any arguments: /proc/self/cmdline must give them back
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

static int checks, failed;

static void check(int good, const char *what, const char *why) {
    checks++;
    if (good) printf("ok %d - %s\n", checks, what);
    else { failed++; printf("not ok %d - %s (%s)\n", checks, what, why); }
}

/** The whole file (read in small pieces, as a program reading a line at a time would), or NULL. */
static char *slurp(const char *path, size_t *length) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    static char text[65536];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof text - 1 && (got = read(fd, text + n, 7)) > 0) n += (size_t)got;
    close(fd);
    text[n] = 0;
    if (length) *length = n;
    return text;
}

/** The number after "key:" in a status-like text, or -1. */
static long field(const char *text, const char *key) {
    const char *at = text ? strstr(text, key) : NULL;
    return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

static int has_entry(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) if (strcmp(e->d_name, name) == 0) found = 1;
    closedir(d);
    return found;
}

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pid_t thread_id;

static void *held(void *unused) {
    (void)unused;
    __atomic_store_n(&thread_id, gettid(), __ATOMIC_RELEASE);
    pthread_mutex_lock(&hold); /* until main has looked */
    pthread_mutex_unlock(&hold);
    return NULL;
}

int main(int argc, char **argv) {
    char path[128], why[256], link[256];
    pid_t self = getpid();

    char *status = slurp("/proc/self/status", NULL);
    snprintf(why, sizeof why, "Pid %ld PPid %ld, getpid %d getppid %d", field(status, "\nPid:"), field(status, "PPid:"), (int)self, (int)getppid());
    check(status && field(status, "\nPid:") == self && field(status, "PPid:") == getppid() && field(status, "Tgid:") == self, "/proc/self/status: Pid, PPid and Tgid are getpid's, getppid's", why);
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    char name[32];
    snprintf(name, sizeof name, "Name:\t%.15s\n", base); /* comm: the program's file name, at most 15 bytes */
    check(status && strncmp(status, name, strlen(name)) == 0, "its Name is the program's file name", status ? status : "no status");
    check(status && strstr(status, "State:\tR (running)") != NULL, "it is running", status ? status : "no status");
    check(field(status, "VmRSS:") > 0 && field(status, "VmSize:") >= field(status, "VmRSS:"), "VmRSS is above 0 and at most VmSize", status ? status : "no status");

    char *stat = slurp("/proc/self/stat", NULL);
    char expect[64];
    snprintf(expect, sizeof expect, "%d (%.15s) R %d ", (int)self, base, (int)getppid());
    check(stat && strncmp(stat, expect, strlen(expect)) == 0, "/proc/self/stat starts pid (comm) state ppid", stat ? stat : "none");
    int fields = 0;
    for (char *p = stat; p && *p; p++) if (*p == ' ') fields++;
    check(fields == 51, "/proc/self/stat has Linux's 52 fields", stat ? stat : "none");

    size_t n;
    char *cmdline = slurp("/proc/self/cmdline", &n);
    size_t want = 0;
    for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
    int same = cmdline && n == want;
    for (size_t at = 0, i = 0; same && i < (size_t)argc; at += strlen(argv[i]) + 1, i++) same = strcmp(cmdline + at, argv[i]) == 0;
    check(same, "/proc/self/cmdline is argv, each ended by NUL", "differs");
    char *comm = slurp("/proc/self/comm", NULL);
    snprintf(name, sizeof name, "%.15s\n", base);
    check(comm && strcmp(comm, name) == 0, "/proc/self/comm", comm ? comm : "none");

    ssize_t len = readlink("/proc/self", link, sizeof link - 1);
    link[len < 0 ? 0 : len] = 0;
    snprintf(expect, sizeof expect, "%d", (int)self);
    check(strcmp(link, expect) == 0, "/proc/self is a link to the pid", link);
    snprintf(path, sizeof path, "%d", (int)self);
    check(has_entry("/proc", path) && has_entry("/proc", "self") && has_entry("/proc", "meminfo"), "/proc lists the process, self and meminfo", "missing");
    check(has_entry("/", "proc"), "/ lists proc", "missing");

    int fd = open("procfs-data.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "0123456789", 10);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    len = readlink(path, link, sizeof link - 1);
    link[len < 0 ? 0 : len] = 0;
    check(strcmp(link, "/procfs-data.txt") == 0, "readlink /proc/self/fd/N is the open file's path", link);
    int again = open(path, O_RDONLY);
    char bytes[4] = {0};
    check(again >= 0 && pread(again, bytes, 3, 2) == 3 && memcmp(bytes, "234", 3) == 0, "open /proc/self/fd/N opens that file", strerror(errno));
    close(again);
    int pipes[2];
    pipe(pipes);
    snprintf(path, sizeof path, "/proc/self/fd/%d", pipes[0]);
    len = readlink(path, link, sizeof link - 1);
    link[len < 0 ? 0 : len] = 0;
    check(strncmp(link, "pipe:[", 6) == 0, "a pipe's link says pipe:[N]", link);
    snprintf(path, sizeof path, "%d", pipes[1]);
    check(has_entry("/proc/self/fd", path), "/proc/self/fd lists the descriptors", path);
    write(pipes[1], "via proc", 8);
    snprintf(path, sizeof path, "/proc/self/fd/%d", pipes[0]);
    int reader = open(path, O_RDONLY);
    char got[16] = {0};
    check(reader >= 0 && read(reader, got, 8) == 8 && strcmp(got, "via proc") == 0, "open of a pipe's link reads that pipe", got);

    struct sysinfo si;
    sysinfo(&si);
    char *meminfo = slurp("/proc/meminfo", NULL);
    snprintf(why, sizeof why, "MemTotal %ld kB, sysinfo %lu pages", field(meminfo, "MemTotal:"), (unsigned long)si.totalram);
    check(field(meminfo, "MemTotal:") == (long)si.totalram * (long)si.mem_unit / 1024, "/proc/meminfo's MemTotal is sysinfo's", why);
    char *cpuinfo = slurp("/proc/cpuinfo", NULL);
    check(cpuinfo && strstr(cpuinfo, "isa\t\t: rv32imac") != NULL, "/proc/cpuinfo names the ISA", cpuinfo ? cpuinfo : "none");
    char *uptime = slurp("/proc/uptime", NULL);
    check(uptime && strtod(uptime, NULL) > 0, "/proc/uptime", uptime ? uptime : "none");

    void *mapped = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *maps = slurp("/proc/self/maps", NULL);
    snprintf(expect, sizeof expect, "%08lx-%08lx r--p", (unsigned long)mapped, (unsigned long)mapped + 3 * 4096);
    check(maps && strstr(maps, expect) != NULL, "/proc/self/maps shows a new mapping", expect);
    check(maps && strstr(maps, "[stack]") != NULL, "and the stack", "no [stack]");

    pid_t child = fork();
    if (child == 0) { pause(); _exit(0); }
    snprintf(path, sizeof path, "/proc/%d/status", (int)child);
    char *childStatus = slurp(path, NULL);
    snprintf(why, sizeof why, "%s", childStatus ? childStatus : strerror(errno));
    check(field(childStatus, "PPid:") == self && field(childStatus, "\nPid:") == child, "a child's /proc/PID/status: its pid, its parent", why);
    kill(child, SIGKILL);
    siginfo_t info;
    waitid(P_PID, child, &info, WEXITED | WNOWAIT); /* a zombie until it is reaped */
    childStatus = slurp(path, NULL);
    check(childStatus && strstr(childStatus, "State:\tZ (zombie)") != NULL, "a child that ended, not yet reaped: Z (zombie)", childStatus ? childStatus : strerror(errno));
    waitpid(child, NULL, 0);
    check(slurp(path, NULL) == NULL && errno == ENOENT, "reaped: its directory is gone", strerror(errno));

    /* A second thread: /proc/self/task lists both, each with its own status; the process counts two. */
    pthread_t thread;
    pthread_mutex_lock(&hold);
    pthread_create(&thread, NULL, held, NULL);
    while (__atomic_load_n(&thread_id, __ATOMIC_ACQUIRE) == 0) sched_yield();
    int entries = 0;
    DIR *tasks = opendir("/proc/self/task");
    for (struct dirent *e; tasks && (e = readdir(tasks)) != NULL;) if (e->d_name[0] != '.') entries++;
    if (tasks) closedir(tasks);
    snprintf(why, sizeof why, "%d entries", entries);
    snprintf(path, sizeof path, "%d", (int)thread_id);
    check(entries == 2 && has_entry("/proc/self/task", path), "/proc/self/task lists the two threads", why);
    check(field(slurp("/proc/self/status", NULL), "Threads:") == 2, "status counts 2 threads", "not 2");
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)thread_id);
    char *threadStatus = slurp(path, NULL);
    check(field(threadStatus, "\nPid:") == thread_id && field(threadStatus, "Tgid:") == self, "a thread's status: its own id, its process's", threadStatus ? threadStatus : strerror(errno));
    pthread_mutex_unlock(&hold);
    pthread_join(thread, NULL);
    check(slurp(path, NULL) == NULL, "a thread that ended is gone from task/", "still there");

    check(open("/proc/self/status", O_WRONLY) < 0 && errno == EACCES, "writing a /proc file: EACCES", strerror(errno));
    check(open("/proc/new", O_WRONLY | O_CREAT, 0644) < 0 && errno == ENOENT, "making a file in /proc: ENOENT", strerror(errno));
    check(mkdir("/proc/x", 0755) < 0 && errno == EACCES, "mkdir in /proc: EACCES", strerror(errno));
    check(unlink("/proc/self/status") < 0 && errno == EACCES, "unlink in /proc: EACCES", strerror(errno));
    unlink("procfs-data.txt");

    printf("1..%d\n", checks);
    return failed;
}
