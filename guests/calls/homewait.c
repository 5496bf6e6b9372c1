// A parent that waits for its children in every form while they run on another
// host: test/e2e/process-tree-migration.test.ts moves it alone (--children
// home) while it waits for the file "go", and its children stay home. Then it
// waits by pid, by process group, for any child, with WNOHANG, with wait4 and
// waitid, and kills one; SIGCHLD keeps its default disposition (ignored), so a
// SIGCHLD from home is discarded here and must still wake a blocked wait. Then
// it selects on its stdin (also at home): a short timeout with no input, and
// a long one that input ends. Run unmoved (with "go" there from the start and
// a line of input after a second) it prints the same, as on qemu-riscv32.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void wait_for_file(const char *name) {
    struct timespec tick = {0, 20 * 1000 * 1000};
    while (access(name, F_OK) != 0) nanosleep(&tick, NULL);
}

static void touch(const char *name) {
    int fd = open(name, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) { perror(name); exit(1); }
    close(fd);
}

/** A child that says whether its parent is still `parent`, waits for `gate`, and exits with `code`. */
static pid_t child(pid_t parent, const char *gate, int code, int own_group) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid > 0) return pid;
    if (own_group) setpgid(0, 0);
    if (gate) wait_for_file(gate);
    printf("child %d: parent %s\n", code, getppid() == parent ? "unchanged" : "changed");
    fflush(stdout);
    _exit(code);
}

static const char *describe(int status) {
    static char text[64];
    if (WIFEXITED(status)) snprintf(text, sizeof text, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(text, sizeof text, "killed by %d", WTERMSIG(status));
    else snprintf(text, sizeof text, "status %#x", status);
    return text;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unlink("a"); unlink("b");
    pid_t me = getpid();
    pid_t d = child(me, NULL, 7, 0);  // ends at once: a zombie at home when the parent moves
    pid_t a = child(me, "a", 3, 0);
    pid_t b = child(me, "b", 5, 1);   // its own process group
    pid_t c = fork();                 // sleeps until killed
    if (c == 0) { for (;;) pause(); }
    setpgid(b, b);
    siginfo_t info;
    waitid(P_PID, d, &info, WEXITED | WNOWAIT); // d has ended (still a zombie)
    wait_for_file("go");              // the test moves this process now

    memset(&info, 0, sizeof info);
    int w = waitid(P_PID, d, &info, WEXITED | WNOWAIT | WNOHANG);
    printf("waitid(P_PID d, WNOWAIT): %d, pid %s, status %d\n", w, info.si_pid == d ? "d" : "not d", info.si_status);
    int status;
    pid_t r = waitpid(d, &status, WNOHANG);
    printf("waitpid(d, WNOHANG): %s, %s\n", r == d ? "d" : "not d", describe(status));
    r = waitpid(a, &status, WNOHANG);
    printf("waitpid(a, WNOHANG) before a ends: %d\n", (int)r);
    touch("a");
    r = waitpid(a, &status, 0);       // blocks: a ends at home, its SIGCHLD is discarded here
    printf("waitpid(a): %s, %s\n", r == a ? "a" : "not a", describe(status));

    pid_t local = fork();             // a child of its own, wherever the parent runs
    if (local == 0) _exit(9);
    touch("b");
    r = waitpid(-b, &status, 0);      // by process group
    printf("waitpid(-pgid of b): %s, %s\n", r == b ? "b" : "not b", describe(status));

    kill(c, SIGTERM);
    memset(&info, 0, sizeof info);
    w = waitid(P_PID, c, &info, WEXITED);
    printf("waitid(P_PID c): %d, pid %s, code %s, status %d\n", w, info.si_pid == c ? "c" : "not c",
           info.si_code == CLD_KILLED ? "CLD_KILLED" : "other", info.si_status);
    memset(&info, 0, sizeof info);
    w = waitid(P_ALL, 0, &info, WEXITED);
    printf("waitid(P_ALL): %d, pid %s, code %s, status %d\n", w, info.si_pid == local ? "the local child" : "another",
           info.si_code == CLD_EXITED ? "CLD_EXITED" : "other", info.si_status);
    r = wait(&status);
    printf("wait(): %d, %s\n", (int)r, r < 0 && errno == ECHILD ? "ECHILD" : "?");

    // Its stdin stayed home too: select (pselect6) asks there, and its timeout is kept here.
    fd_set in;
    FD_ZERO(&in);
    FD_SET(0, &in);
    struct timeval brief = {0, 300 * 1000};
    printf("select(stdin, 0.3 s) with no input: %d\n", select(1, &in, NULL, NULL, &brief));
    FD_ZERO(&in);
    FD_SET(0, &in);
    struct timeval long_wait = {30, 0};
    int n = select(1, &in, NULL, NULL, &long_wait);
    char line[64] = {0};
    ssize_t got = read(0, line, sizeof line - 1);
    printf("select(stdin, 30 s) once input came: %d, ready %d; read %d: %s", n, FD_ISSET(0, &in) ? 1 : 0, (int)got, line);
    return 0;
}
