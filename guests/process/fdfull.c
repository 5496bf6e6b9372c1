/* fdfull: pipe2 with a full descriptor table - fails with EMFILE when no
 * descriptor is free, and when only one is (the read end would fit, the write
 * end not) - then waits for a line on stdin with the table as full as it was.
 * A snapshot then must hold only descriptions that a descriptor refers to.
 * Prints "emfile: none free, one free" then "ready"; on a line, closes one
 * descriptor, makes a pipe, sends the line through it and prints it. Raw ecalls. */
#include <string.h>
#include <roam.h>

#define SYS_dup 23
#define SYS_pipe2 59
#define LINUX_EMFILE 24

static void say(const char *s) { sys_write(1, s, strlen(s)); }

int main(void)
{
    int fds[2], last = -1;
    long r;
    while ((r = roam_syscall1(SYS_dup, 0)) >= 0)
        last = (int)r;
    if (r != -LINUX_EMFILE || last < 0) return 1;
    long none = roam_syscall2(SYS_pipe2, fds, 0);
    sys_close(last);
    long one = roam_syscall2(SYS_pipe2, fds, 0);
    if (none != -LINUX_EMFILE || one != -LINUX_EMFILE) return 2;
    say("emfile: none free, one free\nready\n");
    char line[64];
    long n = sys_read(0, line, sizeof line);
    if (n <= 0) return 3;
    sys_close(last - 1);
    if (roam_syscall2(SYS_pipe2, fds, 0) < 0) return 4;
    sys_write(fds[1], line, n);
    n = sys_read(fds[0], line, sizeof line);
    say("through a pipe: ");
    sys_write(1, line, n);
    return 0;
}
