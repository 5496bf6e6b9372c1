// The terminal as a program sees it (termios(3), tcgetpgrp(3), ioctl_tty(2)): its settings, editing keys, end of
// file, raw mode, poll and FIONREAD, Ctrl-C and Ctrl-Z from the keyboard, and job control: a background group that
// reads gets SIGTTIN (EIO when it ignores it), one that writes with TOSTOP set gets SIGTTOU, and a group the terminal
// is given to reads. Run on a pseudo-terminal (script(1)): the test types each step's keys when the program says
// "ready N", and qemu-riscv32's run on one is the oracle.
#define _GNU_SOURCE // ppoll
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void show(const char *what, const char *buf, ssize_t n) {
    printf("%s %zd:", what, n);
    for (ssize_t i = 0; i < n; i++) printf(" %02x", (unsigned char)buf[i]);
    printf("\n");
}

static void read_step(int step) {
    char buf[256];
    printf("ready %d\n", step);
    ssize_t n = read(0, buf, sizeof buf);
    show("read", buf, n);
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

static const char *how_it_stopped(pid_t child) {
    int status;
    if (waitpid(child, &status, WUNTRACED) != child) return "waitpid failed";
    static char text[64];
    if (WIFSTOPPED(status)) snprintf(text, sizeof text, "stopped by %s", strsignal(WSTOPSIG(status)));
    else if (WIFEXITED(status)) snprintf(text, sizeof text, "exited %d", WEXITSTATUS(status));
    else snprintf(text, sizeof text, "killed by %s", strsignal(WTERMSIG(status)));
    return text;
}

static void end_child(pid_t child) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct termios cooked;
    printf("isatty %d %d %d\n", isatty(0), isatty(1), isatty(2));
    if (tcgetattr(0, &cooked) != 0) { printf("tcgetattr: %s\n", strerror(errno)); return 1; }
    printf("icanon %d echo %d isig %d icrnl %d tostop %d\n", !!(cooked.c_lflag & ICANON), !!(cooked.c_lflag & ECHO),
           !!(cooked.c_lflag & ISIG), !!(cooked.c_iflag & ICRNL), !!(cooked.c_lflag & TOSTOP));
    printf("intr %d quit %d erase %d kill %d eof %d susp %d min %d\n", cooked.c_cc[VINTR], cooked.c_cc[VQUIT],
           cooked.c_cc[VERASE], cooked.c_cc[VKILL], cooked.c_cc[VEOF], cooked.c_cc[VSUSP], cooked.c_cc[VMIN]);
    printf("foreground is my group %d, session is mine %d\n", tcgetpgrp(0) == getpgrp(), tcgetsid(0) == getsid(0));

    read_step(1); // "ab<DEL>c\r": erase
    read_step(2); // "junk^Uhello wor^Wworld\r": kill, word erase
    read_step(3); // "^D": end of file

    struct termios raw = cooked;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &raw);
    printf("ready 4\n"); // "xyz": no echo, each key readable
    char keys[3];
    size_t got = 0;
    while (got < 3) {
        ssize_t n = read(0, keys + got, 3 - got);
        if (n <= 0) break;
        got += n;
    }
    show("raw", keys, got);
    tcsetattr(0, TCSANOW, &cooked);

    printf("ready 5\n"); // "abc\r": poll says readable once the line ends; FIONREAD counts it
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int ready = poll(&p, 1, -1);
    int queued = -1;
    ioctl(0, FIONREAD, &queued);
    printf("poll %d revents %d FIONREAD %d\n", ready, p.revents, queued);
    char line[64];
    show("read", line, read(0, line, sizeof line));

    // Ctrl-C: SIGINT caught. Blocked until the wait, which unblocks it as it begins (ppoll), so a key typed before the
    // wait is not lost: the wait then fails with EINTR at once.
    struct sigaction sa = {.sa_handler = on_sigint};
    sigaction(SIGINT, &sa, NULL);
    sigset_t block, before;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &before);
    printf("ready 6\n"); // "^C"
    struct pollfd wait_keys = {.fd = 0, .events = POLLIN};
    int r = ppoll(&wait_keys, 1, NULL, &before);
    printf("ppoll %d (%s), SIGINT caught %d\n", r, r < 0 ? strerror(errno) : "-", interrupted);
    sigprocmask(SIG_SETMASK, &before, NULL);

    // A background group reading: SIGTTIN stops it.
    pid_t child = fork();
    if (child == 0) { setpgid(0, 0); read(0, line, 1); _exit(0); }
    setpgid(child, child);
    printf("background read: %s\n", how_it_stopped(child));
    end_child(child);

    // The same with SIGTTIN ignored: "read(2) fails with the error EIO".
    child = fork();
    if (child == 0) {
        setpgid(0, 0);
        signal(SIGTTIN, SIG_IGN);
        _exit(read(0, line, 1) < 0 && errno == EIO ? 5 : 6);
    }
    setpgid(child, child);
    printf("background read, SIGTTIN ignored: %s\n", how_it_stopped(child));

    // TOSTOP: a background group writing gets SIGTTOU.
    struct termios tostop = cooked;
    tostop.c_lflag |= TOSTOP;
    tcsetattr(0, TCSANOW, &tostop);
    child = fork();
    if (child == 0) { setpgid(0, 0); write(1, "x", 1); _exit(0); }
    setpgid(child, child);
    printf("background write with TOSTOP: %s\n", how_it_stopped(child));
    end_child(child);
    tcsetattr(0, TCSANOW, &cooked);

    // The terminal given to a child's group: it reads; the shell's way back needs SIGTTOU ignored.
    signal(SIGTTOU, SIG_IGN);
    int go[2];
    pipe(go);
    child = fork();
    if (child == 0) {
        setpgid(0, 0);
        char c;
        read(go[0], &c, 1);
        printf("child foreground %d\n", tcgetpgrp(0) == getpgrp());
        read_step(7); // "child line\r"
        _exit(0);
    }
    setpgid(child, child);
    printf("tcsetpgrp to the child: %d\n", tcsetpgrp(0, child));
    write(go[1], "g", 1);
    printf("child: %s\n", how_it_stopped(child));
    printf("tcsetpgrp back: %d, foreground is mine %d\n", tcsetpgrp(0, getpgrp()), tcgetpgrp(0) == getpgrp());

    // Ctrl-Z for a foreground child: SIGTSTP stops it.
    child = fork();
    if (child == 0) {
        setpgid(0, 0);
        char c;
        read(go[0], &c, 1);
        printf("ready 8\n"); // "^Z"
        for (;;) pause();
    }
    setpgid(child, child);
    tcsetpgrp(0, child);
    write(go[1], "g", 1);
    printf("Ctrl-Z: %s\n", how_it_stopped(child));
    tcsetpgrp(0, getpgrp());
    end_child(child);

    errno = 0;
    printf("tcsetpgrp to no group: %d (%s)\n", tcsetpgrp(0, 999999), strerror(errno));
    struct termios none;
    errno = 0;
    printf("tcgetattr of a pipe: %d (%s)\n", tcgetattr(go[0], &none), strerror(errno));
    printf("done\n");
    return 0;
}
