/* family: a parent, a child and two pipes between them, with a signal handler
 * installed - a guest whose kernel state has every part a snapshot must carry
 * (more than one process, open pipe ends shared by fork, bytes in flight in a
 * pipe, a handler, a child to wait for). The SDK has no fork, so the calls
 * are raw ecalls (guests/sdk/include/roam/linux.h).
 *
 *   parent                                child
 *   block SIGUSR1, install its handler
 *   pipe up, pipe down, fork ------------> writes "child: hello\n" into up,
 *                                          sends SIGUSR1 to its parent,
 *   waits for SIGUSR1 (rt_sigsuspend)      reads down (blocks: nothing yet)
 *   prints "ready: signals 1"
 *   reads a line from stdin (blocks)  <- the freeze point: both wait, the
 *                                         child's hello is still in up
 *   writes the line into down ------------> writes "child: got LINE" into up,
 *   reads up to its end, prints it          exits 7
 *   wait4: prints "child exited 7", then "done: signals 1"; exits 0.
 * Exit status 1 when a call fails (the call is named on stderr). Roam only:
 * riscv32 Linux (and qemu-riscv32) has waitid, not wait4. */
#include <stdint.h>
#include <string.h>
#include <roam.h>

#define SYS_pipe2 59
#define SYS_rt_sigsuspend 133
#define SYS_rt_sigaction 134
#define SYS_clone 220
#define SYS_wait4 260
#define SIGUSR1 10
#define SIGCHLD 17
#define SIG_BLOCK 0

struct ksigaction { /* musl riscv32's k_sigaction: handler, flags, restorer, mask (two words, so at offset 12) */
    void (*handler)(int);
    uint32_t flags;
    void (*restorer)(void);
    uint32_t mask[2];
};

static volatile int signals;

static void on_usr1(int sig)
{
    (void)sig;
    signals++;
}

static long check(long r, const char *what)
{
    if (roam_is_err(r)) {
        sys_write(2, "family: ", 8);
        sys_write(2, what, strlen(what));
        sys_write(2, " failed\n", 8);
        roam_syscall1(SYS_exit_group, 1);
    }
    return r;
}

static void say(const char *s)
{
    check(sys_write(1, s, strlen(s)), "write stdout");
}

static void say_number(long n)
{
    char digits[12];
    int at = sizeof digits;
    do {
        digits[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    check(sys_write(1, digits + at, sizeof digits - at), "write stdout");
}

static void child(int up, int down)
{
    char line[64];
    check(sys_write(up, "child: hello\n", 13), "write up");
    check(roam_syscall2(SYS_kill, roam_syscall0(SYS_getppid), SIGUSR1), "kill");
    long n = check(sys_read(down, line, sizeof line), "read down");
    check(sys_write(up, "child: got ", 11), "write up");
    check(sys_write(up, line, n), "write up");
    roam_syscall1(SYS_exit_group, 7);
}

int main(void)
{
    uint64_t usr1 = 1ull << (SIGUSR1 - 1), none = 0;
    struct ksigaction act = { on_usr1, 0, 0, { 0, 0 } };
    int up[2], down[2];
    check(roam_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, 0, 8), "rt_sigprocmask");
    check(roam_syscall4(SYS_rt_sigaction, SIGUSR1, &act, 0, 8), "rt_sigaction");
    check(roam_syscall2(SYS_pipe2, up, 0), "pipe2 up");
    check(roam_syscall2(SYS_pipe2, down, 0), "pipe2 down");
    long pid = check(roam_syscall5(SYS_clone, SIGCHLD, 0, 0, 0, 0), "clone");
    if (pid == 0) {
        sys_close(up[0]);
        sys_close(down[1]);
        child(up[1], down[0]);
    }
    sys_close(up[1]);
    sys_close(down[0]);
    while (signals == 0)
        roam_syscall2(SYS_rt_sigsuspend, &none, 8); /* returns -EINTR once the handler ran */
    say("ready: signals ");
    say_number(signals);
    say("\n");

    char line[64], buf[128];
    long n = check(sys_read(0, line, sizeof line), "read stdin");
    check(sys_write(down[1], line, n), "write down");
    sys_close(down[1]);
    while ((n = check(sys_read(up[0], buf, sizeof buf), "read up")) > 0)
        check(sys_write(1, buf, n), "write stdout");

    int status = 0;
    if (check(roam_syscall4(SYS_wait4, pid, &status, 0, 0), "wait4") != pid)
        check(-1, "wait4 for the child");
    say("child exited ");
    say_number((status >> 8) & 0xff);
    say("\ndone: signals ");
    say_number(signals);
    say("\n");
    return 0;
}
