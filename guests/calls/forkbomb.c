// A fork bomb, contained: fork until the kernel says no. On Roam a guest may
// have at most 512 live processes (RLIMIT_NPROC), so fork fails with EAGAIN
// and the program cleans up after itself; the host goes on serving.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  signal(SIGTERM, SIG_IGN); // the clean-up below must not end the parent
  int children = 0;
  for (;;) {
    pid_t pid = fork();
    if (pid == 0) {
      signal(SIGTERM, SIG_DFL);
      pause();
      _exit(0);
    }
    if (pid < 0) {
      printf("fork failed after %d children: %s\n", children, strerror(errno));
      break;
    }
    children++;
  }
  kill(0, SIGTERM);
  int reaped = 0, status;
  while (wait(&status) > 0) reaped += WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
  printf("reaped %d children, each ended by SIGTERM\n", reaped);
  return 0;
}
