// Processes, pipes and signals as Linux gives them, checked line by line
// against qemu-riscv32 (test/kernel/processes.test.ts): fork with
// copy-on-write memory, pipes (EOF, EPIPE and SIGPIPE, O_NONBLOCK), wait
// statuses, posix_spawn (vfork), execve's errors, dup2/fcntl and close-on-exec,
// handlers with SA_RESTART and without, masks and pending signals, the
// alternate stack, process groups, ppoll and pselect, abort, and EFAULT for
// wild pointers. It prints no pids or times: the output is the same anywhere.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static volatile int counter = 1;
static volatile sig_atomic_t got;

static void say(const char *what, long value) { printf("%s: %ld\n", what, value); fflush(stdout); }
static void errno_of(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); fflush(stdout); }
static void on_signal(int sig) { got = sig; }

static void status_of(const char *what, int status) {
  if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) printf("%s: killed by %d%s\n", what, WTERMSIG(status), WCOREDUMP(status) ? " (core)" : "");
  else if (WIFSTOPPED(status)) printf("%s: stopped by %d\n", what, WSTOPSIG(status));
  fflush(stdout);
}

static void fork_and_memory(void) {
  pid_t child = fork();
  if (child == 0) { counter = 42; say("child sees its own write", counter); _exit(7); }
  int status;
  waitpid(child, &status, 0);
  say("parent still sees", counter);
  status_of("child", status);
  errno_of("waitpid with no children left", waitpid(-1, &status, WNOHANG));
}

static void pipes(void) {
  int fds[2];
  pipe(fds);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    for (int i = 0; i < 3; i++) dprintf(fds[1], "line %d\n", i);
    _exit(0);
  }
  close(fds[1]);
  char buf[256];
  size_t total = 0;
  ssize_t n;
  while ((n = read(fds[0], buf + total, sizeof buf - 1 - total)) > 0) total += n;
  buf[total] = 0;
  printf("read through the pipe, then EOF (%zd): %s", n, buf);
  waitpid(child, NULL, 0);
  close(fds[0]);

  // No reader: EPIPE, and SIGPIPE (ignored here, then by default in a child).
  pipe(fds);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  errno_of("write with no reader", write(fds[1], "x", 1));
  signal(SIGPIPE, SIG_DFL);
  child = fork();
  if (child == 0) { write(fds[1], "x", 1); _exit(0); }
  int status;
  waitpid(child, &status, 0);
  status_of("a child writing with no reader", status);
  close(fds[1]);

  // Non-blocking: EAGAIN when empty, and when full; the capacity is 64 KiB.
  pipe2(fds, O_NONBLOCK);
  errno_of("read of an empty non-blocking pipe", read(fds[0], buf, 1));
  static char block[4096];
  long written = 0;
  while ((n = write(fds[1], block, sizeof block)) > 0) written += n;
  printf("a pipe holds %ld bytes, then: %s\n", written, strerror(errno));
  say("fcntl F_GETFL has O_NONBLOCK", (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0);
  close(fds[0]);
  close(fds[1]);
}

static void spawn_and_exec(void) {
  pid_t pid;
  char *argv[] = {"nothing-here", NULL};
  int r = posix_spawn(&pid, "/no/such/program", NULL, NULL, argv, environ);
  printf("posix_spawn of a missing program: %s\n", strerror(r));
  int fd = open("not-a-program.txt", O_WRONLY | O_CREAT | O_TRUNC, 0755);
  write(fd, "just text\n", 10);
  close(fd);
  errno_of("execve of a text file", execve("./not-a-program.txt", argv, environ));
  fd = open("not-executable", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  close(fd);
  errno_of("execve without execute permission", execve("./not-executable", argv, environ));
  errno_of("execve of a directory", execve(".", argv, environ));
  errno_of("execve of a missing file", execve("./missing", argv, environ));
  unlink("not-a-program.txt");
  unlink("not-executable");
}

static void descriptors(void) {
  int fd = open("dup.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  int copy = dup(fd);
  write(fd, "abc", 3);
  say("a dup shares the offset", lseek(copy, 0, SEEK_CUR));
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
  say("F_DUPFD_CLOEXEC gives at least 100", high >= 100);
  say("and FD_CLOEXEC is set", fcntl(high, F_GETFD) & FD_CLOEXEC);
  say("dup2 onto an open fd", dup2(fd, copy) == copy);
  errno_of("dup3 onto itself", dup3(fd, fd, 0));
  errno_of("dup of a closed fd", dup(999));
  pid_t child = fork();
  if (child == 0) { write(copy, "def", 3); _exit(0); }
  waitpid(child, NULL, 0);
  say("a child's write moves the shared offset", lseek(fd, 0, SEEK_CUR));
  close(high);
  close(copy);
  close(fd);
  unlink("dup.txt");
}

static void signals(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  say("a handler ran for", got);

  sigset_t block, pending, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  signal(SIGUSR2, on_signal);
  sigprocmask(SIG_BLOCK, &block, &old);
  got = 0;
  kill(getpid(), SIGUSR2);
  sigpending(&pending);
  say("blocked: pending, not delivered", sigismember(&pending, SIGUSR2) * 10 + got);
  sigprocmask(SIG_SETMASK, &old, NULL);
  say("unblocked: delivered", got);

  // A signal interrupts a read: EINTR without SA_RESTART (the child signals until the parent says it saw EINTR);
  // with SA_RESTART the read goes on, and returns the data the child writes after its signal.
  {
    int data[2], ack[2];
    pipe(data);
    pipe(ack);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
      struct pollfd p = {.fd = ack[0], .events = POLLIN};
      do kill(parent, SIGUSR1); while (poll(&p, 1, 5) == 0);
      _exit(0);
    }
    char c;
    ssize_t n;
    while ((n = read(data[0], &c, 1)) != -1 || errno != EINTR) {}
    printf("no SA_RESTART: read gave %zd (%s)\n", n, strerror(errno));
    write(ack[1], "k", 1);
    waitpid(child, NULL, 0);
    close(data[0]); close(data[1]); close(ack[0]); close(ack[1]);

    pipe(data);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    got = 0;
    child = fork();
    if (child == 0) {
      close(data[0]);
      kill(parent, SIGUSR1);
      write(data[1], "z", 1);
      _exit(0);
    }
    close(data[1]);
    n = read(data[0], &c, 1);
    printf("SA_RESTART: read gave %zd (%c), the handler had run: %d\n", n, c, got);
    fflush(stdout);
    waitpid(child, NULL, 0);
    close(data[0]);
  }

  // The alternate stack.
  static char alt[16384];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  errno_of("sigaltstack", sigaltstack(&ss, NULL));
  stack_t small = {.ss_sp = alt, .ss_size = 100, .ss_flags = 0};
  errno_of("sigaltstack too small", sigaltstack(&small, NULL));
  errno_of("sigaction of SIGKILL", sigaction(SIGKILL, &sa, NULL));

  // Statuses: killed, abort, stopped and continued.
  pid_t child = fork();
  if (child == 0) { pause(); _exit(0); }
  kill(child, SIGTERM);
  int status;
  waitpid(child, &status, 0);
  status_of("SIGTERM", status);
  child = fork();
  if (child == 0) abort();
  waitpid(child, &status, 0);
  status_of("abort()", status);
  child = fork();
  if (child == 0) { for (;;) pause(); }
  kill(child, SIGSTOP);
  waitpid(child, &status, WUNTRACED);
  status_of("SIGSTOP", status);
  kill(child, SIGCONT);
  waitpid(child, &status, WCONTINUED);
  say("continued", WIFCONTINUED(status));
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  status_of("SIGKILL", status);
  errno_of("kill of no such process", kill(999999, 0));
}

static void groups(void) {
  pid_t child = fork();
  if (child == 0) {
    say("a child is in its parent's group", getpgid(0) == getpgid(getppid()));
    say("setpgid(0, 0) makes its own", setpgid(0, 0) == 0 && getpgid(0) == getpid());
    say("setsid in a group leader fails", setsid() < 0 && errno == EPERM);
    _exit(0);
  }
  waitpid(child, NULL, 0);
}

static void waiting(void) {
  int fds[2];
  pipe(fds);
  struct pollfd p = {.fd = fds[0], .events = POLLIN};
  say("poll of an empty pipe with a 10 ms timeout", poll(&p, 1, 10));
  write(fds[1], "a", 1);
  say("poll after a write", poll(&p, 1, 1000) * 100 + (p.revents & POLLIN));
  close(fds[1]);
  char c;
  read(fds[0], &c, 1);
  poll(&p, 1, 0);
  say("POLLHUP when the writers are gone", (p.revents & POLLHUP) != 0);
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(fds[0], &readable);
  struct timeval tv = {0, 0};
  say("select sees EOF as readable", select(fds[0] + 1, &readable, NULL, NULL, &tv));
  close(fds[0]);
  struct timespec t = {0, 5000000};
  say("nanosleep 5 ms", nanosleep(&t, NULL));
}

static void wild_pointers(void) {
  errno_of("pipe2 into a wild pointer", syscall(SYS_pipe2, (void *)16, 0));
  errno_of("rt_sigaction from a wild pointer", syscall(SYS_rt_sigaction, SIGUSR1, (void *)16, NULL, 8));
  errno_of("rt_sigprocmask from a wild pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)16, NULL, 8));
  errno_of("waitid into a wild pointer", syscall(SYS_waitid, P_ALL, 0, (void *)16, WEXITED | WNOHANG, NULL));
  errno_of("execve of a wild path", syscall(SYS_execve, (void *)16, NULL, NULL));
  errno_of("ppoll of wild fds", syscall(SYS_ppoll_time64, (void *)16, 1, NULL, NULL, 8));
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "exec") == 0) {
    // Only on Roam (qemu-user hands an execve to the host, which may run another architecture's program).
    char *args[] = {argv[2], NULL};
    errno_of("execve", execve(argv[2], args, environ));
    return 0;
  }
  fork_and_memory();
  pipes();
  spawn_and_exec();
  descriptors();
  signals();
  groups();
  waiting();
  wild_pointers();
  say("done", 0);
  return 0;
}
