// AF_UNIX sockets inside one guest: socketpair of each type, path and
// abstract names with a forked server and client, datagrams with their
// sender's address, and each error path Linux gives. Only the parent prints
// (after waiting for its child), so the output is the same on every run;
// abstract names carry the pid so that runs on one host never meet.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
    if (r < 0) printf("%s: %s\n", what, strerror(errno));
    else printf("%s: %ld\n", what, r);
}
#define SHOW(expr) show(#expr, (long)(expr))

// A pointer the compiler cannot see is wild: the kernel must answer EFAULT.
static void *volatile wild = (void *)0x10;
static int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static socklen_t path_address(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_address(struct sockaddr_un *a, const char *name) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "roam-%d-%s", (int)getpid(), name);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void waited(pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    printf("child: %s %d\n", WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void pair_stream(void) {
    puts("-- socketpair SOCK_STREAM");
    int sv[2];
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    char buf[64] = {0};
    SHOW(write(sv[0], "hello", 5));
    SHOW(recv(sv[1], buf, sizeof buf, MSG_PEEK));
    SHOW(read(sv[1], buf, sizeof buf));
    printf("read: %.5s\n", buf);
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    struct stat st;
    SHOW(fstat(sv[0], &st));
    printf("S_ISSOCK: %d\n", S_ISSOCK(st.st_mode));
    SHOW(lseek(sv[0], 0, SEEK_SET));
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    SHOW(getsockname(sv[0], (struct sockaddr *)&a, &len));
    printf("family %d len %d\n", a.sun_family, (int)len);
    len = sizeof a;
    SHOW(getpeername(sv[0], (struct sockaddr *)&a, &len));
    SHOW(fcntl(sv[1], F_SETFL, O_NONBLOCK));
    SHOW(read(sv[1], buf, sizeof buf));
    SHOW(shutdown(sv[0], SHUT_WR));
    SHOW(read(sv[1], buf, sizeof buf));
    SHOW(write(sv[0], "x", 1));
    printf("sigpipes: %d\n", sigpipes);
    SHOW(send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("sigpipes: %d\n", sigpipes);
    SHOW(shutdown(sv[0], 7));
    close(sv[0]);
    close(sv[1]);

    SHOW(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    printf("nonblock %d cloexec %d\n", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0, fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
    SHOW(write(sv[1], "unread", 6));
    SHOW(write(sv[0], "left", 4));
    close(sv[1]); // with "left" unread: the peer is reset
    SHOW(read(sv[0], buf, sizeof buf));
    SHOW(read(sv[0], buf, sizeof buf));
    SHOW(read(sv[0], buf, sizeof buf));
    SHOW(write(sv[0], "x", 1));
    close(sv[0]);
}

static void pair_records(int type, const char *name) {
    printf("-- socketpair %s\n", name);
    int sv[2];
    SHOW(socketpair(AF_UNIX, type, 0, sv));
    SHOW(send(sv[0], "first", 5, 0));
    SHOW(send(sv[0], "second", 6, 0));
    SHOW(send(sv[0], "", 0, 0));
    char buf[16] = {0};
    SHOW(recv(sv[1], buf, 3, 0));
    printf("got %.3s\n", buf);
    struct iovec iov[2] = {{buf, 2}, {buf + 8, 2}};
    struct msghdr m = {0};
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    SHOW(recvmsg(sv[1], &m, 0));
    printf("got %.2s%.2s flags %s\n", buf, buf + 8, m.msg_flags & MSG_TRUNC ? "MSG_TRUNC" : "0");
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    close(sv[0]);
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    close(sv[1]);
}

/** A server on `addr`; a forked client sends three lines and reads one answer. */
static void client_server(int type, struct sockaddr_un *addr, socklen_t len) {
    int server = socket(AF_UNIX, type, 0);
    SHOW(bind(server, (struct sockaddr *)addr, len));
    SHOW(listen(server, 4));
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_UNIX, type, 0);
        if (connect(c, (struct sockaddr *)addr, len) < 0) _exit(10);
        for (int i = 1; i <= 3; i++) {
            char line[32];
            int n = snprintf(line, sizeof line, "ping %d\n", i);
            if (write(c, line, n) != n) _exit(11);
        }
        char answer[32] = {0};
        if (read(c, answer, sizeof answer) != 5 || memcmp(answer, "pong\n", 5)) _exit(12);
        _exit(0);
    }
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    int conn = accept(server, (struct sockaddr *)&peer, &plen);
    show("accept", conn);
    printf("peer address length %d\n", (int)plen);
    char buf[64];
    int got = 0;
    while (got < 21) {
        int n = read(conn, buf + got, sizeof buf - got);
        if (n <= 0) break;
        got += n;
    }
    printf("server read %d bytes: %.7s|%.7s|%.7s", got, buf, buf + 7, buf + 14);
    SHOW(write(conn, "pong\n", 5));
    waited(pid);
    close(conn);
    close(server);
}

static void path_names(void) {
    puts("-- path names");
    struct sockaddr_un a, b;
    socklen_t len = path_address(&a, "srv.sock");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(bind(s, (struct sockaddr *)&a, len));
    struct stat st;
    SHOW(stat("srv.sock", &st));
    printf("S_ISSOCK: %d\n", S_ISSOCK(st.st_mode));
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(bind(t, (struct sockaddr *)&a, len));
    SHOW(bind(s, (struct sockaddr *)&b, path_address(&b, "other.sock")));
    socklen_t glen = sizeof b;
    SHOW(getsockname(s, (struct sockaddr *)&b, &glen));
    printf("bound to %s (length %d)\n", b.sun_path, (int)glen);
    SHOW(connect(t, (struct sockaddr *)&a, len)); // bound, not listening
    SHOW(connect(t, (struct sockaddr *)&b, path_address(&b, "nosuch.sock")));
    close(open("plain", O_CREAT | O_WRONLY, 0644));
    SHOW(connect(t, (struct sockaddr *)&b, path_address(&b, "plain")));
    close(s);
    close(t);
    SHOW(unlink("srv.sock"));
    client_server(SOCK_STREAM, &a, len);
    SHOW(unlink("srv.sock"));
    client_server(SOCK_SEQPACKET, &a, len);
    SHOW(access("srv.sock", F_OK));
}

static void abstract_names(void) {
    puts("-- abstract names");
    struct sockaddr_un a, b;
    socklen_t len = abstract_address(&a, "stream");
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(t, (struct sockaddr *)&a, len));
    client_server(SOCK_STREAM, &a, len);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(bind(s, (struct sockaddr *)&a, len)); // free again once its socket closed
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(bind(d, (struct sockaddr *)&a, len));
    SHOW(listen(s, 1));
    SHOW(connect(d, (struct sockaddr *)&a, len)); // a stream's name
    socklen_t glen = sizeof b;
    SHOW(getsockname(s, (struct sockaddr *)&b, &glen));
    printf("abstract: %d (length matches %d)\n", b.sun_path[0] == 0, glen == len);
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(bind(u, (struct sockaddr *)&b, sizeof(sa_family_t))); // autobind
    glen = sizeof b;
    SHOW(getsockname(u, (struct sockaddr *)&b, &glen));
    printf("autobind length %d\n", (int)glen);
    close(s);
    close(d);
    close(t);
    close(u);
}

static void datagrams(void) {
    puts("-- datagrams");
    struct sockaddr_un a, b, from;
    socklen_t alen = path_address(&a, "dgram.sock");
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(bind(r, (struct sockaddr *)&a, alen));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(send(s, "x", 1, 0));
    SHOW(bind(s, (struct sockaddr *)&b, path_address(&b, "sender.sock")));
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++) if (sendto(s, "datagram", 4 + i, 0, (struct sockaddr *)&a, alen) < 0) _exit(1);
        _exit(0);
    }
    char buf[32];
    for (int i = 0; i < 3; i++) {
        socklen_t flen = sizeof from;
        int n = recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        printf("recvfrom: %d %.*s from %s\n", n, n, buf, from.sun_path);
    }
    waited(pid);
    SHOW(connect(s, (struct sockaddr *)&a, alen));
    SHOW(send(s, "connected", 9, 0));
    SHOW(recv(r, buf, sizeof buf, 0));
    SHOW(sendto(s, "x", 1, 0, (struct sockaddr *)&b, abstract_address(&b, "nobody")));
    static char big[300000];
    memset(big, 'b', sizeof big);
    SHOW(send(s, big, sizeof big, 0));
    SHOW(listen(r, 1));
    SHOW(accept(r, NULL, NULL));
    close(r);
    SHOW(send(s, "x", 1, 0)); // the socket it connected to has gone
    close(s);
}

static void errors(void) {
    puts("-- errors");
    SHOW(socket(AF_UNIX, 4, 0));
    SHOW(socket(AF_UNIX, SOCK_STREAM, 5));
    SHOW(socket(12345, SOCK_STREAM, 0));
    int raw = socket(AF_UNIX, SOCK_RAW, 0);
    int type = 0;
    socklen_t tl = sizeof type;
    SHOW(getsockopt(raw, SOL_SOCKET, SO_TYPE, &type, &tl));
    printf("SOCK_RAW is type %d\n", type);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    SHOW(bind(s, (struct sockaddr *)wild, sizeof a));
    SHOW(bind(s, (struct sockaddr *)&a, 1));
    SHOW(bind(s, (struct sockaddr *)&a, 200));
    a.sun_family = AF_INET;
    SHOW(bind(s, (struct sockaddr *)&a, sizeof a));
    int file = open("not-a-socket", O_CREAT | O_WRONLY, 0644);
    SHOW(bind(file, (struct sockaddr *)&a, sizeof a));
    close(file);
    SHOW(bind(99, (struct sockaddr *)&a, sizeof a));
    SHOW(listen(s, 1));
    char c;
    SHOW(read(s, &c, 1));
    SHOW(accept(s, NULL, NULL));
    SHOW(accept4(s, NULL, NULL, 1));
    socklen_t len = sizeof a;
    SHOW(getpeername(s, (struct sockaddr *)&a, &len));
    SHOW(shutdown(s, SHUT_RDWR));
    SHOW(socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)wild));
    int v = 65536;
    SHOW(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    len = sizeof v;
    SHOW(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len));
    printf("SO_RCVBUF %d\n", v);
    v = 7;
    SHOW(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    SHOW(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &len));
    printf("SO_REUSEADDR %d\n", v);
    SHOW(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len));
    printf("SO_ERROR %d\n", v);
    SHOW(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    SHOW(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v));
    SHOW(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof v));
    SHOW(setsockopt(s, 6, 1, &v, sizeof v)); // TCP_NODELAY on AF_UNIX
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct sockaddr_un b;
    SHOW(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&b, abstract_address(&b, "any")));
    SHOW(send(s, "x", 1, 0));
    SHOW(connect(s, (struct sockaddr *)&b, len));
    close(raw);
    close(s);
    close(sv[0]);
    close(sv[1]);
}

static int revents(int fd, short events) {
    struct pollfd p = {fd, events, 0};
    int n = poll(&p, 1, 0);
    return n < 0 ? -1 : p.revents;
}

static void polling(void) {
    puts("-- poll and SIGPIPE");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("idle %#x\n", revents(sv[0], POLLIN | POLLOUT));
    write(sv[1], "x", 1);
    printf("data %#x\n", revents(sv[0], POLLIN | POLLOUT));
    shutdown(sv[1], SHUT_WR);
    printf("peer shut its side %#x\n", revents(sv[0], POLLIN | POLLOUT));
    close(sv[1]);
    printf("peer closed %#x\n", revents(sv[0], POLLIN | POLLOUT));
    int unconnected = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("unconnected %#x\n", revents(unconnected, POLLIN | POLLOUT));
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(sv[0], "x", 1);
        _exit(0);
    }
    waited(pid);
    struct sockaddr_un a;
    socklen_t len = abstract_address(&a, "poll");
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    bind(listener, (struct sockaddr *)&a, len);
    listen(listener, 2);
    printf("listener %#x\n", revents(listener, POLLIN | POLLOUT));
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW(connect(c, (struct sockaddr *)&a, len));
    printf("listener with a connection %#x\n", revents(listener, POLLIN | POLLOUT));
    int conn = accept(listener, NULL, NULL);
    printf("accepted %d, listener %#x\n", conn >= 0, revents(listener, POLLIN | POLLOUT));
    close(conn);
    close(c);
    close(listener);
    close(unconnected);
    close(sv[0]);
}

static void timeouts(void) {
    puts("-- timeouts");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct timeval tv = {0, 30000};
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    // (getsockopt of it is left to the unit tests: qemu-riscv32 answers SO_RCVTIMEO_NEW with 4 bytes.)
    char c;
    SHOW(read(sv[0], &c, 1));
    write(sv[1], "y", 1);
    SHOW(read(sv[0], &c, 1));
    tv.tv_usec = 1000000;
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    struct sockaddr_un a;
    socklen_t alen = abstract_address(&a, "timeout");
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(listener, (struct sockaddr *)&a, alen);
    listen(listener, 1);
    tv.tv_usec = 20000;
    SHOW(setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    SHOW(accept(listener, NULL, NULL));
    close(listener);
    close(sv[0]);
    close(sv[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, on_sigpipe);
    pair_stream();
    pair_records(SOCK_SEQPACKET, "SOCK_SEQPACKET");
    pair_records(SOCK_DGRAM, "SOCK_DGRAM");
    path_names();
    abstract_names();
    datagrams();
    errors();
    polling();
    timeouts();
    return 0;
}
