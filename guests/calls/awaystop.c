// A child that stops and continues while it runs on another host:
// test/e2e/process-tree-migration.test.ts moves the child alone (--children
// home) while it waits for the file "go"; its parent stays home and waits for
// it with WUNTRACED and WCONTINUED, as it would if the child had stayed. The
// child then waits for "go2" (the parent makes it once it saw the child go on,
// so the report of its continuing is not overtaken by its exit). Unmoved (with
// "go" there from the start) it prints the same, as on qemu-riscv32.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void wait_for_file(const char *name) {
    struct timespec tick = {0, 20 * 1000 * 1000};
    while (access(name, F_OK) != 0) nanosleep(&tick, NULL);
}

static const char *describe(int status) {
    static char text[64];
    if (WIFEXITED(status)) snprintf(text, sizeof text, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(text, sizeof text, "killed by %d", WTERMSIG(status));
    else if (WIFSTOPPED(status)) snprintf(text, sizeof text, "stopped by %d", WSTOPSIG(status));
    else if (WIFCONTINUED(status)) snprintf(text, sizeof text, "continued");
    else snprintf(text, sizeof text, "status %#x", status);
    return text;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unlink("go2");
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        wait_for_file("go");   // the test moves this process now
        raise(SIGSTOP);        // its parent at home must see it stopped
        wait_for_file("go2");
        _exit(7);
    }
    int status = 0;
    pid_t r = waitpid(child, &status, WUNTRACED);
    printf("waitpid(WUNTRACED): %s, %s\n", r == child ? "the child" : "another", describe(status));
    kill(child, SIGCONT);
    r = waitpid(child, &status, WCONTINUED);
    printf("waitpid(WCONTINUED): %s, %s\n", r == child ? "the child" : "another", describe(status));
    int fd = open("go2", O_WRONLY | O_CREAT, 0644);
    if (fd < 0) { perror("go2"); return 1; }
    close(fd);
    r = waitpid(child, &status, 0);
    printf("waitpid: %s, %s\n", r == child ? "the child" : "another", describe(status));
    return 0;
}
