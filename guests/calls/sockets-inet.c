// AF_INET sockets inside one guest, over 127.0.0.1: TCP with a forked client,
// non-blocking sockets with ppoll, UDP with ephemeral ports, and each error
// path Linux gives. Ports are whatever bind(port 0) gave and are never
// printed (on qemu-riscv32 they are the host's), nor is any address but 127.0.0.1.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
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

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int port_of(int fd) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

static void waited(pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    printf("child: %s %d\n", WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/** A port nobody listens on: bound a moment ago, then let go. */
static int dead_port(int type) {
    int s = socket(AF_INET, type, 0);
    struct sockaddr_in a = loopback(0);
    bind(s, (struct sockaddr *)&a, sizeof a);
    int port = port_of(s);
    close(s);
    return port;
}

static void tcp(void) {
    puts("-- tcp");
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    SHOW(setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    struct sockaddr_in a = loopback(0);
    SHOW(bind(server, (struct sockaddr *)&a, sizeof a));
    SHOW(listen(server, 8));
    int port = port_of(server);
    a = loopback(port);
    int other = socket(AF_INET, SOCK_STREAM, 0);
    SHOW(bind(other, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in any = {0};
    any.sin_family = AF_INET;
    any.sin_port = htons(port);
    SHOW(bind(other, (struct sockaddr *)&any, sizeof any));
    struct sockaddr_in dead = loopback(dead_port(SOCK_STREAM));
    SHOW(connect(other, (struct sockaddr *)&dead, sizeof dead));
    close(other);
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) _exit(10);
        for (int i = 1; i <= 4; i++) {
            char line[16];
            int n = snprintf(line, sizeof line, "msg %d\n", i);
            if (send(c, line, n, 0) != n) _exit(11);
        }
        shutdown(c, SHUT_WR);
        char answer[64];
        int got = 0, n = 0;
        while (got < 24 && (n = read(c, answer + got, sizeof answer - got)) > 0) got += n;
        if (n < 0 || got != 24 || memcmp(answer, "MSG 1\n", 6)) _exit(12);
        _exit(0);
    }
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int conn = accept(server, (struct sockaddr *)&peer, &plen);
    show("accept", conn >= 0 ? 0 : -1);
    printf("peer %s length %d, port is the client's: %d\n", inet_ntoa(peer.sin_addr), (int)plen, ntohs(peer.sin_port) != port);
    struct sockaddr_in mine;
    socklen_t mlen = sizeof mine;
    SHOW(getsockname(conn, (struct sockaddr *)&mine, &mlen));
    printf("accepted socket's own: %s, the listener's port: %d\n", inet_ntoa(mine.sin_addr), ntohs(mine.sin_port) == port);
    SHOW(setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    int v = 0;
    socklen_t vlen = sizeof v;
    SHOW(getsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &v, &vlen));
    printf("TCP_NODELAY %d\n", v);
    SHOW(setsockopt(conn, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
    SHOW(getsockopt(conn, SOL_SOCKET, SO_KEEPALIVE, &v, &vlen));
    printf("SO_KEEPALIVE %d\n", v);
    char buf[64];
    SHOW(recv(conn, buf, 24, MSG_WAITALL));
    for (int i = 0; i < 24; i++) if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 32;
    SHOW(write(conn, buf, 24));
    SHOW(read(conn, buf, sizeof buf)); // the client shut down its side: end of file
    waited(pid);
    SHOW(write(conn, "x", 1)); // the client has gone: this one draws its reset
    SHOW(write(conn, "x", 1));
    printf("sigpipes: %d\n", sigpipes);
    close(conn);

    // A peer that closes with bytes it did not read resets the connection.
    int c = socket(AF_INET, SOCK_STREAM, 0);
    SHOW(connect(c, (struct sockaddr *)&a, sizeof a));
    conn = accept(server, NULL, NULL);
    SHOW(send(c, "unread", 6, 0));
    SHOW(send(conn, "zz", 2, 0));
    close(conn);
    SHOW(recv(c, buf, sizeof buf, 0));
    SHOW(recv(c, buf, sizeof buf, 0));
    SHOW(recv(c, buf, sizeof buf, 0));
    SHOW(send(c, "x", 1, MSG_NOSIGNAL));
    close(c);
    close(server);
}

static void nonblocking(void) {
    puts("-- non-blocking");
    int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = loopback(0);
    bind(server, (struct sockaddr *)&a, sizeof a);
    SHOW(listen(server, 8));
    a = loopback(port_of(server));
    SHOW(accept(server, NULL, NULL));
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW(connect(c, (struct sockaddr *)&a, sizeof a));
    struct pollfd p[2] = {{server, POLLIN, 0}, {c, POLLOUT, 0}};
    SHOW(ppoll(p, 2, NULL, NULL));
    printf("revents %#x %#x\n", p[0].revents, p[1].revents);
    int err = -1;
    socklen_t elen = sizeof err;
    SHOW(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen));
    printf("SO_ERROR %d\n", err);
    SHOW(connect(c, (struct sockaddr *)&a, sizeof a));
    SHOW(connect(c, (struct sockaddr *)&a, sizeof a));
    int conn = accept4(server, NULL, NULL, SOCK_NONBLOCK);
    show("accept4", conn >= 0 ? 0 : -1);
    char buf[16];
    SHOW(read(conn, buf, sizeof buf));
    struct pollfd q = {conn, POLLIN, 0};
    struct timespec zero = {0, 0}, short_wait = {0, 20000000};
    SHOW(ppoll(&q, 1, &zero, NULL));
    SHOW(ppoll(&q, 1, &short_wait, NULL));
    SHOW(write(c, "ready", 5));
    SHOW(ppoll(&q, 1, NULL, NULL));
    printf("revents %#x\n", q.revents);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(conn, &r);
    SHOW(pselect(conn + 1, &r, NULL, NULL, NULL, NULL));
    SHOW(read(conn, buf, sizeof buf));
    close(c);
    q.events = POLLIN;
    SHOW(ppoll(&q, 1, NULL, NULL));
    printf("revents after close %#x\n", q.revents & (POLLIN | POLLHUP));
    SHOW(read(conn, buf, sizeof buf));
    close(conn);
    close(server);
}

static void udp(void) {
    puts("-- udp");
    int server = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = loopback(0);
    SHOW(bind(server, (struct sockaddr *)&a, sizeof a));
    a = loopback(port_of(server));
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_DGRAM, 0);
        for (int i = 1; i <= 3; i++) {
            char m[16];
            int n = snprintf(m, sizeof m, "dgram %d", i);
            if (sendto(c, m, n, 0, (struct sockaddr *)&a, sizeof a) != n) _exit(10);
        }
        char answer[16];
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        if (recvfrom(c, answer, sizeof answer, 0, (struct sockaddr *)&from, &flen) != 3 || from.sin_port != a.sin_port) _exit(11);
        _exit(0);
    }
    char buf[32];
    struct sockaddr_in from;
    for (int i = 0; i < 3; i++) {
        socklen_t flen = sizeof from;
        int n = recvfrom(server, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        printf("recvfrom %d %.*s from %s (length %d)\n", n, n, buf, inet_ntoa(from.sin_addr), (int)flen);
    }
    SHOW(sendto(server, "ack", 3, 0, (struct sockaddr *)&from, sizeof from));
    waited(pid);
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    SHOW(send(c, "x", 1, 0));
    struct sockaddr_in dead = loopback(dead_port(SOCK_DGRAM));
    SHOW(connect(c, (struct sockaddr *)&dead, sizeof dead));
    SHOW(send(c, "x", 1, 0));
    SHOW(send(c, "x", 1, 0));
    SHOW(send(c, "x", 1, 0));
    SHOW(recv(c, buf, sizeof buf, MSG_DONTWAIT));
    SHOW(connect(c, (struct sockaddr *)&a, sizeof a));
    static char big[70000];
    SHOW(send(c, big, sizeof big, 0));
    SHOW(send(c, "peek", 4, 0));
    SHOW(recv(server, buf, 2, MSG_PEEK));
    SHOW(recv(server, buf, 2, MSG_TRUNC));
    SHOW(recv(server, buf, sizeof buf, MSG_DONTWAIT));
    struct sockaddr_in unspec = {0};
    unspec.sin_family = AF_UNSPEC;
    SHOW(connect(c, (struct sockaddr *)&unspec, sizeof unspec));
    SHOW(send(c, "x", 1, 0));
    close(c);
    close(server);
}

static void errors(void) {
    puts("-- errors");
    SHOW(socket(AF_INET, SOCK_SEQPACKET, 0));
    SHOW(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in a = loopback(0);
    SHOW(bind(s, (struct sockaddr *)&a, sizeof a - 1));
    a.sin_family = AF_UNIX;
    SHOW(bind(s, (struct sockaddr *)&a, sizeof a));
    SHOW(connect(s, (struct sockaddr *)&a, sizeof a));
    a = loopback(0);
    a.sin_addr.s_addr = inet_addr("192.0.2.1");
    SHOW(bind(s, (struct sockaddr *)&a, sizeof a));
    SHOW(bind(s, (struct sockaddr *)wild, sizeof a));
    char c;
    SHOW(read(s, &c, 1));
    SHOW(write(s, "x", 1));
    printf("sigpipes: %d\n", sigpipes);
    SHOW(shutdown(s, SHUT_WR));
    socklen_t len = sizeof a;
    SHOW(getpeername(s, (struct sockaddr *)&a, &len));
    SHOW(listen(s, 1)); // an unbound socket takes an ephemeral port
    len = sizeof a;
    SHOW(getsockname(s, (struct sockaddr *)&a, &len));
    printf("listening on %s, a port: %d\n", inet_ntoa(a.sin_addr), ntohs(a.sin_port) != 0);
    int v = 0;
    len = sizeof v;
    SHOW(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
    printf("SO_ACCEPTCONN %d\n", v);
    SHOW(connect(s, (struct sockaddr *)&a, sizeof a));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    SHOW(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    SHOW(listen(u, 1));
    SHOW(getsockopt(u, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)wild));
    close(s);
    close(u);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, on_sigpipe);
    tcp();
    nonblocking();
    udp();
    errors();
    return 0;
}
