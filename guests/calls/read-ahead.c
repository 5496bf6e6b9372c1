/* read-ahead: sequential reads of a regular file see every change made before
 * them, as on Linux, whoever made it: a write through another descriptor, a
 * child that says so through a pipe, an append at the end, a signal. Roam
 * serves a run of small sequential reads from one host read ahead
 * (src/kernel/read-ahead.ts); each case reads a stretch of the file first so
 * that the bytes that then change are already in that buffer. The output is
 * compared with qemu-riscv32's (test/kernel/musl-calls.test.ts).
 *
 * `read-ahead own-output >> g.dat`: the program's own write to stdout, which
 * the shell sent to the file it reads, is seen by its next read (Roam keeps
 * the buffer across a write to what cannot be a file, and this is one). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 4096
#define FILE_BYTES (200 * 1024)

static char buf[CHUNK];
static volatile sig_atomic_t told;

static void on_usr1(int sig) { (void)sig; told = 1; }

/* A sum of the bytes, and the first 8 of them: enough to tell which bytes a read returned. */
static void show(const char *what, ssize_t n)
{
    unsigned sum = 0;
    for (ssize_t i = 0; i < n; i++) sum = sum * 31 + (unsigned char)buf[i];
    char first[9] = "";
    for (int i = 0; i < 8 && i < n; i++) first[i] = buf[i] == '\n' ? '/' : buf[i];
    printf("%s: %zd bytes, \"%s\", sum %08x\n", what, n, first, sum);
}

static ssize_t read_chunk(int fd, const char *what)
{
    ssize_t n = read(fd, buf, CHUNK);
    show(what, n);
    return n;
}

/* Writes a byte to stdout (so that Roam's console path has run once and the
 * writes below take microseconds: a buffer older than 1 ms serves nothing),
 * 8 KiB to g.dat (stdout's file), reads 2 KiB of it, writes 1 KiB to stdout,
 * then reads on to the end: 9217 bytes on Linux. */
static int own_output(void)
{
    char block[1024];
    write(1, "S", 1);
    memset(block, 'g', sizeof block);
    int w = open("g.dat", O_WRONLY | O_APPEND);
    for (int i = 0; i < 8; i++) write(w, block, sizeof block);
    close(w);
    int r = open("g.dat", O_RDONLY);
    ssize_t total = 0, n;
    for (int i = 0; i < 2; i++) total += read(r, block, sizeof block);
    memset(block, 'S', sizeof block);
    write(1, block, sizeof block);
    while ((n = read(r, block, sizeof block)) > 0) total += n;
    fprintf(stderr, "read %zd bytes\n", total);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "own-output") == 0) return own_output();
    int w = open("f.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < FILE_BYTES; i += 16) dprintf(w, "line %010d\n", i / 16);
    int r = open("f.dat", O_RDONLY);

    /* Reads in a row: the same bytes as ever. */
    for (int i = 0; i < 3; i++) read_chunk(r, "in a row");

    /* A write through another descriptor to bytes just ahead of the reader. */
    pwrite(w, "CHANGED!", 8, 4 * CHUNK);
    read_chunk(r, "after a write ahead (before it)");
    read_chunk(r, "after a write ahead (holds it)");

    /* A child writes ahead, then says so through a pipe. */
    read_chunk(r, "before a child's write");
    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        pwrite(w, "BY CHILD", 8, 6 * CHUNK);
        write(p[1], "!", 1);
        _exit(0);
    }
    char c;
    read(p[0], &c, 1);
    read_chunk(r, "after the child said so");
    waitpid(child, NULL, 0);

    /* A signal from a child that changed the file: the parent only spins, no system call, until it comes. */
    signal(SIGUSR1, on_usr1);
    read_chunk(r, "before a signal");
    child = fork();
    if (child == 0) {
        pwrite(w, "SIGNALLD", 8, 8 * CHUNK);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    while (!told) {}
    read_chunk(r, "after the signal");
    waitpid(child, NULL, 0);

    /* To the end, then an append: the next read finds it. */
    lseek(r, FILE_BYTES - CHUNK, SEEK_SET);
    read_chunk(r, "the last chunk");
    read_chunk(r, "at the end");
    write(w, "APPENDED", 8);
    read_chunk(r, "after an append");

    /* readv in a row (musl's stdio reads so: the caller's buffer, then its own). */
    lseek(r, 0, SEEK_SET);
    unsigned sum = 0;
    ssize_t total = 0, n;
    char small[100], big[1024];
    struct iovec iov[2] = { { small, sizeof small }, { big, sizeof big } };
    while ((n = readv(r, iov, 2)) > 0) {
        for (ssize_t i = 0; i < n; i++) sum = sum * 31 + (unsigned char)(i < (ssize_t)sizeof small ? small[i] : big[i - sizeof small]);
        total += n;
    }
    printf("readv to the end: %zd bytes, sum %08x\n", total, sum);

    /* Through stdio, as most programs read. */
    FILE *f = fopen("f.dat", "r");
    char line[64];
    int lines = 0, changed = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, "CHANGED!") || strstr(line, "BY CHILD") || strstr(line, "SIGNALLD") || strstr(line, "APPENDED")) changed++;
    }
    printf("fgets: %d lines, %d with a change\n", lines, changed);
    fclose(f);
    return 0;
}
