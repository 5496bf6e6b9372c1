// A guest mid-exchange on sockets, for the snapshot tests: child A waits in
// accept(2) on a TCP listener, child B waits in read(2) on a socketpair with
// a message of its own still unread by the parent, and the parent waits for
// a line on its terminal ("ready" is printed once all three wait). Then the
// parent finishes both exchanges and reports what its children saw.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, (struct sockaddr *)&a, sizeof a);
    listen(listener, 1);
    socklen_t len = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &len);
    int ready[2];
    pipe(ready);

    pid_t child_a = fork();
    if (child_a == 0) {
        write(ready[1], "a", 1);
        int conn = accept(listener, NULL, NULL);
        char buf[32] = {0};
        int got = 0, n;
        while ((n = read(conn, buf + got, sizeof buf - 1 - got)) > 0) got += n;
        _exit(strcmp(buf, "over tcp") == 0 ? 0 : 1);
    }
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t child_b = fork();
    if (child_b == 0) {
        close(sv[0]);
        write(sv[1], "first;second;", 13);
        char buf[16] = {0};
        int n = read(sv[1], buf, sizeof buf - 1);
        _exit(n == 5 && memcmp(buf, "reply", 5) == 0 ? 0 : 2);
    }
    close(sv[1]);
    char c;
    read(ready[0], &c, 1);
    char buf[16] = {0};
    int n = read(sv[0], buf, 6);
    printf("parent read %d: %s\n", n, buf);
    printf("ready\n");
    char line[16] = {0};
    if (read(0, line, sizeof line - 1) <= 0) return 3;
    n = read(sv[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("parent read %d: %s\n", n, buf);
    write(sv[0], "reply", 5);
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    printf("connect: %d\n", connect(c2, (struct sockaddr *)&a, sizeof a));
    write(c2, "over tcp", 8);
    close(c2);
    printf("child a: %d\n", status_of(child_a));
    printf("child b: %d\n", status_of(child_b));
    return 0;
}
