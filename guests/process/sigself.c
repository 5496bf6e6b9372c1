/* sigself: waits for a line on stdin, then installs a SIGUSR1 handler (no
 * SA_RESTORER: it returns through the kernel's sigreturn trampoline), sends
 * itself SIGUSR1 and prints how often the handler ran. One process, no pipes:
 * a guest a version-1 snapshot (from before signal handlers) can hold.
 * Prints "ready", then "handled 1" and exits 0. Raw ecalls. */
#include <stdint.h>
#include <string.h>
#include <roam.h>

#define SYS_rt_sigaction 134
#define SIGUSR1 10

struct ksigaction { void (*handler)(int); uint32_t flags; void (*restorer)(void); uint32_t mask[2]; };

static volatile int handled;
static void on_usr1(int sig) { (void)sig; handled++; }
static void say(const char *s) { sys_write(1, s, strlen(s)); }

int main(void)
{
    char line[64];
    say("ready\n");
    if (sys_read(0, line, sizeof line) <= 0) return 1;
    struct ksigaction act = { on_usr1, 0, 0, { 0, 0 } };
    if (roam_syscall4(SYS_rt_sigaction, SIGUSR1, &act, 0, 8) != 0) return 2;
    if (roam_syscall2(SYS_kill, roam_syscall0(SYS_getpid), SIGUSR1) != 0) return 3;
    say(handled == 1 ? "handled 1\n" : "not handled\n");
    return 0;
}
