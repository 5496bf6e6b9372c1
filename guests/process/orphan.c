/* orphan: a vfork child whose parent is killed while it still borrows the
 * parent's address space - the kernel state where a process runs on the space
 * of a process that has ended. Raw ecalls (the SDK has no fork).
 *
 *   first process: pipe, fork a middle process, wait for a line on the pipe
 *   middle: vfork a grandchild (suspended until it execs or exits)
 *   grandchild, on the middle's space: SIGKILL to the middle, prints
 *     "ready", reads a line from stdin (the freeze point), writes it into the
 *     pipe, exits 0
 *   first process: prints "first: got LINE", reaps the middle ("middle killed
 *     by signal 9") and exits 0.
 * Roam only (wait4; riscv32 Linux has waitid). */
#include <stdint.h>
#include <string.h>
#include <roam.h>

#define SYS_pipe2 59
#define SYS_clone 220
#define SYS_wait4 260
#define SIGKILL 9
#define SIGCHLD 17
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000

static long check(long r, const char *what)
{
    if (roam_is_err(r)) {
        sys_write(2, "orphan: ", 8);
        sys_write(2, what, strlen(what));
        sys_write(2, " failed\n", 8);
        roam_syscall1(SYS_exit_group, 1);
    }
    return r;
}

static void say(const char *s) { check(sys_write(1, s, strlen(s)), "write stdout"); }

int main(void)
{
    int pipe[2];
    check(roam_syscall2(SYS_pipe2, pipe, 0), "pipe2");
    long middle = check(roam_syscall5(SYS_clone, SIGCHLD, 0, 0, 0, 0), "fork");
    if (middle == 0) {
        long grandchild = roam_syscall5(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
        if (grandchild == 0) {
            /* On the middle's space and stack: no return from here, only calls. */
            char line[64];
            check(roam_syscall2(SYS_kill, roam_syscall0(SYS_getppid), SIGKILL), "kill");
            say("ready\n");
            long n = check(sys_read(0, line, sizeof line), "read stdin");
            check(sys_write(pipe[1], line, n), "write pipe");
            roam_syscall1(SYS_exit, 0);
        }
        roam_syscall1(SYS_exit, 3); /* not reached: killed while suspended */
    }
    sys_close(pipe[1]);
    char line[64];
    long n = check(sys_read(pipe[0], line, sizeof line), "read pipe");
    say("first: got ");
    check(sys_write(1, line, n), "write stdout");
    int status = 0;
    if (check(roam_syscall4(SYS_wait4, middle, &status, 0, 0), "wait4") != middle)
        check(-1, "wait4 for the middle");
    say((status & 0x7f) == SIGKILL ? "middle killed by signal 9\n" : "middle not killed\n");
    return 0;
}
