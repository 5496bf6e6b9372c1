/*
 * msgpeer: numbered messages between two guests, to check and measure what
 * the messages between guests guarantee while either end migrates.
 *
 *   msgpeer server KIND WHERE [COUNT]          echo every message back; print what arrived
 *   msgpeer client KIND WHERE COUNT RATE [FILE [TRACE]]
 *                                               send COUNT messages at RATE per second (0: as fast
 *                                               as credit allows), read the echoes, print counts;
 *                                               COUNT 0: send until FILE exists (a test's gate; "-": none);
 *                                               TRACE: write each echo's send time (CLOCK_REALTIME, ms)
 *                                               and round trip (us) there, a line each, in arrival order
 *   KIND WHERE:  tcp PORT (server) / tcp ADDR:PORT (client)    SOCK_STREAM over AF_INET
 *                udp PORT / udp ADDR:PORT                       SOCK_DGRAM over AF_INET
 *                unix NAME                                      SOCK_STREAM, abstract AF_UNIX name
 *                seqpacket NAME                                 SOCK_SEQPACKET, abstract name
 *                unixdg NAME                                    SOCK_DGRAM, abstract name (the client binds NAME.c)
 *
 * A message is 16 bytes: u32 number (from 1), u32 zero, u64 send time (CLOCK_MONOTONIC ns). For streams
 * any gap, repeat or reordering is a failure (exit 1); for datagrams they are counted. The client prints
 * `sent N echoed E lost L dup D reordered R` and then the round-trip times' p50 and p99 in microseconds
 * (not part of what tests compare).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct msg { uint32_t n, zero; uint64_t sent; };

static int type_of(const char *kind) {
    if (!strcmp(kind, "tcp") || !strcmp(kind, "unix")) return SOCK_STREAM;
    if (!strcmp(kind, "seqpacket")) return SOCK_SEQPACKET;
    return SOCK_DGRAM;
}

static int is_inet(const char *kind) { return !strcmp(kind, "tcp") || !strcmp(kind, "udp"); }

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) { fprintf(stderr, "msgpeer: %s: %s\n", what, strerror(errno)); exit(2); }

/* An address from WHERE: "PORT" or "ADDR:PORT" for inet, a name for unix (abstract: a leading NUL). */
static socklen_t address(const char *kind, const char *where, const char *suffix, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (is_inet(kind)) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        const char *colon = strchr(where, ':');
        in->sin_addr.s_addr = htonl(INADDR_ANY);
        if (colon) {
            char host[64];
            snprintf(host, sizeof host, "%.*s", (int)(colon - where), where);
            if (inet_pton(AF_INET, host, &in->sin_addr) != 1) { fprintf(stderr, "msgpeer: bad address %s\n", host); exit(2); }
            where = colon + 1;
        }
        in->sin_port = htons((uint16_t)atoi(where));
        return sizeof *in;
    }
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    un->sun_family = AF_UNIX;
    int len = snprintf(un->sun_path + 1, sizeof un->sun_path - 1, "msgpeer-%s%s", where, suffix);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* Small messages leave at once (no Nagle delay waiting for the peer's ACK). */
static void no_delay(const char *kind, int fd) {
    int one = 1;
    if (!strcmp(kind, "tcp")) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int full_write(int fd, const void *buf, size_t len) {
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        done += (size_t)n;
    }
    return 0;
}

/* Reads one whole message from a stream (0 at end of stream, -1 if the peer reset it). */
static int read_msg(int fd, struct msg *m) {
    size_t done = 0;
    while (done < sizeof *m) {
        ssize_t n = read(fd, (char *)m + done, sizeof *m - done);
        if (n == 0 && done == 0) return 0;
        if (n == 0) { fprintf(stderr, "msgpeer: stream ended inside a message\n"); exit(1); }
        if (n < 0 && errno == ECONNRESET) return -1;
        if (n < 0) { if (errno == EINTR) continue; die("read"); }
        done += (size_t)n;
    }
    return 1;
}

static int serve_stream(int listener, long count, const char *kind) {
    for (long conns = 0; count <= 0 || conns < count; conns++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) die("accept");
        no_delay(kind, fd);
        struct msg m;
        uint32_t expected = 1;
        int got;
        while ((got = read_msg(fd, &m)) > 0) {
            if (m.n != expected) { fprintf(stderr, "msgpeer: stream broke its order: got %u, expected %u\n", m.n, expected); return 1; }
            expected++;
            if (full_write(fd, &m, sizeof m) < 0) {
                if (errno != ECONNRESET && errno != EPIPE) die("write");
                got = -1;
                break;
            }
        }
        /* A client that went away (its connection reset) ends that connection only: the server goes on accepting. */
        if (got < 0) printf("server: connection reset after %u messages\n", expected - 1);
        else printf("server: %u messages in order\n", expected - 1);
        fflush(stdout);
        close(fd);
    }
    return 0;
}

static int serve_datagrams(int fd, long count) {
    struct msg m;
    long got = 0;
    while (count <= 0 || got < count) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, &m, sizeof m, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) { if (errno == EINTR) continue; die("recvfrom"); }
        if (n == sizeof m && m.n != 0) got++; /* a client's hello (0) is echoed, not counted */
        if (sendto(fd, &m, (size_t)n, 0, (struct sockaddr *)&from, fromlen) < 0) die("sendto");
    }
    printf("server: %ld datagrams\n", got);
    return 0;
}

static int server(const char *kind, const char *where, long count) {
    signal(SIGPIPE, SIG_IGN); /* a write to a client that went away fails with EPIPE: that connection ends, not the server */
    struct sockaddr_storage ss;
    socklen_t len = address(kind, where, "", &ss);
    int fd = socket(ss.ss_family, type_of(kind), 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) die("bind");
    printf("server: listening\n");
    fflush(stdout);
    if (type_of(kind) == SOCK_DGRAM) return serve_datagrams(fd, count);
    if (listen(fd, 16) < 0) die("listen");
    return serve_stream(fd, count, kind);
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct tally { uint32_t next, echoed, dup, reordered; uint8_t *seen; uint64_t *rtt, *sent_at; };

static void took(struct tally *t, const struct msg *m, uint32_t count) {
    if (m->n == 0) return; /* a late echo of a hello */
    if (m->n == 0 || m->n > count) { fprintf(stderr, "msgpeer: echo of a message never sent (%u)\n", m->n); exit(1); }
    if (t->seen[m->n]) { t->dup++; return; }
    t->seen[m->n] = 1;
    if (m->n < t->next) t->reordered++;
    t->next = m->n + 1;
    t->sent_at[t->echoed] = m->sent;
    t->rtt[t->echoed++] = now_ns() - m->sent;
}

/* Whether the gate file exists (checked at most every 20 ms). */
static int gate_open(const char *file) {
    static uint64_t last;
    if (!file || now_ns() - last < 20000000u) return 0;
    last = now_ns();
    return access(file, F_OK) == 0;
}

/*
 * Datagrams to a port nobody has bound yet are lost (on Linux an ICMP port
 * unreachable makes a later send on the connected socket fail with
 * ECONNREFUSED): a datagram client first sends hellos (number 0) until one
 * comes back, so the server is known to be there before message 1 goes.
 */
static void hello(int fd) {
    struct msg m = { 0, 0, 0 };
    for (;;) {
        if (send(fd, &m, sizeof m, 0) < 0 && errno != ECONNREFUSED && errno != EINTR) die("send");
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 10) > 0) {
            struct msg echo;
            ssize_t n = recv(fd, &echo, sizeof echo, 0);
            if (n == sizeof echo && echo.n == 0) return;
            if (n < 0 && errno != ECONNREFUSED && errno != EINTR) die("recv");
        }
    }
}

/* Each echo's send time on the wall clock (so a benchmark can place it before, during or after a move) and round trip. */
static void write_trace(const char *path, const struct tally *t) {
    FILE *f = fopen(path, "w");
    if (!f) die(path);
    struct timespec real, mono;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    double offset_ms = (real.tv_sec - mono.tv_sec) * 1e3 + (real.tv_nsec - mono.tv_nsec) / 1e6;
    for (uint32_t i = 0; i < t->echoed; i++) fprintf(f, "%.3f %.1f\n", t->sent_at[i] / 1e6 + offset_ms, t->rtt[i] / 1e3);
    if (fclose(f) != 0) die(path);
}

static int client(const char *kind, const char *where, uint32_t count, double rate, const char *until, const char *trace) {
    struct sockaddr_storage to, me;
    socklen_t tolen = address(kind, where, "", &to);
    int type = type_of(kind);
    int fd = socket(to.ss_family, type, 0);
    if (fd < 0) die("socket");
    if (type == SOCK_DGRAM && !is_inet(kind)) {
        socklen_t melen = address(kind, where, ".c", &me);
        if (bind(fd, (struct sockaddr *)&me, melen) < 0) die("bind");
    }
    no_delay(kind, fd);
    while (connect(fd, (struct sockaddr *)&to, tolen) < 0) {
        if (errno != ECONNREFUSED && errno != ENOENT) die("connect");
        usleep(10000); /* the server is still starting */
    }
    if (type == SOCK_DGRAM) hello(fd);
    uint32_t room = count ? count : 2000000u; /* until a gate: at most this many */
    if (!count && !until) { fprintf(stderr, "msgpeer: COUNT 0 needs a gate FILE\n"); return 2; }
    struct tally t = { .next = 1, .seen = calloc(room + 1, 1), .rtt = calloc(room + 1, sizeof(uint64_t)), .sent_at = calloc(room + 1, sizeof(uint64_t)) };
    if (!t.seen || !t.rtt || !t.sent_at) { fprintf(stderr, "msgpeer: no memory for %u messages\n", room); return 2; }
    if (!count) count = room;
    uint64_t start = now_ns(), gap = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
    uint32_t sent = 0;
    int stream = type != SOCK_DGRAM, write_open = 1;
    while (stream ? 1 : t.echoed + t.dup < count) {
        uint64_t due = start + gap * sent;
        int wait_ms = sent < count && gap ? (int)((due > now_ns() ? due - now_ns() : 0) / 1000000) : -1;
        if (!stream && sent == count) wait_ms = 2000; /* the last datagrams' echoes, or their loss */
        struct pollfd p = { fd, POLLIN | (sent < count && (!gap || now_ns() >= due) ? POLLOUT : 0), 0 };
        int ready = poll(&p, 1, wait_ms);
        if (ready < 0) { if (errno == EINTR) continue; die("poll"); }
        if (ready == 0 && !stream && sent == count) break;
        if (write_open && sent < count && until && gate_open(until)) {
            count = sent; /* the gate opened: these are all */
            if (stream) { shutdown(fd, SHUT_WR); write_open = 0; }
            continue;
        }
        if (p.revents & POLLOUT) {
            struct msg m = { ++sent, 0, now_ns() };
            if (stream ? full_write(fd, &m, sizeof m) < 0 : send(fd, &m, sizeof m, 0) < 0) die("send");
            if (stream && sent == count) { shutdown(fd, SHUT_WR); write_open = 0; }
        }
        if (p.revents & (POLLIN | POLLHUP)) {
            struct msg m;
            if (stream) {
                int got = read_msg(fd, &m);
                if (got < 0) { errno = ECONNRESET; die("read"); }
                if (got == 0) break;
            } else if (recv(fd, &m, sizeof m, 0) < 0) die("recv");
            took(&t, &m, count);
        }
    }
    (void)write_open;
    uint32_t lost = count - t.echoed;
    printf("sent %u echoed %u lost %u dup %u reordered %u\n", sent, t.echoed, lost, t.dup, t.reordered);
    if (trace) write_trace(trace, &t);
    if (t.echoed) {
        qsort(t.rtt, t.echoed, sizeof t.rtt[0], by_value);
        printf("rtt p50 %.1f us p99 %.1f us over %.3f s\n", t.rtt[t.echoed / 2] / 1e3, t.rtt[(uint32_t)(t.echoed * 0.99)] / 1e3, (now_ns() - start) / 1e9);
    }
    return stream && (lost || t.dup || t.reordered) ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && !strcmp(argv[1], "server")) return server(argv[2], argv[3], argc > 4 ? atol(argv[4]) : 0);
    if (argc >= 6 && !strcmp(argv[1], "client")) {
        const char *gate = argc > 6 && strcmp(argv[6], "-") ? argv[6] : NULL;
        return client(argv[2], argv[3], (uint32_t)atol(argv[4]), atof(argv[5]), gate, argc > 7 ? argv[7] : NULL);
    }
    fprintf(stderr, "usage: msgpeer server KIND WHERE [COUNT] | client KIND WHERE COUNT RATE [FILE [TRACE]]\n");
    return 2;
}
